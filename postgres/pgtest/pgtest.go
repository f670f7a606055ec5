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
	"sync"
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

// Pool lends schemas that are migrated already and takes them back emptied, so that a suite of
// many small tests does not pay for CREATE SCHEMA, the migrations and DROP SCHEMA every time
// (most of a contract test's cost). Reset empties a returned schema; Close drops them all
// (call it from TestMain).
type Pool struct {
	Reset func(ctx context.Context, conn *pgx.Conn, schema string) error

	mu   sync.Mutex
	free []string
	all  []string
	base string
}

// URL lends a schema until the test ends and returns a URL that uses it.
func (p *Pool) URL(tb testing.TB) string {
	tb.Helper()
	base := ServerURL(tb)
	p.mu.Lock()
	p.base = base
	var schema string
	if n := len(p.free); n > 0 {
		schema, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if schema == "" {
		schema = newSchemaName()
		if err := exec(base, "CREATE SCHEMA "+schema); err != nil {
			tb.Fatalf("create test schema: %v", err)
		}
		p.mu.Lock()
		p.all = append(p.all, schema)
		p.mu.Unlock()
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("reset test schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if err := p.Reset(ctx, conn, schema); err != nil {
			tb.Errorf("reset test schema %s: %v", schema, err)
			return // not lent again
		}
		p.mu.Lock()
		p.free = append(p.free, schema)
		p.mu.Unlock()
	})
	return WithSearchPath(tb, base, schema)
}

// Close drops every schema the pool made.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.all {
		_ = exec(p.base, "DROP SCHEMA IF EXISTS "+s+" CASCADE")
	}
	p.all, p.free = nil, nil
}

func newSchemaName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "wt_" + hex.EncodeToString(b)
}

func exec(base, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
