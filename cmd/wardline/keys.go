package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"wardline"
)

const keysUsage = `wardline keys rotate [--master] --data-dir DIR
    Adds a new key term for every organisation and re-wraps its data keys under it; with --master,
    first adds a new master key term to the master key file and re-wraps every organisation key
    under it. Content is never re-encrypted, and the old terms keep working until retired, so a
    running server goes on without downtime (restart other nodes after --master so they read the
    new term).
wardline keys retire --data-dir DIR [--master-term N]
    Erases organisation key terms that nothing is wrapped by any more, and with --master-term the
    old master key term from the key file: backups taken before then can no longer be opened with
    the current key file, which is what makes shredded content unrecoverable in old backups.
`

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "retire") {
		fmt.Fprint(stderr, keysUsage)
		return fmt.Errorf("keys needs a subcommand: rotate or retire")
	}
	var cfg Config
	var master bool
	var masterTerm int
	fs := flag.NewFlagSet("wardline keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storageFlags(fs)
	if args[0] == "rotate" {
		fs.BoolVar(&master, "master", false, "also add a new master key term and re-wrap organisation keys under it")
	} else {
		fs.IntVar(&masterTerm, "master-term", 0, "an old master key term to remove from the key file")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	d, err := openData(ctx, &cfg, log, wardline.SystemClock{}, false)
	if err != nil {
		return err
	}
	defer d.store.Close()
	orgs, err := d.store.OrgIDs(ctx)
	if err != nil {
		return err
	}
	if args[0] == "retire" {
		for _, id := range orgs {
			if err := d.keys.RetireOrgKeyTerms(ctx, id); err != nil {
				return fmt.Errorf("retire old key terms of organisation %s: %w", id, err)
			}
		}
		fmt.Fprintf(stdout, "retired old key terms of %d organisations\n", len(orgs))
		if masterTerm > 0 {
			if err := d.keys.RetireMasterTerm(ctx, masterTerm); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed master key term %d from %s; destroy every copy of the old key file\n", masterTerm, d.master.Path())
		}
		return checkpoint(ctx, d.store)
	}
	if master {
		term, err := d.master.AddTerm()
		if err != nil {
			return fmt.Errorf("add a master key term: %w", err)
		}
		if err := d.keys.RotateMasterKey(ctx); err != nil {
			return fmt.Errorf("re-wrap organisation keys under master key term %d: %w", term, err)
		}
		fmt.Fprintf(stdout, "added master key term %d to %s and re-wrapped every organisation key under it\n", term, d.master.Path())
	}
	for _, id := range orgs {
		if err := d.keys.RotateOrgKey(ctx, id); err != nil {
			return fmt.Errorf("rotate key of organisation %s: %w", id, err)
		}
		// Key rotation is an administrative act on the organisation's data: in its audit log.
		ev := &wardline.AuditEvent{ID: wardline.NewID(), At: time.Now().UTC().Truncate(time.Microsecond), OrgID: id,
			Action: wardline.ActionOrgKeyRotated, TargetType: "org", TargetID: id, Outcome: wardline.OutcomeSuccess,
			Detail: map[string]any{"by": "wardline keys rotate"}}
		if err := d.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
			return fmt.Errorf("audit the rotation of organisation %s's key: %w", id, err)
		}
		fmt.Fprintf(stdout, "rotated the key of organisation %s\n", id)
	}
	return checkpoint(ctx, d.store)
}

// checkpoint flushes the write-ahead log where the store has one, so that key material that was
// re-wrapped or erased does not linger there.
func checkpoint(ctx context.Context, s wardline.Store) error {
	if cp, ok := s.(interface{ Checkpoint(context.Context) error }); ok {
		return cp.Checkpoint(ctx)
	}
	return nil
}
