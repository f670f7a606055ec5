package main

import (
	"context"
	"flag"
	"fmt"
	"io"

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
		fmt.Fprintf(stdout, "rotated the key of organisation %s\n", id)
	}
	return nil
}
