//go:build unix

package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"wardline"
	"wardline/app"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/sqlite"
)

// BenchmarkVerifyMillion times `wardline audit verify` over a real SQLite database of 1,000,000
// entries (WARDLINE_BENCH_ENTRIES to change it) with a signed checkpoint every 100,000 and the
// witness file, as the command runs it. Making the database takes a while and is not timed.
//
//	go test ./cmd/wardline -run '^$' -bench VerifyMillion -benchtime 1x
func BenchmarkVerifyMillion(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("WARDLINE_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	dir := b.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "wardline.db"))
	if err != nil {
		b.Fatal(err)
	}
	master, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		b.Fatal(err)
	}
	keys := keyring.New(master, store, wardline.SystemClock{})
	a := app.New(store, inmem.NewBus(), keys, wardline.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		app.Config{Witnesses: []app.Witness{&app.FileWitness{Path: filepath.Join(dir, "audit-checkpoints.log")}}})
	org, actor, conv := wardline.NewID(), wardline.NewID(), wardline.NewID()
	start := time.Now()
	const batch = 10_000
	at := time.Now().UTC().Truncate(time.Microsecond)
	for done := 0; done < n; {
		k := min(batch, n-done)
		err := store.Update(ctx, func(tx wardline.Tx) error {
			for i := range k {
				e := &wardline.AuditEvent{ID: wardline.NewID(), At: at.Add(time.Duration(done+i) * time.Millisecond), OrgID: org, ActorID: actor,
					SessionID: actor, Addr: "10.20.30.40", Action: wardline.ActionMessageSent, TargetType: "message", TargetID: wardline.NewID(),
					ConversationID: conv, Outcome: wardline.OutcomeSuccess, Detail: map[string]any{"seq": done + i + 1, "priority": "routine"}}
				if err := tx.AppendAudit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += k
		if done%100_000 == 0 || done == n {
			if _, err := a.Checkpoints.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	a.Close()
	store.Close()
	b.Logf("made %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	cfg := &Config{DataDir: dir}
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for range b.N {
		res, err := verifyAudit(ctx, cfg, io.Discard)
		if err != nil || res.Entries != n+1 { // and the signing key's own entry
			b.Fatalf("verify: %d entries, %v", res.Entries, err)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := (ru1.Utime.Nano() + ru1.Stime.Nano()) - (ru0.Utime.Nano() + ru0.Stime.Nano())
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(n), "cpu-ns/entry")
}
