package keyring_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"wardline"
	"wardline/keyring"
)

func TestTransport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	m, err := keyring.CreateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Transport("event-bus")
	if err != nil {
		t.Fatal(err)
	}
	// Another node loading the same file opens what this one sealed.
	m2, err := keyring.LoadMasterKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m2.Transport("event-bus")
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"type":"message.created","message":{"body":"BP 90/60, please review"}}`)
	sealed := a.Seal([]byte("wardline.events"), plain)
	if bytes.Contains(sealed, []byte("BP 90/60")) {
		t.Fatalf("sealed data holds the text in clear")
	}
	got, err := b.Open([]byte("wardline.events"), sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open: got %q, %v", got, err)
	}
	t.Run("ErrWrongAAD", func(t *testing.T) {
		if _, err := b.Open([]byte("other.subject"), sealed); err == nil {
			t.Errorf("opened under another subject")
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		if _, err := b.Open([]byte("wardline.events"), bad); err == nil {
			t.Errorf("opened tampered data")
		}
	})
	t.Run("ErrOtherPurpose", func(t *testing.T) {
		c, _ := m.Transport("something-else")
		if _, err := c.Open([]byte("wardline.events"), sealed); err == nil {
			t.Errorf("a key of another purpose opened it")
		}
	})
	t.Run("ErrOtherMasterKey", func(t *testing.T) {
		other, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "other.key"))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := other.Transport("event-bus")
		if _, err := c.Open([]byte("wardline.events"), sealed); err == nil {
			t.Errorf("another master key opened it")
		}
	})
	// Names (the bus's subject tokens) are the same on every node holding the file, stay the same
	// when a term is added, and differ for another id, purpose or master key.
	t.Run("Name", func(t *testing.T) {
		id := []byte("conversation:0194f6a2-7c3e-7b1a-9d4e-2f8a6c1b3e5d")
		name := a.Name(id)
		if len(name) != 22 || strings.ContainsAny(name, ".*> ") || bytes.Contains([]byte(name), id[13:]) {
			t.Fatalf("Name = %q: want 22 subject-safe characters that do not show the id", name)
		}
		if b.Name(id) != name {
			t.Errorf("another node names it %q, this one %q", b.Name(id), name)
		}
		if a.Name([]byte("conversation:other")) == name {
			t.Errorf("two ids, one name")
		}
		c, _ := m.Transport("something-else")
		if c.Name(id) == name {
			t.Errorf("another purpose, the same name")
		}
		if _, err := m2.AddTerm(); err != nil {
			t.Fatal(err)
		}
		rotated, err := m2.Transport("event-bus")
		if err != nil {
			t.Fatal(err)
		}
		if rotated.Name(id) != name {
			t.Errorf("adding a master key term renamed %q to %q", name, rotated.Name(id))
		}
		other, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "third.key"))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := other.Transport("event-bus")
		if d.Name(id) == name {
			t.Errorf("another master key, the same name")
		}
	})
}

// A node that missed the key-shredded event on the bus forgets everything on the gap, and then no
// longer opens the shredded scope, while every other scope still opens.
func TestForgetAllAfterMissedShred(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	a, b := f.newScope(t, org), f.newScope(t, org)
	aad := wardline.AAD("messages", "m1", "body")
	other := f.restart(t) // another node, with both scopes cached
	sealedA, sealedB := mustSeal(t, other, a, aad, "shred me"), mustSeal(t, other, b, aad, "keep me")
	if err := f.kr.Shred(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	// The event never reached the other node: its cache still opens the shredded scope.
	mustOpen(t, other, a, aad, sealedA, "shred me")
	other.ForgetAll()
	if _, err := other.Open(t.Context(), a, aad, sealedA); !errors.Is(err, wardline.ErrContentDestroyed) {
		t.Fatalf("Open after ForgetAll: got %v, want ErrContentDestroyed", err)
	}
	mustOpen(t, other, b, aad, sealedB, "keep me")
}
