//go:build !wardline_slowdisk

package sqlite

import "time"

// syncFloor is the least time a sync of the WAL takes. Zero: the disk decides. A diagnostic build
// (tag wardline_slowdisk, syncfloor_slowdisk.go) raises it to emulate a slower disk.
const syncFloor time.Duration = 0
