package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"wardline"
)

func advance(t *testing.T, s wardline.Store, convID, userID, kind string, seq int64, when time.Time) bool {
	t.Helper()
	var rose bool
	MustUpdate(t, s, func(tx wardline.Tx) (err error) {
		rose, err = tx.AdvanceWatermark(t.Context(), convID, userID, kind, seq, when)
		return err
	})
	return rose
}

func ack(t *testing.T, s wardline.Store, convID, msgID, userID string, when time.Time) bool {
	t.Helper()
	var isNew bool
	MustUpdate(t, s, func(tx wardline.Tx) (err error) {
		isNew, err = tx.InsertAck(t.Context(), convID, msgID, userID, when)
		return err
	})
	return isNew
}

func watermark(t *testing.T, s wardline.Store, convID, userID, kind string) int64 {
	t.Helper()
	seq, err := s.Watermark(t.Context(), convID, userID, kind)
	if err != nil {
		t.Fatalf("Watermark(%s): %v", kind, err)
	}
	return seq
}

// receipts returns the receipts of the message for the given users, by user id.
func receipts(t *testing.T, s wardline.Store, m *wardline.Message, users ...*wardline.User) map[string]*wardline.MessageReceipt {
	t.Helper()
	userIDs := ids(users, userID)
	got, err := s.Receipts(t.Context(), m.ConversationID, m.ID, m.Seq, userIDs)
	if err != nil {
		t.Fatalf("Receipts: %v", err)
	}
	if len(got) != len(users) {
		t.Errorf("Receipts for %d users: got %d items, want one each", len(users), len(got))
	}
	byUser := map[string]*wardline.MessageReceipt{}
	for _, r := range got {
		if byUser[r.UserID] != nil {
			t.Errorf("Receipts: user %s twice", r.UserID)
		}
		byUser[r.UserID] = r
	}
	for _, id := range userIDs {
		if byUser[id] == nil {
			t.Errorf("Receipts: no item for user %s", id)
			byUser[id] = &wardline.MessageReceipt{UserID: id}
		}
	}
	return byUser
}

func testReceipts(t *testing.T, open opener) {
	t.Run("AdvanceWatermark", func(t *testing.T) {
		t.Run("OnlyRises", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 6, at(0))
			for _, step := range []struct {
				seq  int64
				want bool
			}{{3, true}, {3, false}, {2, false}, {5, true}, {0, false}, {6, true}} {
				if got := advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, step.seq, at(10)); got != step.want {
					t.Errorf("AdvanceWatermark(delivered, %d): got %v, want %v", step.seq, got, step.want)
				}
			}
			if got := watermark(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered); got != 6 {
				t.Errorf("Watermark(delivered): got %d, want 6", got)
			}
		})
		t.Run("PerKind", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 6, at(0))
			if got := watermark(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptRead); got != 0 {
				t.Errorf("Watermark(read) before any: got %d, want 0", got)
			}
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, 5, at(10))
			if got := advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptRead, 2, at(20)); !got {
				t.Errorf("AdvanceWatermark(read, 2) under delivered 5: got false, want true")
			}
			for _, tt := range []struct {
				user *wardline.User
				kind string
				want int64
			}{
				{f.Bob, wardline.ReceiptDelivered, 5},
				{f.Bob, wardline.ReceiptRead, 2},
				{f.Carol, wardline.ReceiptDelivered, 0},
				{f.Carol, wardline.ReceiptRead, 0},
			} {
				if got := watermark(t, s, f.Conv.ID, tt.user.ID, tt.kind); got != tt.want {
					t.Errorf("Watermark(%s, %s): got %d, want %d", tt.user.DisplayName, tt.kind, got, tt.want)
				}
			}
		})
		t.Run("Many", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
			MustCreateConversations(t, s, other)
			MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 6, at(0))
			MustSendMessages(t, s, other.ID, f.Alice.ID, 4, at(0))
			advance(t, s, f.Conv.ID, f.Carol.ID, wardline.ReceiptDelivered, 5, at(10))

			targets := []wardline.WatermarkTarget{
				{ConversationID: other.ID, UserID: f.Bob.ID, Seq: 4},           // rises
				{ConversationID: f.Conv.ID, UserID: f.Carol.ID, Seq: 3},        // already at 5
				{ConversationID: other.ID, UserID: f.Carol.ID, Seq: 2},         // not a member
				{ConversationID: f.Conv.ID, UserID: f.Bob.ID, Seq: 6},          // rises
				{ConversationID: f.Conv.ID, UserID: f.Alice.ID, Seq: 0},        // not a rise
				{ConversationID: wardline.NewID(), UserID: f.Alice.ID, Seq: 1}, // no such conversation
			}
			var rose []bool
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				rose, err = tx.AdvanceWatermarks(t.Context(), wardline.ReceiptDelivered, targets, at(20))
				return err
			})
			if want := []bool{true, false, false, true, false, false}; !slices.Equal(rose, want) {
				t.Errorf("AdvanceWatermarks: got %v, want %v", rose, want)
			}
			for _, tt := range []struct {
				conv *wardline.Conversation
				user *wardline.User
				kind string
				want int64
			}{
				{other, f.Bob, wardline.ReceiptDelivered, 4},
				{f.Conv, f.Bob, wardline.ReceiptDelivered, 6},
				{f.Conv, f.Carol, wardline.ReceiptDelivered, 5},
				{f.Conv, f.Alice, wardline.ReceiptDelivered, 0},
				{f.Conv, f.Bob, wardline.ReceiptRead, 0},
			} {
				if got := watermark(t, s, tt.conv.ID, tt.user.ID, tt.kind); got != tt.want {
					t.Errorf("Watermark(%s, %s): got %d, want %d", tt.user.DisplayName, tt.kind, got, tt.want)
				}
			}
			// Each rise is in the watermark history, with its time; nothing else is.
			for _, c := range []struct {
				conv *wardline.Conversation
				want []string
			}{
				{f.Conv, []string{f.Carol.ID + " delivered 5 10", f.Bob.ID + " delivered 6 20"}},
				{other, []string{f.Bob.ID + " delivered 4 20"}},
			} {
				wm, err := s.WatermarkAdvances(t.Context(), c.conv.ID)
				if err != nil {
					t.Fatalf("WatermarkAdvances: %v", err)
				}
				var got []string
				for _, w := range wm {
					got = append(got, fmt.Sprintf("%s %s %d %d", w.UserID, w.Kind, w.Seq, int(w.At.Sub(T0)/time.Second)))
				}
				slices.Sort(got)
				slices.Sort(c.want)
				if !slices.Equal(got, c.want) {
					t.Errorf("WatermarkAdvances: got %q, want %q", got, c.want)
				}
			}

			// Read is a watermark of its own, and an empty list answers an empty list.
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				rose, err = tx.AdvanceWatermarks(t.Context(), wardline.ReceiptRead, targets[3:4], at(30))
				return err
			})
			if !slices.Equal(rose, []bool{true}) {
				t.Errorf("AdvanceWatermarks(read): got %v, want [true]", rose)
			}
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				rose, err = tx.AdvanceWatermarks(t.Context(), wardline.ReceiptRead, nil, at(30))
				return err
			})
			if rose == nil || len(rose) != 0 {
				t.Errorf("AdvanceWatermarks(none): got %#v, want an empty list", rose)
			}

			// A member named twice is refused, and nothing changes.
			err := s.Update(t.Context(), func(tx wardline.Tx) error {
				_, err := tx.AdvanceWatermarks(t.Context(), wardline.ReceiptDelivered, []wardline.WatermarkTarget{
					{ConversationID: f.Conv.ID, UserID: f.Alice.ID, Seq: 2},
					{ConversationID: f.Conv.ID, UserID: f.Alice.ID, Seq: 3},
				}, at(40))
				return err
			})
			if wardline.ErrorCode(err) != wardline.EINVALID {
				t.Errorf("AdvanceWatermarks with a member twice: got %v, want %s", err, wardline.EINVALID)
			}
			if got := watermark(t, s, f.Conv.ID, f.Alice.ID, wardline.ReceiptDelivered); got != 0 {
				t.Errorf("Watermark after a refused list: got %d, want 0", got)
			}
		})
		t.Run("PerConversation", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			other := NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID)
			MustCreateConversations(t, s, other)
			MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 3, at(0))
			MustSendMessages(t, s, other.ID, f.Alice.ID, 3, at(0))
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptRead, 3, at(10))
			if got := watermark(t, s, other.ID, f.Bob.ID, wardline.ReceiptRead); got != 0 {
				t.Errorf("Watermark(read) in another conversation: got %d, want 0", got)
			}
		})
	})

	t.Run("Receipts", func(t *testing.T) {
		t.Run("FirstCovered", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			msgs := MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 6, at(0))
			t1, t2, t3 := at(100), at(200), at(300)
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, 2, t1)
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, 5, t2)
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptRead, 1, t3)
			// A watermark that did not rise records nothing.
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, 4, at(400))

			// Message 3 was first covered when the watermark went from 2 to 5, message 1 when it
			// went to 2; message 6 never was. Carol has received nothing.
			for _, tt := range []struct {
				seq               int64
				delivered, readAt *time.Time
			}{
				{seq: 1, delivered: &t1, readAt: &t3},
				{seq: 2, delivered: &t1},
				{seq: 3, delivered: &t2},
				{seq: 5, delivered: &t2},
				{seq: 6},
			} {
				r := receipts(t, s, msgs[tt.seq-1], f.Bob, f.Carol)
				AssertSame(t, "Receipt", r[f.Bob.ID], &wardline.MessageReceipt{UserID: f.Bob.ID, DeliveredAt: tt.delivered, ReadAt: tt.readAt})
				AssertSame(t, "Receipt", r[f.Carol.ID], &wardline.MessageReceipt{UserID: f.Carol.ID})
			}
		})
		t.Run("Acks", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			msgs := MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 3, at(0))
			m := msgs[2]
			if got := ack(t, s, f.Conv.ID, m.ID, f.Carol.ID, at(50)); !got {
				t.Errorf("InsertAck: got false, want true the first time")
			}
			if got := ack(t, s, f.Conv.ID, m.ID, f.Carol.ID, at(60)); got {
				t.Errorf("InsertAck again: got true, want false")
			}
			ack(t, s, f.Conv.ID, msgs[1].ID, f.Bob.ID, at(70)) // another message's ack

			r := receipts(t, s, m, f.Bob, f.Carol)
			want50 := at(50)
			AssertSame(t, "Receipt", r[f.Carol.ID], &wardline.MessageReceipt{UserID: f.Carol.ID, AckedAt: &want50})
			AssertSame(t, "Receipt", r[f.Bob.ID], &wardline.MessageReceipt{UserID: f.Bob.ID})
		})
		t.Run("OnlyUsersAsked", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			m := MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 1, at(0))[0]
			advance(t, s, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, 1, at(10))
			advance(t, s, f.Conv.ID, f.Carol.ID, wardline.ReceiptDelivered, 1, at(20))
			ack(t, s, f.Conv.ID, m.ID, f.Bob.ID, at(30))

			r := receipts(t, s, m, f.Carol)
			want := at(20)
			AssertSame(t, "Receipt", r[f.Carol.ID], &wardline.MessageReceipt{UserID: f.Carol.ID, DeliveredAt: &want})
			if got, err := s.Receipts(ctx, f.Conv.ID, m.ID, m.Seq, nil); err != nil || len(got) != 0 {
				t.Errorf("Receipts for no users: got %d items, %v, want none", len(got), err)
			}
		})
	})
}
