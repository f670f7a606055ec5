package keyring_test

import (
	"bytes"
	"strings"
	"testing"

	"wardline"
	"wardline/audit"
	"wardline/keyring"
)

func TestCheckpointSigningKey(t *testing.T) {
	f := newFixture(t)
	if _, err := f.kr.CheckpointPublicKey(ctx, false); err == nil {
		t.Fatal("CheckpointPublicKey without create made or found a key in an empty store")
	}
	c := &audit.Checkpoint{Size: 3, Root: bytes.Repeat([]byte{7}, 32), Time: f.clock.now}
	if err := f.kr.SignCheckpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	pub, err := f.kr.CheckpointPublicKey(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyCheckpoint(pub, c); err != nil {
		t.Fatalf("checkpoint does not verify with the keyring's public key: %v", err)
	}
	if !strings.HasPrefix(c.Origin, "wardline/audit/") || c.Origin != keyring.CheckpointOrigin(pub) {
		t.Errorf("origin %q", c.Origin)
	}
	if len(f.store.audit) != 1 || f.store.audit[0].Action != wardline.ActionSigningKeyCreated {
		t.Errorf("making the key wrote audit entries %v, want one %s", f.store.audit, wardline.ActionSigningKeyCreated)
	}
	recs := f.store.all("audit/checkpoint")
	if len(recs) != 1 || bytes.Contains(recs[0].Wrapped, pub) || recs[0].WrappedBy != "kek:1" {
		t.Fatalf("stored signing key: %+v", recs)
	}

	// Another process with the same master key finds the same key; it makes no new one.
	again, err := f.restart(t).CheckpointPublicKey(ctx, true)
	if err != nil || !again.Equal(pub) {
		t.Fatalf("after a restart: %v, same key %v", err, again.Equal(pub))
	}

	// The master key's rotation re-wraps it; after the old term is retired it still opens.
	if _, err := f.master.AddTerm(); err != nil {
		t.Fatal(err)
	}
	if err := f.kr.RotateMasterKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.kr.RetireMasterTerm(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := f.store.all("audit/checkpoint")[0].WrappedBy; got != "kek:2" {
		t.Fatalf("after master rotation the signing key is wrapped by %s", got)
	}
	rotated, err := f.restart(t).CheckpointPublicKey(ctx, false)
	if err != nil || !rotated.Equal(pub) {
		t.Fatalf("after master rotation: %v, same key %v", err, rotated.Equal(pub))
	}

	// A different master key cannot open it.
	other := newFixture(t)
	other.store = f.store
	other.kr = keyring.New(other.master, f.store, other.clock)
	if _, err := other.kr.CheckpointPublicKey(ctx, false); err == nil {
		t.Fatal("a different master key opened the signing key")
	}
}

func TestIdentifierHMAC(t *testing.T) {
	f := newFixture(t)
	orgA, orgB := f.newOrg(t), f.newOrg(t)
	a1, err := f.kr.IdentifierHMAC(ctx, orgA, audit.IdentNHSNumber, "943 476 5919")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a1, "9434765919") || len(a1) != 64 {
		t.Fatalf("HMAC %q", a1)
	}
	if a2, _ := f.kr.IdentifierHMAC(ctx, orgA, audit.IdentNHSNumber, "9434765919"); a2 != a1 {
		t.Error("the same number written differently gives another HMAC")
	}
	if b, _ := f.kr.IdentifierHMAC(ctx, orgB, audit.IdentNHSNumber, "9434765919"); b == a1 {
		t.Error("two organisations share an identifier key")
	}
	// Stable across restarts and the organisation key's rotation: old entries stay searchable.
	if err := f.kr.RotateOrgKey(ctx, orgA); err != nil {
		t.Fatal(err)
	}
	if err := f.kr.RetireOrgKeyTerms(ctx, orgA); err != nil {
		t.Fatal(err)
	}
	if got, err := f.restart(t).IdentifierHMAC(ctx, orgA, audit.IdentNHSNumber, "9434765919"); err != nil || got != a1 {
		t.Fatalf("after rotation and restart: %q, %v; want %q", got, err, a1)
	}
	// Shredding the organisation destroys it with everything else.
	if err := f.kr.Shred(ctx, orgA); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restart(t).IdentifierHMAC(ctx, orgA, audit.IdentNHSNumber, "9434765919"); err == nil {
		t.Fatal("a shredded organisation's identifier key still works")
	}
}
