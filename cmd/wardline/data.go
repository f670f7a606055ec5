package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"wardline"
	"wardline/keyring"
)

// data is an opened store with its keyring.
type data struct {
	store  wardline.Store
	keys   *keyring.Keyring
	master *keyring.MasterKeys
}

// openData opens the database and loads the master key. A missing key is generated only when
// the database holds no organisation yet; a key that does not open the existing data stops
// start-up: new keys are never written over existing data.
func openData(ctx context.Context, cfg *Config, log *slog.Logger, clock wardline.Clock, warnGenerated bool) (*data, error) {
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	master, keys, err := loadKeyring(ctx, cfg, store, log, clock, warnGenerated)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &data{store: store, keys: keys, master: master}, nil
}

func loadKeyring(ctx context.Context, cfg *Config, store wardline.Store, log *slog.Logger, clock wardline.Clock, warn bool) (*keyring.MasterKeys, *keyring.Keyring, error) {
	path := cfg.masterKeyPath()
	orgs, err := store.CountOrgs(ctx)
	if err != nil {
		return nil, nil, err
	}
	master, err := keyring.LoadMasterKeys(path)
	if errors.Is(err, os.ErrNotExist) {
		if orgs > 0 {
			return nil, nil, fmt.Errorf("master key file %s is missing, but the database holds encrypted data: restore the key file (a new key would make the data unreadable)", path)
		}
		if master, err = keyring.CreateMasterKeyFile(path); err != nil {
			return nil, nil, fmt.Errorf("create master key: %w", err)
		}
		if warn {
			log.Warn("generated a new master key inside the data directory; in production keep the master key outside it (--master-key-file) so that a copy of the data directory is not also a copy of its key",
				"path", path)
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("master key: %w", err)
	}
	keys := keyring.New(master, store, clock)
	if err := checkMasterKey(ctx, store, keys); err != nil {
		return nil, nil, err
	}
	// The audit log's signing key too, when there is one: a wrong key fails now, not at the
	// first checkpoint.
	if _, err := keys.CheckpointPublicKey(ctx, false); err != nil && !errors.Is(err, keyring.ErrNoKey) {
		return nil, nil, fmt.Errorf("the master key does not open the audit signing key (wrong --master-key-file?): %w", err)
	}
	return master, keys, nil
}

// checkMasterKey proves at start-up that the master key opens every organisation's key: a wrong
// key fails here, loudly, not on first use.
func checkMasterKey(ctx context.Context, store wardline.Store, keys *keyring.Keyring) error {
	orgs, err := store.OrgIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range orgs {
		if err := keys.CheckOrgKey(ctx, id); err != nil {
			return fmt.Errorf("the master key does not open organisation %s's key (wrong --master-key-file?): %w", id, err)
		}
	}
	return nil
}
