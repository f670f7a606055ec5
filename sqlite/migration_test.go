package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wardline"
	"wardline/storetest"
)

// TestEmailPerOrgUpgrade takes a database back to users with one address a deployment (before
// 0007), with sessions, memberships and second factors that refer to its users, and opens it:
// the migration rebuilds the table without losing or orphaning a row, and an address held in one
// organisation can then be given an account in another.
func TestEmailPerOrgUpgrade(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	f := storetest.MustCreateFixture(t, s)
	until := storetest.T0.Add(time.Hour)
	duty := wardline.DutySetting{Status: wardline.DutyOff, Until: &until}
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return tx.SetDutySetting(ctx, f.Bob.ID, duty) })
	sess := storetest.NewSession(f.Alice, storetest.T0)
	storetest.MustCreateSessions(t, s, sess)
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, storetest.NewUserMFA(f.Carol, storetest.T0)) })
	before := map[string]*wardline.User{}
	for _, u := range []*wardline.User{f.Alice, f.Bob, f.Carol} {
		if before[u.ID], err = s.User(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Back to the schema before 0007, by the same procedure.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	var old string
	if err := db.QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'users'`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	old = strings.Replace(old, "UNIQUE (org_id, email)", "CHECK (1)", 1)
	old = strings.Replace(old, "email                    TEXT NOT NULL,", "email                    TEXT NOT NULL UNIQUE,", 1)
	old = strings.Replace(strings.Replace(old, `CREATE TABLE "users"`, "CREATE TABLE users_old", 1), "CREATE TABLE users ", "CREATE TABLE users_old ", 1)
	if !strings.Contains(old, "NOT NULL UNIQUE") {
		t.Fatalf("could not rewrite the users table: %s", old)
	}
	for _, q := range []string{
		old,
		`INSERT INTO users_old SELECT * FROM users`,
		`DROP TABLE users`,
		`ALTER TABLE users_old RENAME TO users`,
		`CREATE INDEX users_org_name ON users(org_id, display_name, id)`,
		`DELETE FROM migrations WHERE name = 'migration/0007_email_per_org.sql'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after the upgrade: %v", err)
	}
	defer s.Close()
	for id, want := range before {
		got, err := s.User(ctx, id)
		if err != nil {
			t.Fatalf("User after the upgrade: %v", err)
		}
		storetest.AssertSame(t, "User after the upgrade", got, want)
	}
	if got, u, err := s.SessionWithUser(ctx, sess.TokenHash); err != nil || got.ID != sess.ID || u.ID != f.Alice.ID {
		t.Errorf("SessionWithUser after the upgrade: %v, %v, %v", got, u, err)
	}
	if got, err := s.DutySettings(ctx, []string{f.Bob.ID}); err != nil || got[f.Bob.ID].Status != wardline.DutyOff || !got[f.Bob.ID].Until.Equal(until) {
		t.Errorf("DutySettings after the upgrade: %v, %v", got, err)
	}
	if ids, err := s.MemberIDs(ctx, f.Conv.ID); err != nil || len(ids) != 3 {
		t.Errorf("MemberIDs after the upgrade: %v, %v", ids, err)
	}
	rows, err := s.rdb.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("foreign keys refer to nothing after the upgrade")
	}
	rows.Close()
	var fk int
	if err := s.wq.db.queryRow(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign keys on the write connection after the upgrade: %d (%v), want on", fk, err)
	}

	other := storetest.MustCreateOrg(t, s, "Southgate")
	again := storetest.NewUser(other.ID, "Alice Adeyemi")
	again.Email = f.Alice.Email
	storetest.MustCreateUsers(t, s, again)
	dup := storetest.NewUser(f.Org.ID, "Alice Again")
	dup.Email = f.Alice.Email
	err = s.Update(ctx, func(tx wardline.Tx) error { return tx.CreateUser(ctx, dup) })
	storetest.AssertCode(t, err, wardline.ECONFLICT)
	// A user who is not there any more still cannot be referred to.
	err = s.Update(ctx, func(tx wardline.Tx) error { return tx.CreateSession(ctx, storetest.NewSession(dup, storetest.T0)) })
	if err == nil {
		t.Error("a session of a user that does not exist was stored after the upgrade")
	}
}
