package postgres_test

import (
	"context"
	"testing"

	"wardline"
	"wardline/postgres"
	"wardline/postgres/pgtest"
	"wardline/storetest"
)

// TestStore runs the store contract against PostgreSQL, each subtest in a schema of its own.
func TestStore(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) wardline.Store { return MustOpen(t) })
}

// MustOpen opens a store on a new empty schema and closes it when the test ends.
func MustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	return MustOpenURL(tb, pgtest.SchemaURL(tb), postgres.Options{})
}

// MustOpenURL opens a store on url (a schema of the test's) and closes it when the test ends.
func MustOpenURL(tb testing.TB, url string, opts postgres.Options) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), url+"&pool_max_conns=4", opts)
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

// Checkpoint (after shredding) reclaims erased key rows at once; it must work outside Update.
func TestCheckpoint(t *testing.T) {
	s := MustOpen(t)
	f := storetest.MustCreateFixture(t, s)
	k := storetest.NewKey(wardline.KeyKindData, f.Org.ID, f.Conv.ID, 1, "kek:1")
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return tx.InsertKey(t.Context(), k) })
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DestroyKeys(t.Context(), f.Conv.ID, storetest.T0) })
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
}
