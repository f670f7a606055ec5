package keyring_test

import (
	"bytes"
	"path/filepath"
	"testing"

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
}
