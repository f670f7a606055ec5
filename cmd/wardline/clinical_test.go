package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"wardline/mock"

	"github.com/google/uuid"

	"wardline"
)

// live opens a client's event stream and resumes from nothing, so that live events flow at once.
func live(c *Client) *Stream {
	s := c.Connect()
	s.Resume(map[string]int64{})
	s.NextOf("resume.done")
	return s
}

func TestClinicalWorkflowEndToEnd(t *testing.T) {
	clock := mock.NewClock(time.Now().UTC())
	ts := MustRunServer(t, func(m *Main) { m.Clock = clock })
	nurse, doctor, cover := ts.NewUser("member"), ts.NewUser("member"), ts.NewUser("member")

	// A patient, a conversation about them, and the timeline.
	var p wardline.Patient
	ts.mustStatus(nurse.Do("POST", "/api/v1/patients", map[string]string{"nhs_number": "943 476 5919", "name": "Ada Lovelace", "date_of_birth": "1945-03-10"}, &p), 201)
	if p.NHSNumber != "9434765919" {
		t.Fatalf("patient: %+v", p)
	}
	var conv wardline.Conversation
	ts.mustStatus(nurse.Do("POST", "/api/v1/conversations", map[string]any{"kind": "group", "title": "Ada", "member_ids": []string{doctor.User.ID}, "patient_id": p.ID, "category": "clinical"}, &conv), 201)
	if conv.PatientID == nil || *conv.PatientID != p.ID || *conv.Category != "clinical" || conv.Status != "open" {
		t.Fatalf("conversation: %+v", conv)
	}
	nurse.Send(conv.ID, "Ada's potassium is 6.1")
	var timeline struct {
		Items      []*wardline.Message `json:"items"`
		NextCursor *string             `json:"next_cursor"`
	}
	ts.mustStatus(doctor.Do("GET", "/api/v1/patients/"+p.ID+"/timeline", nil, &timeline), 200)
	if len(timeline.Items) != 1 || timeline.Items[0].ConversationID != conv.ID || timeline.Items[0].Body != "Ada's potassium is 6.1" {
		t.Fatalf("timeline: %+v", timeline.Items)
	}

	// A covering role, held by cover; the doctor goes off duty, covered by it.
	var role wardline.Role
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/roles", map[string]any{"name": "Night SHO"}, &role), 201)
	ts.mustStatus(cover.Do("POST", "/api/v1/roles/"+role.ID+"/take", nil, nil), 204)
	ts.mustStatus(doctor.Do("PUT", "/api/v1/me/status", map[string]any{"status": "off_duty", "covering_role_id": role.ID}, nil), 204)
	var me wardline.User
	ts.mustStatus(doctor.Do("GET", "/api/v1/me", nil, &me), 200)
	if me.DutyStatus != "off_duty" || *me.CoveringRoleID != role.ID {
		t.Fatalf("me: %+v", me)
	}
	nurseStream, doctorStream, coverStream := live(nurse), live(doctor), live(cover)

	// A routine message: the doctor's copy is silent, the sender is told, and the answer keeps
	// the Message's fields with warnings beside them.
	status, raw := nurse.DoRaw("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": uuid.NewString(), "body": "Discharge letter done"}, nil)
	if status != 201 {
		t.Fatalf("send: %d %s", status, raw)
	}
	var sent map[string]any
	_ = json.Unmarshal(raw, &sent)
	warnings, _ := sent["warnings"].([]any)
	if sent["id"] == nil || sent["seq"] != float64(2) || sent["escalation"] != nil || len(warnings) != 1 {
		t.Fatalf("send answer: %s", raw)
	}
	w := warnings[0].(map[string]any)
	if w["code"] != "recipient_off_duty" || w["user_id"] != doctor.User.ID || w["covering_role_id"] != role.ID {
		t.Fatalf("warning: %v", w)
	}
	if ev := doctorStream.NextOf("message.created"); ev["silent"] != true {
		t.Fatalf("the off-duty doctor's copy is not silent: %v", ev)
	}
	if ev := nurseStream.NextOf("message.created"); ev["silent"] != nil {
		t.Fatalf("the sender's copy is silent: %v", ev)
	}

	// An urgent message goes to the covering role too.
	status, raw = nurse.DoRaw("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"client_id": uuid.NewString(), "body": "K+ 6.8 now", "priority": "urgent"}, nil)
	if status != 201 {
		t.Fatalf("urgent send: %d %s", status, raw)
	}
	var urgent struct {
		wardline.Message
		Warnings []*wardline.Warning `json:"warnings"`
	}
	_ = json.Unmarshal(raw, &urgent)
	if urgent.Escalation == nil || urgent.Escalation.State != "pending" || len(urgent.Warnings) != 1 || urgent.Warnings[0].ConversationID == nil {
		t.Fatalf("urgent answer: %s", raw)
	}
	if ev := doctorStream.NextOf("message.created"); ev["silent"] != true {
		t.Fatalf("the off-duty doctor was alerted by an urgent message: %v", ev)
	}
	ev := coverStream.NextOf("message.created")
	copyMsg := ev["message"].(map[string]any)
	if copyMsg["conversation_id"] != *urgent.Warnings[0].ConversationID || copyMsg["body"] != "K+ 6.8 now" || ev["silent"] != nil {
		t.Fatalf("the covering holder's copy: %v", ev)
	}

	// Nobody acknowledges: five minutes later the scheduler escalates (re-alerts the cover).
	clock.Add(5 * time.Minute)
	if _, err := ts.App.Scheduler.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ev := coverStream.NextOf("escalation"); ev["step"] != float64(1) || ev["message_id"] != copyMsg["id"] {
		t.Fatalf("escalation event: %v", ev)
	}
	// The covering holder acknowledges the copy: the original stops too.
	ts.mustStatus(cover.Do("POST", "/api/v1/conversations/"+copyMsg["conversation_id"].(string)+"/messages/"+copyMsg["id"].(string)+"/ack", nil, nil), 204)
	for _, m := range nurse.History(conv.ID) {
		if m.ID == urgent.ID && (m.Escalation == nil || m.Escalation.State != "acknowledged") {
			t.Fatalf("the original after the copy's acknowledgement: %+v", m.Escalation)
		}
	}

	// A message to a role reaches its holder, in the role conversation.
	var toRole wardline.RoleMessageResult
	ts.mustStatus(doctor.Do("POST", "/api/v1/roles/"+role.ID+"/messages", map[string]any{"client_id": uuid.NewString(), "body": "Handing over Ada"}, &toRole), 201)
	if len(toRole.Reached) != 1 || toRole.Reached[0] != cover.User.ID || toRole.RoleID != role.ID || toRole.Warnings == nil {
		t.Fatalf("role message: %+v", toRole)
	}
	if ev := coverStream.NextOf("message.created"); ev["message"].(map[string]any)["conversation_id"] != toRole.ConversationID {
		t.Fatalf("role message event: %v", ev)
	}
	var dir struct {
		Items []map[string]any `json:"items"`
	}
	ts.mustStatus(nurse.Do("GET", "/api/v1/directory?q=night", nil, &dir), 200)
	if len(dir.Items) != 1 || dir.Items[0]["kind"] != "role" || dir.Items[0]["name"] != "Night SHO" || len(dir.Items[0]["holders"].([]any)) != 1 {
		t.Fatalf("directory: %v", dir.Items)
	}

	// Resolve the conversation; the audit log names the patient by id only.
	ts.mustStatus(nurse.Do("PATCH", "/api/v1/conversations/"+conv.ID, map[string]any{"status": "resolved"}, &conv), 200)
	if conv.Status != "resolved" {
		t.Fatalf("status: %s", conv.Status)
	}
	evs, err := ts.Store.AuditEvents(t.Context(), wardline.AuditFilter{OrgID: ts.OrgID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), "9434765919") || strings.Contains(string(b), "Lovelace") {
			t.Fatalf("audit event %s names the patient: %s", e.Action, b)
		}
	}
}
