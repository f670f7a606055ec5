package sqlite

// Tests of the group-commit writer and of SQLite settings, which need the package's insides:
// to hold the writer while a batch is queued, and to ask the connections about themselves.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sqlitedriver "modernc.org/sqlite"

	"wardline"
	"wardline/storetest"
)

func init() {
	// wardline_test_sleep(ms) sleeps, then answers 0: a statement that takes as long as a test
	// needs, whatever the speed of the machine or the race detector.
	sqlitedriver.MustRegisterScalarFunction("wardline_test_sleep", 1, func(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
		ms, _ := args[0].(int64)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return int64(0), nil
	})
}

func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "w.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// holdWriter makes the writer run an Update that waits, so that the Updates queued meanwhile form
// the next batch together. release lets it finish.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, proceed, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx wardline.Tx) error {
			close(started)
			<-proceed
			return nil
		})
	}()
	<-started
	return func() {
		close(proceed)
		if err := <-done; err != nil {
			t.Errorf("held Update: %v", err)
		}
	}
}

// enqueue starts an Update of fn and returns once it waits in the writer's queue (behind a held
// writer), so that Updates enqueued one after another run in that order.
func enqueue(t *testing.T, s *Store, ctx context.Context, fn func(wardline.Tx) error) <-chan error {
	t.Helper()
	before := len(s.writes)
	done := make(chan error, 1)
	go func() { done <- s.Update(ctx, fn) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.writes) == before {
		if time.Now().After(deadline) {
			t.Fatalf("Update not queued after 5s")
		}
		time.Sleep(100 * time.Microsecond)
	}
	return done
}

// recordFailure is an Update fn that records a login failure under key: a write to look for.
func recordFailure(key string) func(wardline.Tx) error {
	return func(tx wardline.Tx) error { return tx.RecordLoginFailure(context.Background(), key, storetest.T0) }
}

// stored reports whether the write of recordFailure(key) is in the database.
func stored(t *testing.T, s *Store, key string) bool {
	t.Helper()
	n, err := s.CountLoginFailures(context.Background(), key, storetest.T0.Add(-time.Hour))
	if err != nil {
		t.Fatalf("CountLoginFailures: %v", err)
	}
	return n > 0
}

// batchSizes records the sizes of the batches the writer commits.
type batchSizes struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batchSizes) observe(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, n)
}

func (b *batchSizes) get() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sizes)
}

// total waits until the batches observed hold n Updates in all, and returns their sizes. The
// writer tells the observer of a batch after answering its Updates, so an Update's return comes
// before its batch is observed.
func (b *batchSizes) total(t *testing.T, n int) []int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		got := b.get()
		sum := 0
		for _, k := range got {
			sum += k
		}
		if sum == n {
			return got
		} else if time.Now().After(deadline) {
			t.Fatalf("batch sizes %v add up to %d, want %d", got, sum, n)
		}
	}
}

func TestWriter(t *testing.T) {
	// One Update that panics and one that fails share a batch with two that succeed: only their
	// own writes are undone, and the writer goes on.
	t.Run("PanicAndFailureIsolated", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		var sizes batchSizes
		s.BatchObserver = sizes.observe
		ctx := context.Background()
		errFail := errors.New("fail on purpose")

		var hooks []string // run one at a time on the writer; read after every Update returned
		withHook := func(key string, fn func(wardline.Tx) error) func(wardline.Tx) error {
			return func(tx wardline.Tx) error {
				tx.AfterCommit(func() { hooks = append(hooks, key) })
				return fn(tx)
			}
		}

		release := holdWriter(t, s)
		a := enqueue(t, s, ctx, withHook("a", recordFailure("a")))
		b := enqueue(t, s, ctx, withHook("b", func(tx wardline.Tx) error {
			if err := recordFailure("b")(tx); err != nil {
				return err
			}
			panic("fn panics")
		}))
		c := enqueue(t, s, ctx, withHook("c", func(tx wardline.Tx) error {
			if err := recordFailure("c")(tx); err != nil {
				return err
			}
			return errFail
		}))
		d := enqueue(t, s, ctx, withHook("d", recordFailure("d")))
		release()

		if err := <-a; err != nil {
			t.Errorf("Update a: %v", err)
		}
		if err := <-b; err == nil || !strings.Contains(err.Error(), "panic") {
			t.Errorf("Update b (panics): got %v, want an error naming the panic", err)
		}
		if err := <-c; !errors.Is(err, errFail) {
			t.Errorf("Update c (fails): got %v, want its fn's error", err)
		}
		if err := <-d; err != nil {
			t.Errorf("Update d: %v", err)
		}
		for key, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true} {
			if got := stored(t, s, key); got != want {
				t.Errorf("write of %s stored: got %v, want %v", key, got, want)
			}
		}
		if want := []string{"a", "d"}; !slices.Equal(hooks, want) {
			t.Errorf("AfterCommit hooks run: got %v, want %v", hooks, want)
		}
		if got, want := sizes.total(t, 5), []int{1, 4}; !slices.Equal(got, want) {
			t.Errorf("batch sizes: got %v, want %v", got, want)
		}
		// The writer still works.
		if err := s.Update(ctx, recordFailure("e")); err != nil || !stored(t, s, "e") {
			t.Errorf("Update after the batch: %v, stored %v", err, stored(t, s, "e"))
		}
	})

	// An Update whose ctx ends while it waits in the queue fails without running; the others in
	// its batch commit.
	t.Run("CancelledBeforeBatch", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		ctx := context.Background()
		release := holdWriter(t, s)
		a := enqueue(t, s, ctx, recordFailure("a"))
		bctx, cancel := context.WithCancel(ctx)
		ran := false
		b := enqueue(t, s, bctx, func(tx wardline.Tx) error {
			ran = true
			return recordFailure("b")(tx)
		})
		c := enqueue(t, s, ctx, recordFailure("c"))
		cancel()
		release()

		if err := <-a; err != nil {
			t.Errorf("Update a: %v", err)
		}
		if err := <-b; !errors.Is(err, context.Canceled) {
			t.Errorf("Update b (cancelled): got %v, want context.Canceled", err)
		}
		if err := <-c; err != nil {
			t.Errorf("Update c: %v", err)
		}
		if ran {
			t.Errorf("fn of the cancelled Update ran")
		}
		for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
			if got := stored(t, s, key); got != want {
				t.Errorf("write of %s stored: got %v, want %v", key, got, want)
			}
		}
	})

	// An Update whose ctx ends while one of its statements runs must fail alone. SQLite answers
	// an interrupted write statement by rolling back the whole transaction, which here is the
	// whole batch; what every Update reports must still match what is stored.
	t.Run("CancelledDuringWrite", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		ctx := context.Background()
		release := holdWriter(t, s)
		a := enqueue(t, s, ctx, recordFailure("a"))
		bctx, cancel := context.WithCancel(ctx)
		defer cancel()
		b := enqueue(t, s, bctx, func(tx wardline.Tx) error {
			time.AfterFunc(50*time.Millisecond, cancel)
			// A write that takes a second, so that it is cancelled while it runs; any store
			// write can be, with less luck.
			_, err := tx.(*txn).db.exec(bctx, `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 100)
				INSERT INTO login_failures (key, at) SELECT 'b', ? + x + wardline_test_sleep(10) FROM n`, storetest.T0.UnixMicro())
			return err
		})
		c := enqueue(t, s, ctx, recordFailure("c"))
		release()

		// Update b may fail or, having been queued, commit; either way it must say which.
		errA, errB, errC := <-a, <-b, <-c
		for _, u := range []struct {
			key string
			err error
		}{{"a", errA}, {"b", errB}, {"c", errC}} {
			if got := stored(t, s, u.key); got != (u.err == nil) {
				t.Errorf("Update %s: returned %v but its write stored: %v", u.key, u.err, got)
			}
		}
		if errA != nil || errC != nil {
			t.Errorf("Updates sharing the batch: got %v, %v, want both to commit", errA, errC)
		}
	})

	// Concurrent Updates share transactions: that is what makes thousands of durable writes a
	// second possible on a disk that syncs a thousand times a second.
	t.Run("BatchesUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		const n = 64
		s := mustOpen(t)
		var sizes batchSizes
		s.BatchObserver = sizes.observe
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = s.Update(context.Background(), recordFailure(fmt.Sprint(i))) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		}
		got := sizes.total(t, n)
		if slices.Max(got) < 2 {
			t.Errorf("batch sizes: got %v, want some batch of more than one Update", got)
		}
	})

	// Close lets queued Updates finish before it closes the database.
	t.Run("CloseWaitsForQueue", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "w.db")
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		release := holdWriter(t, s)
		var queued []<-chan error
		for i := range 3 {
			queued = append(queued, enqueue(t, s, context.Background(), recordFailure(fmt.Sprint(i))))
		}
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		release()
		for i, done := range queued {
			if err := <-done; err != nil {
				t.Errorf("queued Update %d: %v", i, err)
			}
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		s, err = Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		for i := range 3 {
			if !stored(t, s, fmt.Sprint(i)) {
				t.Errorf("write of queued Update %d lost", i)
			}
		}
	})
}

func TestOpen_Settings(t *testing.T) {
	t.Run("SecureDelete", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		var read, write int
		if err := s.rdb.QueryRowContext(t.Context(), "PRAGMA secure_delete").Scan(&read); err != nil {
			t.Fatalf("PRAGMA secure_delete: %v", err)
		}
		storetest.MustUpdate(t, s, func(tx wardline.Tx) error {
			return tx.(*txn).db.queryRow(context.Background(), "PRAGMA secure_delete").Scan(&write)
		})
		if read != 1 || write != 1 {
			t.Errorf("secure_delete: got %d on reads, %d on writes; want 1 on both", read, write)
		}
	})

	t.Run("DurableJournal", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t)
		var mode string
		var sync, fk int
		storetest.MustUpdate(t, s, func(tx wardline.Tx) error {
			q := tx.(*txn).db
			return errors.Join(q.queryRow(context.Background(), "PRAGMA journal_mode").Scan(&mode),
				q.queryRow(context.Background(), "PRAGMA synchronous").Scan(&sync),
				q.queryRow(context.Background(), "PRAGMA foreign_keys").Scan(&fk))
		})
		if mode != "wal" || sync != 2 || fk != 1 {
			t.Errorf("journal_mode %q, synchronous %d, foreign_keys %d; want wal, 2 (FULL), 1", mode, sync, fk)
		}
	})

	// Each embedded migration is recorded once, however often the database is opened.
	t.Run("MigrationsOnce", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "w.db")
		files, err := fs.Glob(migrationFS, "migration/*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("embedded migrations: %v, %v", files, err)
		}
		for range 3 {
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var names []string
			rows, err := s.rdb.QueryContext(t.Context(), "SELECT name FROM migrations ORDER BY name")
			if err != nil {
				t.Fatalf("query migrations: %v", err)
			}
			for rows.Next() {
				var name string
				rows.Scan(&name)
				names = append(names, name)
			}
			rows.Close()
			s.Close()
			if !slices.Equal(names, files) {
				t.Errorf("migrations recorded: got %v, want %v", names, files)
			}
		}
	})
}

// The writer never copies the WAL into the database itself: the checkpointer goroutine does,
// alongside, so that no commit pays for it.
func TestCheckpointsOffTheWriter(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	var auto int
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error {
		return tx.(*txn).db.queryRow(context.Background(), "PRAGMA wal_autocheckpoint").Scan(&auto)
	})
	if auto != 0 {
		t.Errorf("the writer's wal_autocheckpoint is %d, want 0", auto)
	}
	// A few thousand frames' worth of commits, more than SQLite's own threshold (1,000).
	for i := range 300 {
		storetest.MustUpdate(t, s, func(tx wardline.Tx) error {
			for j := range 20 {
				if err := recordFailure(fmt.Sprintf("k%d-%d", i, j))(tx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.ckRuns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.ckRuns.Load() == 0 {
		t.Fatal("no checkpoint copied the WAL within 5 s of the writes")
	}
	if !stored(t, s, "k299-19") {
		t.Error("the last write is not there")
	}
}

// Checkpoint is how erased content leaves the WAL after crypto-shredding. When it cannot finish,
// because a reader still uses the WAL, it must say so rather than report success.
func TestStore_CheckpointBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	storetest.MustCreateOrg(t, s, "Northgate")

	// One read connection holds a snapshot; the other, the one Checkpoint will use, gives up
	// waiting for it after 100ms instead of the 10s of busy_timeout.
	s.rdb.SetMaxOpenConns(2)
	reader, err := s.rdb.Conn(ctx)
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	defer reader.Close()
	var n int
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatalf("BEGIN: %v", err)
	}
	defer reader.ExecContext(ctx, "ROLLBACK")
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM orgs").Scan(&n); err != nil {
		t.Fatalf("read: %v", err)
	}
	storetest.MustCreateOrg(t, s, "Southgate")
	other, err := s.rdb.Conn(ctx)
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	if _, err := other.ExecContext(ctx, "PRAGMA busy_timeout = 100"); err != nil {
		t.Fatalf("busy_timeout: %v", err)
	}
	other.Close()

	err = s.Checkpoint(ctx)
	fi, statErr := os.Stat(s.Path() + "-wal")
	if statErr != nil {
		t.Fatalf("stat WAL: %v", statErr)
	}
	if err == nil && fi.Size() != 0 {
		t.Errorf("Checkpoint with a reader in the WAL: got no error, but the WAL still holds %d bytes", fi.Size())
	}
}

// Under steady load the writer never begins a transaction with every frame copied, which is
// when SQLite starts the WAL over; the checkpointer has to make that moment, or the file grows
// for as long as the load lasts.
func TestWALStartsOverUnderSteadyLoad(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	s.walRestartAt.Store(256)                      // 1 MiB
	s.ckEvery.Store(int64(100 * time.Millisecond)) // the bound below allows for 100 ms of frames
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 { // always a next transaction queued behind the one being written
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				storetest.MustUpdate(t, s, func(tx wardline.Tx) error {
					for j := range 10 {
						if err := recordFailure(fmt.Sprintf("w%d-%d-%d", w, i, j))(tx); err != nil {
							return err
						}
					}
					return nil
				})
			}
		}()
	}
	var maxSize int64
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) || s.walRestarts.Load() < 2 {
		if time.Now().After(deadline.Add(20 * time.Second)) {
			break
		}
		if fi, err := os.Stat(s.path + "-wal"); err == nil {
			maxSize = max(maxSize, fi.Size())
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	written := s.commits.Load()
	if s.WALRestarts() < 2 {
		t.Fatalf("the WAL started over %d times in %d commits; want at least 2", s.WALRestarts(), written)
	}
	// At the limit plus what is committed between the checkpointer's ticks (about 6 MB here;
	// without the restarts 3 s of this load make 60-70 MB).
	if limit := int64(16 << 20); maxSize > limit {
		t.Errorf("the WAL grew to %d bytes under load; want at most %d", maxSize, limit)
	}
	if !stored(t, s, "w0-0-9") {
		t.Error("a write is missing")
	}
}

// A checkpoint that copies frames but not the WAL's end leaves SQLite's copies unsynced (it
// syncs the database file only when a checkpoint reaches the end); the checkpointer syncs it
// then, so that the copies do not pile up for one long sync. A checkpoint that copies nothing new,
// or reaches the end (SQLite syncs), or runs with the writer held (restartWAL), does not.
func TestCheckpointThatStopsShortSyncsTheDatabase(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	s.ckOff.Store(true) // the test makes the checkpoints (it is then the checkpointer's only caller)
	storetest.MustCreateOrg(t, s, "Northgate")
	if _, _, err := s.checkpoint("PASSIVE", false); err != nil { // everything so far: complete
		t.Fatal(err)
	}
	if n := s.dbSyncs.Load(); n != 0 {
		t.Fatalf("a complete checkpoint synced %d times, want 0 (SQLite syncs)", n)
	}

	reader, err := s.rdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	storetest.MustCreateOrg(t, s, "Southgate")
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM orgs").Scan(&n); err != nil { // its snapshot
		t.Fatal(err)
	}
	storetest.MustCreateOrg(t, s, "Eastgate") // past the reader's snapshot: cannot be copied yet
	logFrames, copied, err := s.checkpoint("PASSIVE", false)
	if err != nil || copied >= logFrames {
		t.Fatalf("checkpoint past a reader: %d of %d frames copied (%v), want it short of the end", copied, logFrames, err)
	}
	if n := s.dbSyncs.Load(); n != 1 {
		t.Errorf("a checkpoint that stopped short synced %d times, want 1", n)
	}
	if _, _, err := s.checkpoint("PASSIVE", false); err != nil {
		t.Fatal(err)
	}
	if n := s.dbSyncs.Load(); n != 1 {
		t.Errorf("a checkpoint that copied nothing new synced: %d syncs, want 1", n)
	}
	if _, err := reader.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM orgs").Scan(&n); err != nil { // a later snapshot
		t.Fatal(err)
	}
	storetest.MustCreateOrg(t, s, "Westgate")
	if logFrames, copied, err := s.checkpoint("PASSIVE", true); err != nil || copied >= logFrames {
		t.Fatalf("held checkpoint past a reader: %d of %d frames copied (%v), want it short of the end", copied, logFrames, err)
	}
	if n := s.dbSyncs.Load(); n != 1 {
		t.Errorf("a checkpoint with the writer held synced (%d syncs, want 1): the hold would last the sync", n)
	}
	if _, err := reader.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if logFrames, copied, err := s.checkpoint("PASSIVE", false); err != nil || copied != logFrames {
		t.Fatalf("checkpoint after the reader: %d of %d frames (%v)", copied, logFrames, err)
	}
	if n := s.dbSyncs.Load(); n != 1 {
		t.Errorf("a complete checkpoint synced: %d syncs, want 1", n)
	}
}

// WriteObserver tells each write how long it waited for its batch and how long that took.
func TestWriteObserver(t *testing.T) {
	s := mustOpen(t)
	storetest.CheckWriteTiming(t, s, func(f func(queued, batch time.Duration)) { s.WriteObserver = f })
}

// CommitObserver is told of each batch's COMMIT, once.
func TestCommitObserver(t *testing.T) {
	s := mustOpen(t)
	var commits []time.Duration
	s.CommitObserver = func(d time.Duration) { commits = append(commits, d) } // the writer goroutine alone
	storetest.MustCreateOrg(t, s, "Observed Trust")
	if len(commits) != 1 || commits[0] <= 0 {
		t.Fatalf("one committed batch: observed %v, want one positive duration", commits)
	}
	// A batch whose only write fails still commits (its savepoint rolled back, nothing else).
	failed := errors.New("refused")
	if err := s.Update(context.Background(), func(wardline.Tx) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("update: %v", err)
	}
	if len(commits) != 2 {
		t.Fatalf("two batches: observed %d commits", len(commits))
	}
}
