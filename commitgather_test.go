package wardline

import (
	"slices"
	"testing"
	"time"
)

func TestCommitGatherer(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	const d = 2 * time.Millisecond
	busy := func() *CommitGatherer { return &CommitGatherer{lastCommit: t0.Add(-time.Millisecond)} }

	t.Run("WaitsFromTheFirstWriteQueued", func(t *testing.T) {
		g := busy()
		until, ok := g.Deadline(t0, t0.Add(-500*time.Microsecond), 1, d, GatherBusy)
		if !ok || !until.Equal(t0.Add(1500*time.Microsecond)) {
			t.Errorf("deadline = %v, %v; want %v, true", until, ok, t0.Add(1500*time.Microsecond))
		}
	})
	t.Run("NotWhenTheFirstHasWaitedEnough", func(t *testing.T) {
		// It was queued while the previous commit ran: it has waited its share already.
		if _, ok := busy().Deadline(t0, t0.Add(-3*time.Millisecond), 5, d, GatherBusy); ok {
			t.Error("gathered for a write queued 3 ms ago")
		}
	})
	t.Run("NotForALargeBatch", func(t *testing.T) {
		if _, ok := busy().Deadline(t0, t0, GatherBatch, d, GatherBusy); ok {
			t.Errorf("gathered for a batch of %d", GatherBatch)
		}
		if _, ok := busy().Deadline(t0, t0, GatherBatch-1, d, GatherBusy); !ok {
			t.Errorf("did not gather for a batch of %d", GatherBatch-1)
		}
	})
	t.Run("NotAfterAQuietSpell", func(t *testing.T) {
		g := &CommitGatherer{lastCommit: t0.Add(-GatherBusy - time.Millisecond)}
		if _, ok := g.Deadline(t0, t0, 1, d, GatherBusy); ok {
			t.Error("gathered for a write after a quiet spell")
		}
		if _, ok := (&CommitGatherer{}).Deadline(t0, t0, 1, d, GatherBusy); ok {
			t.Error("gathered for the first write ever")
		}
	})
	t.Run("NotWhenOff", func(t *testing.T) {
		if _, ok := busy().Deadline(t0, t0, 1, 0, GatherBusy); ok {
			t.Error("gathered with a gather of 0")
		}
	})
	t.Run("BacksOffAfterMissesAndStartsOverOnAHit", func(t *testing.T) {
		g := busy()
		now := t0
		gatherNow := func() bool {
			g.lastCommit = now.Add(-time.Millisecond)
			_, ok := g.Deadline(now, now, 1, d, GatherBusy)
			return ok
		}
		// A chance miss or two at a moderate rate does not stop gathering.
		for i := range gatherMisses - 1 {
			if !gatherNow() {
				t.Fatalf("miss %d: stopped gathering", i+1)
			}
			g.Gathered(0, now)
		}
		if !gatherNow() {
			t.Fatal("stopped before the last miss")
		}
		g.Gathered(0, now)
		// Then a pause, doubled after each probe that misses, up to the bound.
		var pauses []time.Duration
		for range 8 {
			start := now
			for !gatherNow() {
				now = now.Add(time.Millisecond)
			}
			pauses = append(pauses, now.Sub(start))
			g.Gathered(0, now)
		}
		want := []time.Duration{gatherBackoff, 2 * gatherBackoff, 4 * gatherBackoff, 8 * gatherBackoff, 16 * gatherBackoff, 32 * gatherBackoff, gatherBackoffMax, gatherBackoffMax}
		if !slices.Equal(pauses, want) {
			t.Errorf("pauses = %v, want %v", pauses, want)
		}
		// A probe that brings a write starts over: misses are counted afresh.
		now = now.Add(gatherBackoffMax)
		if !gatherNow() {
			t.Fatal("no probe after the pause")
		}
		g.Gathered(1, now)
		for i := range gatherMisses - 1 {
			if !gatherNow() {
				t.Fatalf("after a hit, miss %d: stopped gathering", i+1)
			}
			g.Gathered(0, now)
		}
	})
}
