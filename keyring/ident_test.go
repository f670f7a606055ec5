package keyring_test

import (
	"errors"
	"sync"
	"testing"

	"wardline"
	"wardline/audit"
	"wardline/keyring"
)

func mustIdent(tb testing.TB, kr *keyring.Keyring, org, value string) string {
	tb.Helper()
	h, err := kr.IdentifierHMAC(ctx, org, audit.IdentNHSNumber, value)
	if err != nil {
		tb.Fatalf("IdentifierHMAC: %v", err)
	}
	return h
}

func TestIdentifierKeyLifecycle(t *testing.T) {
	f := newFixture(t)
	org, other := f.newOrg(t), f.newOrg(t)

	h := mustIdent(t, f.kr, org, "9434765919")
	if len(h) != 64 || h == "9434765919" {
		t.Fatalf("HMAC %q", h)
	}
	// Equal identifiers (however written) give equal values; others and other organisations differ.
	if got := mustIdent(t, f.kr, org, "943 476 5919"); got != h {
		t.Fatal("the same number written with spaces gives another value")
	}
	if mustIdent(t, f.kr, org, "4010232137") == h || mustIdent(t, f.kr, other, "9434765919") == h {
		t.Fatal("values collide across identifiers or organisations")
	}
	// The key is made once, stored wrapped by the organisation key, and survives a restart and a
	// rotation of the organisation key (which re-wraps it and changes nothing else).
	var idents []*wardline.KeyRecord
	for _, r := range f.store.all("ident/" + org) {
		if r.Kind == keyring.KeyKindIdentHMAC {
			idents = append(idents, r)
		}
	}
	if len(idents) != 1 || idents[0].WrappedBy != orgRecords(f.store, org)[0].ID || len(idents[0].Wrapped) == 0 {
		t.Fatalf("identifier key records: %+v", idents)
	}
	if got := mustIdent(t, f.restart(t), org, "9434765919"); got != h {
		t.Fatal("the value changed across a restart")
	}
	if err := f.kr.RotateOrgKey(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := f.kr.RetireOrgKeyTerms(ctx, org); err != nil {
		t.Fatalf("retiring the old organisation key term: %v", err)
	}
	if got := mustIdent(t, f.restart(t), org, "9434765919"); got != h {
		t.Fatal("the value changed across an organisation key rotation")
	}

	// Nodes that start at once agree on one key.
	fresh := f.newOrg(t)
	var wg sync.WaitGroup
	vals := make([]string, 8)
	for i := range vals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals[i] = mustIdent(t, f.restart(t), fresh, "9434765919")
		}()
	}
	wg.Wait()
	for _, v := range vals {
		if v != vals[0] {
			t.Fatal("concurrent first uses made different keys")
		}
	}

	// Shredding the organisation destroys it with everything else.
	if err := f.kr.Shred(ctx, org); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restart(t).IdentifierHMAC(ctx, org, audit.IdentNHSNumber, "9434765919"); !errors.Is(err, wardline.ErrContentDestroyed) {
		t.Fatalf("after shredding: got %v, want ErrContentDestroyed", err)
	}
	if _, err := f.kr.IdentifierHMAC(ctx, org, audit.IdentNHSNumber, "9434765919"); !errors.Is(err, wardline.ErrContentDestroyed) {
		t.Fatalf("after shredding, same node: got %v, want ErrContentDestroyed", err)
	}
}
