package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"wardline"
)

// write sends one client frame on the stream.
func (s *Stream) write(frame any) {
	s.tb.Helper()
	b, err := json.Marshal(frame)
	if err != nil {
		s.tb.Fatal(err)
	}
	if err := s.conn.Write(s.ctx, websocket.MessageText, b); err != nil {
		s.tb.Fatal(err)
	}
}

// SendFrame sends a message on the stream without waiting for its answer.
func (s *Stream) SendFrame(convID, clientID, body string) {
	s.tb.Helper()
	s.write(map[string]any{"type": "send", "conversation_id": convID, "client_id": clientID, "body": body})
}

// Answer reads until the send.result or send.error for clientID, skipping other events.
func (s *Stream) Answer(clientID string) map[string]any {
	s.tb.Helper()
	for {
		ev := s.Next()
		if (ev["type"] == "send.result" || ev["type"] == "send.error") && ev["client_id"] == clientID {
			return ev
		}
	}
}

// sendStatus is what a send on the stream answered, as the status the POST would have: 201 or
// 200 for a send.result, the error code's status for a send.error.
func sendStatus(ev map[string]any) int {
	if ev["type"] == "send.result" {
		if ev["created"] == true {
			return 201
		}
		return 200
	}
	switch ev["code"] {
	case wardline.ENOTFOUND:
		return 404
	case wardline.EINVALID:
		return 400
	case wardline.EUNAUTHENTICATED:
		return 401
	case wardline.EFORBIDDEN:
		return 403
	case wardline.ECONFLICT:
		return 409
	case wardline.ELOCKED:
		return 423
	}
	return 0
}

// A message sent on the event stream is stored, answered and delivered as a POST's is, and the
// sends of one stream get their seqs in the order they were sent.
func TestSendOnTheEventStream(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Ward 7", b)
	as, bs := a.Connect(), b.Connect()
	as.Resume(nil)
	bs.Resume(nil)
	as.NextOf("resume.done")
	bs.NextOf("resume.done")

	// Three sends written back to back, before any answer.
	ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	for i, id := range ids {
		as.SendFrame(conv.ID, id, fmt.Sprintf("obs %d", i+1))
	}
	var sent []map[string]any
	for i, id := range ids {
		ev := as.Answer(id)
		if ev["type"] != "send.result" || ev["created"] != true {
			t.Fatalf("send %d: %v", i+1, ev)
		}
		m := ev["message"].(map[string]any)
		if m["seq"] != float64(i+1) || m["body"] != fmt.Sprintf("obs %d", i+1) || m["client_id"] != id || m["conversation_id"] != conv.ID {
			t.Fatalf("send %d answered %v", i+1, m)
		}
		if w, ok := ev["warnings"].([]any); !ok || len(w) != 0 {
			t.Errorf("send %d warnings: %v", i+1, ev["warnings"])
		}
		sent = append(sent, m)
	}
	for i, m := range bs.Messages(3) {
		if m["id"] != sent[i]["id"] || m["body"] != sent[i]["body"] {
			t.Fatalf("bob's message %d: %v, want %v", i+1, m, sent[i])
		}
	}
	if hist := b.History(conv.ID); len(hist) != 3 {
		t.Fatalf("history: %d messages, want 3", len(hist))
	}

	// The same client_id again is the same message, not another (the POST's 200), whatever its
	// letters' case; it is answered lower-cased, as it is stored.
	as.SendFrame(conv.ID, strings.ToUpper(ids[0]), "obs 1")
	again := as.Answer(ids[0])
	if again["type"] != "send.result" || again["created"] != false || again["message"].(map[string]any)["id"] != sent[0]["id"] {
		t.Fatalf("resend: %v", again)
	}
	// And a POST of it agrees.
	var m wardline.Message
	ts.mustStatus(a.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": ids[1], "body": "obs 2"}, &m), 200)
	if m.ID != sent[1]["id"] {
		t.Fatalf("POST of a client_id sent on the stream: %s, want %s", m.ID, sent[1]["id"])
	}
	// A send is audited as a POST is.
	var page auditList
	ig := ts.NewUser("auditor")
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/search", map[string]any{"conversation_id": conv.ID, "action": wardline.ActionMessageSent}, &page), 200)
	if len(page.Items) != 3 {
		t.Fatalf("audit: %d %s entries, want 3", len(page.Items), wardline.ActionMessageSent)
	}
}

// Every refusal a POST gives, a send on the stream gives, with the client_id it refuses, and
// none of them stores anything.
func TestSendOnTheEventStreamRefusals(t *testing.T) {
	ts := MustRunServer(t)
	a, b, outsider := ts.NewUser("member"), ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Ward 7", b)
	other := b.StartConversation("group", "Theatres", outsider)
	as := a.Connect()
	as.Resume(nil)
	as.NextOf("resume.done")

	long := strings.Repeat("x", 8001)
	for _, tc := range []struct {
		name  string
		frame map[string]any
		code  string
	}{
		{"not a member", map[string]any{"conversation_id": other.ID, "body": "hi"}, wardline.ENOTFOUND},
		{"no such conversation", map[string]any{"conversation_id": uuid.NewString(), "body": "hi"}, wardline.ENOTFOUND},
		{"empty body", map[string]any{"conversation_id": conv.ID, "body": ""}, wardline.EINVALID},
		{"body too long", map[string]any{"conversation_id": conv.ID, "body": long}, wardline.EINVALID},
		{"bad priority", map[string]any{"conversation_id": conv.ID, "body": "hi", "priority": "whenever"}, wardline.EINVALID},
		{"bad conversation id", map[string]any{"conversation_id": "ward-7", "body": "hi"}, wardline.EINVALID},
		{"unknown field", map[string]any{"conversation_id": conv.ID, "body": "hi", "patient_nhs_number": "9434765919"}, wardline.EINVALID},
		{"cursors on a send", map[string]any{"conversation_id": conv.ID, "body": "hi", "cursors": map[string]int{}}, wardline.EINVALID},
		{"requires_ack not a bool", map[string]any{"conversation_id": conv.ID, "body": "hi", "requires_ack": "yes"}, wardline.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			frame := map[string]any{"type": "send", "client_id": id}
			for k, v := range tc.frame {
				frame[k] = v
			}
			as.write(frame)
			ev := as.Answer(id)
			if ev["type"] != "send.error" || ev["code"] != tc.code {
				t.Fatalf("got %v, want send.error %s", ev, tc.code)
			}
			if msg, _ := ev["message"].(string); msg == "" || strings.Contains(msg, "hi") && tc.code == wardline.ENOTFOUND {
				t.Errorf("message %q", msg)
			}
		})
	}
	// A send without a usable client_id is refused as any bad frame is.
	for _, cid := range []any{nil, "", "not-a-uuid", 7} {
		frame := map[string]any{"type": "send", "conversation_id": conv.ID, "body": "hi"}
		if cid != nil {
			frame["client_id"] = cid
		}
		as.write(frame)
		if ev := as.Next(); ev["type"] != "error" || ev["code"] != wardline.EINVALID {
			t.Fatalf("client_id %v: %v", cid, ev)
		}
	}
	if hist := a.History(conv.ID); len(hist) != 0 {
		t.Fatalf("refused sends stored %d messages", len(hist))
	}
	if hist := b.History(other.ID); len(hist) != 0 {
		t.Fatalf("the outsider's conversation got %d messages", len(hist))
	}

	// The stream's session is checked at each send, not only when it opened: once the session
	// is locked (the screen locked), a send is refused as a POST would be, until it is unlocked.
	ts.mustStatus(a.Do("PUT", "/api/v1/me/pin", map[string]string{"pin": "4729"}, nil), 204)
	as.write(map[string]string{"type": "lock"})
	as.NextOf("session.locked")
	id := uuid.NewString()
	as.SendFrame(conv.ID, id, "while locked")
	if ev := as.Answer(id); ev["type"] != "send.error" || ev["code"] != wardline.ELOCKED {
		t.Fatalf("send while locked: %v", ev)
	}
	if hist := b.History(conv.ID); len(hist) != 0 {
		t.Fatalf("a send while locked was stored")
	}
}

// A send made on the stream before resume is answered after the replay: the answer carries the
// message, so it is held like a live event, and the client sees what it missed first, in order.
func TestSendBeforeResumeIsAnsweredAfterTheReplay(t *testing.T) {
	// Live events wait a minute for the resume here, so that the send is surely stored and its
	// answer queued before the client resumes.
	ts := MustRunServer(t, func(m *Main) { m.WS.ResumeWait = time.Minute })
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Ward 7", b)
	b.Send(conv.ID, "missed 1")
	b.Send(conv.ID, "missed 2")

	as := a.Connect()
	id := uuid.NewString()
	as.SendFrame(conv.ID, id, "mine")
	for deadline := time.Now().Add(5 * time.Second); len(b.History(conv.ID)) < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the send on the stream was never stored")
		}
	}
	time.Sleep(50 * time.Millisecond) // from the commit to its answer queued on the stream
	as.Resume(map[string]int64{conv.ID: 0})
	var order []string
	for len(order) == 0 || order[len(order)-1] != "send.result" {
		ev := as.Next()
		switch ev["type"] {
		case "message.created":
			order = append(order, ev["message"].(map[string]any)["body"].(string))
		case "resume.done", "send.result", "send.error":
			order = append(order, ev["type"].(string))
			if ev["type"] == "send.error" {
				t.Fatalf("send before resume: %v", ev)
			}
		}
	}
	// The replay holds the new message too (it was stored before the replay read), so its live
	// copy is not sent again; the answer comes after the replay.
	if want := []string{"missed 1", "missed 2", "mine", "resume.done", "send.result"}; !slices.Equal(order, want) {
		t.Fatalf("frames: %v, want %v", order, want)
	}
}
