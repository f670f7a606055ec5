// Package sqlite is Wardline's default store: an embedded SQLite database in the data directory,
// durable against power loss (WAL, synchronous=FULL), reaching throughput by group commit — one
// writer goroutine runs concurrent Update calls in one transaction, each in its own savepoint.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"database/sql/driver"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver

	"wardline"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// wl_fold lower-cases with Go's Unicode rules: SQLite's lower() and LIKE fold only A-Z, so
// "élodie" would not find "Élodie".
func init() {
	msqlite.MustRegisterDeterministicScalarFunction("wl_fold", 1, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case nil:
			return nil, nil
		default:
			return v, nil
		}
	})
}

// maxBatch bounds how many Update calls share one transaction.
const maxBatch = 512

// Store is a wardline.Store on SQLite.
type Store struct {
	queries // reads, on the pool of read connections

	path   string
	rdb    *sql.DB // read connections
	wdb    *sql.DB // the one write connection
	wconn  *sql.Conn
	wq     queries // writes and reads inside transactions, on wconn
	writes chan *writeReq
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool

	// BatchObserver, when set before the first Update, is told the size of every committed batch
	// (for metrics and benchmarks).
	BatchObserver func(n int)
	// WriteObserver, when set before the first Update, is told for every write once answered how
	// long it waited for its batch to begin (in the queue and the writer's gather) and how long
	// that batch then took (its statements, commit and sync): where a slow Update spent its time.
	WriteObserver func(queued, batch time.Duration)
	// ErrorObserver, when set before the first Update, is told of failures that do not fail a
	// write: a run filing audit entries for search (fileAudit).
	ErrorObserver func(error)
	// CommitObserver, when set before the first Update, is told how long each group commit's
	// COMMIT took: writing its WAL frames and syncing them, so mostly the disk. When writes are
	// slow and this is too, the disk is what is slow (a sync is 0.6 ms here, but 3-9 ms in runs
	// on a busy shared disk: docs/PERFORMANCE.md).
	CommitObserver func(time.Duration)

	// The WAL is copied into the database by a goroutine of its own (checkpointer), not by
	// the writer at the commit that crosses SQLite's threshold: ckdb is its connection, commits
	// counts the writer's commits so that it knows when there is something to copy.
	ckdb    *sql.DB
	dbFile  *os.File     // the database file, only to sync it (syncCopied)
	ckLast  int64        // frames copied as of the last checkpoint (the checkpointer's own)
	dbSyncs atomic.Int64 // syncCopied's syncs, for tests
	commits atomic.Int64
	ckStop  chan struct{}
	ckDone  chan struct{}
	ckRuns  atomic.Int64 // checkpoints that copied frames, for tests
	ckOff   atomic.Bool  // no checkpoints while set: benchmarks that count WAL frames
	ckEvery atomic.Int64 // checkpointInterval in nanoseconds; tests set less
	// pause holds the writer between transactions: it waits until the channel it receives is
	// closed (restartWAL).
	pause        chan chan struct{}
	walRestarts  atomic.Int64 // times the writer was held for the WAL to start over, for tests
	walRestartAt atomic.Int64 // walRestartFrames; tests set less

	// gatherFor is SetCommitGather's duration in nanoseconds; gatherBusy is wardline.GatherBusy,
	// tests set more so that a slow machine's pauses between writes do not count as quiet spells.
	gatherFor  atomic.Int64
	gatherBusy atomic.Int64

	// auth caches SessionWithUser between the commits that change its answers.
	auth *authCache

	// alog is the audit log's committed tree, kept by the writer goroutine.
	alog *auditLog
	// auditHashOff skips leaf hashes and the tree: set only by benchmarks that measure their cost.
	auditHashOff atomic.Bool
	// auditIndexed is the seq through which audit entries are in the search tables as far as
	// the writer knows, and filing the run being filed into them (fileAudit); auditIndexLag and
	// auditFileChunk are auditIndexLag and auditFileChunk, tests set less.
	auditIndexed   int64
	filing         *auditRun
	auditIndexLag  atomic.Int64
	auditFileChunk atomic.Int64
}

var _ wardline.Store = (*Store)(nil)

type writeReq struct {
	ctx    context.Context
	fn     func(wardline.Tx) error
	done   chan error
	queued time.Time // when Update queued it: a batch gathers until its first has waited the gather
}

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	pragmas := []string{
		"journal_mode(WAL)",
		"synchronous(FULL)", // a commit survives power loss, not just a process crash (and walvfs.go relies on its sync)
		"busy_timeout(10000)",
		"foreign_keys(1)",
		"secure_delete(ON)", // erased key material is zeroed, not left in free pages
		// Every write of a group commit runs in a savepoint, whose sub-journal would otherwise be
		// a temporary file written page by page: a third of the writer's time. In memory it costs a
		// few pages per batch and nothing of durability (the WAL is what makes a commit durable).
		"temp_store(MEMORY)",
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()

	// The writer keeps a page cache of its own, 16 MiB at most: a send touches the ends of several
	// indexes of every active conversation, and a page read back from disk is a system call
	// inside the group commit, which everyone in the batch waits for. It is not larger because
	// while the database is under 1 GiB, the end of almost every write transaction sweeps the
	// cache's whole hash table (SQLite's pcache1TruncateUnsafe: a B-tree rebalance parks a page
	// at the page number of the lock byte, past the end of the file), a cost that grows with the
	// cache. Measured in alternating pairs (docs/PERFORMANCE.md): 16 MiB against 64, +7 % msgs/s
	// at full load and -10 % p99 at 1,000 msgs/s (five pairs of six each); 8 MiB doubled the
	// p99 (too many reads); 32 MiB was no better than 16.
	//
	// It never checkpoints either (wal_autocheckpoint 0): copying the WAL into the database and
	// syncing it took a sixth of the writer's time and stalled every commit queued behind it,
	// so the checkpointer goroutine does it alongside, on its own connection.
	//
	// Its WAL goes through walVFSName, which writes a commit's frames in a few system calls.
	if err := registerWALVFS(); err != nil {
		return nil, err
	}
	wdb, err := sql.Open("sqlite", dsn+"&_pragma="+url.QueryEscape("cache_size(-16384)")+"&_pragma="+url.QueryEscape("wal_autocheckpoint(0)")+"&vfs="+walVFSName)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := migrate(ctx, wdb); err != nil {
		wdb.Close()
		return nil, err
	}
	wconn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, err
	}

	q.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		wconn.Close()
		wdb.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	ckdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		rdb.Close()
		wconn.Close()
		wdb.Close()
		return nil, err
	}
	ckdb.SetMaxOpenConns(1)
	ckdb.SetMaxIdleConns(1)
	ckdb.SetConnMaxLifetime(0)
	dbFile, err := os.Open(path)
	if err != nil {
		ckdb.Close()
		rdb.Close()
		wconn.Close()
		wdb.Close()
		return nil, err
	}

	s := &Store{
		path:   path,
		rdb:    rdb,
		wdb:    wdb,
		wconn:  wconn,
		writes: make(chan *writeReq, maxBatch),
		ckdb:   ckdb,
		dbFile: dbFile,
		ckStop: make(chan struct{}),
		ckDone: make(chan struct{}),
		pause:  make(chan chan struct{}),
	}
	s.walRestartAt.Store(walRestartFrames)
	s.gatherFor.Store(int64(wardline.DefaultCommitGather))
	s.gatherBusy.Store(int64(wardline.GatherBusy))
	s.ckEvery.Store(int64(checkpointInterval))
	s.auditIndexLag.Store(auditIndexLag)
	s.auditFileChunk.Store(auditFileChunk)
	if err := wconn.QueryRowContext(ctx, `SELECT through FROM audit_indexed WHERE id = 1`).Scan(&s.auditIndexed); err != nil {
		ckdb.Close()
		rdb.Close()
		wconn.Close()
		wdb.Close()
		return nil, fmt.Errorf("read audit search state: %w", err)
	}
	if s.auth, err = newAuthCache(ctx, wconn); err != nil {
		ckdb.Close()
		rdb.Close()
		wconn.Close()
		wdb.Close()
		return nil, err
	}
	s.queries = queries{db: newStmtCache(rdb)}
	// Statements of a shared transaction must not be interrupted by one caller's cancellation:
	// SQLite would roll back the whole batch, everyone's writes with it.
	wc := newStmtCache(wconn)
	wc.detach = true
	s.wq = queries{db: wc}
	s.wg.Add(1)
	go s.writer()
	go s.checkpointer()
	return s, nil
}

// checkpointInterval is how often the checkpointer looks for committed WAL frames to copy.
// Each checkpoint writes the pages it copies into the database file, which is then synced
// (syncCopied), and the commits' own syncs of the WAL wait behind that I/O. Every 100 ms, the
// pages a send dirties again and again (a conversation's row, the ends of indexes) were copied
// ten times a second, and at 1,000 msgs/s the p99 was 76-99 ms; every second it was 32-55 ms
// (median of three rounds 36, the p50 7 ms down to 4.5), every 4 s 34-48 and every 10 s 42-71,
// as fewer, larger checkpoints bunch their I/O (docs/PERFORMANCE.md). The WAL holds about a
// second more of frames.
const checkpointInterval = time.Second

// walLimit is how many frames (of 4 KiB) the WAL may hold uncopied before the checkpointer
// waits for readers and holds the writer back to copy them all (RESTART), which readers that
// keep old snapshots open for long could otherwise prevent for ever.
const walLimit = 16384

// walRestartFrames is the WAL's length, in frames, past which the checkpointer starts it over.
// Copying frames does not shorten the file: SQLite writes from its start again only when a
// write transaction begins with every frame copied, which under steady load never happens by
// itself (the next commit is always there first), and the file grew by 45 MB a second at
// 1,000 messages a second, without end. Starting over holds the writer for a checkpoint
// (restartWAL), and the checkpoints before it load the disk that commits sync on: at 256 MiB
// (every 6 s at that rate) the p99 at 1,000 msgs/s rose from 67–105 ms to 102–170 ms. So it is a
// bound, not a routine: 1 GiB. (Load with any pause in it lets SQLite start over by itself.)
const walRestartFrames = 262144

// checkpointer copies committed WAL frames into the database file while the writer goes on
// appending (PASSIVE: it never waits for the writer or readers), so that commits pay only for
// their own frames. SQLite's own rule would make the commit that crosses 1,000 frames do it.
// Once the WAL is longer than walRestartFrames it holds the writer between two transactions
// (pauseWriter) while it copies the last frames, so that the next transaction starts the WAL
// over from its beginning: the file stays at that size, written over in place.
func (s *Store) checkpointer() {
	defer close(s.ckDone)
	t := time.NewTimer(time.Duration(s.ckEvery.Load()))
	defer t.Stop()
	var done int64
	for {
		select {
		case <-s.ckStop:
			return
		case <-t.C:
		}
		t.Reset(time.Duration(s.ckEvery.Load()))
		n := s.commits.Load()
		if n == done || s.ckOff.Load() {
			continue
		}
		mode := "PASSIVE"
		for range 2 {
			logFrames, copied, err := s.checkpoint(mode, false)
			if err != nil {
				break // closing, or the disk: the next tick tries again
			}
			if logFrames >= s.walRestartAt.Load() {
				if !s.restartWAL(copied) {
					return
				}
			}
			if logFrames-copied < walLimit {
				done = n
				break
			}
			mode = "RESTART"
		}
	}
}

// checkpoint runs one checkpoint on the checkpointer's connection and, unless the writer is
// held meanwhile (held: the sync would hold it longer), syncs what it copied (syncCopied).
func (s *Store) checkpoint(mode string, held bool) (logFrames, copied int64, err error) {
	var busy int64
	err = s.ckdb.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &copied)
	if err == nil && copied > 0 {
		s.ckRuns.Add(1)
	}
	if err == nil && !held && copied != s.ckLast && copied < logFrames {
		s.syncCopied()
	}
	if err == nil && !held {
		s.ckLast = copied
	}
	return logFrames, copied, err
}

// syncCopied syncs the database file after a checkpoint that copied frames but did not reach
// the WAL's end. SQLite syncs the database file only at the end of a checkpoint that copies the
// whole WAL (only then may the WAL start over), which under steady load is only when the WAL is
// made to start over (restartWAL), every 23 s at 1,000 msgs/s. Until then the pages copied every
// second piled up unwritten in the kernel's cache, and that one sync wrote them all: 0.1-0.6 s,
// through which every commit's sync of the WAL waited (and the writer was held for part of it).
// Synced each time, the writing is spread over the seconds, and a slice of the file at a time
// (syncInSlices). A failed sync changes nothing that SQLite relies on: its own sync of the file,
// before the WAL may start over, reports the error too (Linux reports a writeback error to every
// open file).
func (s *Store) syncCopied() {
	_ = syncInSlices(s.dbFile)
	s.dbSyncs.Add(1)
}

// restartWAL makes the writer's next transaction start the WAL over. SQLite does that when a
// transaction begins with every frame copied, which needs a moment without commits: it holds
// the writer between two transactions while a PASSIVE checkpoint copies the last frames.
// That checkpoint syncs the database file, and every send waits through it, so first it copies
// unheld, round after round (each copies what was committed during the one before), until a
// round finds at most walQuickFrames left; it holds the writer only then, and otherwise tries
// again at the next tick. copied is what the checkpoint just before it had copied. It returns
// false when the store is closing.
func (s *Store) restartWAL(copied int64) bool {
	quick := false
	for range 8 {
		logFrames, cp, err := s.checkpoint("PASSIVE", false)
		if err != nil || logFrames < s.walRestartAt.Load() {
			return true // failing, or started over by itself meanwhile
		}
		if cp-copied <= walQuickFrames {
			quick = true
			break
		}
		copied = cp
	}
	if !quick {
		return true
	}
	resume := make(chan struct{})
	select {
	case s.pause <- resume:
	case <-s.ckStop:
		return false
	}
	_, _, _ = s.checkpoint("PASSIVE", true) // failing, the WAL starts over another time
	close(resume)
	s.walRestarts.Add(1)
	return true
}

// walQuickFrames is how many frames may be left to copy while the writer is held (restartWAL):
// 1 MiB, a few milliseconds.
const walQuickFrames = 256

// WALRestarts counts the times the checkpointer held the writer for the WAL to start over
// (restartWAL), for metrics.
func (s *Store) WALRestarts() int64 { return s.walRestarts.Load() }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close waits for queued writes, then closes the database.
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
	close(s.ckStop)
	<-s.ckDone
	s.wq.db.close()
	s.queries.db.close()
	err := errors.Join(s.ckdb.Close(), s.wconn.Close(), s.wdb.Close(), s.rdb.Close(), s.dbFile.Close())
	return err
}

// Update runs fn in the next group-committed transaction and returns once it is durable.
func (s *Store) Update(ctx context.Context, fn func(wardline.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), queued: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("sqlite: store closed")
	}
	// Sending under the lock keeps Close from closing the channel between the check and the send;
	// the buffer makes the wait short.
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

// writer is the single goroutine that writes. It takes every request waiting, runs each in a
// savepoint of one transaction and commits once: one fsync for the whole batch.
func (s *Store) writer() {
	defer s.wg.Done()
	batch := make([]*writeReq, 0, maxBatch)
	errs := make([]error, 0, maxBatch)
	var g wardline.CommitGatherer
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var req *writeReq
		select {
		case r, ok := <-s.writes:
			if !ok {
				return
			}
			req = r
		case resume := <-s.pause:
			<-resume
			continue
		}
		batch = append(batch[:0], req)
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.writes:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if until, ok := g.Deadline(time.Now(), batch[0].queued, len(batch), time.Duration(s.gatherFor.Load()), time.Duration(s.gatherBusy.Load())); ok {
			n := len(batch)
			batch = wardline.GatherWrites(s.writes, batch, wardline.GatherBatch, until, timer)
			g.Gathered(len(batch)-n, time.Now())
		}
		began := time.Now()
		errs = s.runBatch(batch, errs[:0])
		ended := time.Now()
		g.Committed(ended)
		for i, r := range batch {
			r.done <- errs[i]
		}
		if s.BatchObserver != nil {
			s.BatchObserver(len(batch))
		}
		if s.WriteObserver != nil {
			for _, r := range batch {
				s.WriteObserver(began.Sub(r.queued), ended.Sub(began))
			}
		}
	}
}

func (s *Store) runBatch(batch []*writeReq, errs []error) []error {
	ctx := context.Background()
	// Whatever the outcome, cached sign-in answers the batch may have changed are forgotten
	// before anyone waiting on it is answered (on success, before the commit hooks run).
	defer s.auth.settle()
	if _, err := s.wq.db.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		for range batch {
			errs = append(errs, fmt.Errorf("begin: %w", err))
		}
		return errs
	}
	if err := s.syncAuditLog(ctx); err != nil {
		_, _ = s.wq.db.exec(ctx, "ROLLBACK")
		for range batch {
			errs = append(errs, err)
		}
		return errs
	}
	filed := s.fileAudit(ctx, len(batch))
	tx := &txn{queries: s.wq, log: newAuditBatch(s.alog, !s.auditHashOff.Load())}
	hooks := make([][]func(), len(batch))
	for i, r := range batch {
		tx.hooks, tx.pending = nil, tx.pending[:0]
		err, broken := s.runOne(r, tx)
		if broken {
			// The transaction itself is gone (SQLite rolled it back on an I/O error, say): nothing
			// of this batch is stored, and nothing more may run outside it.
			_, _ = s.wq.db.exec(ctx, "ROLLBACK")
			errs = errs[:0]
			for range batch {
				errs = append(errs, fmt.Errorf("transaction aborted: %w", err))
			}
			return errs
		}
		if err == nil {
			if err = tx.log.release(tx.pending); err != nil {
				// The entries are written but the tree cannot take them: nothing of the batch may
				// commit, or the log and its tree would disagree.
				_, _ = s.wq.db.exec(ctx, "ROLLBACK")
				errs = errs[:0]
				for range batch {
					errs = append(errs, fmt.Errorf("audit tree: %w", err))
				}
				return errs
			}
			hooks[i] = tx.hooks
		}
		errs = append(errs, err)
	}
	err := tx.log.persist(ctx, s.wq)
	if err == nil {
		began := time.Now()
		if _, err = s.wq.db.exec(ctx, "COMMIT"); err == nil && s.CommitObserver != nil {
			s.CommitObserver(time.Since(began))
		}
	}
	if err != nil {
		_, _ = s.wq.db.exec(ctx, "ROLLBACK")
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
		return errs
	}
	s.alog = tx.log.committed()
	s.doneFiling(filed)
	s.commits.Add(1)
	s.auth.settle()
	for _, hs := range hooks {
		for _, h := range hs {
			h()
		}
	}
	return errs
}

// runOne runs one request inside a savepoint, so that its failure undoes only its own writes.
// broken reports that the savepoint could not be rolled back or released: the enclosing
// transaction is no longer intact.
func (s *Store) runOne(r *writeReq, tx *txn) (err error, broken bool) {
	if err := r.ctx.Err(); err != nil {
		return err, false
	}
	ctx := context.Background()
	if _, err := s.wq.db.exec(ctx, "SAVEPOINT w"); err != nil {
		return err, true
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in transaction: %v", p)
		}
		if err != nil {
			if _, rerr := s.wq.db.exec(ctx, "ROLLBACK TO w"); rerr != nil {
				broken = true
				return
			}
		}
		if _, rerr := s.wq.db.exec(ctx, "RELEASE w"); rerr != nil {
			broken, err = true, rerr
		}
	}()
	return r.fn(tx), false
}

// txn is the wardline.Tx handed to Update functions.
type txn struct {
	queries
	hooks   []func()
	log     *auditBatch // the audit log as this batch grows it
	pending [][]byte    // leaf hashes of the current savepoint's audit entries
}

// AfterCommit queues fn to run after the batch commits; it is dropped if this call's savepoint
// rolls back or the commit fails.
func (t *txn) AfterCommit(fn func()) { t.hooks = append(t.hooks, fn) }

var _ wardline.Tx = (*txn)(nil)

// migrationSteps are Go functions that finish a migration in its transaction, for what SQL
// alone cannot do.
var migrationSteps = map[string]func(context.Context, *sql.Tx) error{
	"migration/0002_audit.sql": backfillAuditLeaves,
}

// migrate applies the embedded migrations not yet recorded, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if err := applyMigration(ctx, db, name, string(body)); err != nil {
			return err
		}
	}
	return nil
}

// foreignKeysOff marks a migration that rebuilds a table other tables refer to: SQLite's
// procedure for that turns foreign keys off around the transaction (they cannot be turned off
// inside one) and checks them before it commits.
const foreignKeysOff = "-- wardline:foreign-keys-off\n"

// applyMigration runs one migration and records it, in one transaction on one connection.
func applyMigration(ctx context.Context, db *sql.DB, name, body string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	fkOff := strings.HasPrefix(body, foreignKeysOff)
	if fkOff {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if step := migrationSteps[name]; step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	if fkOff {
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		broken := rows.Next()
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if broken {
			return fmt.Errorf("migration %s: it leaves rows whose foreign keys refer to nothing", name)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UnixMicro()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	return nil
}

// Checkpoint copies the WAL into the database and truncates it, so that erased content does not
// linger in the WAL file (used after crypto-shredding).
func (s *Store) Checkpoint(ctx context.Context) error {
	var busy, logFrames, checkpointed int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
		return err
	}
	if busy != 0 || logFrames != checkpointed {
		return fmt.Errorf("wal checkpoint incomplete: busy=%d, %d of %d frames copied", busy, checkpointed, logFrames)
	}
	return nil
}

// stmtCache prepares each query once per connection (or pool) and reuses it: parsing SQL is a
// real share of the cost of a small write.
type stmtCache struct {
	db interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	}
	mu     sync.RWMutex
	stmts  map[string]*sql.Stmt
	detach bool // run statements without the caller's cancellation
}

func newStmtCache(db interface {
	PrepareContext(context.Context, string) (*sql.Stmt, error)
}) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	return st.QueryContext(ctx, args...)
}

// row is a *sql.Row that may also carry the error of preparing its statement.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (c *stmtCache) queryRow(ctx context.Context, query string, args ...any) row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return row{err: err}
	}
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	return row{r: st.QueryRowContext(ctx, args...)}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

// queries holds every query, run on either the read pool or the write connection.
type queries struct{ db *stmtCache }

// strings runs a query of one text column (ids, mostly) and returns its values in order.
func (q queries) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := q.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// micros and fromMicros convert between times and the stored integer microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func notFound(what string) error { return wardline.Errorf(wardline.ENOTFOUND, "%s not found", what) }

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
