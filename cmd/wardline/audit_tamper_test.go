package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wardline"
	"wardline/audit"
	"wardline/sqlite"
)

// auditedDataDir runs a real server, has people sign in, talk, edit, read and leave, stops it
// (which signs a last checkpoint) and returns its data directory and how many entries it holds.
func auditedDataDir(t *testing.T) (string, int) {
	t.Helper()
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Ward 7 handover", b)
	for i := range 6 {
		m := a.Send(conv.ID, "obs stable, bed "+string(rune('1'+i)))
		if i == 2 {
			ts.mustStatus(a.Do("PATCH", "/api/v1/conversations/"+conv.ID+"/messages/"+m.ID, map[string]string{"body": "edited"}, nil), 200)
		}
	}
	b.History(conv.ID)
	ts.mustStatus(b.Do("POST", "/api/v1/conversations/"+conv.ID+"/read", map[string]int{"seq": 6}, nil), 204)
	ts.mustStatus(b.Do("DELETE", "/api/v1/conversations/"+conv.ID+"/members/"+b.User.ID, nil, nil), 204)
	dir := ts.Config.DataDir
	ts.HTTP.CloseIdleConnections()
	if err := ts.Main.Close(); err != nil {
		t.Fatal(err)
	}
	db := openRawDB(t, dir)
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dir, n
}

// copyDataDir copies a stopped server's data directory, so that each tamper test starts clean.
func copyDataDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func openRawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "wardline.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// runVerify runs `wardline audit verify` and returns its output and error.
func runVerify(t *testing.T, dir string, extra ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"audit", "verify", "--data-dir", dir}, extra...), &out, &errb)
	return out.String() + errb.String(), err
}

// entryAt reads one stored entry through the store, as an attacker who knows the format would.
func entryAt(t *testing.T, dir string, seq int64) *wardline.AuditEvent {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "wardline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.AuditEntries(context.Background(), seq-1, 1)
	if err != nil || len(es) != 1 {
		t.Fatalf("entry %d: %v", seq, err)
	}
	return es[0].Event
}

func TestAuditVerify(t *testing.T) {
	dir, n := auditedDataDir(t)
	if n < 20 {
		t.Fatalf("only %d audit entries", n)
	}
	wantOK := func(t *testing.T, dir string, n int) {
		t.Helper()
		out, err := runVerify(t, dir)
		if err != nil || !strings.HasPrefix(out, "ok: "+itoa(n)+" entries\n") {
			t.Fatalf("verify: %v\n%s", err, out)
		}
	}
	wantFail := func(t *testing.T, dir string, seq int64, reason string, extra ...string) {
		t.Helper()
		out, err := runVerify(t, dir, extra...)
		if err == nil {
			t.Fatalf("verify passed a tampered log:\n%s", out)
		}
		want := "entry " + itoa(int(seq)) + ": " + reason
		if !strings.Contains(out, want) && !strings.Contains(err.Error(), want) {
			t.Fatalf("verify: got %v\n%s\nwant it to name %q", err, out, want)
		}
	}

	t.Run("Untouched", func(t *testing.T) { wantOK(t, copyDataDir(t, dir), n) })

	t.Run("Altered", func(t *testing.T) {
		d := copyDataDir(t, dir)
		db := openRawDB(t, d)
		mustExec(t, db, `UPDATE audit_events SET actor_id = ? WHERE seq = 7`, wardline.NewID())
		db.Close()
		wantFail(t, d, 7, "altered (leaf hash mismatch)")
	})

	// An attacker who also recomputes the leaf hash and the server's tree state is caught by the
	// signed checkpoints: the fault lies after the last checkpoint that still matches.
	t.Run("AlteredAndRehashed", func(t *testing.T) {
		d := copyDataDir(t, dir)
		e := entryAt(t, d, 7)
		e.Outcome = wardline.OutcomeDenied
		db := openRawDB(t, d)
		mustExec(t, db, `UPDATE audit_events SET outcome = ?, leaf_hash = ? WHERE seq = 7`, e.Outcome, audit.LeafHash(e))
		db.Close()
		out, err := runVerify(t, d)
		if err == nil || !strings.Contains(out, "altered (tree root at size") {
			t.Fatalf("verify: %v\n%s", err, out)
		}
	})

	t.Run("Deleted", func(t *testing.T) {
		d := copyDataDir(t, dir)
		db := openRawDB(t, d)
		mustExec(t, db, `DELETE FROM audit_events WHERE seq = 9`)
		db.Close()
		wantFail(t, d, 9, "missing")
	})

	// To insert an entry the attacker must renumber every entry after it (seqs are unique);
	// the renumbered entries keep the hashes of their old places.
	t.Run("Inserted", func(t *testing.T) {
		d := copyDataDir(t, dir)
		forged := entryAt(t, d, 5)
		forged.ID, forged.Seq = wardline.NewID(), 5
		db := openRawDB(t, d)
		mustExec(t, db, `UPDATE audit_events SET seq = -seq WHERE seq >= 5`)
		mustExec(t, db, `UPDATE audit_events SET seq = 1 - seq WHERE seq < 0`)
		mustExec(t, db, `INSERT INTO audit_events (seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail, leaf_hash)
			SELECT 5, ?, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail, ? FROM audit_events WHERE seq = 6`,
			forged.ID, audit.LeafHash(forged))
		db.Close()
		wantFail(t, d, 5, "inserted")
	})

	t.Run("Reordered", func(t *testing.T) {
		d := copyDataDir(t, dir)
		db := openRawDB(t, d)
		mustExec(t, db, `UPDATE audit_events SET seq = -1 WHERE seq = 11`)
		mustExec(t, db, `UPDATE audit_events SET seq = 11 WHERE seq = 12`)
		mustExec(t, db, `UPDATE audit_events SET seq = 12 WHERE seq = -1`)
		db.Close()
		wantFail(t, d, 11, "out of place")
	})

	// Cutting the tail: the checkpoint signed at shutdown covers it.
	t.Run("Truncated", func(t *testing.T) {
		d := copyDataDir(t, dir)
		db := openRawDB(t, d)
		mustExec(t, db, `DELETE FROM audit_events WHERE seq > ?`, n-3)
		db.Close()
		wantFail(t, d, int64(n-2), "missing")
	})

	// An attacker with full write access to the database also removes the checkpoints that
	// cover the cut and rewinds the tree state: the database alone then looks whole, and only a
	// copy of a checkpoint kept outside it (the witness file) reveals the truncation.
	t.Run("TruncatedWithCheckpointsAndTree", func(t *testing.T) {
		d := copyDataDir(t, dir)
		keep := int64(n - 3)
		tree := audit.NewTree()
		s, err := sqlite.Open(context.Background(), filepath.Join(d, "wardline.db"))
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := s.AuditLeafHashes(context.Background(), 0, keep)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hashes {
			_ = tree.Append(h)
		}
		state, _ := tree.MarshalBinary()
		db := openRawDB(t, d)
		mustExec(t, db, `DELETE FROM audit_events WHERE seq > ?`, keep)
		mustExec(t, db, `DELETE FROM audit_checkpoints WHERE size > ?`, keep)
		mustExec(t, db, `UPDATE audit_tree SET size = ?, state = ?`, keep, state)
		db.Close()
		out, err := runVerify(t, d, "--audit-witness-file", "off")
		if err != nil {
			t.Logf("the database alone: %v", err) // it may or may not hold an earlier checkpoint
		} else if !strings.HasPrefix(out, "ok: "+itoa(int(keep))) {
			t.Fatalf("verify without the witness: %s", out)
		}
		wantFail(t, d, keep+1, "missing")
	})

	// The server's tree covers entries after the last checkpoint too.
	t.Run("TailAlteredAfterLastCheckpoint", func(t *testing.T) {
		d := copyDataDir(t, dir)
		db := openRawDB(t, d)
		mustExec(t, db, `DELETE FROM audit_checkpoints`)
		db.Close()
		if err := os.Remove(filepath.Join(d, "audit-checkpoints.log")); err != nil {
			t.Fatal(err)
		}
		last := entryAt(t, d, int64(n))
		last.Outcome = wardline.OutcomeFailure
		db = openRawDB(t, d)
		mustExec(t, db, `UPDATE audit_events SET outcome = ?, leaf_hash = ? WHERE seq = ?`, last.Outcome, audit.LeafHash(last), n)
		db.Close()
		out, err := runVerify(t, d)
		if err == nil || !strings.Contains(out, "do not hash to the server's tree") {
			t.Fatalf("verify: %v\n%s", err, out)
		}
	})

	t.Run("WrongMasterKey", func(t *testing.T) {
		d := copyDataDir(t, dir)
		other := filepath.Join(t.TempDir(), "other.key")
		if _, err := runVerify(t, d, "--master-key-file", other); err == nil {
			t.Fatal("verify ran with a missing master key")
		}
	})

	// After a restart the log goes on, and the whole of it still verifies.
	t.Run("AfterRestart", func(t *testing.T) {
		d := copyDataDir(t, dir)
		m := NewMain(io.Discard, io.Discard)
		m.Config = Config{DataDir: d, Addr: "127.0.0.1:0", HTTP: true, LogLevel: "warn"}
		m.AppConfig.PasswordParams = testPasswordParams
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx := wardline.NewContextWithActor(context.Background(), &wardline.Actor{Addr: "test"})
		if _, _, _, err := m.App.Users.CreateOrg(ctx, "Second Trust", wardline.NewUser{Email: "second@test.nhs.uk", DisplayName: "Sam Second"}, false); err != nil {
			t.Fatal(err)
		}
		if out, err := runVerify(t, d); err != nil { // beside the running server
			t.Fatalf("verify beside a running server: %v\n%s", err, out)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		db := openRawDB(t, d)
		var total int
		_ = db.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&total)
		db.Close()
		if total <= n {
			t.Fatalf("no new entries after the restart")
		}
		wantOK(t, d, total)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
