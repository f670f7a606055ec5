package keyring_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"wardline"
	"wardline/keyring"
)

// sealedSet is content sealed across scopes, to check that every piece still opens.
type sealedSet map[string][][]byte // scope → sealed, the i-th with aad and body i

func sealEach(t *testing.T, kr *keyring.Keyring, set sealedSet, scopes ...string) {
	t.Helper()
	for _, s := range scopes {
		i := len(set[s])
		set[s] = append(set[s], mustSeal(t, kr, s, []byte(fmt.Sprint(i)), fmt.Sprint(s, i)))
	}
}

func (set sealedSet) openAll(t *testing.T, kr *keyring.Keyring) {
	t.Helper()
	for s, list := range set {
		for i, sealed := range list {
			mustOpen(t, kr, s, []byte(fmt.Sprint(i)), sealed, fmt.Sprint(s, i))
		}
	}
}

func TestRotateDataKey(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	scope := f.newScope(t, org)
	aad := []byte("row")
	before := mustSeal(t, f.kr, scope, aad, "before")
	if err := f.kr.RotateDataKey(ctx, org, scope); err != nil {
		t.Fatal(err)
	}
	after := mustSeal(t, f.kr, scope, aad, "after")
	if got := binary.BigEndian.Uint32(after[1:5]); got != 2 {
		t.Fatalf("sealed after rotation under term %d, want 2", got)
	}
	for _, kr := range []*keyring.Keyring{f.kr, f.restart(t)} {
		mustOpen(t, kr, scope, aad, before, "before")
		mustOpen(t, kr, scope, aad, after, "after")
	}
	// Each term's key is its own: relabelling content with the other term does not open it.
	relabelled := append([]byte(nil), after...)
	binary.BigEndian.PutUint32(relabelled[1:5], 1)
	if _, err := f.kr.Open(ctx, scope, aad, relabelled); !errors.Is(err, keyring.ErrNotAuthentic) {
		t.Fatalf("got %v, want ErrNotAuthentic", err)
	}

	t.Run("SeenByOtherNode", func(t *testing.T) {
		other := f.restart(t)
		mustOpen(t, other, scope, aad, after, "after") // caches terms 1 and 2
		if err := f.kr.RotateDataKey(ctx, org, scope); err != nil {
			t.Fatal(err)
		}
		third := mustSeal(t, f.kr, scope, aad, "third")
		mustOpen(t, other, scope, aad, third, "third")
	})
}

func TestRotateOrgKey(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	set := sealedSet{}
	// More scopes than one re-wrapping page holds, and a shredded one among them.
	var scopes []string
	for range 1100 {
		scopes = append(scopes, f.newScope(t, org))
	}
	sealEach(t, f.kr, set, scopes[:20]...)
	shredded := f.newScope(t, org)
	if err := f.kr.Shred(ctx, shredded); err != nil {
		t.Fatal(err)
	}
	oldOrgKey := orgRecords(f.store, org)[0]
	other := f.restart(t) // another node, which cached the old term
	set.openAll(t, other)

	if err := f.kr.RotateOrgKey(ctx, org); err != nil {
		t.Fatal(err)
	}
	orgKeys := orgRecords(f.store, org)
	if len(orgKeys) != 2 || orgKeys[1].Term != 2 || orgKeys[1].WrappedBy != "kek:1" {
		t.Fatalf("organisation keys after rotation: %+v", orgKeys)
	}
	newOrgKey := orgKeys[1]
	for _, s := range scopes {
		for _, r := range dataRecords(f.store, s) {
			if r.WrappedBy != newOrgKey.ID || r.Term != 1 {
				t.Fatalf("data key %s: wrapped by %s term %d, want %s term 1", r.ID, r.WrappedBy, r.Term, newOrgKey.ID)
			}
		}
	}
	if r := dataRecords(f.store, shredded)[0]; r.Wrapped != nil {
		t.Fatal("rotation gave a shredded scope its key back")
	}

	sealEach(t, f.kr, set, scopes[:20]...)
	sealEach(t, other, set, scopes[:20]...)
	set.openAll(t, f.kr)
	set.openAll(t, other)
	set.openAll(t, f.restart(t))

	fresh := f.newScope(t, org)
	if got := dataRecords(f.store, fresh)[0].WrappedBy; got != newOrgKey.ID {
		t.Fatalf("new data key wrapped by %s, want the new organisation key %s", got, newOrgKey.ID)
	}

	t.Run("Retire", func(t *testing.T) {
		if err := f.kr.RetireOrgKeyTerms(ctx, org); err != nil {
			t.Fatal(err)
		}
		old := orgRecords(f.store, org)[0]
		if old.ID != oldOrgKey.ID || old.Wrapped != nil || old.DestroyedAt != nil {
			t.Fatalf("retired term: %+v, want its material erased and no destruction time", old)
		}
		set.openAll(t, f.restart(t))
		set.openAll(t, f.kr)
		wellFormed := make([]byte, 40)
		wellFormed[0], wellFormed[4] = 1, 1 // version 1, term 1
		if _, err := f.restart(t).Open(ctx, shredded, nil, wellFormed); !errors.Is(err, wardline.ErrContentDestroyed) {
			t.Fatalf("shredded scope: got %v, want ErrContentDestroyed", err)
		}
	})

	t.Run("ErrRetireInUse", func(t *testing.T) {
		if err := f.kr.RotateOrgKey(ctx, org); err != nil {
			t.Fatal(err)
		}
		// A node that missed the rotation wraps a new data key under the previous term.
		prev := orgRecords(f.store, org)[1]
		f.store.edit(dataRecords(f.store, fresh)[0].ID, func(r *wardline.KeyRecord) { r.WrappedBy = prev.ID })
		err := f.kr.RetireOrgKeyTerms(ctx, org)
		if err == nil || !strings.Contains(err.Error(), "RotateOrgKey") {
			t.Fatalf("got %v, want a refusal", err)
		}
		if orgRecords(f.store, org)[1].Wrapped == nil {
			t.Fatal("a term still in use was retired")
		}
	})
}

func TestRotateMasterKey(t *testing.T) {
	f := newFixture(t)
	set := sealedSet{}
	orgA, orgB := f.newOrg(t), f.newOrg(t)
	scopes := []string{f.newScope(t, orgA), f.newScope(t, orgA), f.newScope(t, orgB)}
	sealEach(t, f.kr, set, scopes...)
	shreddedOrg := f.newOrg(t)
	if err := f.kr.Shred(ctx, shreddedOrg); err != nil {
		t.Fatal(err)
	}

	if err := f.kr.RotateMasterKey(ctx); err == nil {
		t.Fatal("RotateMasterKey ran with one master key term")
	}
	term, err := f.master.AddTerm()
	if err != nil || term != 2 {
		t.Fatalf("AddTerm: %d, %v", term, err)
	}
	if err := f.kr.RetireMasterTerm(ctx, 1); err == nil || !strings.Contains(err.Error(), "RotateMasterKey") {
		t.Fatalf("RetireMasterTerm before rotation: got %v, want a refusal", err)
	}
	set.openAll(t, f.restart(t)) // both terms in the file: old wrappings still open

	// New organisations are wrapped by the new term at once.
	orgC := f.newOrg(t)
	if got := orgRecords(f.store, orgC)[0].WrappedBy; got != "kek:2" {
		t.Fatalf("new organisation key wrapped by %s, want kek:2", got)
	}

	if err := f.kr.RotateMasterKey(ctx); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{orgA, orgB, orgC} {
		for _, r := range orgRecords(f.store, o) {
			if r.WrappedBy != "kek:2" {
				t.Fatalf("organisation key %s still wrapped by %s", r.ID, r.WrappedBy)
			}
		}
	}
	if r := orgRecords(f.store, shreddedOrg)[0]; r.Wrapped != nil {
		t.Fatal("rotation gave a shredded organisation its key back")
	}
	sealEach(t, f.kr, set, scopes...)
	set.openAll(t, f.kr)

	if err := f.kr.RetireMasterTerm(ctx, 2); err == nil {
		t.Fatal("the newest master key term was retired")
	}
	if err := f.kr.RetireMasterTerm(ctx, 1); err != nil {
		t.Fatal(err)
	}
	reloaded, err := keyring.LoadMasterKeys(f.master.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(reloaded.Terms()); got != "[2]" {
		t.Fatalf("terms in the file after retiring 1: %s, want [2]", got)
	}
	restarted := keyring.New(reloaded, f.store, f.clock)
	set.openAll(t, restarted)
	sealEach(t, restarted, set, scopes...)
	set.openAll(t, f.restart(t))
}
