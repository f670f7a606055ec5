package sqlite

import "time"

// SetCommitGather sets how long a batch's first write may wait, from when it was queued, for
// more writes to share its commit (0: never; every batch commits as soon as the writer takes
// it). Durability is unchanged: each write is still answered only after its commit is synced.
func (s *Store) SetCommitGather(d time.Duration) { s.gatherFor.Store(int64(max(d, 0))) }

// CommitGather is the gather SetCommitGather set.
func (s *Store) CommitGather() time.Duration { return time.Duration(s.gatherFor.Load()) }
