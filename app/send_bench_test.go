package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
	"wardline/app"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/sqlite"
)

// BenchmarkSendParallel sends routine messages from 100 concurrent senders into one group of 10
// (group commit: many messages per fsync). Reports messages per second; run with -benchtime Nx
// and compare CPU time (the machine's fsync rate dominates the wall clock).
func BenchmarkSendParallel(b *testing.B) {
	benchmarkSend(b, wardline.PriorityRoutine)
}

// BenchmarkSendParallelUrgent is the same with urgent messages (each registers an escalation).
func BenchmarkSendParallelUrgent(b *testing.B) {
	benchmarkSend(b, wardline.PriorityUrgent)
}

func benchmarkSend(b *testing.B, priority string) {
	dir := b.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "wardline.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	master, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		b.Fatal(err)
	}
	bus := inmem.NewBus()
	a := app.New(store, bus, keyring.New(master, store, wardline.SystemClock{}), wardline.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		app.Config{PasswordParams: app.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	defer a.Close()
	actx := wardline.NewContextWithActor(ctx, &wardline.Actor{Addr: "bench"})
	_, admin, _, err := a.Users.CreateOrg(actx, "Bench Trust", wardline.NewUser{Email: "admin@bench.nhs.uk", DisplayName: "Admin"}, false)
	if err != nil {
		b.Fatal(err)
	}
	as := func(u *wardline.User) context.Context {
		return wardline.NewContextWithActor(ctx, &wardline.Actor{User: u, Session: &wardline.Session{ID: "bench"}})
	}
	var members []string
	for i := range 9 {
		u, _, err := a.Users.CreateUser(as(admin), wardline.NewUser{Email: uuid.NewString()[:8] + "@bench.nhs.uk", DisplayName: "User " + string(rune('A'+i))})
		if err != nil {
			b.Fatal(err)
		}
		members = append(members, u.ID)
	}
	conv, _, err := a.Conversations.CreateConversation(as(admin), wardline.NewConversation{Kind: wardline.KindGroup, Title: "Bench", MemberIDs: members})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(50) // 100 senders on 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		sender := as(admin)
		for pb.Next() {
			if _, err := a.Messages.Send(sender, conv.ID, wardline.NewMessage{ClientID: uuid.NewString(), Body: "Bed 4 obs stable, NEWS2 1", Priority: priority}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
