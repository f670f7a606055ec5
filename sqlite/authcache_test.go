package sqlite

import (
	"testing"
	"time"

	"wardline"
	"wardline/storetest"
)

// The contract (storetest, "SessionWithUser/SeesEveryCommittedChange") proves the answers are
// right; these tests prove the cache is used at all, and the rule that keeps a read racing a
// change from being kept.

// withSession stores an organisation, its users and a session of Alice's, and returns the session.
func withSession(t *testing.T, s *Store) *wardline.Session {
	t.Helper()
	f := storetest.MustCreateFixture(t, s)
	sess := storetest.NewSession(f.Alice, storetest.T0)
	storetest.MustCreateSessions(t, s, sess)
	return sess
}

func TestAuthCacheAnswersRepeatReads(t *testing.T) {
	s, ctx := mustOpen(t), t.Context()
	sess := withSession(t, s)

	if _, _, err := s.SessionWithUser(ctx, sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	// With the read connections closed, only the cache can answer.
	if err := s.rdb.Close(); err != nil {
		t.Fatal(err)
	}
	got, user, err := s.SessionWithUser(ctx, sess.TokenHash)
	if err != nil {
		t.Fatalf("second read: %v (not answered from the cache)", err)
	}
	if got.ID != sess.ID || user.ID != sess.UserID {
		t.Fatalf("cached answer: session %s user %s", got.ID, user.ID)
	}
	// A session nobody has asked for is not in it.
	if _, _, err := s.SessionWithUser(ctx, []byte("unknown token hash")); err == nil {
		t.Fatal("a token never read was answered without the database")
	}
}

func TestAuthCacheDropsReadsThatOverlapAChange(t *testing.T) {
	s, ctx := mustOpen(t), t.Context()
	sess := withSession(t, s)
	now := time.Now()

	// A reader takes the generation, then reads the row as it was before a revocation...
	_, _, gen := s.auth.get(sess.TokenHash, now)
	stale, user, err := s.queries.SessionWithUser(ctx, sess.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	// ...which commits before the reader keeps what it read.
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RevokeSession(ctx, sess.ID, storetest.T0) })
	s.auth.put(gen, stale, user, now)

	got, _, err := s.SessionWithUser(ctx, sess.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokedAt == nil {
		t.Fatal("a read that overlapped the revocation was kept: the revoked session still signs in")
	}
}

func TestAuthCacheEntriesExpire(t *testing.T) {
	s, ctx := mustOpen(t), t.Context()
	sess := withSession(t, s)
	if _, _, err := s.SessionWithUser(ctx, sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.auth.get(sess.TokenHash, time.Now()); got == nil {
		t.Fatal("not kept")
	}
	if got, _, _ := s.auth.get(sess.TokenHash, time.Now().Add(authCacheTTL+time.Second)); got != nil {
		t.Fatal("kept past its lifetime")
	}
}
