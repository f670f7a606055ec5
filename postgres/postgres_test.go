package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"wardline"
	"wardline/postgres"
	"wardline/postgres/pgtest"
	"wardline/storetest"
)

// schemas lends each test an empty migrated schema of its own; other engineers' tests use the
// same server at the same time.
var schemas = &pgtest.Pool{Reset: resetSchema}

func TestMain(m *testing.M) {
	code := m.Run()
	schemas.Close()
	os.Exit(code)
}

// resetSchema empties a schema as a fresh migration leaves it: every table but the migrations
// emptied, identities restarted, the audit tree back to the empty tree.
func resetSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'migrations'`, schema)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, schema+"."+t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "TRUNCATE "+strings.Join(tables, ", ")+" RESTART IDENTITY; "+
		"INSERT INTO "+schema+".audit_tree (id, size, state) VALUES (1, 0, '\\x010000000000000000'::bytea)")
	return err
}

// TestStore runs the store contract against PostgreSQL, each subtest in a schema of its own.
func TestStore(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) wardline.Store { return MustOpen(t) })
}

// MustOpen opens a store on an empty schema of its own and closes it when the test ends.
func MustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	return MustOpenURL(tb, schemas.URL(tb), postgres.Options{})
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

// WriteObserver tells each write how long it waited for its batch and how long that took.
func TestWriteObserver(t *testing.T) {
	s := MustOpen(t)
	storetest.CheckWriteTiming(t, s, func(f func(queued, batch time.Duration)) { s.WriteObserver = f })
}
