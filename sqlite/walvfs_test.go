package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wardline"
)

// wrappedWAL returns the open wrapped WAL at path, or nil.
func wrappedWAL(path string) *walFile {
	walFilesMu.Lock()
	defer walFilesMu.Unlock()
	for _, f := range walFiles {
		if f.name == path {
			return f
		}
	}
	return nil
}

// TestWALWritesAreGatheredAndOnDiskAtCommit checks the write connection's VFS (walvfs.go): a
// commit's WAL frames reach the file in a few large writes instead of two a frame, and they are
// in the file by the time Update returns. The second half reads the database and WAL as a crash
// would leave them (copied while the store is still open, without the WAL index), so a commit
// whose frames were still gathered in memory would be missing.
func TestWALWritesAreGatheredAndOnDiskAtCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	const rows, size = 200, 3000
	err := s.Update(ctx, func(tx wardline.Tx) error {
		q := tx.(*txn).db
		if _, err := q.exec(ctx, `CREATE TABLE vfs_probe (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
			return err
		}
		for k := range rows {
			if _, err := q.exec(ctx, `INSERT INTO vfs_probe (k, v) VALUES (?, randomblob(?))`, k, size); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	f := wrappedWAL(s.path + "-wal")
	if f == nil {
		t.Fatalf("the write connection's WAL %s is not open through %s", s.path+"-wal", walVFSName)
	}
	// 200 rows of 3,000 bytes fill at least 150 pages: 300 writes from SQLite, a frame's header and
	// its page each, into 5 writes of at most 128 KiB at the most, and one more per commit before.
	if f.writes < 300 || f.baseWrites*20 > f.writes {
		t.Errorf("WAL: %d writes from SQLite went out as %d: not gathered", f.writes, f.baseWrites)
	}

	// A second commit, so that the copy holds frames of two transactions.
	err = s.Update(ctx, func(tx wardline.Tx) error {
		_, err := tx.(*txn).db.exec(ctx, `UPDATE vfs_probe SET v = zeroblob(10) WHERE k < 10`)
		return err
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	copyDir := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(s.path + suffix)
		if err != nil {
			t.Fatalf("read %s: %v", s.path+suffix, err)
		}
		if err := os.WriteFile(filepath.Join(copyDir, "w.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(copyDir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, small, total int64
	if err := db.QueryRow(`SELECT COUNT(*), SUM(length(v) = 10), SUM(length(v)) FROM vfs_probe`).Scan(&n, &small, &total); err != nil {
		t.Fatalf("the copy as a crash leaves it: %v", err)
	}
	if n != rows || small != 10 || total != 10*10+(rows-10)*size {
		t.Errorf("the copy as a crash leaves it holds %d rows, %d updated, %d bytes; want %d, 10, %d", n, small, total, rows, 10*10+(rows-10)*size)
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check of the copy: %q, %v", check, err)
	}
}

// TestWALWriteFailureFailsTheCommit checks that a failure to write gathered frames (a full disk,
// say) fails the commit, which is then not answered as stored, and that the store goes on once
// the file can be written again, without the failed batch and with nothing corrupt.
func TestWALWriteFailureFailsTheCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	exec := func(query string, args ...any) error {
		return s.Update(ctx, func(tx wardline.Tx) error {
			_, err := tx.(*txn).db.exec(ctx, query, args...)
			return err
		})
	}
	if err := exec(`CREATE TABLE vfs_probe (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := exec(`INSERT INTO vfs_probe (k, v) VALUES (1, randomblob(100))`); err != nil {
		t.Fatalf("insert 1: %v", err)
	}
	f := wrappedWAL(s.path + "-wal")
	if f == nil {
		t.Fatal("the write connection's WAL is not wrapped")
	}

	f.fail.Store(true)
	err := exec(`INSERT INTO vfs_probe (k, v) VALUES (2, randomblob(100))`)
	f.fail.Store(false)
	if err == nil {
		t.Fatal("a commit whose frames could not be written was answered as stored")
	}
	if err := exec(`INSERT INTO vfs_probe (k, v) VALUES (3, randomblob(100))`); err != nil {
		t.Fatalf("insert 3, once the file can be written again: %v", err)
	}
	keys, err := s.queries.strings(ctx, `SELECT CAST(k AS TEXT) FROM vfs_probe ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "1,3" {
		t.Errorf("rows after the failed commit: %s, want 1,3", got)
	}
	var check string
	if err := s.rdb.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
}
