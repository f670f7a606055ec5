package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"wardline"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/nats"
	"wardline/postgres"
	"wardline/sqlite"
)

// openStore opens the configured store: SQLite in the data directory unless --database-url names
// a PostgreSQL database. The data directory still holds the master key file by default.
func openStore(ctx context.Context, cfg *Config) (wardline.Store, error) {
	gather, err := cfg.commitGather()
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL != "" {
		if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") && !strings.HasPrefix(cfg.DatabaseURL, "postgresql://") {
			return nil, fmt.Errorf("--database-url: want a postgres:// URL")
		}
		s, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{})
		if err != nil {
			return nil, err
		}
		s.SetCommitGather(gather)
		return s, nil
	}
	s, err := sqlite.Open(ctx, cfg.databasePath())
	if err != nil {
		return nil, err
	}
	s.SetCommitGather(gather)
	return s, nil
}

// observeBatches reports, whichever store it is, every committed group's size to batch, every
// write's wait for its group and that group's time to write, and its failures to storeErr:
// "commit" (a PostgreSQL batch attempt) or "audit_search" (a SQLite run filing audit entries for
// search, which fails no write). A SQLite store's WAL restarts are given to walRestarts, and
// the time of each of its COMMITs (frames and sync) to commit.
func observeBatches(store wardline.Store, batch func(int), write func(queued, batch time.Duration), storeErr func(op string, err error), walRestarts func(func() int64), commit func(time.Duration)) {
	switch s := store.(type) {
	case *sqlite.Store:
		s.BatchObserver = batch
		s.WriteObserver = write
		s.ErrorObserver = func(err error) { storeErr("audit_search", err) }
		s.CommitObserver = commit
		walRestarts(s.WALRestarts)
	case *postgres.Store:
		s.BatchObserver = batch
		s.WriteObserver = write
		s.ErrorObserver = func(err error) { storeErr("commit", err) }
	}
}

// busHooks are what the node wants to hear from a bus that crosses nodes.
type busHooks struct {
	onGap     func()
	onError   func(error)
	onReceive func(time.Duration)
}

// openBus opens the configured event bus: in process for one node, NATS (--nats-url) for many.
// Events on NATS are sealed under a key derived from the master key, which every node holds.
func openBus(ctx context.Context, cfg *Config, master *keyring.MasterKeys, log *slog.Logger, hooks busHooks) (wardline.EventBus, error) {
	if cfg.NATSURL == "" {
		return inmem.NewBus(), nil
	}
	sealer, err := master.Transport("event-bus")
	if err != nil {
		return nil, err
	}
	return nats.Connect(cfg.NATSURL, nats.Options{
		Subject:   cfg.NATSSubject,
		Name:      "wardline " + cfg.Addr,
		Sealer:    sealer,
		OnGap:     hooks.onGap,
		OnError:   hooks.onError,
		OnReceive: hooks.onReceive,
		Log:       log,
	})
}
