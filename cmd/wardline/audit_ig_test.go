package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"wardline"
	"wardline/audit"
)

// An audit write that fails fails the request, and the change it recorded is not made: they
// are one transaction. The failure is real: a trigger makes SQLite refuse every audit insert.
func TestAuditFailureFailsRequest(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Ward 9", b)
	a.Send(conv.ID, "first")
	db := openRawDB(t, ts.Config.DataDir)
	defer db.Close()
	mustExec(t, db, `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit disk full'); END`)

	status, raw := a.DoRaw("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": wardline.NewID(), "body": "second"}, nil)
	if status != 500 || errCode(raw) != "internal" {
		t.Fatalf("send while the audit log refuses writes: %d %s, want 500 internal", status, raw)
	}
	if got := a.Do("GET", "/api/v1/conversations/"+conv.ID+"/messages", nil, nil); got != 500 {
		t.Errorf("history read while the audit log refuses writes: %d, want 500 (the read is audited before it returns)", got)
	}
	if got := b.Do("POST", "/api/v1/conversations/"+conv.ID+"/members", map[string]string{"user_id": ts.Admin.User.ID}, nil); got != 403 {
		t.Logf("member add as non-owner: %d", got)
	}
	if got := a.Do("POST", "/api/v1/conversations/"+conv.ID+"/members", map[string]string{"user_id": ts.Admin.User.ID}, nil); got != 500 {
		t.Errorf("member add while the audit log refuses writes: %d, want 500", got)
	}
	mustExec(t, db, `DROP TRIGGER refuse_audit`)

	msgs := a.History(conv.ID)
	if len(msgs) != 1 || msgs[0].Body != "first" {
		t.Fatalf("after the failed send the conversation holds %d messages, want only the first", len(msgs))
	}
	var c wardline.Conversation
	ts.mustStatus(a.Do("GET", "/api/v1/conversations/"+conv.ID, nil, &c), 200)
	if c.LastSeq != 1 || len(c.Members) != 2 {
		t.Fatalf("after the failed writes: last_seq %d, %d members; want 1 and 2", c.LastSeq, len(c.Members))
	}
	// And the log is still whole and gapless.
	ts.HTTP.CloseIdleConnections()
	ts.Main.Close()
	if out, err := runVerify(t, ts.Config.DataDir); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}

type auditList struct {
	Items      []*wardline.AuditEvent `json:"items"`
	NextCursor *string                `json:"next_cursor"`
}

func TestAuditInvestigation(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	ig, ig2 := ts.NewUser("auditor"), ts.NewUser("auditor")
	conv := a.StartConversation("group", "Bay 3 concerns", b)
	m1 := a.Send(conv.ID, "Mr X in bed 3 is refusing obs")
	m2 := a.Send(conv.ID, "Call the registrar")
	ts.mustStatus(a.Do("PATCH", "/api/v1/conversations/"+conv.ID+"/messages/"+m1.ID, map[string]string{"body": "Patient in bed 3 is refusing obs"}, nil), 200)
	ts.mustStatus(a.Do("DELETE", "/api/v1/conversations/"+conv.ID+"/messages/"+m2.ID, nil, nil), 204)
	b.History(conv.ID)
	ts.mustStatus(b.Do("GET", "/api/v1/conversations/"+conv.ID, nil, nil), 200)
	ts.mustStatus(b.Do("POST", "/api/v1/conversations/"+conv.ID+"/read", map[string]int{"seq": 2}, nil), 204)
	ts.mustStatus(b.Do("POST", "/api/v1/conversations/"+conv.ID+"/messages/"+m1.ID+"/ack", nil, nil), 204)

	// Outside an investigation an officer sees no content.
	ts.mustStatus(ig.Do("GET", "/api/v1/conversations/"+conv.ID+"/messages", nil, nil), 404)

	// Searches: by conversation, by person, by action; newest first, paged.
	var page auditList
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/search", map[string]any{"conversation_id": conv.ID, "limit": 3}, &page), 200)
	if len(page.Items) != 3 || page.NextCursor == nil || page.Items[0].Seq < page.Items[2].Seq {
		t.Fatalf("search page: %d items, cursor %v", len(page.Items), page.NextCursor)
	}
	var rest auditList
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/search", map[string]any{"conversation_id": conv.ID, "cursor": *page.NextCursor, "limit": 200}, &rest), 200)
	actions := map[string]bool{}
	for _, e := range append(page.Items, rest.Items...) {
		actions[e.Action] = true
		if e.ConversationID != conv.ID {
			t.Errorf("search by conversation found entry %d of %q", e.Seq, e.ConversationID)
		}
		raw, _ := json.Marshal(e)
		if bytes.Contains(raw, []byte("refusing")) || bytes.Contains(raw, []byte("registrar")) {
			t.Errorf("an audit entry holds message text: %s", raw)
		}
	}
	for _, want := range []string{wardline.ActionConvCreated, wardline.ActionMessageSent, wardline.ActionMessageEdited, wardline.ActionMessageDeleted,
		wardline.ActionHistoryRead, wardline.ActionMarkedRead, wardline.ActionMessageAcked, wardline.ActionConvRead} {
		if !actions[want] {
			t.Errorf("no %s entry for the conversation", want)
		}
	}
	var byEmail auditList
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/search", map[string]any{"actor_email": b.User.Email, "action": wardline.ActionMessageAcked}, &byEmail), 200)
	if len(byEmail.Items) != 1 || byEmail.Items[0].ActorID != b.User.ID {
		t.Errorf("search by person and action: %d items", len(byEmail.Items))
	}
	// The other officer sees the first officer's searches.
	var searches auditList
	ts.mustStatus(ig2.Do("POST", "/api/v1/audit/search", map[string]any{"actor_id": ig.User.ID, "action": wardline.ActionAuditSearched}, &searches), 200)
	if len(searches.Items) != 3 {
		t.Errorf("the other officer sees %d of the first's searches, want 3", len(searches.Items))
	}

	// Exports.
	status, raw := ig.DoRaw("POST", "/api/v1/audit/export", map[string]any{"conversation_id": conv.ID, "format": "csv"}, nil)
	if status != 200 {
		t.Fatalf("CSV export: %d %s", status, raw)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 9 || rows[0][0] != "seq" {
		t.Fatalf("CSV export: %d rows, %v", len(rows), err)
	}
	var jsonExport auditList
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/export", map[string]any{"conversation_id": conv.ID, "format": "json"}, &jsonExport), 200)
	if len(jsonExport.Items) != len(rows)-1 {
		t.Errorf("JSON export has %d entries, CSV %d", len(jsonExport.Items), len(rows)-1)
	}

	// An investigation, with a justification that must not name a patient.
	if s, raw := ig.DoRaw("POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": conv.ID, "justification": "Complaint about 943 476 5919"}, nil); s != 400 || errCode(raw) != "invalid" {
		t.Errorf("justification with an NHS number: %d %s", s, raw)
	}
	var inv wardline.Investigation
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": conv.ID, "justification": "Complaint ref C-2025-117: care on Bay 3"}, &inv), 201)
	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/investigations/"+inv.ID+"/transcript", nil, nil), 403)

	var tr struct {
		Messages []struct {
			ID       string `json:"id"`
			Deleted  bool   `json:"deleted"`
			Versions []struct {
				Body    string `json:"body"`
				Deleted bool   `json:"deleted"`
			} `json:"versions"`
			Receipts []struct {
				UserID  string  `json:"user_id"`
				ReadAt  *string `json:"read_at"`
				AckedAt *string `json:"acked_at"`
			} `json:"receipts"`
		} `json:"messages"`
		Membership []struct {
			Action string `json:"action"`
		} `json:"membership"`
		Stamp struct {
			ExportAuditSeq int64    `json:"export_audit_seq"`
			LeafHash       []byte   `json:"leaf_hash"`
			InclusionProof [][]byte `json:"inclusion_proof"`
			TreeSize       int64    `json:"tree_size"`
			RootHash       []byte   `json:"root_hash"`
			Note           string   `json:"signed_note"`
			VerifierKey    string   `json:"verifier_key"`
		} `json:"stamp"`
	}
	ts.mustStatus(ig.Do("GET", "/api/v1/audit/investigations/"+inv.ID+"/transcript", nil, &tr), 200)
	if len(tr.Messages) != 2 {
		t.Fatalf("transcript holds %d messages", len(tr.Messages))
	}
	if v := tr.Messages[0].Versions; len(v) != 2 || v[0].Body != "Mr X in bed 3 is refusing obs" || v[1].Body != "Patient in bed 3 is refusing obs" {
		t.Errorf("edited message's versions: %+v", v)
	}
	if v := tr.Messages[1].Versions; !tr.Messages[1].Deleted || len(v) != 2 || v[0].Body != "Call the registrar" || !v[1].Deleted {
		t.Errorf("deleted message's versions: %+v", v)
	}
	var bRead bool
	for _, r := range tr.Messages[0].Receipts {
		if r.UserID == b.User.ID && r.ReadAt != nil && r.AckedAt != nil {
			bRead = true
		}
	}
	if !bRead {
		t.Errorf("transcript lacks b's read and acknowledgement of the first message: %+v", tr.Messages[0].Receipts)
	}
	if len(tr.Membership) == 0 || tr.Membership[0].Action != wardline.ActionConvCreated {
		t.Errorf("membership: %+v", tr.Membership)
	}
	// The stamp: a checkpoint signed by the log's key that covers the export's own entry.
	cp, err := audit.ParseCheckpoint([]byte(tr.Stamp.Note))
	if err != nil {
		t.Fatal(err)
	}
	pub := verifierPublicKey(t, tr.Stamp.VerifierKey)
	if err := audit.VerifyCheckpoint(pub, cp); err != nil || int64(cp.Size) != tr.Stamp.TreeSize || !bytes.Equal(cp.Root, tr.Stamp.RootHash) {
		t.Fatalf("stamp checkpoint: %v", err)
	}
	if err := audit.VerifyInclusion(tr.Stamp.LeafHash, uint64(tr.Stamp.ExportAuditSeq-1), cp.Size, tr.Stamp.InclusionProof, cp.Root); err != nil {
		t.Fatalf("the export's entry is not proved in the checkpoint: %v", err)
	}

	status, raw = ig.DoRaw("GET", "/api/v1/audit/investigations/"+inv.ID+"/transcript?format=pdf", nil, nil)
	if status != 200 || !bytes.HasPrefix(raw, []byte("%PDF-")) || len(raw) < 2000 {
		t.Fatalf("PDF transcript: %d, %d bytes", status, len(raw))
	}

	// Every officer sees the case and both exports of it.
	var view struct {
		Exports []*wardline.AuditEvent `json:"exports"`
	}
	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/investigations/"+inv.ID, nil, &view), 200)
	if len(view.Exports) != 2 || view.Exports[0].ActorID != ig.User.ID {
		t.Errorf("the other officer sees %d exports", len(view.Exports))
	}
	var list struct {
		Items []wardline.Investigation `json:"items"`
	}
	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/investigations", nil, &list), 200)
	if len(list.Items) != 1 || list.Items[0].Justification != inv.Justification {
		t.Errorf("investigations list: %+v", list.Items)
	}

	// Anyone can fetch the latest checkpoint and a proof that the log only grew since the stamp.
	anon := &Client{ts: ts}
	var latest struct {
		Size int64 `json:"size"`
	}
	ts.mustStatus(anon.Do("GET", "/api/v1/audit/checkpoint", nil, &latest), 200)
	var cons struct {
		Proof      []string `json:"proof"`
		Checkpoint struct {
			SignedNote string `json:"signed_note"`
		} `json:"checkpoint"`
	}
	ts.mustStatus(anon.Do("GET", "/api/v1/audit/proof/consistency?from="+itoa(int(cp.Size))+"&to="+itoa(int(latest.Size)), nil, &cons), 200)
	newer, err := audit.ParseCheckpoint([]byte(cons.Checkpoint.SignedNote))
	if err != nil || audit.VerifyCheckpoint(pub, newer) != nil {
		t.Fatalf("newer checkpoint: %v", err)
	}
	var proof [][]byte
	for _, p := range cons.Proof {
		h, _ := base64.StdEncoding.DecodeString(p)
		proof = append(proof, h)
	}
	if err := audit.VerifyConsistency(cp.Size, newer.Size, proof, cp.Root, newer.Root); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}

	// Closing ends exports.
	ts.mustStatus(ig2.Do("POST", "/api/v1/audit/investigations/"+inv.ID+"/close", nil, nil), 204)
	ts.mustStatus(ig.Do("GET", "/api/v1/audit/investigations/"+inv.ID+"/transcript", nil, nil), 409)

	// The witness file holds the checkpoints too.
	ts.HTTP.CloseIdleConnections()
	ts.Main.Close()
	out, err := runVerify(t, ts.Config.DataDir)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, "ok: ") {
		t.Fatalf("verify: %s", out)
	}
}

// verifierPublicKey reads the Ed25519 key out of a signed-note verifier key.
func verifierPublicKey(t *testing.T, vkey string) ed25519.PublicKey {
	t.Helper()
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		t.Fatalf("verifier key %q", vkey)
	}
	return ed25519.PublicKey(raw[1:])
}

// An alert reaches the organisation's auditors on their event stream as it happens.
func TestAuditAlertPushed(t *testing.T) {
	ts := MustRunServer(t)
	ig := ts.NewUser("auditor")
	a := ts.NewUser("member")
	var pol wardline.AlertPolicy
	ts.mustStatus(ig.Do("PUT", "/api/v1/audit/alert-policy", map[string]any{"conversations_read_per_hour": 3, "working_hours": "00:00-23:59"}, &pol), 200)
	if pol.ConversationsPerHour != 3 || pol.PatientsPerHour != wardline.DefaultAlertPolicy.PatientsPerHour {
		t.Fatalf("policy: %+v", pol)
	}
	stream := ig.Connect()
	for i := range 3 {
		c := a.StartConversation("group", "conversation "+itoa(i), ts.Admin)
		a.History(c.ID)
	}
	ev := stream.NextOf("alert")
	alert, _ := ev["alert"].(map[string]any)
	if alert["kind"] != wardline.AlertManyConversations || alert["user_id"] != a.User.ID {
		t.Fatalf("alert: %v", ev)
	}
	var list struct {
		Items []wardline.Alert `json:"items"`
	}
	ts.mustStatus(ig.Do("GET", "/api/v1/audit/alerts?kind="+wardline.AlertManyConversations, nil, &list), 200)
	if len(list.Items) != 1 || list.Items[0].Count != 3 {
		t.Errorf("alerts: %+v", list.Items)
	}
}
