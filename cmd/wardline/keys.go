package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"wardline"
)

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return fmt.Errorf("keys needs a subcommand: rotate")
	}
	var cfg Config
	fs := flag.NewFlagSet("wardline keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storageFlags(fs)
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
	return nil
}
