package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"wardline"
	"wardline/app"
	"wardline/inmem"
)

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("admin needs a subcommand: bootstrap or create-org")
	}
	switch args[0] {
	case "bootstrap":
		return createOrg(ctx, args[1:], stdout, stderr, true)
	case "create-org":
		return createOrg(ctx, args[1:], stdout, stderr, false)
	}
	return fmt.Errorf("unknown admin subcommand %q", args[0])
}

// createOrg makes an organisation and its first admin, printing the admin's initial password.
// bootstrap (first=true) refuses when an organisation exists.
func createOrg(ctx context.Context, args []string, stdout, stderr io.Writer, first bool) error {
	name := "bootstrap"
	if !first {
		name = "create-org"
	}
	var cfg Config
	var org, email, display, jobTitle string
	var asJSON bool
	fs := flag.NewFlagSet("wardline admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storageFlags(fs)
	fs.StringVar(&org, "org", "", "organisation name")
	fs.StringVar(&email, "email", "", "the first admin's email address")
	fs.StringVar(&display, "name", "", "the first admin's name")
	fs.StringVar(&jobTitle, "job-title", "Administrator", "the first admin's job title")
	fs.BoolVar(&asJSON, "json", false, `print one line {"org_id","user_id","initial_password"}`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if org == "" || email == "" || display == "" {
		return fmt.Errorf("--org, --email and --name are required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	d, err := openData(ctx, &cfg, log, wardline.SystemClock{}, true)
	if err != nil {
		return err
	}
	defer d.store.Close()
	bus := inmem.NewBus()
	a := app.New(d.store, bus, d.keys, wardline.SystemClock{}, log, app.DefaultConfig)
	defer a.Close()
	actx := wardline.NewContextWithActor(ctx, &wardline.Actor{Addr: "cli", Device: "wardline admin " + name})
	o, u, password, err := a.Users.CreateOrg(actx, org, wardline.NewUser{Email: email, DisplayName: display, JobTitle: jobTitle}, first)
	if err != nil {
		return fmt.Errorf("%s", wardline.ErrorMessage(err))
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"org_id": o.ID, "user_id": u.ID, "initial_password": password})
	}
	fmt.Fprintf(stdout, "created organisation %q (%s)\n", o.Name, o.ID)
	fmt.Fprintf(stdout, "first admin: %s <%s>\n", u.DisplayName, u.Email)
	fmt.Fprintf(stdout, "initial password (must be changed at first sign-in): %s\n", password)
	return nil
}
