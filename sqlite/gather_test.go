package sqlite

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestGatherer(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	const d = 2 * time.Millisecond
	busy := func() *gatherer { return &gatherer{lastCommit: t0.Add(-time.Millisecond)} }

	t.Run("WaitsFromTheFirstWriteQueued", func(t *testing.T) {
		g := busy()
		until, ok := g.deadline(t0, t0.Add(-500*time.Microsecond), 1, d, gatherBusy)
		if !ok || !until.Equal(t0.Add(1500*time.Microsecond)) {
			t.Errorf("deadline = %v, %v; want %v, true", until, ok, t0.Add(1500*time.Microsecond))
		}
	})
	t.Run("NotWhenTheFirstHasWaitedEnough", func(t *testing.T) {
		// It was queued while the previous commit ran: it has waited its share already.
		if _, ok := busy().deadline(t0, t0.Add(-3*time.Millisecond), 5, d, gatherBusy); ok {
			t.Error("gathered for a write queued 3 ms ago")
		}
	})
	t.Run("NotForALargeBatch", func(t *testing.T) {
		if _, ok := busy().deadline(t0, t0, gatherBatch, d, gatherBusy); ok {
			t.Errorf("gathered for a batch of %d", gatherBatch)
		}
		if _, ok := busy().deadline(t0, t0, gatherBatch-1, d, gatherBusy); !ok {
			t.Errorf("did not gather for a batch of %d", gatherBatch-1)
		}
	})
	t.Run("NotAfterAQuietSpell", func(t *testing.T) {
		g := &gatherer{lastCommit: t0.Add(-gatherBusy - time.Millisecond)}
		if _, ok := g.deadline(t0, t0, 1, d, gatherBusy); ok {
			t.Error("gathered for a write after a quiet spell")
		}
		if _, ok := (&gatherer{}).deadline(t0, t0, 1, d, gatherBusy); ok {
			t.Error("gathered for the first write ever")
		}
	})
	t.Run("NotWhenOff", func(t *testing.T) {
		if _, ok := busy().deadline(t0, t0, 1, 0, gatherBusy); ok {
			t.Error("gathered with a gather of 0")
		}
	})
	t.Run("BacksOffAfterMissesAndStartsOverOnAHit", func(t *testing.T) {
		g := busy()
		now := t0
		gatherNow := func() bool {
			g.lastCommit = now.Add(-time.Millisecond)
			_, ok := g.deadline(now, now, 1, d, gatherBusy)
			return ok
		}
		// A chance miss or two at a moderate rate does not stop gathering.
		for i := range gatherMisses - 1 {
			if !gatherNow() {
				t.Fatalf("miss %d: stopped gathering", i+1)
			}
			g.gathered(0, now)
		}
		if !gatherNow() {
			t.Fatal("stopped before the last miss")
		}
		g.gathered(0, now)
		// Then a pause, doubled after each probe that misses, up to the bound.
		var pauses []time.Duration
		for range 8 {
			start := now
			for !gatherNow() {
				now = now.Add(time.Millisecond)
			}
			pauses = append(pauses, now.Sub(start))
			g.gathered(0, now)
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
		g.gathered(1, now)
		for i := range gatherMisses - 1 {
			if !gatherNow() {
				t.Fatalf("after a hit, miss %d: stopped gathering", i+1)
			}
			g.gathered(0, now)
		}
	})
}

// TestCommitGather drives the writer: writes a few milliseconds apart under a steady stream share
// a commit, and a write after a quiet spell is not held.
func TestCommitGather(t *testing.T) {
	t.Run("WritesApartShareACommit", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		var sizes batchSizes
		s.BatchObserver = sizes.observe
		// Long enough for any machine to queue the second write inside it (the test takes that
		// long), and the previous commit counted as recent however slowly the test runs.
		s.SetCommitGather(time.Second)
		s.gatherBusy.Store(int64(time.Minute))
		ctx := context.Background()
		if err := s.Update(ctx, recordFailure("warm")); err != nil {
			t.Fatal(err)
		}
		a := make(chan error, 1)
		go func() { a <- s.Update(ctx, recordFailure("a")) }()
		// Without gathering the writer takes a and commits it alone well before b is queued.
		time.Sleep(50 * time.Millisecond)
		if err := s.Update(ctx, recordFailure("b")); err != nil {
			t.Fatal(err)
		}
		if err := <-a; err != nil {
			t.Fatal(err)
		}
		if got := sizes.total(t, 3); !slices.Equal(got, []int{1, 2}) {
			t.Errorf("batch sizes = %v, want [1 2]: the writes 50 ms apart were not gathered into one commit", got)
		}
		if !stored(t, s, "a") || !stored(t, s, "b") {
			t.Error("a gathered write is not stored")
		}
	})
	t.Run("AWriteAfterAQuietSpellIsNotHeld", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		s.SetCommitGather(time.Minute)
		s.gatherBusy.Store(int64(50 * time.Millisecond))
		ctx := context.Background()
		if err := s.Update(ctx, recordFailure("first")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		if err := s.Update(ctx, recordFailure("second")); err != nil {
			t.Fatal(err)
		}
		// Held, it would take the minute; the bound is far from both.
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("a write after a quiet spell took %v: it was held for others", took)
		}
	})
	t.Run("OneWriterAfterAnotherIsNotHeldEachTime", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		var sizes batchSizes
		s.BatchObserver = sizes.observe
		s.SetCommitGather(300 * time.Millisecond)
		s.gatherBusy.Store(int64(time.Minute)) // every write counts as under steady load
		ctx := context.Background()
		start := time.Now()
		const n = 40
		for i := range n {
			if err := s.Update(ctx, recordFailure("k"+string(rune('a'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		// Each write waited out in full would take n × 300 ms = 12 s; after the misses and the
		// pauses that follow them, a handful of gathers at most.
		if took := time.Since(start); took > 8*time.Second {
			t.Errorf("%d writes one after another took %v: every one was held", n, took)
		}
		if got := sizes.total(t, n); len(got) != n {
			t.Errorf("batches = %v, want %d of one", got, n)
		}
	})
}
