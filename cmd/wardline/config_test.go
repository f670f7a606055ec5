package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"wardline"
	"wardline/postgres"
	"wardline/postgres/pgtest"
	"wardline/sqlite"
)

// --commit-gather takes a duration from 0 to 50 ms, and either store is opened with it.
func TestCommitGatherFlag(t *testing.T) {
	for _, bad := range []string{"lots", "-1ms", "1s", "2"} {
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags([]string{"--commit-gather", bad}); err == nil || !strings.Contains(err.Error(), "--commit-gather") {
			t.Errorf("--commit-gather %q: got %v, want it refused", bad, err)
		}
	}
	for in, want := range map[string]time.Duration{"": wardline.DefaultCommitGather, "0": 0, "5ms": 5 * time.Millisecond, "500us": 500 * time.Microsecond} {
		cfg := &Config{DataDir: t.TempDir(), CommitGather: in}
		store, err := openStore(context.Background(), cfg)
		if err != nil {
			t.Fatalf("--commit-gather %q: %v", in, err)
		}
		if got := store.(*sqlite.Store).CommitGather(); got != want {
			t.Errorf("--commit-gather %q: the store gathers for %v, want %v", in, got, want)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
	}
	url := pgtest.SchemaURL(t)
	for in, want := range map[string]time.Duration{"": wardline.DefaultCommitGather, "0": 0, "5ms": 5 * time.Millisecond} {
		store, err := openStore(context.Background(), &Config{DataDir: t.TempDir(), DatabaseURL: url, CommitGather: in})
		if err != nil {
			t.Fatalf("PostgreSQL, --commit-gather %q: %v", in, err)
		}
		if got := store.(*postgres.Store).CommitGather(); got != want {
			t.Errorf("PostgreSQL, --commit-gather %q: the store gathers for %v, want %v", in, got, want)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
