// Command wardline is the Wardline server and its administration tool: one binary that serves the
// API, the event stream and the web app, and runs the admin, keys and audit subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"wardline"
)

const usage = `Wardline: secure messaging for clinical teams.

Usage:
  wardline serve [--addr HOST:PORT] [--data-dir DIR] [--tls-cert F --tls-key F] [--http] [--demo]
  wardline serve --acme-domain HOST [--acme-email E] [--acme-directory URL] [--acme-http-addr :80]
                 [--addr :443] [--data-dir DIR]     (a certificate from Let's Encrypt or another ACME CA)
  wardline admin bootstrap --data-dir DIR --org NAME --email EMAIL --name NAME [--json]
  wardline admin create-org --data-dir DIR --org NAME --email EMAIL --name NAME [--json]
  wardline keys rotate [--master] --data-dir DIR
  wardline keys retire --data-dir DIR [--master-term N]
  wardline audit verify --data-dir DIR [--audit-witness-file F]
  wardline version

Run "wardline COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wardline:", err)
		}
		os.Exit(1)
	}
}

// run dispatches a command line; main and the tests call it alike.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		m := NewMain(stdout, stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		if err := m.Run(ctx); err != nil {
			m.Close()
			return err
		}
		<-ctx.Done()
		fmt.Fprintln(stdout, "shutting down")
		return m.Close()
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "wardline", wardline.Version)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
