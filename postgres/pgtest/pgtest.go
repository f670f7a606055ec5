// Package pgtest gives tests a private PostgreSQL schema on the server named by
// WARDLINE_TEST_POSTGRES. Several engineers and CI run tests against one server at once, so each
// store gets a schema of its own (selected with search_path), dropped when its test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable that names the test server.
const EnvURL = "WARDLINE_TEST_POSTGRES"

// ServerURL returns the test server's URL, or skips the test with a clear message when none is
// configured; under WARDLINE_TEST_REQUIRE_ALL=1 (CI) it fails instead.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("WARDLINE_TEST_REQUIRE_ALL") == "1" {
			tb.Fatalf("%s is not set and WARDLINE_TEST_REQUIRE_ALL=1: set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvURL)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvURL)
	}
	return u
}

// SchemaURL creates an empty schema on the test server and returns a URL whose connections use
// it; the schema is dropped, with everything in it, when the test ends (after cleanups registered
// later, such as closing the store).
func SchemaURL(tb testing.TB) string {
	tb.Helper()
	base := ServerURL(tb)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "wt_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() { DropSchema(tb, base, schema) })
	return WithSearchPath(tb, base, schema)
}

// DropSchema drops a test schema and everything in it.
func DropSchema(tb testing.TB, base, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Errorf("drop test schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		tb.Errorf("drop test schema %s: %v", schema, err)
	}
}

// WithSearchPath returns base with its connections' search_path set to schema.
func WithSearchPath(tb testing.TB, base, schema string) string {
	tb.Helper()
	if !strings.Contains(base, "://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
