package postgres_test

import (
	"context"
	"testing"
	"time"

	"wardline"
	"wardline/storetest"
)

// The auth feature's store methods have no contract tests in storetest yet; these check the
// PostgreSQL implementation the way the services use it, including the race answers (ECONFLICT,
// ENOTFOUND) that keep two nodes from spending one recovery code or one challenge.
func TestAuthStore(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	f := storetest.MustCreateFixture(t, s)
	up := func(fn func(tx wardline.Tx) error) error { return s.Update(ctx, fn) }

	t.Run("UserMFA", func(t *testing.T) {
		if _, err := s.UserMFA(ctx, f.Alice.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
			t.Fatalf("UserMFA before any: %v", err)
		}
		enrolled := storetest.T0
		m := &wardline.UserMFA{UserID: f.Alice.ID, OrgID: f.Org.ID, TOTPSealed: []byte("sealed"), TOTPLastStep: 42,
			TOTPEnrolledAt: &enrolled, RecoveryRemaining: 10, PINHash: "$argon2id$x", UpdatedAt: storetest.T0}
		if err := up(func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, m) }); err != nil || m.Version != 1 {
			t.Fatalf("PutUserMFA: %v, version %d", err, m.Version)
		}
		got, err := s.UserMFA(ctx, f.Alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		storetest.AssertSame(t, "UserMFA", got, m)
		stale := *got
		got.RecoveryRemaining = 9
		if err := up(func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, got) }); err != nil || got.Version != 2 {
			t.Fatalf("PutUserMFA update: %v, version %d", err, got.Version)
		}
		err = up(func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, &stale) })
		storetest.AssertCode(t, err, wardline.ECONFLICT)
		if err := up(func(tx wardline.Tx) error { return tx.DeleteUserMFA(ctx, f.Alice.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserMFA(ctx, f.Alice.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
			t.Errorf("UserMFA after delete: %v", err)
		}
	})

	t.Run("Passkeys", func(t *testing.T) {
		p := &wardline.Passkey{ID: wardline.NewID(), UserID: f.Bob.ID, OrgID: f.Org.ID, CredentialID: []byte{1, 2, 3},
			Name: "Work phone", Sealed: []byte("record"), CreatedAt: storetest.T0}
		if err := up(func(tx wardline.Tx) error { return tx.InsertPasskey(ctx, p) }); err != nil {
			t.Fatal(err)
		}
		dup := *p
		dup.ID = wardline.NewID()
		storetest.AssertCode(t, up(func(tx wardline.Tx) error { return tx.InsertPasskey(ctx, &dup) }), wardline.ECONFLICT)
		got, err := s.PasskeyByCredentialID(ctx, []byte{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		storetest.AssertSame(t, "Passkey", got, p)
		used := storetest.T0.Add(time.Minute)
		got.LastUsedAt, got.Sealed = &used, []byte("record 2")
		if err := up(func(tx wardline.Tx) error { return tx.UpdatePasskey(ctx, got) }); err != nil {
			t.Fatal(err)
		}
		list, err := s.Passkeys(ctx, f.Bob.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("Passkeys: %v, %d", err, len(list))
		}
		storetest.AssertSame(t, "Passkey after update", list[0], got)
		var n int
		if err := up(func(tx wardline.Tx) (err error) { n, err = tx.DeleteUserPasskeys(ctx, f.Bob.ID); return err }); err != nil || n != 1 {
			t.Fatalf("DeleteUserPasskeys: %v, %d", err, n)
		}
		storetest.AssertCode(t, up(func(tx wardline.Tx) error { return tx.DeletePasskey(ctx, p.ID) }), wardline.ENOTFOUND)
	})

	t.Run("Challenges", func(t *testing.T) {
		c := &wardline.AuthChallenge{ID: wardline.NewID(), Kind: wardline.ChallengeMFA, TokenHash: []byte("hash"), UserID: f.Carol.ID,
			OrgID: f.Org.ID, CreatedAt: storetest.T0, ExpiresAt: storetest.T0.Add(5 * time.Minute)}
		reg := &wardline.AuthChallenge{ID: wardline.NewID(), Kind: wardline.ChallengePasskeyRegister, SessionID: "s1",
			Data: []byte(`{"challenge":"x"}`), CreatedAt: storetest.T0, ExpiresAt: storetest.T0.Add(time.Minute)}
		if err := up(func(tx wardline.Tx) error {
			if err := tx.InsertAuthChallenge(ctx, c); err != nil {
				return err
			}
			return tx.InsertAuthChallenge(ctx, reg)
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.AuthChallengeByTokenHash(ctx, []byte("hash"))
		if err != nil {
			t.Fatal(err)
		}
		storetest.AssertSame(t, "AuthChallenge", got, c)
		if got, err := s.SessionChallenge(ctx, "s1", wardline.ChallengePasskeyRegister); err != nil || got.ID != reg.ID {
			t.Errorf("SessionChallenge: %v, %+v", err, got)
		}
		var n int
		for range 2 {
			if err := up(func(tx wardline.Tx) (err error) { n, err = tx.RecordChallengeAttempt(ctx, c.ID); return err }); err != nil {
				t.Fatal(err)
			}
		}
		if n != 2 {
			t.Errorf("attempts: got %d, want 2", n)
		}
		if err := up(func(tx wardline.Tx) error { return tx.DeleteAuthChallenge(ctx, c.ID) }); err != nil {
			t.Fatal(err)
		}
		storetest.AssertCode(t, up(func(tx wardline.Tx) error { return tx.DeleteAuthChallenge(ctx, c.ID) }), wardline.ENOTFOUND)
		if err := up(func(tx wardline.Tx) error {
			return tx.DeleteExpiredAuthChallenges(ctx, storetest.T0.Add(2*time.Minute))
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthChallenge(ctx, reg.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
			t.Errorf("expired challenge still there: %v", err)
		}
	})

	t.Run("SessionState", func(t *testing.T) {
		sess := storetest.NewSession(f.Alice, storetest.T0)
		sess.Name = "Ward 7 iPad"
		if err := up(func(tx wardline.Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
			t.Fatal(err)
		}
		locked := storetest.T0.Add(time.Minute)
		sess.LockedAt, sess.PINFailures, sess.MFAEnrollmentRequired = &locked, 2, true
		if err := up(func(tx wardline.Tx) error { return tx.UpdateSessionState(ctx, sess) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		storetest.AssertSame(t, "Session", got, sess)
	})
}
