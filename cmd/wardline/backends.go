package main

import (
	"context"
	"fmt"

	"wardline"
	"wardline/inmem"
	"wardline/sqlite"
)

// openStore opens the configured store: SQLite in the data directory unless --database-url
// names another.
func openStore(ctx context.Context, cfg *Config) (wardline.Store, error) {
	if cfg.DatabaseURL != "" {
		return nil, fmt.Errorf("--database-url: only the embedded SQLite store is built into this version")
	}
	return sqlite.Open(ctx, cfg.databasePath())
}

// openBus opens the configured event bus: in process for one node.
func openBus(ctx context.Context, cfg *Config) (wardline.EventBus, error) {
	return inmem.NewBus(), nil
}
