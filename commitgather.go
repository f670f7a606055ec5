package wardline

import "time"

// A store's one writer goroutine commits the writes queued while its previous commit ran as one
// batch: one transaction, one sync. Under a steady stream at moderate rates that batch is often a
// single write, a few hundred microseconds ahead of the next ones, and each pays for a commit of
// its own. CommitGatherer decides when a small batch waits a little for more; both stores use it.

// DefaultCommitGather is how long a writer may hold a small batch for more writes under a steady
// stream of them. On SQLite at 1,000 sends a second it turns 390-490 commits a second of two or
// three writes into about 290 of four, and takes a seventh off the server's CPU a message
// (docs/PERFORMANCE.md, "Gathering a batch").
const DefaultCommitGather = 2 * time.Millisecond

const (
	// GatherBatch is the batch size at which gathering stops: past it a commit's own costs are a
	// small share of the batch's.
	GatherBatch = 64
	// GatherBusy is how recently the previous commit must have ended for the writer to gather:
	// a write after a quiet spell is one on its own and commits at once.
	GatherBusy = 10 * time.Millisecond
	// After gatherMisses gathers in a row that brought nothing, the writer stops gathering for
	// gatherBackoff, doubled after each further miss up to gatherBackoffMax; a gather that brings
	// a write starts over. One client writing one thing after another (a script, a migration)
	// can be joined by nobody and would otherwise wait out every gather; at moderate rates a
	// single gather brings nothing now and then by chance, and that must not stop the next.
	gatherMisses     = 3
	gatherBackoff    = 25 * time.Millisecond
	gatherBackoffMax = time.Second
)

// CommitGatherer decides, for a writer goroutine alone, whether and how long a batch waits for
// more writes before it commits. Writes queued while the previous commit ran are already in the
// batch the writer drained; gathering is for the ones a few hundred microseconds behind them,
// which at moderate rates would otherwise each pay for a commit (its sync, its WAL, on SQLite its
// page-cache sweep) of their own. Its zero value is ready to use.
type CommitGatherer struct {
	lastCommit time.Time     // when the previous commit ended
	misses     int           // gathers in a row that brought nothing
	backoff    time.Duration // the current pause after misses
	skipUntil  time.Time     // no gathering before this
}

// Deadline reports until when a batch of n writes whose first was queued at first should wait
// for more, given the configured gather d and how recent the previous commit must be (busy,
// GatherBusy but for tests); ok is false when it should commit now.
func (g *CommitGatherer) Deadline(now, first time.Time, n int, d, busy time.Duration) (until time.Time, ok bool) {
	if d <= 0 || n >= GatherBatch || now.Sub(g.lastCommit) > busy || now.Before(g.skipUntil) {
		return time.Time{}, false
	}
	until = first.Add(d)
	return until, until.After(now)
}

// Gathered records what a gather brought (extra writes) and when it ended.
func (g *CommitGatherer) Gathered(extra int, now time.Time) {
	if extra > 0 {
		g.misses, g.backoff = 0, 0
		return
	}
	if g.misses++; g.misses < gatherMisses {
		return
	}
	g.backoff = min(max(2*g.backoff, gatherBackoff), gatherBackoffMax)
	g.skipUntil = now.Add(g.backoff)
	g.misses = gatherMisses - 1 // the next gather probes: one more miss doubles the pause
}

// Committed records the end of a commit.
func (g *CommitGatherer) Committed(now time.Time) { g.lastCommit = now }

// GatherWrites adds writes to batch as they are queued until it holds max, the deadline passes
// or the queue is closed (the writer's next receive then sees it closed). timer is the writer's
// own, stopped; it is stopped again on return.
func GatherWrites[T any](queue <-chan T, batch []T, max int, until time.Time, timer *time.Timer) []T {
	timer.Reset(time.Until(until))
	defer timer.Stop()
	for len(batch) < max {
		select {
		case r, ok := <-queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-timer.C:
			return batch
		}
	}
	return batch
}
