package app_test

import (
	"context"
	"testing"

	"wardline"
	"wardline/app"
)

func TestDeliveredWatermarksAreBatched(t *testing.T) {
	e := MustOpenEnv(t)
	a, _ := e.MustCreateUser(t, "A")
	b, _ := e.MustCreateUser(t, "B")
	c := e.MustGroup(t, a, b)
	var last *wardline.Message
	for i := 0; i < 5; i++ {
		last = e.MustSend(t, a, c.ID, "m")
	}
	var receipts []*wardline.Receipt
	unsub := e.Bus.Subscribe(func(ev *wardline.Event) {
		if ev.Type == wardline.EventReceipts {
			receipts = append(receipts, ev.Receipts...)
		}
	})
	defer unsub()
	for seq := int64(1); seq <= 5; seq++ {
		e.App.Deliveries.Delivered(c.ID, b.ID, seq, "id", c.MemberIDs())
	}
	e.App.Deliveries.Flush(context.Background())
	if len(receipts) != 1 || receipts[0].Seq != 5 || receipts[0].Kind != wardline.ReceiptDelivered {
		t.Fatalf("receipts: %+v", receipts)
	}
	got, err := e.App.Messages.Receipts(As(a), c.ID, last.ID)
	if err != nil || len(got) != 1 || got[0].DeliveredAt == nil || got[0].ReadAt != nil {
		t.Fatalf("receipts of the last message: %+v %v", got, err)
	}
	// Lower seqs later change nothing.
	e.App.Deliveries.Delivered(c.ID, b.ID, 3, "id", c.MemberIDs())
	e.App.Deliveries.Flush(context.Background())
	if len(receipts) != 1 {
		t.Fatalf("a lower watermark was announced: %+v", receipts)
	}
}

func TestEditKeepsEveryVersionSealed(t *testing.T) {
	e := MustOpenEnv(t)
	a, _ := e.MustCreateUser(t, "A")
	c := e.MustGroup(t, a)
	m := e.MustSend(t, a, c.ID, "first")
	if _, err := e.App.Messages.Edit(As(a), c.ID, m.ID, "second"); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Messages.Delete(As(a), c.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	versions, err := e.Store.MessageVersions(context.Background(), m.ID)
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions: %d %v", len(versions), err)
	}
	for i, want := range []string{"first", "second"} {
		v := versions[i]
		if string(v.BodySealed) == want {
			t.Fatalf("version %d stored in clear", v.Version)
		}
		got, err := e.Keys.Open(context.Background(), c.ID, wardline.AAD("messages", m.ID+"/"+string(rune('0'+v.Version)), "body"), v.BodySealed)
		if err != nil || string(got) != want {
			t.Fatalf("version %d: %q %v, want %q", v.Version, got, err, want)
		}
	}
	// A sealed version moved onto another version's place fails to open.
	if _, err := e.Keys.Open(context.Background(), c.ID, wardline.AAD("messages", m.ID+"/2", "body"), versions[0].BodySealed); err == nil {
		t.Fatal("version 1's ciphertext opened as version 2")
	}
}

func TestReplayIsAuditedOnceAndLimited(t *testing.T) {
	e := MustOpenEnv(t)
	a, _ := e.MustCreateUser(t, "A")
	b, _ := e.MustCreateUser(t, "B")
	c1, c2 := e.MustGroup(t, a, b), e.MustGroup(t, a, b)
	for i := 0; i < 7; i++ {
		e.MustSend(t, a, c1.ID, "x")
	}
	e.MustSend(t, a, c2.ID, "y")
	before, _ := e.Store.AuditEvents(context.Background(), wardline.AuditFilter{OrgID: e.Org.ID, Action: wardline.ActionResumeReplayed, Limit: 100})
	var pages []*app.ReplayPage
	if err := e.App.Messages.Replay(As(b), map[string]int64{c1.ID: 2}, func(p *app.ReplayPage) error {
		pages = append(pages, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("pages: %d", len(pages))
	}
	for _, p := range pages {
		if p.ConversationID == c1.ID && (len(p.Messages) != 5 || p.Messages[0].Seq != 3) {
			t.Fatalf("c1 page: %d messages from %d", len(p.Messages), p.Messages[0].Seq)
		}
		if p.ConversationID == c2.ID && len(p.Messages) != 1 {
			t.Fatalf("c2 page: %d", len(p.Messages))
		}
	}
	after, _ := e.Store.AuditEvents(context.Background(), wardline.AuditFilter{OrgID: e.Org.ID, Action: wardline.ActionResumeReplayed, Limit: 100})
	if len(after)-len(before) != 1 || after[len(after)-1].ActorID != b.ID {
		t.Fatalf("replay audit events: %d new", len(after)-len(before))
	}
	// Someone who is not a member replays nothing of it.
	outsider, _ := e.MustCreateUser(t, "Outsider")
	n := 0
	_ = e.App.Messages.Replay(As(outsider), map[string]int64{c1.ID: 0}, func(p *app.ReplayPage) error { n += len(p.Messages); return nil })
	if n != 0 {
		t.Fatalf("outsider got %d messages", n)
	}
}

// A flush larger than one chunk records and announces every advance, however it is split.
func TestLargeDeliveryFlushRecordsEveryAdvance(t *testing.T) {
	e := MustOpenEnv(t)
	a, _ := e.MustCreateUser(t, "A")
	members := make([]*wardline.User, 6)
	for i := range members {
		members[i], _ = e.MustCreateUser(t, "member")
	}
	var convs []*wardline.Conversation
	var lasts []*wardline.Message
	for range 60 { // 60 conversations × 6 members = 360 advances: several chunks
		c := e.MustGroup(t, a, members...)
		convs = append(convs, c)
		lasts = append(lasts, e.MustSend(t, a, c.ID, "m"))
	}
	var receipts []*wardline.Receipt
	events := 0
	unsub := e.Bus.Subscribe(func(ev *wardline.Event) {
		if ev.Type == wardline.EventReceipts {
			events++
			for _, r := range ev.Receipts {
				if r.ConversationID != ev.Receipts[0].ConversationID {
					t.Errorf("one receipts event holds two conversations' receipts")
				}
			}
			receipts = append(receipts, ev.Receipts...)
		}
	})
	defer unsub()
	for _, c := range convs {
		for _, m := range members {
			e.App.Deliveries.Delivered(c.ID, m.ID, 1, "id", c.MemberIDs())
		}
	}
	if n := e.App.Deliveries.Flush(context.Background()); n != 360 {
		t.Fatalf("flushed %d, want 360", n)
	}
	if len(receipts) != 360 {
		t.Fatalf("%d receipts announced, want 360", len(receipts))
	}
	// One event per conversation and chunk: 60 conversations, and each chunk boundary (every
	// flushChunkSize advances) may split one conversation's advances in two.
	if most := 60 + (360+app.FlushChunkSize-1)/app.FlushChunkSize - 1; events < 60 || events > most {
		t.Errorf("%d receipts events for 60 conversations' advances, want 60 to %d", events, most)
	}
	for i, c := range convs {
		got, err := e.App.Messages.Receipts(As(a), c.ID, lasts[i].ID)
		if err != nil || len(got) != len(members) {
			t.Fatalf("conversation %d: %d receipts, %v", i, len(got), err)
		}
		for _, r := range got {
			if r.DeliveredAt == nil {
				t.Fatalf("conversation %d: %s not delivered", i, r.UserID)
			}
		}
	}
}
