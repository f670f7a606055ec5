package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"wardline"
	"wardline/sqlite"
	"wardline/storetest"
)

// TestStore runs the store contract against SQLite.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wardline.Store { return MustOpenEmpty(t) })
}

// emptyDB is the file of a freshly migrated, empty database, made once and copied for each test
// that needs an empty store: running the migrations is most of the cost of opening a new one
// (7x under the race detector). TestOpen covers opening a new file.
var emptyDB = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "wardline-sqlite-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "w.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path) // closing checkpointed the WAL into the file
})

// MustOpenEmpty opens a new empty store in the test's temporary directory.
func MustOpenEmpty(tb testing.TB) *sqlite.Store {
	tb.Helper()
	data, err := emptyDB()
	if err != nil {
		tb.Fatalf("make empty database: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "w.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return MustOpen(tb, path)
}

// MustOpen opens the database at path and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpen(t *testing.T) {
	// A committed write survives closing the store, as it would a crash after the answer.
	t.Run("Durable", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "w.db")
		s := MustOpen(t, path)
		f := storetest.MustCreateFixture(t, s)
		msgs := storetest.MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 3, storetest.T0)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		s = MustOpen(t, path)
		got, err := s.Message(t.Context(), f.Conv.ID, msgs[2].ID)
		if err != nil {
			t.Fatalf("Message after reopening: %v", err)
		}
		storetest.AssertSame(t, "Message", got, msgs[2])
		if c, err := s.Conversation(t.Context(), f.Conv.ID); err != nil || c.LastSeq != 3 {
			t.Errorf("Conversation after reopening: LastSeq %v, %v; want 3", c, err)
		}
	})

	// Reopening applies no migration twice and keeps what is stored.
	t.Run("MigrationsIdempotent", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "w.db")
		s := MustOpen(t, path)
		o := storetest.MustCreateOrg(t, s, "Northgate")
		s.Close()
		for range 2 {
			s = MustOpen(t, path)
			if n, err := s.CountOrgs(t.Context()); err != nil || n != 1 {
				t.Errorf("CountOrgs after reopening: got %d, %v, want 1", n, err)
			}
			s.Close()
		}
		s = MustOpen(t, path)
		storetest.MustCreateOrg(t, s, "Southgate")
		if _, err := s.Org(t.Context(), o.ID); err != nil {
			t.Errorf("Org after reopening: %v", err)
		}
	})

	t.Run("ErrBadPath", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "missing", "dir", "w.db")
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%s): got no error, want one", path)
		}
	})
}

func TestStore_Close(t *testing.T) {
	t.Run("UpdateAfterClose", func(t *testing.T) {
		t.Parallel()
		s := MustOpen(t, filepath.Join(t.TempDir(), "w.db"))
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		err := s.Update(t.Context(), func(tx wardline.Tx) error { return nil })
		if err == nil {
			t.Errorf("Update after Close: got no error, want one")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// Crypto-shredding must leave no copy of the key material in the database files once the WAL is
// checkpointed (secure_delete zeroes freed space; Checkpoint empties the WAL).
func TestStore_Checkpoint(t *testing.T) {
	t.Run("EmptiesWAL", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "w.db")
		s := MustOpen(t, path)
		storetest.MustCreateFixture(t, s)
		if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
			t.Fatalf("WAL before checkpoint: %v, %v; want a non-empty file", fi, err)
		}
		if err := s.Checkpoint(t.Context()); err != nil {
			t.Fatalf("Checkpoint: %v", err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
			t.Errorf("WAL after checkpoint: got %d bytes, want 0", fi.Size())
		}
		// What was checkpointed is still there.
		if n, err := s.CountOrgs(t.Context()); err != nil || n != 1 {
			t.Errorf("CountOrgs after checkpoint: got %d, %v, want 1", n, err)
		}
	})

	t.Run("ShreddedKeyGone", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "w.db")
		s := MustOpen(t, path)
		o := storetest.MustCreateOrg(t, s, "Northgate")
		conv := wardline.NewID()
		secret := []byte("\x01KEY-MATERIAL-THAT-MUST-VANISH-0123456789abcdef\x02")
		k := storetest.NewKey(wardline.KeyKindData, o.ID, conv, 1, "kek:1")
		k.Wrapped = secret
		storetest.MustInsertKeys(t, s, k)
		if err := s.Checkpoint(t.Context()); err != nil {
			t.Fatalf("Checkpoint: %v", err)
		}
		if !filesContain(t, path, secret) {
			t.Fatalf("key material not found in the database files before shredding; the test cannot see it")
		}

		storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DestroyKeys(t.Context(), conv, storetest.T0) })
		if err := s.Checkpoint(t.Context()); err != nil {
			t.Fatalf("Checkpoint: %v", err)
		}
		if filesContain(t, path, secret) {
			t.Errorf("key material still in the database files after DestroyKeys and Checkpoint")
		}
	})
}

// filesContain reports whether the database file or its WAL holds b.
func filesContain(t *testing.T, path string, b []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		if bytes.Contains(data, b) {
			return true
		}
	}
	return false
}
