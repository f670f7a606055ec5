package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"wardline"
	"wardline/postgres"
	"wardline/storetest"
)

// TestCommitGather drives the writer: writes apart under a steady stream share a transaction,
// and a write after a quiet spell is not held.
func TestCommitGather(t *testing.T) {
	record := func(key string) func(wardline.Tx) error {
		return func(tx wardline.Tx) error { return tx.RecordLoginFailure(context.Background(), key, storetest.T0) }
	}
	stored := func(s *postgres.Store, key string) bool {
		n, err := s.CountLoginFailures(context.Background(), key, storetest.T0.Add(-time.Hour))
		if err != nil {
			t.Fatalf("CountLoginFailures: %v", err)
		}
		return n > 0
	}
	// observe records the sizes of the batches s commits; the function it returns waits until
	// they account for want writes (the writer reports a batch after answering its writes).
	observe := func(s *postgres.Store) func(want int) []int {
		var mu sync.Mutex
		var sizes []int
		s.BatchObserver = func(n int) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() }
		return func(want int) []int {
			t.Helper()
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				mu.Lock()
				got, sum := slices.Clone(sizes), 0
				mu.Unlock()
				for _, n := range got {
					sum += n
				}
				if sum >= want || time.Now().After(deadline) {
					return got
				}
			}
		}
	}
	// twoWritesApart writes warm, then a, then b 50 ms after a was queued: without gathering the
	// writer takes a and commits it alone well before b is queued.
	twoWritesApart := func(s *postgres.Store) {
		ctx := context.Background()
		if err := s.Update(ctx, record("warm")); err != nil {
			t.Fatal(err)
		}
		a := make(chan error, 1)
		go func() { a <- s.Update(ctx, record("a")) }()
		time.Sleep(50 * time.Millisecond)
		if err := s.Update(ctx, record("b")); err != nil {
			t.Fatal(err)
		}
		if err := <-a; err != nil {
			t.Fatal(err)
		}
	}
	t.Run("WritesApartShareACommit", func(t *testing.T) {
		t.Parallel()
		s := MustOpen(t)
		sizes := observe(s)
		// Long enough for any machine to queue the second write inside it, and the previous
		// commit counted as recent however slowly the test runs.
		s.SetCommitGather(time.Second)
		postgres.SetGatherBusy(s, time.Minute)
		twoWritesApart(s)
		if got := sizes(3); !slices.Equal(got, []int{1, 2}) {
			t.Errorf("batch sizes = %v, want [1 2]: the writes 50 ms apart were not gathered into one transaction", got)
		}
		if !stored(s, "a") || !stored(s, "b") {
			t.Error("a gathered write is not stored")
		}
	})
	t.Run("AWriteAfterAQuietSpellIsNotHeld", func(t *testing.T) {
		t.Parallel()
		s := MustOpen(t)
		s.SetCommitGather(time.Minute)
		postgres.SetGatherBusy(s, 50*time.Millisecond)
		ctx := context.Background()
		if err := s.Update(ctx, record("first")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		began := time.Now()
		if err := s.Update(ctx, record("after")); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took > 30*time.Second {
			t.Errorf("a write after a quiet spell took %v: it was held for the gather", took)
		}
	})
	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		s := MustOpen(t)
		sizes := observe(s)
		s.SetCommitGather(0)
		postgres.SetGatherBusy(s, time.Minute)
		twoWritesApart(s)
		if got := sizes(3); !slices.Equal(got, []int{1, 1, 1}) {
			t.Errorf("batch sizes = %v, want [1 1 1] with gathering off", got)
		}
	})
}
