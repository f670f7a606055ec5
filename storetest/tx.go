package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"wardline"
)

// everyWrite is a write of each kind, made in one Update by testTransactions: what a rolled-back
// Update must leave no trace of.
type everyWrite struct {
	org     *wardline.Org
	user    *wardline.User
	conv    *wardline.Conversation
	msg     *wardline.Message
	session *wardline.Session
	event   *wardline.AuditEvent
	key     *wardline.KeyRecord
}

func newEveryWrite(f *Fixture) *everyWrite {
	w := &everyWrite{org: NewOrg("Westgate")}
	w.user = NewUser(f.Org.ID, "Dave Dlamini")
	w.conv = NewConversation(f.Org.ID, wardline.KindGroup, at(50), f.Alice.ID, w.user.ID)
	w.session = NewSession(f.Alice, at(50))
	w.event = NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(50))
	w.key = NewKey(wardline.KeyKindData, f.Org.ID, w.conv.ID, 1, "kek:1")
	return w
}

// apply makes every write in tx; the changes to the fixture are: Bob suspended, Carol removed from
// the conversation, a message in it (seq 1), Bob's delivered watermark raised, a login failure.
func (w *everyWrite) apply(ctx context.Context, tx wardline.Tx, f *Fixture) error {
	if err := tx.CreateOrg(ctx, w.org); err != nil {
		return err
	}
	if err := tx.CreateUser(ctx, w.user); err != nil {
		return err
	}
	bob := *f.Bob
	bob.Status = wardline.UserSuspended
	if err := tx.UpdateUser(ctx, &bob); err != nil {
		return err
	}
	if err := tx.CreateConversation(ctx, w.conv); err != nil {
		return err
	}
	if err := tx.RemoveMember(ctx, f.Conv.ID, f.Carol.ID); err != nil {
		return err
	}
	seq, err := tx.NextSeq(ctx, f.Conv.ID, at(50))
	if err != nil {
		return err
	}
	w.msg = NewMessage(f.Conv.ID, f.Alice.ID, seq, at(50))
	if err := tx.InsertMessage(ctx, w.msg); err != nil {
		return err
	}
	if _, err := tx.AdvanceWatermark(ctx, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, seq, at(51)); err != nil {
		return err
	}
	if err := tx.CreateSession(ctx, w.session); err != nil {
		return err
	}
	if err := tx.RecordLoginFailure(ctx, "email:x@example.nhs.uk", at(50)); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, w.event); err != nil {
		return err
	}
	return tx.InsertKey(ctx, w.key)
}

// check reports, through r, whether each write of w is visible (want true) or not (want false).
// It may run inside an Update's fn, on another goroutine, so it never stops the test (no Fatal).
func (w *everyWrite) check(t *testing.T, ctx context.Context, r wardline.Reader, f *Fixture, want bool) {
	t.Helper()
	found := func(what string, err error) {
		t.Helper()
		if err != nil && wardline.ErrorCode(err) != wardline.ENOTFOUND {
			t.Errorf("%s: %v", what, err)
			return
		}
		if got := err == nil; got != want {
			t.Errorf("%s visible: got %v, want %v", what, got, want)
		}
	}
	_, err := r.Org(ctx, w.org.ID)
	found("new organisation", err)
	_, err = r.User(ctx, w.user.ID)
	found("new user", err)
	_, err = r.Conversation(ctx, w.conv.ID)
	found("new conversation", err)
	_, err = r.MessageBySeq(ctx, f.Conv.ID, 1)
	found("new message", err)
	_, err = r.Session(ctx, w.session.ID)
	found("new session", err)

	check := func(what string, got bool) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	if bob, err := r.User(ctx, f.Bob.ID); err != nil {
		t.Errorf("User: %v", err)
	} else {
		check("Bob suspended", bob.Status == wardline.UserSuspended)
	}
	if isMember, err := r.IsMember(ctx, f.Conv.ID, f.Carol.ID); err != nil {
		t.Errorf("IsMember: %v", err)
	} else {
		check("Carol removed", !isMember)
	}
	if c, err := r.Conversation(ctx, f.Conv.ID); err != nil {
		t.Errorf("Conversation: %v", err)
	} else {
		check("seq reserved", c.LastSeq == 1)
	}
	if wm, err := r.Watermark(ctx, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered); err != nil {
		t.Errorf("Watermark: %v", err)
	} else {
		check("watermark raised", wm == 1)
	}
	if n, err := r.CountLoginFailures(ctx, "email:x@example.nhs.uk", at(0)); err != nil {
		t.Errorf("CountLoginFailures: %v", err)
	} else {
		check("login failure recorded", n == 1)
	}
	if events, err := r.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID}); err != nil {
		t.Errorf("AuditEvents: %v", err)
	} else {
		check("audit event appended", len(events) == 1)
	}
	if keys, err := r.Keys(ctx, w.conv.ID); err != nil {
		t.Errorf("Keys: %v", err)
	} else {
		check("key inserted", len(keys) == 1)
	}
}

func testTransactions(t *testing.T, open opener) {
	t.Run("FailedUpdateAppliesNothing", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		w := newEveryWrite(f)
		errAbandoned := errors.New("abandoned")
		err := s.Update(ctx, func(tx wardline.Tx) error {
			if err := w.apply(ctx, tx, f); err != nil {
				return err
			}
			return errAbandoned
		})
		if !errors.Is(err, errAbandoned) {
			t.Fatalf("Update: got %v, want the fn's error", err)
		}
		w.check(t, ctx, s, f, false)
	})

	// A store error that fn returns undoes what fn wrote before it.
	t.Run("StoreErrorAppliesNothing", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		w := newEveryWrite(f)
		err := s.Update(ctx, func(tx wardline.Tx) error {
			if err := w.apply(ctx, tx, f); err != nil {
				return err
			}
			dup := NewUser(f.Org.ID, "Alice Again")
			dup.Email = f.Alice.Email
			return tx.CreateUser(ctx, dup)
		})
		AssertCode(t, err, wardline.ECONFLICT)
		w.check(t, ctx, s, f, false)
	})

	t.Run("CommittedUpdateVisible", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		w := newEveryWrite(f)
		MustUpdate(t, s, func(tx wardline.Tx) error { return w.apply(ctx, tx, f) })
		w.check(t, ctx, s, f, true)
	})

	t.Run("ReadOwnWrites", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		w := newEveryWrite(f)
		MustUpdate(t, s, func(tx wardline.Tx) error {
			if err := w.apply(ctx, tx, f); err != nil {
				return err
			}
			w.check(t, ctx, tx, f, true)
			return nil
		})
	})

	// An Update's fn reads what earlier Updates committed.
	t.Run("LaterUpdateReadsEarlier", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 1, at(1))
		var seq int64
		MustUpdate(t, s, func(tx wardline.Tx) (err error) {
			seq, err = tx.NextSeq(ctx, f.Conv.ID, at(2))
			if err != nil {
				return err
			}
			_, err = tx.MessageBySeq(ctx, f.Conv.ID, 1)
			return err
		})
		if seq != 2 {
			t.Errorf("NextSeq after a committed message: got %d, want 2", seq)
		}
	})

	t.Run("AfterCommit", func(t *testing.T) { testAfterCommit(t, open) })
}

func testAfterCommit(t *testing.T, open opener) {
	// A hook runs once the Update's writes are durable and visible, and before Update returns.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		o := MustCreateOrg(t, s, "Northgate")
		u := NewUser(o.ID, "Alice Adeyemi")
		runs := 0
		var seenErr error
		MustUpdate(t, s, func(tx wardline.Tx) error {
			tx.AfterCommit(func() {
				runs++
				_, seenErr = s.User(context.Background(), u.ID)
			})
			return tx.CreateUser(ctx, u)
		})
		if runs != 1 {
			t.Fatalf("hook runs by the time Update returned: got %d, want 1", runs)
		}
		if seenErr != nil {
			t.Errorf("the hook's read of what the Update wrote: %v", seenErr)
		}
	})

	t.Run("NotAfterFailure", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		o := MustCreateOrg(t, s, "Northgate")
		ran := false
		errAbandoned := errors.New("abandoned")
		err := s.Update(ctx, func(tx wardline.Tx) error {
			tx.AfterCommit(func() { ran = true })
			if err := tx.CreateUser(ctx, NewUser(o.ID, "Alice Adeyemi")); err != nil {
				return err
			}
			return errAbandoned
		})
		if !errors.Is(err, errAbandoned) {
			t.Fatalf("Update: got %v, want the fn's error", err)
		}
		// A later Update's commit does not run it either.
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CreateUser(ctx, NewUser(o.ID, "Bob Byrne")) })
		if ran {
			t.Errorf("hook of a failed Update ran")
		}
	})

	// Hooks run one at a time, in the order their Updates committed: events published from them
	// leave a conversation in seq order. Failed Updates' hooks never run.
	t.Run("CommitOrder", func(t *testing.T) {
		t.Parallel()
		const senders, each = 8, 10
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		errFail := errors.New("fail on purpose")

		var (
			mu      sync.Mutex
			order   []int64
			running atomic.Int32
			overlap atomic.Bool
		)
		var wg sync.WaitGroup
		for g := range senders {
			wg.Go(func() {
				for i := range each {
					fail := (g+i)%4 == 3
					var seq int64
					ran := false
					err := s.Update(ctx, func(tx wardline.Tx) (err error) {
						ran = false
						if seq, err = tx.NextSeq(ctx, f.Conv.ID, at(i)); err != nil {
							return err
						}
						if err := tx.InsertMessage(ctx, NewMessage(f.Conv.ID, f.Bob.ID, seq, at(i))); err != nil {
							return err
						}
						tx.AfterCommit(func() {
							if running.Add(1) > 1 {
								overlap.Store(true)
							}
							defer running.Add(-1)
							mu.Lock()
							order = append(order, seq)
							mu.Unlock()
							ran = true
						})
						if fail {
							return errFail
						}
						return nil
					})
					switch {
					case fail && !errors.Is(err, errFail):
						t.Errorf("failing Update: got %v, want its fn's error", err)
					case !fail && err != nil:
						t.Errorf("Update: %v", err)
					case !fail && !ran:
						t.Errorf("Update of seq %d returned before its hook ran", seq)
					}
				}
			})
		}
		wg.Wait()

		mu.Lock()
		defer mu.Unlock()
		committed, _, err := s.Messages(ctx, f.Conv.ID, wardline.HistoryQuery{Forward: true, Limit: senders * each})
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		if want := seqs(committed); !slices.Equal(order, want) {
			t.Errorf("hooks ran for seqs %v, want %v: each committed one, in commit order", order, want)
		}
		if overlap.Load() {
			t.Errorf("hooks ran at the same time, want one at a time")
		}
	})
}
