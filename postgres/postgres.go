// Package postgres is Wardline's store for several nodes: PostgreSQL through pgx. Like the SQLite
// store it commits in groups: each node runs concurrent Update calls in one transaction, each in
// its own savepoint, so that one commit (one WAL flush, one turn of the audit sequence) covers
// many writes. Per-conversation seqs come from a row lock, the audit log's global seq from a
// single counter row taken just before COMMIT; both stay gapless with any number of nodes.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"wardline"
	"wardline/audit"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// maxBatch bounds how many Update calls share one transaction. PostgreSQL keeps the ids of up to
// 64 subtransactions per transaction in shared memory; past that every other session's snapshots
// "overflow" and visibility checks slow down cluster-wide. A savepoint that writes is one.
const maxBatch = 60

// maxDeferrals is how often a write that met a lock held by another node is put into a later
// batch before it runs alone with a longer lock timeout; after three times as many it fails.
const maxDeferrals = 3

// Options tune a Store; the zero value is the default.
type Options struct {
	// LockTimeout bounds how long a write waits for a row lock held by another node's
	// transaction (default 50 ms). A write that waits longer is undone to its savepoint and
	// retried in a later batch after a random pause: two nodes' batches that lock two
	// conversations in opposite orders would otherwise deadlock until PostgreSQL's
	// deadlock_timeout (1 s) and stall both nodes' writes meanwhile.
	LockTimeout time.Duration
	// TxTimeout bounds one batch transaction (default 30 s).
	TxTimeout time.Duration
	// Tracer, when set, is told of every statement and pipeline the store sends (pgx's
	// tracing; a pgx.BatchTracer as well sees the pipelines).
	Tracer pgx.QueryTracer
}

// Store is a wardline.Store on PostgreSQL.
type Store struct {
	queries // reads, on the pool

	pool   *pgxpool.Pool
	opts   Options
	writes chan *writeReq
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool

	// BatchObserver, when set before the first Update, is told the size of every committed batch.
	BatchObserver func(n int)
	// WriteObserver, when set before the first Update, is told for every write once answered how
	// long it waited for the batch that settled it to begin (in the queue, and in the pauses of
	// a write deferred behind another node's lock) and how long that batch then took.
	WriteObserver func(queued, batch time.Duration)
	// ErrorObserver, when set before the first Update, is told of every failed batch attempt
	// (for metrics; the callers see the errors themselves).
	ErrorObserver func(err error)

	// gatherFor is SetCommitGather's duration in nanoseconds; gatherBusy is wardline.GatherBusy,
	// tests set more so that a slow machine's pauses between writes do not count as quiet spells.
	gatherFor  atomic.Int64
	gatherBusy atomic.Int64

	known map[string]struct{} // the writer's: see txdb.known
}

// SetCommitGather sets how long a batch's first write may wait, from when it was queued, for
// more writes to share its transaction (0: never). Each commit is a round trip and a WAL flush
// on the database server, which on a busy node is a machine shared with it; durability is
// unchanged: each write is still answered only after its commit.
func (s *Store) SetCommitGather(d time.Duration) { s.gatherFor.Store(int64(max(d, 0))) }

// CommitGather is the gather SetCommitGather set.
func (s *Store) CommitGather() time.Duration { return time.Duration(s.gatherFor.Load()) }

var _ wardline.Store = (*Store)(nil)

type writeReq struct {
	ctx       context.Context
	fn        func(wardline.Tx) error
	done      chan error
	deferrals int
	notBefore time.Time // a deferred write waits until then
	queued    time.Time // when Update queued it
}

// Open connects to the database at url (a postgres:// URL or DSN; pool_max_conns and the other
// pgxpool parameters apply) and applies pending migrations.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !hasParam(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, runtime.GOMAXPROCS(0)*2) + 1) // the reads, plus the writer
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 50 * time.Millisecond
	}
	if opts.TxTimeout <= 0 {
		opts.TxTimeout = 30 * time.Second
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, opts: opts, writes: make(chan *writeReq, maxBatch), known: map[string]struct{}{}}
	s.queries = queries{db: pool}
	s.gatherFor.Store(int64(wardline.DefaultCommitGather))
	s.gatherBusy.Store(int64(wardline.GatherBusy))
	s.wg.Add(1)
	go s.writer()
	return s, nil
}

func hasParam(url, name string) bool {
	for i := 0; i+len(name) < len(url); i++ {
		if url[i:i+len(name)] == name && (i == 0 || url[i-1] == '?' || url[i-1] == '&' || url[i-1] == ' ') {
			return true
		}
	}
	return false
}

// Pool returns the connection pool (for tests and administration).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close waits for queued writes, then closes the pool.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.writes)
	s.mu.Unlock()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// Update runs fn in the next batch transaction and returns once it is durable. fn may run more
// than once (when its batch must be retried); it must touch nothing but tx.
func (s *Store) Update(ctx context.Context, fn func(wardline.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), queued: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("postgres: store closed")
	}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		s.mu.Unlock()
		return ctx.Err()
	}
	s.mu.Unlock()
	// Once queued the request may commit, so wait for its outcome even if ctx ends.
	return <-req.done
}

// writer is the one goroutine of this node that writes. Concurrent writers on one node would
// only queue behind each other's row locks; the batch is what makes writes cheap.
func (s *Store) writer() {
	defer s.wg.Done()
	var again []*writeReq // writes that met another node's lock, retried after a short pause
	var g wardline.CommitGatherer
	open := true
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for open || len(again) > 0 {
		batch := make([]*writeReq, 0, maxBatch)
		// Deferred writes whose pause is over go first.
		now := time.Now()
		var wake time.Time
		kept := again[:0]
		for _, r := range again {
			if !r.notBefore.After(now) && len(batch) < maxBatch {
				batch = append(batch, r)
			} else {
				kept = append(kept, r)
				if wake.IsZero() || r.notBefore.Before(wake) {
					wake = r.notBefore
				}
			}
		}
		again = kept
		if len(batch) == 0 {
			var wait <-chan time.Time
			if !wake.IsZero() {
				timer.Reset(time.Until(wake))
				wait = timer.C
			}
			var in <-chan *writeReq
			if open {
				in = s.writes
			}
			select {
			case r, ok := <-in:
				if !ok {
					open = false
					continue
				}
				batch = append(batch, r)
			case <-wait:
				continue
			}
			if !timer.Stop() && wait != nil {
				select {
				case <-timer.C:
				default:
				}
			}
		}
	drain:
		for open && len(batch) < maxBatch {
			select {
			case r, ok := <-s.writes:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if len(batch) < maxBatch && open {
			if until, ok := g.Deadline(time.Now(), batch[0].queued, len(batch), time.Duration(s.gatherFor.Load()), time.Duration(s.gatherBusy.Load())); ok {
				n := len(batch)
				batch = wardline.GatherWrites(s.writes, batch, maxBatch, until, timer)
				g.Gathered(len(batch)-n, time.Now())
			}
		}
		// A write deferred often runs alone with a longer lock timeout: it can then wait out any
		// other node's batch without being part of a deadlock through its own batch.
		var solo []*writeReq
		rest := batch[:0]
		for _, r := range batch {
			if r.deferrals >= maxDeferrals {
				solo = append(solo, r)
			} else {
				rest = append(rest, r)
			}
		}
		for _, r := range solo {
			again = append(again, s.runBatch([]*writeReq{r}, 10*s.opts.LockTimeout)...)
		}
		if len(rest) > 0 {
			again = append(again, s.runBatch(rest, s.opts.LockTimeout)...)
		}
		g.Committed(time.Now())
	}
}

// result is what became of one request in one attempt at a batch.
type result struct {
	err      error
	deferred bool
	hooks    []func()
}

// runBatch runs batch until it commits or fails for good, answers every request that is settled,
// and returns those to retry in a later batch.
func (s *Store) runBatch(batch []*writeReq, lockTimeout time.Duration) (again []*writeReq) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.TxTimeout)
	defer cancel()
	results, err := s.tryBatchAgain(ctx, batch, lockTimeout)
	took := time.Since(began)
	answer := func(r *writeReq, err error) {
		r.done <- err
		if s.WriteObserver != nil {
			s.WriteObserver(began.Sub(r.queued), took)
		}
	}
	if err != nil {
		for _, r := range batch {
			answer(r, err)
		}
		return nil
	}
	committed := 0
	for i, r := range batch {
		res := results[i]
		switch {
		case res.deferred && r.deferrals >= maxDeferrals*3:
			answer(r, fmt.Errorf("postgres: gave up waiting for a row lock: %w", res.err))
		case res.deferred:
			r.deferrals++
			// A random pause, so that two nodes' writes that met do not meet again at once.
			r.notBefore = time.Now().Add(time.Duration(rand.Int64N(int64(s.opts.LockTimeout) * int64(r.deferrals))))
			again = append(again, r)
		case res.err != nil:
			answer(r, res.err)
		default:
			committed++
			for _, h := range res.hooks {
				h()
			}
			answer(r, nil)
		}
	}
	if s.BatchObserver != nil && committed > 0 {
		s.BatchObserver(committed)
	}
	return again
}

// tryBatchAgain runs batch in one transaction, trying again (up to five attempts, a little longer
// apart each time) while an attempt fails in a way that another may not.
func (s *Store) tryBatchAgain(ctx context.Context, batch []*writeReq, lockTimeout time.Duration) ([]result, error) {
	for attempt := 0; ; attempt++ {
		results, retry, err := s.tryBatch(ctx, batch, lockTimeout)
		if err == nil {
			return results, nil
		}
		if s.ErrorObserver != nil {
			s.ErrorObserver(err)
		}
		if !retry || attempt >= 4 || ctx.Err() != nil {
			return nil, err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
}

// tryBatch makes one attempt at running batch in one transaction. On error nothing of the batch
// is committed, and retry says whether trying again is safe (the commit was never sent, or the
// server refused it).
func (s *Store) tryBatch(ctx context.Context, batch []*writeReq, lockTimeout time.Duration) (results []result, retry bool, err error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, true, fmt.Errorf("postgres: acquire: %w", err)
	}
	// A connection left inside a transaction (by any failure below) is destroyed on release.
	defer pc.Release()
	conn := pc.Conn()
	// Transaction control is not sent on its own: BEGIN and each request's savepoint go ahead of
	// the first statement that follows them, in its round trip (txdb.ahead), and the last of them
	// with the commit. A round trip to the server is most of what a statement costs a node.
	tx := &txn{}
	d := &txdb{conn: conn, ctx: ctx, tx: tx, known: s.known, ahead: []string{
		"BEGIN ISOLATION LEVEL READ COMMITTED",
		fmt.Sprintf("SET LOCAL lock_timeout = %d", lockTimeout.Milliseconds()),
		"SAVEPOINT w",
	}}
	tx.queries = queries{db: d, tx: tx}
	rollback := func() { _, _ = conn.Exec(ctx, "ROLLBACK") }
	results = make([]result, len(batch))
	for i, r := range batch {
		mark := len(tx.audit)
		tx.hooks, tx.retryable = nil, false
		d.sent, d.aborted = 0, nil
		var ferr error
		if ferr = r.ctx.Err(); ferr == nil {
			ferr = runFn(r.fn, tx)
		}
		if d.broken != nil {
			// Transaction control failed: the connection, not this request.
			rollback()
			return nil, true, d.broken
		}
		if ferr == nil && d.aborted != nil {
			// fn answered nil but a statement of its failed, which aborts the transaction until
			// the savepoint is rolled back: undo it like any failed fn.
			ferr = fmt.Errorf("postgres: transaction aborted: %w", d.aborted)
		}
		// Close this request's savepoint, or roll back to it (which keeps it for the next); a
		// request that sent nothing leaves it as it is.
		switch {
		case d.sent == 0:
		case d.aborted != nil:
			// Not ahead: an aborted transaction refuses even the preparing of a statement, which
			// pgx does before sending a pipeline with a statement new to the connection.
			if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT w"); err != nil {
				rollback()
				return nil, true, fmt.Errorf("postgres: savepoint: %w", err)
			}
		case ferr != nil:
			d.ahead = append(d.ahead, "ROLLBACK TO SAVEPOINT w")
		case i < len(batch)-1:
			d.ahead = append(d.ahead, "RELEASE SAVEPOINT w", "SAVEPOINT w")
		}
		if ferr != nil {
			tx.audit = tx.audit[:mark]
			results[i].err = ferr
			results[i].deferred = tx.retryable || isRetryable(ferr)
			continue
		}
		results[i].hooks = tx.hooks
	}

	if err := s.commit(ctx, d, tx.audit); err != nil {
		return nil, commitRetryable(err), err
	}
	return results, false, nil
}

// commit sends the transaction control still ahead (at least its last savepoint's) and commits,
// with the batch's audit events when there are any.
func (s *Store) commit(ctx context.Context, d *txdb, events []*wardline.AuditEvent) error {
	if len(events) > 0 {
		return s.commitWithAudit(ctx, d, events)
	}
	br, err := d.send("COMMIT", nil)
	if err == nil {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("transaction rolled back (%s)", tag.String())
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_, _ = d.conn.Exec(ctx, "ROLLBACK")
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// commitWithAudit numbers the batch's audit events, hashes them into the Merkle tree and commits.
// The tree row (audit_tree) is the last lock the transaction takes and is held only for two round
// trips: read the tree (after the transaction control still ahead), then insert the entries,
// write the tree and commit in one pipeline. Seqs therefore follow commit order across every
// node, and a transaction holding the row never waits for another lock, so it is never part of a
// deadlock.
func (s *Store) commitWithAudit(ctx context.Context, d *txdb, events []*wardline.AuditEvent) (err error) {
	conn := d.conn
	defer func() {
		if err != nil {
			for _, e := range events {
				e.Seq = 0
			}
			_, _ = conn.Exec(ctx, "ROLLBACK")
		}
	}()
	d.ahead = append(d.ahead, "SET LOCAL lock_timeout = 0")
	var size int64
	var state []byte
	br, err := d.send("SELECT size, state FROM audit_tree WHERE id = 1 FOR UPDATE", nil)
	if err == nil {
		err = br.QueryRow().Scan(&size, &state)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: read audit tree: %w", err)
	}
	tree := audit.NewTree()
	if err := tree.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("postgres: audit tree state: %w", err)
	}
	if tree.Size() != uint64(size) {
		return fmt.Errorf("postgres: audit tree state holds %d leaves but says %d", tree.Size(), size)
	}
	leaves := make([][]byte, len(events))
	seqs := make([]int64, len(events))
	for i, e := range events {
		e.Seq = size + int64(i) + 1
		seqs[i] = e.Seq
		leaves[i] = audit.LeafHash(e)
		if err := tree.Append(leaves[i]); err != nil {
			return fmt.Errorf("postgres: audit tree: %w", err)
		}
	}
	newState, err := tree.MarshalBinary()
	if err != nil {
		return err
	}
	cols := append(append([]any{seqs}, auditArrays(events)...), leaves)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO audit_events (seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail, leaf_hash)
		SELECT v.seq, v.id, v.at, v.org_id, v.actor_id, v.session_id, v.addr, v.action, v.target_type, v.target_id, v.conversation_id, v.outcome, v.justification, v.detail::jsonb, v.leaf_hash
		FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[])
			AS v(seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail, leaf_hash)`, cols...)
	b.Queue(`UPDATE audit_tree SET size = $1, state = $2 WHERE id = 1`, int64(tree.Size()), newState)
	b.Queue("COMMIT")
	br = conn.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	if tag, err = br.Exec(); err == nil && tag.RowsAffected() != int64(len(events)) {
		err = fmt.Errorf("inserted %d audit entries, want %d", tag.RowsAffected(), len(events))
	}
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		if tag, err = br.Exec(); err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("transaction rolled back (%s)", tag.String())
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("postgres: append audit and commit: %w", err)
	}
	return nil
}

func runFn(fn func(wardline.Tx) error, tx *txn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in transaction: %v", p)
		}
	}()
	return fn(tx)
}

// Retryable errors: the transaction lost a race with another, not a rule.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"
	codeUniqueViolation      = "23505"
)

func isRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeSerializationFailure, codeDeadlockDetected, codeLockNotAvailable:
			return true
		}
	}
	return false
}

// commitRetryable: a COMMIT the server answered with an error rolled back; one never sent did
// nothing. A connection lost while the COMMIT was on its way leaves the outcome unknown: that is
// reported, never retried, so that no write is applied twice.
func commitRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return true
	}
	return pgconn.SafeToRetry(err)
}

// txn is the wardline.Tx handed to Update functions.
type txn struct {
	queries
	hooks     []func()
	audit     []*wardline.AuditEvent // appended in this transaction, numbered at commit
	retryable bool                   // a statement of the current fn lost a race
}

var _ wardline.Tx = (*txn)(nil)

// AfterCommit queues fn to run after the batch commits, in commit order on this node; it is
// dropped if this call's savepoint rolls back. Nodes commit independently, so events from
// different nodes may arrive anywhere out of order; the event stream's seq window allows for it.
func (t *txn) AfterCommit(fn func()) { t.hooks = append(t.hooks, fn) }

func (t *txn) noteErr(err error) {
	if err != nil && isRetryable(err) {
		t.retryable = true
	}
}

// txdb runs the statements of one batch on its connection. The batch's context replaces each
// caller's: one caller giving up must not cancel a statement of a transaction others share.
type txdb struct {
	conn *pgx.Conn
	ctx  context.Context
	tx   *txn
	// ahead is transaction control not sent yet (BEGIN, savepoints): it goes in one pipeline
	// with the next statement, so costs no round trip of its own, if that statement is known.
	ahead []string
	// known holds statements that have run without error on this node (the writer's own map). A
	// statement is prepared before its pipeline runs, and a statement the server refuses to
	// prepare would abort the transaction before the control ahead of it had run; so control
	// goes ahead only of a statement known to prepare, and on its own before any other.
	known map[string]struct{}
	// broken is why control sent ahead failed: the batch cannot go on on this connection.
	broken error
	// sent counts the current request's statements; aborted is the first error the server gave
	// one of them, which aborts the transaction until the savepoint is rolled back, whatever the
	// request's fn then makes of it.
	sent    int
	aborted error
}

func (d *txdb) note(err error) {
	if err == nil {
		return
	}
	d.tx.noteErr(err)
	var pe *pgconn.PgError
	if d.aborted == nil && errors.As(err, &pe) {
		d.aborted = err
	}
}

// maxKnown bounds txdb.known; statements past it are sent after their control, as at first.
const maxKnown = 2048

// settle sends the control ahead on its own unless sql is known to prepare.
func (d *txdb) settle(sql string) {
	if len(d.ahead) == 0 || d.broken != nil {
		return
	}
	if _, ok := d.known[sql]; ok {
		return
	}
	if err := d.conn.SendBatch(d.ctx, d.takeAhead()).Close(); err != nil {
		d.broken = fmt.Errorf("postgres: transaction control: %w", err)
	}
}

func (d *txdb) learn(sql string, err error) {
	if err == nil && len(d.known) < maxKnown {
		d.known[sql] = struct{}{}
	}
}

// takeAhead returns a pipeline holding the control ahead, which is then no longer ahead.
func (d *txdb) takeAhead() *pgx.Batch {
	b := &pgx.Batch{}
	for _, c := range d.ahead {
		b.Queue(c)
	}
	d.ahead = d.ahead[:0]
	return b
}

// send starts sql in one pipeline after the control ahead, and reads the control's answers.
func (d *txdb) send(sql string, args []any) (pgx.BatchResults, error) {
	n := len(d.ahead)
	b := d.takeAhead()
	b.Queue(sql, args...)
	br := d.conn.SendBatch(d.ctx, b)
	for range n {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			d.broken = fmt.Errorf("postgres: transaction control: %w", err)
			var pe pgx.ErrPreprocessingBatch
			if errors.As(err, &pe) {
				// The statement, not the control, could not be prepared or its arguments not
				// encoded, and the pipeline is lost with the connection. The batch is tried
				// again, and this statement then goes after its control, so that the error
				// is its request's alone.
				delete(d.known, sql)
			}
			return nil, d.broken
		}
	}
	return br, nil
}

func (d *txdb) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if d.settle(sql); d.broken != nil {
		return pgconn.CommandTag{}, d.broken
	}
	d.sent++
	if len(d.ahead) == 0 {
		tag, err := d.conn.Exec(d.ctx, sql, args...)
		d.note(err)
		d.learn(sql, err)
		return tag, err
	}
	br, err := d.send(sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	d.note(err)
	d.learn(sql, err)
	return tag, err
}

func (d *txdb) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	if d.settle(sql); d.broken != nil {
		return nil, d.broken
	}
	d.sent++
	var (
		br   pgx.BatchResults
		rows pgx.Rows
		err  error
	)
	if len(d.ahead) == 0 {
		rows, err = d.conn.Query(d.ctx, sql, args...)
	} else {
		if br, err = d.send(sql, args); err != nil {
			return nil, err
		}
		if rows, err = br.Query(); err != nil {
			_ = br.Close()
		}
	}
	if err != nil {
		d.note(err)
		return nil, err
	}
	return &txRows{Rows: rows, d: d, br: br, sql: sql}, nil
}

func (d *txdb) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := d.Query(ctx, sql, args...)
	return txRow{rows, err}
}

// txRows notes the error a statement's rows end with (an error of the server often comes only
// there) and ends the pipeline the statement was sent in.
type txRows struct {
	pgx.Rows
	d      *txdb
	br     pgx.BatchResults
	sql    string
	closed bool
}

func (r *txRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *txRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	err := r.Rows.Err()
	if r.br != nil {
		if cerr := r.br.Close(); err == nil {
			err = cerr
		}
	}
	r.d.note(err)
	r.d.learn(r.sql, err)
}

// txRow is QueryRow's answer, as pgx's own: the first row, or pgx.ErrNoRows.
type txRow struct {
	rows pgx.Rows
	err  error
}

func (r txRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// dbtx is what queries run on: the pool for reads, a batch's connection inside Update.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queries holds every query; tx is set inside a transaction.
type queries struct {
	db dbtx
	tx *txn
}

// migrate applies the embedded migrations not yet recorded, in one transaction under an advisory
// lock, so that nodes starting together apply each exactly once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('wardline.migrate.' || current_schema()))`); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: create migrations table: %w", err)
	}
	for _, name := range names {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM migrations WHERE name = $1`, name).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO migrations (name) VALUES ($1)`, name); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	return nil
}

func notFound(what string) error { return wardline.Errorf(wardline.ENOTFOUND, "%s not found", what) }

// utc returns t in UTC: pgx answers timestamptz in the local zone.
func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func mustAffect(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound(what)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeUniqueViolation
}

// BackendPID is the server process of the transaction's connection (for tests that kill it).
func (t *txn) BackendPID() int { return int(t.queries.db.(*txdb).conn.PgConn().PID()) }
