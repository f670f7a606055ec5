package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"wardline"
)

func mustMessage(t *testing.T, s wardline.Store, convID, id string) *wardline.Message {
	t.Helper()
	m, err := s.Message(t.Context(), convID, id)
	if err != nil {
		t.Fatalf("Message: %v", err)
	}
	return m
}

func mustInsertMessages(t *testing.T, s wardline.Store, msgs ...*wardline.Message) {
	t.Helper()
	MustUpdate(t, s, func(tx wardline.Tx) error {
		for _, m := range msgs {
			if err := tx.InsertMessage(t.Context(), m); err != nil {
				return err
			}
		}
		return nil
	})
}

func nextSeq(t *testing.T, s wardline.Store, convID string, when time.Time) int64 {
	t.Helper()
	var seq int64
	MustUpdate(t, s, func(tx wardline.Tx) (err error) {
		seq, err = tx.NextSeq(t.Context(), convID, when)
		return err
	})
	return seq
}

func testSequences(t *testing.T, open opener) {
	t.Run("NextSeq", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			var got []int64
			got = append(got, nextSeq(t, s, f.Conv.ID, at(10)))
			MustUpdate(t, s, func(tx wardline.Tx) error {
				for i := range 2 {
					seq, err := tx.NextSeq(ctx, f.Conv.ID, at(20+i))
					if err != nil {
						return err
					}
					got = append(got, seq)
				}
				return nil
			})
			if want := []int64{1, 2, 3}; !slices.Equal(got, want) {
				t.Errorf("NextSeq: got %v, want %v", got, want)
			}
			c := mustConversation(t, s, f.Conv.ID)
			if c.LastSeq != 3 {
				t.Errorf("LastSeq: got %d, want 3", c.LastSeq)
			}
			if !c.LastActivityAt.Equal(at(21)) {
				t.Errorf("LastActivityAt: got %v, want %v", c.LastActivityAt, at(21))
			}
		})
		// Activity only moves forward: a send stamped by a slower clock does not push the
		// conversation down the list.
		t.Run("ActivityOnlyForward", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			nextSeq(t, s, f.Conv.ID, at(20))
			if got := nextSeq(t, s, f.Conv.ID, at(10)); got != 2 {
				t.Errorf("NextSeq: got %d, want 2", got)
			}
			if got := mustConversation(t, s, f.Conv.ID).LastActivityAt; !got.Equal(at(20)) {
				t.Errorf("LastActivityAt: got %v, want %v", got, at(20))
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			MustCreateFixture(t, s)
			err := s.Update(ctx, func(tx wardline.Tx) error {
				_, err := tx.NextSeq(ctx, wardline.NewID(), at(10))
				return err
			})
			AssertCode(t, err, wardline.ENOTFOUND)
		})
		t.Run("RollbackLeavesNoGap", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 2, at(10))

			errAbandoned := errors.New("abandoned")
			var rolledBack int64
			err := s.Update(ctx, func(tx wardline.Tx) error {
				seq, err := tx.NextSeq(ctx, f.Conv.ID, at(100))
				if err != nil {
					return err
				}
				rolledBack = seq
				if err := tx.InsertMessage(ctx, NewMessage(f.Conv.ID, f.Bob.ID, seq, at(100))); err != nil {
					return err
				}
				return errAbandoned
			})
			if !errors.Is(err, errAbandoned) {
				t.Fatalf("Update: got %v, want the fn's error", err)
			}
			if rolledBack != 3 {
				t.Errorf("NextSeq in the rolled-back Update: got %d, want 3", rolledBack)
			}
			c := mustConversation(t, s, f.Conv.ID)
			if c.LastSeq != 2 || !c.LastActivityAt.Equal(at(11)) {
				t.Errorf("after rollback: LastSeq %d, LastActivityAt %v; want 2, %v", c.LastSeq, c.LastActivityAt, at(11))
			}
			if _, err := s.MessageBySeq(ctx, f.Conv.ID, 3); wardline.ErrorCode(err) != wardline.ENOTFOUND {
				t.Errorf("MessageBySeq(3) after rollback: got %v, want not found", err)
			}
			if got := MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 1, at(200)); got[0].Seq != 3 {
				t.Errorf("next committed seq: got %d, want 3", got[0].Seq)
			}
		})
		t.Run("Independent", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Bob.ID, f.Carol.ID)
			MustCreateConversations(t, s, other)
			var got []int64
			MustUpdate(t, s, func(tx wardline.Tx) error {
				for _, c := range []string{f.Conv.ID, other.ID, other.ID, f.Conv.ID, other.ID} {
					seq, err := tx.NextSeq(ctx, c, at(1))
					if err != nil {
						return err
					}
					got = append(got, seq)
				}
				return nil
			})
			if want := []int64{1, 1, 2, 2, 3}; !slices.Equal(got, want) {
				t.Errorf("NextSeq in turn: got %v, want %v", got, want)
			}
		})
	})
}

// everyByte is a sealed body holding every byte value, NUL and invalid UTF-8 included.
func everyByte() []byte {
	b := make([]byte, 0, 512)
	for i := range 512 {
		b = append(b, byte(255-i%256))
	}
	return b
}

func testMessages(t *testing.T, open opener) {
	t.Run("InsertMessage", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			m := NewMessage(f.Conv.ID, f.Bob.ID, 1, at(30))
			m.Priority, m.RequiresAck, m.BodySealed = wardline.PriorityEmergency, true, everyByte()
			mustInsertMessages(t, s, m, NewMessage(f.Conv.ID, f.Alice.ID, 2, at(31)))

			AssertSame(t, "Message", mustMessage(t, s, f.Conv.ID, m.ID), m)
			got, err := s.MessageByClientID(ctx, f.Conv.ID, f.Bob.ID, m.ClientID)
			if err != nil {
				t.Fatalf("MessageByClientID: %v", err)
			}
			AssertSame(t, "MessageByClientID", got, m)
			got, err = s.MessageBySeq(ctx, f.Conv.ID, 1)
			if err != nil {
				t.Fatalf("MessageBySeq: %v", err)
			}
			AssertSame(t, "MessageBySeq", got, m)
		})
		// Sealed bodies are opaque: the store keeps exactly the bytes it was given, however large.
		t.Run("SealedBytes", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			large := bytes.Repeat(everyByte(), 80) // 40 KiB, more than the sealed 8,000 characters
			var msgs []*wardline.Message
			for i, body := range [][]byte{{0}, {0xff, 0xfe, 0x00, 0x80}, everyByte(), large} {
				m := NewMessage(f.Conv.ID, f.Bob.ID, int64(i+1), at(i))
				m.BodySealed = body
				msgs = append(msgs, m)
			}
			mustInsertMessages(t, s, msgs...)
			for _, m := range msgs {
				if got := mustMessage(t, s, f.Conv.ID, m.ID).BodySealed; !bytes.Equal(got, m.BodySealed) {
					t.Errorf("BodySealed of seq %d: got %d bytes, want the %d bytes stored", m.Seq, len(got), len(m.BodySealed))
				}
			}
		})
		t.Run("ErrDuplicateClientID", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
			MustCreateConversations(t, s, other)
			first := NewMessage(f.Conv.ID, f.Bob.ID, 1, at(1))
			mustInsertMessages(t, s, first)

			dup := NewMessage(f.Conv.ID, f.Bob.ID, 2, at(2))
			dup.ClientID = first.ClientID
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.InsertMessage(ctx, dup) })
			AssertCode(t, err, wardline.ECONFLICT)

			// The same client id from another sender, or in another conversation, is another message.
			fromAlice, elsewhere := NewMessage(f.Conv.ID, f.Alice.ID, 2, at(2)), NewMessage(other.ID, f.Bob.ID, 1, at(2))
			fromAlice.ClientID, elsewhere.ClientID = first.ClientID, first.ClientID
			mustInsertMessages(t, s, fromAlice, elsewhere)
			if got, err := s.MessageByClientID(ctx, f.Conv.ID, f.Bob.ID, first.ClientID); err != nil || got.ID != first.ID {
				t.Errorf("MessageByClientID: got %v, %v, want the first message", got, err)
			}
		})
		t.Run("ErrDuplicateSeq", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			first := NewMessage(f.Conv.ID, f.Bob.ID, 1, at(1))
			mustInsertMessages(t, s, first)
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.InsertMessage(ctx, NewMessage(f.Conv.ID, f.Alice.ID, 1, at(2))) })
			AssertCode(t, err, wardline.ECONFLICT)
			if got, err := s.MessageBySeq(ctx, f.Conv.ID, 1); err != nil || got.ID != first.ID {
				t.Errorf("MessageBySeq(1): got %v, %v, want the first message", got, err)
			}
		})
	})

	t.Run("AppendMessage", func(t *testing.T) {
		appendMsg := func(s wardline.Store, m *wardline.Message, when time.Time) (members []string, err error) {
			err = s.Update(context.Background(), func(tx wardline.Tx) (err error) {
				members, err = tx.AppendMessage(context.Background(), m, when)
				return err
			})
			return members, err
		}
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			wantMembers := []string{f.Alice.ID, f.Bob.ID, f.Carol.ID}
			slices.Sort(wantMembers)
			for i, sender := range []*wardline.User{f.Bob, f.Alice, f.Bob} {
				m := NewMessage(f.Conv.ID, sender.ID, 0, at(10+i))
				m.Priority, m.RequiresAck, m.BodySealed = wardline.PriorityUrgent, i == 1, everyByte()
				members, err := appendMsg(s, m, at(10+i))
				if err != nil {
					t.Fatalf("AppendMessage %d: %v", i, err)
				}
				if m.Seq != int64(i+1) {
					t.Errorf("AppendMessage %d: seq %d, want %d", i, m.Seq, i+1)
				}
				if !slices.Equal(members, wantMembers) {
					t.Errorf("AppendMessage %d: members %v, want %v", i, members, wantMembers)
				}
				AssertSame(t, "Message", mustMessage(t, s, f.Conv.ID, m.ID), m)
			}
			if c := mustConversation(t, s, f.Conv.ID); c.LastSeq != 3 || !c.LastActivityAt.Equal(at(12)) {
				t.Errorf("conversation after 3: last seq %d, activity %v; want 3, %v", c.LastSeq, c.LastActivityAt, at(12))
			}
		})
		// A sender who is not a member (or no longer one), or a conversation that does not
		// exist: not found, and nothing written.
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
			MustCreateConversations(t, s, other)
			m := NewMessage(other.ID, f.Carol.ID, 0, at(10))
			_, err := appendMsg(s, m, at(10))
			AssertCode(t, err, wardline.ENOTFOUND)
			_, err = appendMsg(s, NewMessage(wardline.NewID(), f.Carol.ID, 0, at(10)), at(10))
			AssertCode(t, err, wardline.ENOTFOUND)
			if got := mustConversation(t, s, other.ID).LastSeq; got != 0 {
				t.Errorf("last seq after a refused message: %d, want 0", got)
			}
			if _, err := s.Message(t.Context(), other.ID, m.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
				t.Errorf("Message after a refused append: got %v, want not found", err)
			}
		})
		// The same client id again: a conflict, and the write is undone with its seq.
		t.Run("ErrDuplicateClientID", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			first := NewMessage(f.Conv.ID, f.Bob.ID, 0, at(1))
			if _, err := appendMsg(s, first, at(1)); err != nil {
				t.Fatal(err)
			}
			dup := NewMessage(f.Conv.ID, f.Bob.ID, 0, at(2))
			dup.ClientID = first.ClientID
			_, err := appendMsg(s, dup, at(2))
			AssertCode(t, err, wardline.ECONFLICT)
			if got := mustConversation(t, s, f.Conv.ID).LastSeq; got != 1 {
				t.Errorf("last seq after a duplicate: %d, want 1", got)
			}
			next := NewMessage(f.Conv.ID, f.Bob.ID, 0, at(3))
			if _, err := appendMsg(s, next, at(3)); err != nil || next.Seq != 2 {
				t.Errorf("AppendMessage after a duplicate: seq %d, %v; want 2", next.Seq, err)
			}
		})
	})

	t.Run("Message", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
			MustCreateConversations(t, s, other)
			m := MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 1, at(1))[0]

			_, err := s.Message(ctx, f.Conv.ID, wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
			// A message is found only through its own conversation (DESIGN.md rule 1).
			_, err = s.Message(ctx, other.ID, m.ID)
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("MessageByClientID", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			m := MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 1, at(1))[0]
			_, err := s.MessageByClientID(ctx, f.Conv.ID, f.Alice.ID, m.ClientID)
			AssertCode(t, err, wardline.ENOTFOUND)
			_, err = s.MessageByClientID(ctx, f.Conv.ID, f.Bob.ID, wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("MessageBySeq", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 2, at(1))
			for _, seq := range []int64{0, 3, -1} {
				_, err := s.MessageBySeq(ctx, f.Conv.ID, seq)
				AssertCode(t, err, wardline.ENOTFOUND)
			}
		})
	})

	t.Run("ReviseMessage", func(t *testing.T) {
		// revise writes m's next state (an edit, or a deletion when body is nil) at the given time.
		revise := func(ctx context.Context, s wardline.Store, m *wardline.Message, body []byte, when time.Time) (*wardline.Message, *wardline.MessageVersion, error) {
			prev := &wardline.MessageVersion{MessageID: m.ID, Version: m.Version, BodySealed: m.BodySealed, At: m.CreatedAt, Deleted: m.Deleted}
			if m.EditedAt != nil {
				prev.At = *m.EditedAt
			}
			next := *m
			next.Version++
			next.EditedAt = &when
			next.BodySealed, next.Deleted = body, body == nil
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.ReviseMessage(ctx, &next, prev) })
			return &next, prev, err
		}
		versions := func(t *testing.T, s wardline.Store, id string) []*wardline.MessageVersion {
			t.Helper()
			v, err := s.MessageVersions(t.Context(), id)
			if err != nil {
				t.Fatalf("MessageVersions: %v", err)
			}
			return v
		}

		t.Run("EditThenDelete", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			msgs := MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 2, at(1))
			m, untouched := msgs[0], msgs[1]
			if got := versions(t, s, m.ID); len(got) != 0 {
				t.Errorf("MessageVersions before any edit: got %d, want none", len(got))
			}

			edited, v1, err := revise(ctx, s, m, []byte("sealed body, edited"), at(60))
			if err != nil {
				t.Fatalf("ReviseMessage(edit): %v", err)
			}
			AssertSame(t, "edited Message", mustMessage(t, s, f.Conv.ID, m.ID), edited)
			AssertSame(t, "MessageVersions after the edit", versions(t, s, m.ID), []*wardline.MessageVersion{v1})

			deleted, v2, err := revise(ctx, s, edited, nil, at(120))
			if err != nil {
				t.Fatalf("ReviseMessage(delete): %v", err)
			}
			got := mustMessage(t, s, f.Conv.ID, m.ID)
			AssertSame(t, "deleted Message", got, deleted)
			if !got.Deleted || got.Version != 3 || got.EditedAt == nil || !got.EditedAt.Equal(at(120)) {
				t.Errorf("deleted Message: Deleted %v, Version %d, EditedAt %v; want true, 3, %v", got.Deleted, got.Version, got.EditedAt, at(120))
			}
			// Nothing the message ever said is lost.
			AssertSame(t, "MessageVersions after the deletion", versions(t, s, m.ID), []*wardline.MessageVersion{v1, v2})
			AssertSame(t, "other Message", mustMessage(t, s, f.Conv.ID, untouched.ID), untouched)
		})
		t.Run("ErrStaleVersion", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			m := MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 1, at(1))[0]
			edited, v1, err := revise(ctx, s, m, []byte("first edit"), at(60))
			if err != nil {
				t.Fatalf("ReviseMessage: %v", err)
			}
			// A second edit made from the original, as by a request that read it before the first
			// edit committed.
			_, _, err = revise(ctx, s, m, []byte("racing edit"), at(61))
			AssertCode(t, err, wardline.ECONFLICT)
			AssertSame(t, "Message", mustMessage(t, s, f.Conv.ID, m.ID), edited)
			AssertSame(t, "MessageVersions", versions(t, s, m.ID), []*wardline.MessageVersion{v1})
		})
	})
}

func testHistory(t *testing.T, open opener) {
	t.Parallel()
	s, ctx := open(t), t.Context()
	f := MustCreateFixture(t, s)
	other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
	empty := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
	MustCreateConversations(t, s, other, empty)
	MustSendMessages(t, s, other.ID, f.Alice.ID, 3, at(0)) // interleaved with nothing: only ids differ
	MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 10, at(0))

	for _, tt := range []struct {
		name     string
		conv     string
		q        wardline.HistoryQuery
		want     []int64
		wantMore bool
	}{
		{"Latest", f.Conv.ID, wardline.HistoryQuery{Limit: 4}, span(7, 10), true},
		{"LatestAll", f.Conv.ID, wardline.HistoryQuery{Limit: 10}, span(1, 10), false},
		{"LatestMoreThanAll", f.Conv.ID, wardline.HistoryQuery{Limit: 50}, span(1, 10), false},
		{"LatestOne", f.Conv.ID, wardline.HistoryQuery{Limit: 1}, span(10, 10), true},
		{"LatestEmpty", empty.ID, wardline.HistoryQuery{Limit: 4}, nil, false},
		{"ForwardFromStart", f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 0, Limit: 4}, span(1, 4), true},
		{"ForwardFromStartAll", f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 0, Limit: 50}, span(1, 10), false},
		{"Forward", f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 4, Limit: 4}, span(5, 8), true},
		{"ForwardToEnd", f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 6, Limit: 4}, span(7, 10), false},
		{"ForwardPastEnd", f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 8, Limit: 4}, span(9, 10), false},
		{"ForwardAtEnd", f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 10, Limit: 4}, nil, false},
		{"ForwardEmpty", empty.ID, wardline.HistoryQuery{Forward: true, Limit: 4}, nil, false},
		{"Backward", f.Conv.ID, wardline.HistoryQuery{BeforeSeq: 7, Limit: 4}, span(3, 6), true},
		{"BackwardFromEnd", f.Conv.ID, wardline.HistoryQuery{BeforeSeq: 11, Limit: 4}, span(7, 10), true},
		{"BackwardToStart", f.Conv.ID, wardline.HistoryQuery{BeforeSeq: 5, Limit: 4}, span(1, 4), false},
		{"BackwardPastStart", f.Conv.ID, wardline.HistoryQuery{BeforeSeq: 3, Limit: 4}, span(1, 2), false},
		{"BackwardAtStart", f.Conv.ID, wardline.HistoryQuery{BeforeSeq: 1, Limit: 4}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := s.Messages(ctx, tt.conv, tt.q)
			if err != nil {
				t.Fatalf("Messages(%+v): %v", tt.q, err)
			}
			if !slices.Equal(seqs(got), tt.want) || more != tt.wantMore {
				t.Errorf("Messages(%+v): got seqs %v, more %v; want %v, %v", tt.q, seqs(got), more, tt.want, tt.wantMore)
			}
			for _, m := range got {
				if m.ConversationID != tt.conv {
					t.Errorf("Messages: got seq %d of conversation %s", m.Seq, m.ConversationID)
				}
			}
		})
	}

	t.Run("WalkForward", func(t *testing.T) {
		var all []int64
		q := wardline.HistoryQuery{Forward: true, Limit: 3}
		for range 10 {
			page, more, err := s.Messages(ctx, f.Conv.ID, q)
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			all = append(all, seqs(page)...)
			if !more {
				break
			}
			q.AfterSeq = page[len(page)-1].Seq
		}
		if want := span(1, 10); !slices.Equal(all, want) {
			t.Errorf("walking forward: got %v, want %v", all, want)
		}
	})
	t.Run("WalkBackward", func(t *testing.T) {
		var all []int64
		q := wardline.HistoryQuery{Limit: 3}
		for range 10 {
			page, more, err := s.Messages(ctx, f.Conv.ID, q)
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			all = append(seqs(page), all...)
			if !more {
				break
			}
			q.BeforeSeq = page[0].Seq
		}
		if want := span(1, 10); !slices.Equal(all, want) {
			t.Errorf("walking backward: got %v, want %v", all, want)
		}
	})
	t.Run("Fields", func(t *testing.T) {
		got, _, err := s.Messages(ctx, f.Conv.ID, wardline.HistoryQuery{Forward: true, AfterSeq: 2, Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("Messages: got %d, %v, want 1", len(got), err)
		}
		want := mustMessage(t, s, f.Conv.ID, got[0].ID)
		AssertSame(t, "Message", got[0], want)
		if !bytes.Equal(got[0].BodySealed, []byte(fmt.Sprintf("sealed body %d", 3))) {
			t.Errorf("BodySealed: got %q, want %q", got[0].BodySealed, "sealed body 3")
		}
	})
}
