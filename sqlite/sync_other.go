//go:build !linux

package sqlite

import "os"

// syncInSlices syncs f (sync_file_range, which spreads the writing, is Linux's).
func syncInSlices(f *os.File) error { return f.Sync() }
