package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"sync"
	"time"

	"wardline"
	"wardline/audit"
)

// AuditKeys is what the audit log needs of the keyring (keyring.Keyring has it): the checkpoint
// signing key and the organisations' identifier HMAC keys, which never leave it.
type AuditKeys interface {
	SignCheckpoint(ctx context.Context, c *audit.Checkpoint) error
	CheckpointPublicKey(ctx context.Context, create bool) (ed25519.PublicKey, error)
	IdentifierHMAC(ctx context.Context, orgID, kind, value string) (string, error)
}

// Witness keeps a copy of every new signed checkpoint outside the database (a file, syslog), so
// that someone who can rewrite the database cannot also rewrite what was committed to.
type Witness interface {
	Witness(note []byte) error
}

// FileWitness appends each signed checkpoint to a file and syncs it. Point it at storage the
// database's administrators cannot rewrite (another host, an append-only mount); the verifier
// reads it back with --audit-witness-file.
type FileWitness struct {
	Path string
	mu   sync.Mutex
}

// Witness appends the note and a blank line.
func (w *FileWitness) Witness(note []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, err := os.OpenFile(w.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(append([]byte(nil), note...), '\n'))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// IdentifierHMAC returns the HMAC under the caller's organisation's identifier key of a value
// that could identify a patient (kind audit.IdentNHSNumber...), for audit entries and searches:
// put it in Detail[wardline.DetailPatientHMAC], never the value.
func (d *deps) IdentifierHMAC(ctx context.Context, orgID, kind, value string) (string, error) {
	if d.auditKeys == nil {
		return "", errors.New("app: the keyring cannot make identifier HMACs")
	}
	return d.auditKeys.IdentifierHMAC(ctx, orgID, kind, value)
}

// IdentifierHMAC is deps.IdentifierHMAC for callers outside the services (tests, tools).
func (a *App) IdentifierHMAC(ctx context.Context, orgID, kind, value string) (string, error) {
	return a.deps.IdentifierHMAC(ctx, orgID, kind, value)
}

// PatientReadEvent builds the audit entry of a read of a patient's record or timeline, for the
// clinical services: the patient's id as target, the HMAC of their NHS number (never the number)
// so that IG officers can search for it, and the grounds of the read (wardline.PatientAccess*),
// from which the "patient read outside any conversation" alert is raised. Compute it before
// Update: the HMAC may need the keyring's store the first time.
func (d *deps) PatientReadEvent(ctx context.Context, action, patientID, nhsNumber, grounds string) (*wardline.AuditEvent, error) {
	ev := d.auditEvent(ctx, action, "patient", patientID)
	detail := map[string]any{wardline.DetailPatientAccess: grounds}
	if nhsNumber != "" {
		h, err := d.IdentifierHMAC(ctx, ev.OrgID, audit.IdentNHSNumber, nhsNumber)
		if err != nil {
			return nil, err
		}
		detail[wardline.DetailPatientHMAC] = h
	}
	ev.Detail = detail
	return ev, nil
}

// Checkpointer signs a checkpoint of the audit log at least every interval while the log grows,
// and on Stop, keeps it in the store and hands it to the witnesses. Time comes from the clock:
// the goroutine only wakes up to look, and tests call Tick after moving the clock.
type Checkpointer struct {
	d         *deps
	interval  time.Duration
	witnesses []Witness

	mu      sync.Mutex // one checkpoint at a time
	lastAt  time.Time  // clock time of the last look that found the log checkpointed
	started bool
	stop    chan struct{}
	done    chan struct{}
}

func newCheckpointer(d *deps) *Checkpointer {
	return &Checkpointer{d: d, interval: d.config.CheckpointInterval, witnesses: d.config.Witnesses}
}

// Start runs the background loop until Stop.
func (c *Checkpointer) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.d.auditKeys == nil {
		return
	}
	c.started, c.stop, c.done = true, make(chan struct{}), make(chan struct{})
	c.lastAt = c.d.now()
	// Make the signing key now, under the master key this process was started with, rather than
	// at the first checkpoint: a master key rotated meanwhile by another process re-wraps a key
	// that exists, but cannot re-wrap one this process makes later under its stale view.
	if _, err := c.d.auditKeys.CheckpointPublicKey(context.Background(), true); err != nil {
		c.d.log.Error("audit signing key", "err", err)
	}
	go func() {
		defer close(c.done)
		t := time.NewTicker(min(c.interval/4, time.Second))
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				if err := c.Tick(context.Background()); err != nil {
					c.d.log.Error("audit checkpoint", "err", err)
				}
			}
		}
	}()
}

// Stop ends the loop and signs a last checkpoint, so that the log as the server leaves it is
// covered (a shutdown loses no tail to an undetected truncation).
func (c *Checkpointer) Stop(ctx context.Context) error {
	c.mu.Lock()
	started := c.started
	c.started = false
	c.mu.Unlock()
	if started {
		close(c.stop)
		<-c.done
	}
	if c.d.auditKeys == nil {
		return nil
	}
	_, err := c.Checkpoint(ctx)
	return err
}

// Tick signs a checkpoint when interval has passed on the clock since the last one.
func (c *Checkpointer) Tick(ctx context.Context) error {
	c.mu.Lock()
	due := !c.d.now().Before(c.lastAt.Add(c.interval))
	c.mu.Unlock()
	if !due {
		return nil
	}
	_, err := c.Checkpoint(ctx)
	return err
}

// Checkpoint signs the log as committed now, unless the latest checkpoint already covers it, and
// returns the latest checkpoint (nil while the log is empty).
func (c *Checkpointer) Checkpoint(ctx context.Context) (*wardline.AuditCheckpoint, error) {
	if c.d.auditKeys == nil {
		return nil, errors.New("app: the keyring cannot sign checkpoints")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Making the signing key writes an entry of its own: make it before reading the tree, so
	// that the first checkpoint covers that entry too.
	if _, err := c.d.auditKeys.CheckpointPublicKey(ctx, true); err != nil {
		return nil, err
	}
	now := c.d.now()
	size, state, err := c.d.store.AuditTreeState(ctx)
	if err != nil {
		return nil, err
	}
	latest, err := c.d.store.LatestAuditCheckpoint(ctx)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if size == 0 || (latest != nil && latest.Size >= size) {
		c.lastAt = now
		return latest, nil
	}
	tree := audit.NewTree()
	if err := tree.UnmarshalBinary(state); err != nil {
		return nil, err
	}
	cp := &audit.Checkpoint{Size: uint64(size), Root: tree.Root(), Time: now}
	if err := c.d.auditKeys.SignCheckpoint(ctx, cp); err != nil {
		return nil, err
	}
	note, err := cp.MarshalText()
	if err != nil {
		return nil, err
	}
	stored := &wardline.AuditCheckpoint{Size: size, Root: cp.Root, At: cp.Time, Note: string(note)}
	if err := c.d.store.Update(ctx, func(tx wardline.Tx) error { return tx.InsertAuditCheckpoint(ctx, stored) }); err != nil {
		return nil, err
	}
	for _, w := range c.witnesses {
		if err := w.Witness(note); err != nil {
			// The checkpoint is stored; a witness that fails is loud but does not stop the log.
			c.d.log.Error("audit witness", "err", err)
		}
	}
	c.lastAt = now
	return stored, nil
}

// leafReader reads stored leaf hashes for proofs.
func (d *deps) leafReader() audit.LeafHashReader {
	return func(ctx context.Context, begin, end uint64) ([][]byte, error) {
		return d.store.AuditLeafHashes(ctx, int64(begin), int64(end))
	}
}

// observedStore hands every committed audit entry to observe (the alerts), after commit and in
// commit order, without a query: it wraps Update so that each AppendAudit queues the entry on
// the transaction's after-commit list.
type observedStore struct {
	wardline.Store
	observe func(*wardline.AuditEvent)
}

func (s observedStore) Update(ctx context.Context, fn func(tx wardline.Tx) error) error {
	return s.Store.Update(ctx, func(tx wardline.Tx) error { return fn(observedTx{tx, s.observe}) })
}

type observedTx struct {
	wardline.Tx
	observe func(*wardline.AuditEvent)
}

func (t observedTx) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	if err := t.Tx.AppendAudit(ctx, e); err != nil {
		return err
	}
	if relevantToAlerts(e) {
		t.Tx.AfterCommit(func() { t.observe(e) })
	}
	return nil
}
