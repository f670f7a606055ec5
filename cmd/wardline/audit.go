package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"wardline"
	"wardline/audit"
	"wardline/keyring"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("audit needs a subcommand: verify")
	}
	var cfg Config
	fs := flag.NewFlagSet("wardline audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.storageFlags(fs)
	cfg.auditFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	res, err := verifyAudit(ctx, &cfg, stderr)
	if err != nil {
		var verr *audit.VerifyError
		if errors.As(err, &verr) {
			fmt.Fprintf(stdout, "FAILED: %s\n", verr)
			return fmt.Errorf("the audit log is not intact: %w", verr)
		}
		return err
	}
	fmt.Fprintf(stdout, "ok: %d entries\n", res.Entries)
	fmt.Fprintf(stderr, "%d signed checkpoints verified; the latest covers %d entries; root %x\n", res.Checkpoints, res.Covered, res.Root)
	return nil
}

// verifyAudit checks the whole log offline: every entry against its stored leaf hash and its
// place (gapless seqs), the tree of all entries against every signed checkpoint kept in the
// database and in the witness file, and against the tree state the server keeps. It reads only,
// so it may run beside a serving server: it verifies the log as it stood when it began.
func verifyAudit(ctx context.Context, cfg *Config, stderr io.Writer) (audit.Result, error) {
	var res audit.Result
	if _, err := os.Stat(cfg.databasePath()); err != nil && cfg.DatabaseURL == "" {
		return res, fmt.Errorf("no database in %s: %w", cfg.DataDir, err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer store.Close()
	master, err := keyring.LoadMasterKeys(cfg.masterKeyPath())
	if err != nil {
		return res, fmt.Errorf("master key: %w", err)
	}
	keys := keyring.New(master, store, wardline.SystemClock{})

	// Checkpoints first, then the tree state: every checkpoint read is then within the state.
	var cps []*audit.Checkpoint
	stored, err := store.AuditCheckpoints(ctx)
	if err != nil {
		return res, err
	}
	for _, c := range stored {
		cp, err := audit.ParseCheckpoint([]byte(c.Note))
		if err != nil {
			return res, &audit.VerifyError{Reason: fmt.Sprintf("a stored checkpoint (size %d) cannot be read: %v", c.Size, err)}
		}
		cps = append(cps, cp)
	}
	if path := cfg.witnessPath(); path != "" {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return res, fmt.Errorf("witness file: %w", err)
		}
		witnessed, err := audit.ParseCheckpoints(bytes.NewReader(b))
		if err != nil {
			return res, fmt.Errorf("witness file %s: %w", path, err)
		}
		cps = append(cps, witnessed...)
	}
	size, state, err := store.AuditTreeState(ctx)
	if err != nil {
		return res, err
	}

	var pub ed25519.PublicKey
	if pub, err = keys.CheckpointPublicKey(ctx, false); errors.Is(err, keyring.ErrNoKey) {
		if len(cps) > 0 {
			return res, &audit.VerifyError{Checkpoint: cps[0], Reason: "signed checkpoints exist but the database holds no signing key: it was removed"}
		}
		fmt.Fprintln(stderr, "no checkpoint has been signed yet: checking entries and leaf hashes only")
	} else if err != nil {
		return res, err
	}
	// Every checkpoint was read before the tree state, and a checkpoint is signed over a tree
	// already committed: one larger than the state means the log was cut back.

	it := &storeEntries{ctx: ctx, store: store, limit: size}
	res, err = audit.Verify(ctx, it, cps, pub)
	if err != nil {
		return res, err
	}
	// The tree the server keeps must be the tree of the entries: a difference means entries
	// after the last checkpoint were changed, or the tail was cut.
	tree := audit.NewTree()
	if err := tree.UnmarshalBinary(state); err != nil {
		return res, &audit.VerifyError{Seq: int64(res.Covered) + 1, Reason: "the stored tree state is unreadable: " + err.Error()}
	}
	switch {
	case uint64(res.Entries) < tree.Size():
		return res, &audit.VerifyError{Seq: int64(res.Entries) + 1, Reason: fmt.Sprintf(
			"missing (the log ends at entry %d but the server's tree covers %d entries: truncated)", res.Entries, tree.Size())}
	case !bytes.Equal(tree.Root(), res.Root):
		return res, &audit.VerifyError{Seq: int64(res.Covered) + 1, Reason: fmt.Sprintf(
			"altered (the entries after the last checkpoint, %d..%d, do not hash to the server's tree)", res.Covered+1, res.Entries)}
	}
	if it.beyond > 0 {
		// Past the tree as it stood: a running server's new entry is in its tree by now.
		if now, _, err := store.AuditTreeState(ctx); err != nil {
			return res, err
		} else if now < it.beyond {
			return res, &audit.VerifyError{Seq: it.beyond, Reason: "inserted (stored after the last entry of the server's tree, so written outside Wardline)"}
		}
	}
	return res, nil
}

// storeEntries feeds audit.Verify from the store a page at a time, stopping at limit (the size
// of the tree when verification began). It reads one entry past the limit, if there is one, so
// that an entry stored out of place at the end is still seen.
type storeEntries struct {
	ctx    context.Context
	store  wardline.Store
	limit  int64
	after  int64
	beyond int64 // the first seq found past limit, if any
	page   []*wardline.AuditEntry
	done   bool
}

func (it *storeEntries) Next() (audit.Entry, error) {
	if len(it.page) == 0 {
		if it.done {
			return audit.Entry{}, io.EOF
		}
		page, err := it.store.AuditEntries(it.ctx, it.after, 1000)
		if err != nil {
			return audit.Entry{}, err
		}
		if len(page) < 1000 {
			it.done = true
		}
		if len(page) == 0 {
			return audit.Entry{}, io.EOF
		}
		it.page = page
		it.after = page[len(page)-1].Event.Seq
	}
	e := it.page[0]
	it.page = it.page[1:]
	if e.Event.Seq > it.limit {
		// Appended after verification began, or put there by hand: the caller tells which.
		it.beyond = e.Event.Seq
		it.page, it.done = nil, true
		return audit.Entry{}, io.EOF
	}
	if e.LeafHash == nil {
		// An entry without a stored hash is one that was put there by hand.
		e.LeafHash = make([]byte, audit.HashSize)
	}
	return audit.Entry{Event: e.Event, StoredLeafHash: e.LeafHash}, nil
}
