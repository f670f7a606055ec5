package main

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
)

func TestMessagingEndToEnd(t *testing.T) {
	ts := MustRunServer(t)
	nurse, doctor := ts.NewUser("member"), ts.NewUser("member")
	conv := nurse.StartConversation("direct", "", doctor)
	if got, want := len(conv.Members), 2; got != want {
		t.Fatalf("members: got %d, want %d", got, want)
	}
	// Starting the same direct conversation from the other side answers the existing one.
	var again wardline.Conversation
	if status := doctor.Do("POST", "/api/v1/conversations", map[string]any{"kind": "direct", "member_ids": []string{nurse.User.ID}}, &again); status != 200 || again.ID != conv.ID {
		t.Fatalf("second direct: status %d id %s, want 200 %s", status, again.ID, conv.ID)
	}

	doctorStream, nurseStream := doctor.Connect(), nurse.Connect()
	doctorStream.Resume(nil)
	nurseStream.Resume(nil)
	doctorStream.NextOf("resume.done")
	nurseStream.NextOf("resume.done")

	sent := nurse.Send(conv.ID, "Bed 12 NEWS2 is 6, please review")
	got := doctorStream.Messages(1)[0]
	if got["body"] != "Bed 12 NEWS2 is 6, please review" || got["id"] != sent.ID || got["seq"].(float64) != 1 {
		t.Fatalf("doctor received %v", got)
	}
	// The doctor's stream delivered it: the nurse hears a delivered receipt.
	rc := nurseStream.NextOf("receipt")
	if rc["kind"] != "delivered" || rc["user_id"] != doctor.User.ID || rc["message_id"] != sent.ID {
		t.Fatalf("receipt: %v", rc)
	}
	// Read, then acknowledge: receipts flow live and are queryable.
	ts.mustStatus(doctor.Do("POST", "/api/v1/conversations/"+conv.ID+"/read", map[string]any{"seq": 1}, nil), 204)
	if rc := nurseStream.NextOf("receipt"); rc["kind"] != "read" {
		t.Fatalf("want read receipt, got %v", rc)
	}
	ts.mustStatus(doctor.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+sent.ID+"/ack", nil, nil), 204)
	ts.mustStatus(doctor.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+sent.ID+"/ack", nil, nil), 204) // idempotent
	if rc := nurseStream.NextOf("receipt"); rc["kind"] != "acked" {
		t.Fatalf("want acked receipt, got %v", rc)
	}
	var receipts struct {
		Items []*wardline.MessageReceipt `json:"items"`
	}
	ts.mustStatus(nurse.Do("GET", "/api/v1/conversations/"+conv.ID+"/messages/"+sent.ID+"/receipts", nil, &receipts), 200)
	if len(receipts.Items) != 1 || receipts.Items[0].UserID != doctor.User.ID || receipts.Items[0].DeliveredAt == nil ||
		receipts.Items[0].ReadAt == nil || receipts.Items[0].AckedAt == nil {
		t.Fatalf("receipts: %+v", receipts.Items)
	}

	// The reply reaches the nurse; an edit and a deletion reach both.
	reply := doctor.Send(conv.ID, "On my way")
	if m := nurseStream.Messages(1)[0]; m["id"] != reply.ID {
		t.Fatalf("nurse received %v", m)
	}
	var edited wardline.Message
	ts.mustStatus(doctor.Do("PATCH", "/api/v1/conversations/"+conv.ID+"/messages/"+reply.ID, map[string]string{"body": "On my way, 2 minutes"}, &edited), 200)
	if ev := nurseStream.NextOf("message.updated"); ev["message"].(map[string]any)["body"] != "On my way, 2 minutes" {
		t.Fatalf("edit event: %v", ev)
	}
	ts.mustStatus(nurse.Do("PATCH", "/api/v1/conversations/"+conv.ID+"/messages/"+reply.ID, map[string]string{"body": "not mine"}, nil), 403)
	ts.mustStatus(doctor.Do("DELETE", "/api/v1/conversations/"+conv.ID+"/messages/"+reply.ID, nil, nil), 204)
	if ev := nurseStream.NextOf("message.updated"); ev["message"].(map[string]any)["deleted"] != true || ev["message"].(map[string]any)["body"] != "" {
		t.Fatalf("delete event: %v", ev)
	}
	hist := nurse.History(conv.ID)
	if len(hist) != 2 || !hist[1].Deleted || hist[1].Body != "" || hist[1].Seq != 2 {
		t.Fatalf("history after delete: %+v", hist)
	}
	// The stored record keeps both earlier texts of the deleted message.
	versions, err := ts.Store.MessageVersions(t.Context(), reply.ID)
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions: %d, %v", len(versions), err)
	}
}

func TestResumeReplaysExactlyWhatWasMissed(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Handover", b)
	other := a.StartConversation("group", "Night team", b)
	for i := 1; i <= 3; i++ {
		a.Send(conv.ID, fmt.Sprintf("before %d", i))
	}
	s := b.Connect()
	s.Resume(map[string]int64{conv.ID: 1})
	// Nothing replayed for other (no messages); conv from seq 2.
	msgs := s.Messages(2)
	if msgs[0]["seq"].(float64) != 2 || msgs[1]["seq"].(float64) != 3 {
		t.Fatalf("replay: %v", msgs)
	}
	s.NextOf("resume.done")
	s.conn.CloseNow()

	// While b is away, messages arrive in both conversations.
	for i := 4; i <= 6; i++ {
		a.Send(conv.ID, fmt.Sprintf("away %d", i))
	}
	a.Send(other.ID, "other 1")
	s = b.Connect()
	s.Resume(map[string]int64{conv.ID: 3, other.ID: 0, uuid.NewString(): 7})

	// Live messages sent during the replay are held back and never duplicated.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 7; i <= 16; i++ {
			a.Send(conv.ID, fmt.Sprintf("live %d", i))
		}
	}()
	seen := map[string]int64{}
	resumed := false
	for seen[conv.ID] < 16 || !resumed {
		ev := s.Next()
		switch ev["type"] {
		case "resume.done":
			resumed = true
		case "message.created":
			m := ev["message"].(map[string]any)
			cid, seq := m["conversation_id"].(string), int64(m["seq"].(float64))
			if want := seen[cid] + 1; seq != want && !(cid == conv.ID && seen[cid] == 0 && seq == 4) {
				t.Fatalf("conversation %s: got seq %d after %d (gap or duplicate)", cid, seq, seen[cid])
			}
			seen[cid] = seq
		}
	}
	wg.Wait()
	if seen[other.ID] != 1 {
		t.Fatalf("other conversation: got up to seq %d, want 1", seen[other.ID])
	}
	// No more message.created: nothing was sent twice.
	if ev, err := s.next(300 * time.Millisecond); err == nil && ev["type"] == "message.created" {
		t.Fatalf("unexpected extra message: %v", ev)
	}
}

func TestResumeTruncatesLongGaps(t *testing.T) {
	ts := MustRunServer(t, func(m *Main) { m.AppConfig.ReplayLimit = 5 })
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Busy", b)
	for i := 0; i < 8; i++ {
		a.Send(conv.ID, fmt.Sprint("m", i))
	}
	s := b.Connect()
	s.Resume(map[string]int64{})
	msgs := s.Messages(5)
	if msgs[4]["seq"].(float64) != 5 {
		t.Fatalf("last replayed: %v", msgs[4]["seq"])
	}
	tr := s.Next()
	if tr["type"] != "resume.truncated" || tr["conversation_id"] != conv.ID || tr["from_seq"].(float64) != 6 {
		t.Fatalf("truncated: %v", tr)
	}
	if ev := s.Next(); ev["type"] != "resume.done" {
		t.Fatalf("want resume.done, got %v", ev)
	}
}

func TestConcurrentSendsGetGaplessSeq(t *testing.T) {
	ts := MustRunServer(t)
	members := []*Client{ts.NewUser("member"), ts.NewUser("member"), ts.NewUser("member")}
	conv := members[0].StartConversation("group", "Seq", members[1:]...)
	const n = 150
	var wg sync.WaitGroup
	seqs := make(chan int64, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := members[i%3].Send(conv.ID, fmt.Sprint("message ", i))
			seqs <- m.Seq
		}()
	}
	wg.Wait()
	close(seqs)
	got := map[int64]bool{}
	for s := range seqs {
		if got[s] {
			t.Fatalf("seq %d given twice", s)
		}
		got[s] = true
	}
	for s := int64(1); s <= n; s++ {
		if !got[s] {
			t.Fatalf("seq %d missing", s)
		}
	}
	if hist := members[1].History(conv.ID); len(hist) != n || hist[n-1].Seq != n {
		t.Fatalf("history: %d messages", len(hist))
	}
}

func TestSameClientIDStoresOnce(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("direct", "", b)
	cid := uuid.NewString()
	var first, second wardline.Message
	ts.mustStatus(a.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": cid, "body": "hello"}, &first), 201)
	ts.mustStatus(a.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": cid, "body": "hello"}, &second), 200)
	if first.ID != second.ID || second.Seq != 1 {
		t.Fatalf("retry: got %s seq %d, want %s seq 1", second.ID, second.Seq, first.ID)
	}
	status, raw := a.DoRaw("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": cid, "body": "different"}, nil)
	if status != 409 || errCode(raw) != "conflict" {
		t.Fatalf("different body: %d %s", status, raw)
	}
	// The same client_id from another sender is another message.
	ts.mustStatus(b.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": cid, "body": "hello"}, nil), 201)
	if hist := a.History(conv.ID); len(hist) != 2 {
		t.Fatalf("history: %d messages, want 2", len(hist))
	}
}

// A stream that asks for batched receipts gets a delivery flush's receipts of a conversation as
// one "receipts" frame; a stream that does not still gets one "receipt" frame per member.
func TestBatchedReceipts(t *testing.T) {
	ts := MustRunServer(t, func(m *Main) { m.AppConfig.DeliveryFlushInterval = time.Second })
	nurse, doctor, pharmacist := ts.NewUser("member"), ts.NewUser("member"), ts.NewUser("member")
	conv := nurse.StartConversation("group", "Ward 7", doctor, pharmacist)
	nurseStream := nurse.Connect()
	doctorStream, pharmacistStream := doctor.ConnectWith("receipts=batched"), pharmacist.ConnectWith("receipts=single")
	for _, s := range []*Stream{nurseStream, doctorStream, pharmacistStream} {
		s.Resume(nil)
		s.NextOf("resume.done")
	}
	sent := nurse.Send(conv.ID, "TTOs for bed 4 are ready")
	doctorStream.Messages(1)
	pharmacistStream.Messages(1)

	// The doctor and the pharmacist had it within the same second: one flush, one frame.
	batch := doctorStream.NextOf("receipts")
	items, _ := batch["receipts"].([]any)
	if batch["conversation_id"] != conv.ID || len(items) != 2 {
		t.Fatalf("batched: got %v, want one frame with the doctor's and the pharmacist's receipts", batch)
	}
	who := map[string]bool{}
	for _, it := range items {
		r := it.(map[string]any)
		if r["kind"] != "delivered" || r["message_id"] != sent.ID || r["seq"].(float64) != 1 || r["conversation_id"] != conv.ID || r["at"] == nil {
			t.Errorf("receipt in the batch: %v", r)
		}
		who[r["user_id"].(string)] = true
	}
	if !who[doctor.User.ID] || !who[pharmacist.User.ID] {
		t.Errorf("batched receipts are from %v", who)
	}
	// The others get the same two receipts one frame each, and no "receipts" frame.
	for name, s := range map[string]*Stream{"nurse (default)": nurseStream, "pharmacist (single)": pharmacistStream} {
		got := map[string]bool{}
		for len(got) < 2 {
			ev := s.Next()
			if ev["type"] == "receipts" {
				t.Fatalf("%s got a batched frame: %v", name, ev)
			}
			if ev["type"] == "receipt" && ev["kind"] == "delivered" && ev["message_id"] == sent.ID {
				got[ev["user_id"].(string)] = true
			}
		}
		if !got[doctor.User.ID] || !got[pharmacist.User.ID] {
			t.Errorf("%s got receipts from %v", name, got)
		}
	}
	// Read receipts are one person's act: they stay single, batched stream or not.
	ts.mustStatus(pharmacist.Do("POST", "/api/v1/conversations/"+conv.ID+"/read", map[string]any{"seq": 1}, nil), 204)
	if rc := doctorStream.NextOf("receipt"); rc["kind"] != "read" || rc["user_id"] != pharmacist.User.ID {
		t.Errorf("read receipt on the batched stream: %v", rc)
	}
	// Anything else is refused before the upgrade.
	status, raw := doctor.DoRaw("GET", "/api/v1/events?receipts=sometimes", nil, nil)
	if status != 400 || errCode(raw) != "invalid" {
		t.Errorf("receipts=sometimes: %d %s, want 400 invalid", status, raw)
	}
}
