package postgres

import "time"

// SetGatherBusy sets how recent the previous commit must be for the writer to gather (tests set
// more, so that a slow machine's pauses between writes do not count as quiet spells).
func SetGatherBusy(s *Store, d time.Duration) { s.gatherBusy.Store(int64(d)) }
