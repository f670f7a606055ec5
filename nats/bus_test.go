package nats_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"wardline"
	"wardline/keyring"
	wnats "wardline/nats"
	"wardline/nats/natstest"
)

// transport returns the event-bus keys of a new master key file, and that of a second node
// loading the same file.
func transport(t *testing.T) (a, b *keyring.Transport) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	m, err := keyring.CreateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := keyring.LoadMasterKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ = m.Transport("event-bus")
	b, _ = m2.Transport("event-bus")
	return a, b
}

// subject is private to one test: the shared server carries other engineers' tests too.
func subject() string { return "wardline.test." + wardline.NewID() }

func connect(t *testing.T, url, subj string, sealer wnats.Sealer, opts ...func(*wnats.Options)) *wnats.Bus {
	t.Helper()
	o := wnats.Options{Subject: subj, Sealer: sealer, Name: t.Name()}
	for _, f := range opts {
		f(&o)
	}
	b, err := wnats.Connect(url, o)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// recorder collects the events a subscriber receives.
type recorder struct {
	mu     sync.Mutex
	events []*wardline.Event
	got    chan struct{}
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 1024)} }

func (r *recorder) fn(e *wardline.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) wait(t *testing.T, n int) []*wardline.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]*wardline.Event(nil), r.events...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("got %d events, want %d", len(r.events), n)
		}
	}
}

func messageEvent(seq int64, body string) *wardline.Event {
	return &wardline.Event{Type: wardline.EventMessageCreated, Recipients: []string{"u1", "u2"},
		Message: &wardline.Message{ID: wardline.NewID(), ConversationID: "c1", Seq: seq, SenderID: "u1", Body: body, Priority: wardline.PriorityRoutine}}
}

// wantConversation subscribes b to a conversation and waits until the subscription is in force.
func wantConversation(t *testing.T, b *wnats.Bus, id string) (release func()) {
	t.Helper()
	release, fresh := b.WantConversation(id)
	if !fresh {
		t.Fatalf("WantConversation(%s): not fresh on a new bus", id)
	}
	if err := b.Synced(t.Context()); err != nil {
		t.Fatal(err)
	}
	return release
}

// A node receives a conversation's events only while it wants them, a person's own events only
// while it wants that person (one copy each, addressed to them alone), and what every node needs
// always.
func TestBusSubjects(t *testing.T) {
	url := natstest.ServerURL(t)
	ka, kb := transport(t)
	subj := subject()
	a, b := connect(t, url, subj, ka), connect(t, url, subj, kb)
	var got []*wardline.Event
	var mu sync.Mutex
	events := make(chan struct{}, 100)
	b.Subscribe(func(e *wardline.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		events <- struct{}{}
	})
	// take publishes, waits for n events on b and then a little more (to see any extra), and
	// returns them.
	take := func(n int, publish ...*wardline.Event) []*wardline.Event {
		t.Helper()
		mu.Lock()
		got = nil
		mu.Unlock()
		for _, e := range publish {
			if err := a.Publish(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.After(5 * time.Second)
		for i := 0; i < n; i++ {
			select {
			case <-events:
			case <-deadline:
				t.Fatalf("node b got %d events, want %d", i, n)
			}
		}
		// A marker on the all-nodes subject, sent after the rest: once it arrives, anything
		// else this test published has arrived too (one publisher, one subscriber: in order).
		a.Publish(t.Context(), &wardline.Event{Type: wardline.EventDutyChanged})
		for marker := false; !marker; {
			select {
			case <-events:
				mu.Lock()
				marker = got[len(got)-1].Type == wardline.EventDutyChanged
				mu.Unlock()
			case <-deadline:
				t.Fatal("the marker did not arrive")
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]*wardline.Event(nil), got[:len(got)-1]...)
	}
	msg := func(conv string) *wardline.Event {
		e := messageEvent(1, "obs due")
		e.Message.ConversationID = conv
		return e
	}

	if n := len(take(0, msg("c1"))); n != 0 {
		t.Errorf("a node that wants no conversation got %d message events", n)
	}
	changed := &wardline.Event{Type: wardline.EventConversationUpdated, Recipients: []string{"u9"},
		Conversation: &wardline.Conversation{ID: "c1", Members: []*wardline.Member{{UserID: "u9"}}}}
	if e := take(1, changed); len(e) != 1 || e[0].Conversation.ID != "c1" {
		t.Errorf("conversation.updated reaches every node: got %v", e)
	}

	release1 := wantConversation(t, b, "c1")
	release2, fresh := b.WantConversation("c1")
	if fresh {
		t.Errorf("a second want of c1 said fresh")
	}
	if e := take(1, msg("c2"), msg("c1")); len(e) != 1 || e[0].Message.ConversationID != "c1" {
		t.Errorf("wanting c1: got %v", e)
	}
	release1()
	release1() // twice is once
	if e := take(1, msg("c1")); len(e) != 1 {
		t.Errorf("c1 released once of twice: got %d events, want 1", len(e))
	}
	release2()
	if err := b.Synced(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e := take(0, msg("c1")); len(e) != 0 {
		t.Errorf("c1 released: got %d events", len(e))
	}
	if b.Subscriptions() != 0 {
		t.Errorf("subscriptions after every release: %d", b.Subscriptions())
	}

	releaseU := b.WantUser("u2")
	if err := b.Synced(t.Context()); err != nil {
		t.Fatal(err)
	}
	revoked := &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{"u1", "u2", "u3"}}
	esc := &wardline.Event{Type: wardline.EventEscalation, Recipients: []string{"u1", "u2"}, Silent: []string{"u2"},
		Escalation: &wardline.EscalationEvent{ConversationID: "c1", Step: 1}}
	e := take(2, revoked, esc)
	if len(e) != 2 || !slices.Equal(e[0].Recipients, []string{"u2"}) || !slices.Equal(e[1].Recipients, []string{"u2"}) ||
		!slices.Equal(e[1].Silent, []string{"u2"}) {
		t.Errorf("personal events on u2's subject: got %+v", e)
	}
	releaseU()
}

// An event sealed for one subject does not open on another: a recording of someone's session
// event replayed onto another person's subject is dropped.
func TestBusSubjectBoundToSeal(t *testing.T) {
	url := natstest.ServerURL(t)
	ka, kb := transport(t)
	subj := subject()
	a := connect(t, url, subj, ka)
	var errs atomic.Int32
	b := connect(t, url, subj, kb, func(o *wnats.Options) { o.OnError = func(error) { errs.Add(1) } })
	rb := newRecorder()
	b.Subscribe(rb.fn)
	b.WantUser("u2")
	raw, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	sub, err := raw.SubscribeSync(b.UserSubject("u1"))
	if err != nil {
		t.Fatal(err)
	}
	raw.Flush()
	b.Synced(t.Context())
	a.Publish(t.Context(), &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{"u1"}})
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m.Subject, m.Sub = b.UserSubject("u2"), nil
	if err := raw.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for errs.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if errs.Load() == 0 || len(rb.events) != 0 {
		t.Errorf("replayed onto u2's subject: %d errors, %d events; want it dropped", errs.Load(), len(rb.events))
	}
}

func TestBus(t *testing.T) {
	url := natstest.ServerURL(t)
	t.Run("OtherNodeReceives", func(t *testing.T) {
		ka, kb := transport(t)
		subj := subject()
		a, b := connect(t, url, subj, ka), connect(t, url, subj, kb)
		ra, rb := newRecorder(), newRecorder()
		a.Subscribe(ra.fn)
		b.Subscribe(rb.fn)
		wantConversation(t, b, "c1")
		for i := range 50 {
			if err := a.Publish(t.Context(), messageEvent(int64(i+1), "Bed 4 obs please")); err != nil {
				t.Fatal(err)
			}
		}
		got := rb.wait(t, 50)
		for i, e := range got {
			if e.Type != wardline.EventMessageCreated || e.Message.Seq != int64(i+1) || e.Message.Body != "Bed 4 obs please" {
				t.Fatalf("event %d on the other node: got %+v (seq %d), want message.created seq %d in order", i, e, e.Message.Seq, i+1)
			}
			if len(e.Recipients) != 2 {
				t.Errorf("recipients: got %v", e.Recipients)
			}
		}
		// The publishing node delivers to itself once, not again when NATS echoes it.
		time.Sleep(100 * time.Millisecond)
		if n := len(ra.wait(t, 50)); n != 50 {
			t.Errorf("publishing node got %d events, want 50", n)
		}
	})

	t.Run("SealedOnTheWire", func(t *testing.T) {
		ka, _ := transport(t)
		subj := subject()
		a := connect(t, url, subj, ka)
		raw, err := natsgo.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		sub, err := raw.SubscribeSync(subj + ".>")
		if err != nil {
			t.Fatal(err)
		}
		raw.Flush()
		// Ids long enough that random ciphertext cannot hold them by chance ("c1" did, once in a
		// few hundred runs: two bytes in a few hundred of ciphertext).
		conv, sender := wardline.NewID(), wardline.NewID()
		ev := messageEvent(1, "Patient in bay 3 is deteriorating")
		ev.Recipients, ev.Message.ConversationID, ev.Message.SenderID = []string{sender}, conv, sender
		if err := a.Publish(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, clear := range []string{"deteriorating", "message.created", sender, conv} {
			if bytes.Contains(msg.Data, []byte(clear)) {
				t.Errorf("NATS payload holds %q in clear", clear)
			}
		}
		if msg.Subject != a.ConversationSubject(conv) || strings.Contains(msg.Subject, conv) {
			t.Errorf("subject %q: want the conversation's name, not its id", msg.Subject)
		}
	})

	t.Run("ErrOtherMasterKey", func(t *testing.T) {
		ka, _ := transport(t)
		kc, _ := transport(t)
		subj := subject()
		var errs atomic.Int32
		a := connect(t, url, subj, ka)
		c := connect(t, url, subj, kc, func(o *wnats.Options) { o.OnError = func(error) { errs.Add(1) } })
		rc := newRecorder()
		c.Subscribe(rc.fn)
		// Conversations' subjects are named under the master key, so c never even hears a's
		// messages; what every node hears (.all) does not open there.
		a.Publish(t.Context(), &wardline.Event{Type: wardline.EventConversationUpdated, Recipients: []string{"u1"},
			Conversation: &wardline.Conversation{ID: "c1"}})
		deadline := time.Now().Add(5 * time.Second)
		for errs.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if errs.Load() == 0 || len(rc.events) != 0 {
			t.Errorf("a node with another master key: %d errors, %d events; want the event dropped", errs.Load(), len(rc.events))
		}
	})

	t.Run("Ping", func(t *testing.T) {
		ka, _ := transport(t)
		a := connect(t, url, subject(), ka)
		if err := a.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("ErrNoSealer", func(t *testing.T) {
		if _, err := wnats.Connect(url, wnats.Options{}); err == nil {
			t.Errorf("Connect without a Sealer succeeded")
		}
	})
}

// A restart of NATS: Ping fails while it is down, the bus reconnects by itself, OnGap tells the
// node it may have missed events, and events flow again. On a private server: never restart the
// shared one.
func TestBusSurvivesRestart(t *testing.T) {
	srv := natstest.Start(t)
	ka, kb := transport(t)
	subj := subject()
	gaps := make(chan struct{}, 10)
	a := connect(t, srv.URL(), subj, ka)
	b := connect(t, srv.URL(), subj, kb, func(o *wnats.Options) { o.OnGap = func() { gaps <- struct{}{} } })
	rb := newRecorder()
	b.Subscribe(rb.fn)
	wantConversation(t, b, "c1")
	a.Publish(t.Context(), messageEvent(1, "before"))
	rb.wait(t, 1)

	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	if err := b.Ping(ctx); err == nil {
		t.Errorf("Ping while NATS is down: got nil")
	}
	cancel()
	time.Sleep(200 * time.Millisecond)
	srv.Restart(0)

	select {
	case <-gaps:
	case <-time.After(10 * time.Second):
		t.Fatal("no OnGap after the reconnect")
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.Ping(t.Context()) != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	a.Publish(t.Context(), messageEvent(2, "after"))
	got := rb.wait(t, 2)
	if got[len(got)-1].Message.Body != "after" {
		t.Errorf("last event after restart: got %+v", got[len(got)-1].Message)
	}
}
