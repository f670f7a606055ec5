package keyring_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"

	"wardline"
)

// Many goroutines seal and open at once while keys roll over and the organisation key rotates;
// every seal must open and no key may seal more than its limit.
func TestConcurrent(t *testing.T) {
	f := newFixture(t)
	const limit = 40
	f.kr.MaxSealsPerKey = limit
	org := f.newOrg(t)
	scopes := []string{f.newScope(t, org), f.newScope(t, org), f.newScope(t, org)}

	type sealedMsg struct {
		scope  string
		aad    []byte
		sealed []byte
		body   string
	}
	var mu sync.Mutex
	var all []sealedMsg
	var wg sync.WaitGroup
	errs := make(chan error, 17)
	for g := range 16 {
		wg.Go(func() {
			for i := range 60 {
				scope := scopes[(g+i)%len(scopes)]
				aad := wardline.AAD("messages", fmt.Sprint(g, "-", i), "body")
				body := fmt.Sprintf("goroutine %d message %d", g, i)
				s, err := f.kr.Seal(ctx, scope, aad, []byte(body))
				if err != nil {
					errs <- err
					return
				}
				got, err := f.kr.Open(ctx, scope, aad, s)
				if err != nil || string(got) != body {
					errs <- fmt.Errorf("open: %q, %v", got, err)
					return
				}
				mu.Lock()
				all = append(all, sealedMsg{scope, aad, s, body})
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		if err := f.kr.RotateOrgKey(ctx, org); err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	perKey := map[string]int{}
	restarted := f.restart(t)
	for _, m := range all {
		perKey[fmt.Sprint(m.scope, binary.BigEndian.Uint32(m.sealed[1:5]))]++
		mustOpen(t, restarted, m.scope, m.aad, m.sealed, m.body)
	}
	for k, n := range perKey {
		if n > limit {
			t.Fatalf("key %s sealed %d times, limit %d", k, n, limit)
		}
	}
}

// A cold cache loads a scope once however many callers want it at the same moment.
func TestLoadOnce(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	scope := f.newScope(t, org)
	sealed := mustSeal(t, f.kr, scope, nil, "x")

	kr := f.restart(t)
	before := f.store.reads(scope)
	f.store.mu.Lock()
	f.store.gate, f.store.arrived = make(chan struct{}), make(chan string, 1)
	f.store.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := kr.Open(ctx, scope, nil, sealed); err != nil {
				errs <- err
			}
		})
	}
	<-f.store.arrived // the first load is in flight: let it, and everyone waiting on it, go
	close(f.store.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := f.store.reads(scope) - before; got != 1 {
		t.Fatalf("scope read %d times, want 1", got)
	}
}

func BenchmarkSeal(b *testing.B) {
	f := newFixture(b)
	scope := f.newScope(b, f.newOrg(b))
	body := bytes.Repeat([]byte("a"), 200)
	aad := wardline.AAD("messages", wardline.NewID(), "body")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.kr.Seal(ctx, scope, aad, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	f := newFixture(b)
	scope := f.newScope(b, f.newOrg(b))
	aad := wardline.AAD("messages", wardline.NewID(), "body")
	sealed := mustSeal(b, f.kr, scope, aad, strings.Repeat("a", 200))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.kr.Open(ctx, scope, aad, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealParallel(b *testing.B) {
	f := newFixture(b)
	scope := f.newScope(b, f.newOrg(b))
	body := bytes.Repeat([]byte("a"), 200)
	aad := wardline.AAD("messages", wardline.NewID(), "body")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.kr.Seal(ctx, scope, aad, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
