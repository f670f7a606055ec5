package sqlite

import (
	"context"
	"slices"
	"testing"
	"time"
)

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
