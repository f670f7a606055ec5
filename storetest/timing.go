package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"wardline"
)

// CheckWriteTiming checks a store's WriteObserver, which observe sets: a write queued while
// another's batch runs is told that it waited for it, and the first is told how long its batch
// took. Both stores call the observer after answering, so it polls for the reports.
func CheckWriteTiming(t *testing.T, s wardline.Store, observe func(func(queued, batch time.Duration))) {
	t.Helper()
	var mu sync.Mutex
	var got [][2]time.Duration
	observe(func(queued, batch time.Duration) {
		mu.Lock()
		got = append(got, [2]time.Duration{queued, batch})
		mu.Unlock()
	})
	ctx := context.Background()
	const hold = 100 * time.Millisecond
	started := make(chan struct{})
	var once sync.Once
	slow := make(chan error, 1)
	go func() {
		slow <- s.Update(ctx, func(wardline.Tx) error {
			once.Do(func() { close(started) })
			time.Sleep(hold)
			return nil
		})
	}()
	<-started
	if err := s.Update(ctx, func(wardline.Tx) error { return nil }); err != nil {
		t.Fatalf("the write queued behind: %v", err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the slow write: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes reported, want 2", n)
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("reports %v, want one for each of the two writes", got)
	}
	slowW, behind := got[0], got[1]
	if slowW[1] < hold || slowW[0] >= hold {
		t.Errorf("the slow write: queued %v, batch %v; want a batch of at least %v and no such wait", slowW[0], slowW[1], hold)
	}
	if behind[0] < hold/2 || behind[1] >= hold {
		t.Errorf("the write behind it: queued %v, batch %v; want a wait of about %v and a quick batch", behind[0], behind[1], hold)
	}
}
