//go:build wardline_slowdisk

package sqlite

import "time"

// syncFloor, in this diagnostic build only (go build -tags wardline_slowdisk), makes every sync of
// the WAL take at least 1.05 ms: a disk that syncs about 950 times a second, DESIGN.md's reference
// machine. It lets the load generator show what group commit does on such a disk when the machine
// at hand syncs faster. Never a product build: it only ever slows a commit down.
const syncFloor = 1050 * time.Microsecond
