package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
)

func TestBadInputClinical(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	admin := ts.Admin
	conv := a.StartConversation("group", "Bad input", b)
	direct := a.StartConversation("direct", "", b)
	var p wardline.Patient
	ts.mustStatus(a.Do("POST", "/api/v1/patients", map[string]string{"nhs_number": "943 476 5919", "name": "Ada Lovelace", "date_of_birth": "1945-03-10"}, &p), 201)
	var role, other wardline.Role
	ts.mustStatus(admin.Do("POST", "/api/v1/admin/roles", map[string]any{"name": "Registrar"}, &role), 201)
	ts.mustStatus(admin.Do("POST", "/api/v1/admin/roles", map[string]any{"name": "SHO", "fallback_role_id": role.ID}, &other), 201)
	ts.mustStatus(a.Do("POST", "/api/v1/roles/"+role.ID+"/take", nil, nil), 204)

	patient := "/api/v1/patients/" + p.ID
	convPath := "/api/v1/conversations/" + conv.ID
	roleMsgs := "/api/v1/roles/" + role.ID + "/messages"
	rota := "/api/v1/admin/roles/" + role.ID + "/rota"
	adminRole := "/api/v1/admin/roles/" + role.ID
	now := time.Now().UTC()
	past, soon, far := now.Add(-time.Hour), now.Add(time.Hour), now.Add(40*24*time.Hour)
	unknown := uuid.NewString()

	cases := []badInputCase{
		// Patients.
		{"register: malformed JSON", a, "POST", "/api/v1/patients", `{"nhs_number":`, 400, "invalid"},
		{"register: unknown field", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "9434765919", "name": "A", "date_of_birth": "1945-03-10", "address": "x"}, 400, "invalid"},
		{"register: wrong type", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": 9434765919, "name": "A", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: wrong check digit", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "9434765918", "name": "A", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: remainder 10", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "1234567890", "name": "A", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: nine digits", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "943476591", "name": "A", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: letters", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "94347659AB", "name": "A", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: no name", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "4010232137", "name": " ", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: long name", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "4010232137", "name": strings.Repeat("n", 201), "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"register: date format", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "4010232137", "name": "A", "date_of_birth": "10/03/1945"}, 400, "invalid"},
		{"register: born tomorrow", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "4010232137", "name": "A", "date_of_birth": now.Add(48 * time.Hour).Format(time.DateOnly)}, 400, "invalid"},
		{"register: another date of birth", a, "POST", "/api/v1/patients", map[string]any{"nhs_number": "9434765919", "name": "A", "date_of_birth": "1950-01-01"}, 409, "conflict"},
		{"lookup: bad number", a, "POST", "/api/v1/patients/lookup", map[string]any{"nhs_number": "9434765918", "date_of_birth": "1945-03-10"}, 400, "invalid"},
		{"lookup: no date of birth", a, "POST", "/api/v1/patients/lookup", map[string]any{"nhs_number": "9434765919"}, 400, "invalid"},
		{"lookup: unknown field", a, "POST", "/api/v1/patients/lookup", map[string]any{"nhs_number": "9434765919", "date_of_birth": "1945-03-10", "name": "Ada"}, 400, "invalid"},
		{"lookup: nobody", a, "POST", "/api/v1/patients/lookup", map[string]any{"nhs_number": "4010232137", "date_of_birth": "1945-03-10"}, 404, "not_found"},
		{"patient: malformed id", a, "GET", "/api/v1/patients/not-an-id", nil, 404, "not_found"},
		{"patient: unknown", a, "GET", "/api/v1/patients/" + unknown, nil, 404, "not_found"},
		{"patient: the lookup path is no patient", a, "GET", "/api/v1/patients/lookup", nil, 404, "not_found"},
		{"patch patient: empty", a, "PATCH", patient, map[string]any{}, 400, "invalid"},
		{"patch patient: wrong type", a, "PATCH", patient, map[string]any{"opted_out": "yes"}, 400, "invalid"},
		{"patch patient: unknown field", a, "PATCH", patient, map[string]any{"opted_out": true, "name": "x"}, 400, "invalid"},
		{"patch patient: bad body, unseen patient", b, "PATCH", patient, `{`, 404, "not_found"},
		{"timeline: limit 0", a, "GET", patient + "/timeline?limit=0", nil, 400, "invalid"},
		{"timeline: limit 201", a, "GET", patient + "/timeline?limit=201", nil, 400, "invalid"},
		{"timeline: bad cursor", a, "GET", patient + "/timeline?cursor=%%%%", nil, 400, "invalid"},
		{"timeline: malformed cursor", a, "GET", patient + "/timeline?cursor=abc", nil, 400, "invalid"},
		{"timeline: NHS number as a query", a, "GET", patient + "/timeline?nhs_number=9434765919", nil, 400, "invalid"},
		{"timeline: bad query, unseen patient", b, "GET", patient + "/timeline?limit=0", nil, 404, "not_found"},
		// Conversation tracking.
		{"patch conversation: empty", a, "PATCH", convPath, map[string]any{}, 400, "invalid"},
		{"patch conversation: status", a, "PATCH", convPath, map[string]any{"status": "closed"}, 400, "invalid"},
		{"patch conversation: category", a, "PATCH", convPath, map[string]any{"category": "gossip"}, 400, "invalid"},
		{"patch conversation: patient id malformed", a, "PATCH", convPath, map[string]any{"patient_id": "9434765919"}, 400, "invalid"},
		{"patch conversation: unknown patient", a, "PATCH", convPath, map[string]any{"patient_id": unknown}, 400, "invalid"},
		{"patch conversation: unknown escalation role", a, "PATCH", convPath, map[string]any{"escalation_role_id": unknown}, 400, "invalid"},
		{"patch conversation: escalation for direct", a, "PATCH", "/api/v1/conversations/" + direct.ID, map[string]any{"escalation_role_id": role.ID}, 400, "invalid"},
		{"patch conversation: unknown field", a, "PATCH", convPath, map[string]any{"title": "x"}, 400, "invalid"},
		{"patch conversation: bad body, unknown conversation", a, "PATCH", "/api/v1/conversations/" + unknown, `{`, 404, "not_found"},
		{"patch conversation: bad body, not an owner", b, "PATCH", convPath, `{`, 403, "forbidden"},
		{"create conversation: bad category", a, "POST", "/api/v1/conversations", map[string]any{"kind": "group", "member_ids": []string{b.User.ID}, "category": "gossip"}, 400, "invalid"},
		{"create conversation: bad status", a, "POST", "/api/v1/conversations", map[string]any{"kind": "group", "member_ids": []string{b.User.ID}, "status": "closed"}, 400, "invalid"},
		{"create conversation: unseen patient", b, "POST", "/api/v1/conversations", map[string]any{"kind": "group", "member_ids": []string{a.User.ID}, "patient_id": p.ID}, 400, "invalid"},
		{"create conversation: kind role", a, "POST", "/api/v1/conversations", map[string]any{"kind": "role", "member_ids": []string{b.User.ID}}, 400, "invalid"},
		// Roles.
		{"roles: limit 0", a, "GET", "/api/v1/roles?limit=0", nil, 400, "invalid"},
		{"roles: bad cursor", a, "GET", "/api/v1/roles?cursor=abc", nil, 400, "invalid"},
		{"create role: no name", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": " "}, 400, "invalid"},
		{"create role: long name", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": strings.Repeat("r", 201)}, 400, "invalid"},
		{"create role: fallback malformed", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": "X", "fallback_role_id": "registrar"}, 400, "invalid"},
		{"create role: fallback unknown", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": "X", "fallback_role_id": unknown}, 400, "invalid"},
		{"create role: escalation unknown", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": "X", "escalation_role_ids": []string{unknown}}, 400, "invalid"},
		{"create role: escalation repeated", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": "X", "escalation_role_ids": []string{role.ID, role.ID}}, 400, "invalid"},
		{"create role: duplicate name", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": "Registrar"}, 409, "conflict"},
		{"create role: unknown field", admin, "POST", "/api/v1/admin/roles", map[string]any{"name": "X", "colour": "red"}, 400, "invalid"},
		{"patch role: empty", admin, "PATCH", adminRole, map[string]any{}, 400, "invalid"},
		{"patch role: own fallback", admin, "PATCH", adminRole, map[string]any{"fallback_role_id": role.ID}, 400, "invalid"},
		{"patch role: fallback circle", admin, "PATCH", adminRole, map[string]any{"fallback_role_id": other.ID}, 400, "invalid"},
		{"patch role: escalates to itself", admin, "PATCH", adminRole, map[string]any{"escalation_role_ids": []string{role.ID}}, 400, "invalid"},
		{"patch role: taken name", admin, "PATCH", adminRole, map[string]any{"name": "SHO"}, 409, "conflict"},
		{"patch role: unknown role", admin, "PATCH", "/api/v1/admin/roles/" + unknown, map[string]any{"name": "Y"}, 404, "not_found"},
		{"rota: missing period", admin, "POST", rota, map[string]any{"user_id": b.User.ID}, 400, "invalid"},
		{"rota: ends before it starts", admin, "POST", rota, map[string]any{"user_id": b.User.ID, "starts_at": soon, "ends_at": now}, 400, "invalid"},
		{"rota: ended", admin, "POST", rota, map[string]any{"user_id": b.User.ID, "starts_at": past.Add(-time.Hour), "ends_at": past}, 400, "invalid"},
		{"rota: too long", admin, "POST", rota, map[string]any{"user_id": b.User.ID, "starts_at": now, "ends_at": far}, 400, "invalid"},
		{"rota: unknown user", admin, "POST", rota, map[string]any{"user_id": unknown, "starts_at": now, "ends_at": soon}, 400, "invalid"},
		{"rota: time malformed", admin, "POST", rota, map[string]any{"user_id": b.User.ID, "starts_at": "tonight", "ends_at": soon}, 400, "invalid"},
		{"rota: unknown role", admin, "POST", "/api/v1/admin/roles/" + unknown + "/rota", map[string]any{"user_id": b.User.ID, "starts_at": now, "ends_at": soon}, 404, "not_found"},
		{"rota list: unknown role", a, "GET", "/api/v1/roles/" + unknown + "/rota", nil, 404, "not_found"},
		{"rota list: malformed role id", a, "GET", "/api/v1/roles/not-a-role/rota", nil, 404, "not_found"},
		{"rota list: bad cursor", a, "GET", "/api/v1/roles/" + role.ID + "/rota?cursor=%%%", nil, 400, "invalid"},
		{"rota list: bad limit", a, "GET", "/api/v1/roles/" + role.ID + "/rota?limit=0", nil, 400, "invalid"},
		{"rota list: unknown parameter", a, "GET", "/api/v1/roles/" + role.ID + "/rota?from=now", nil, 400, "invalid"},
		{"my rota: bad cursor", a, "GET", "/api/v1/me/rota?cursor=%%%", nil, 400, "invalid"},
		{"my rota: bad limit", a, "GET", "/api/v1/me/rota?limit=1000", nil, 400, "invalid"},
		{"my rota: unknown parameter", a, "GET", "/api/v1/me/rota?user_id=" + b.User.ID, nil, 400, "invalid"},
		{"rota cancel: unknown entry", admin, "DELETE", rota + "/" + unknown, nil, 404, "not_found"},
		{"rota cancel: malformed entry id", admin, "DELETE", rota + "/not-an-entry", nil, 404, "not_found"},
		{"rota cancel: unknown role", admin, "DELETE", "/api/v1/admin/roles/" + unknown + "/rota/" + unknown, nil, 404, "not_found"},
		{"rota cancel: by a member", a, "DELETE", rota + "/" + unknown, nil, 403, "forbidden"},
		{"handover: to oneself", a, "POST", "/api/v1/roles/" + role.ID + "/handover", map[string]any{"to_user_id": a.User.ID}, 400, "invalid"},
		{"handover: to a stranger", a, "POST", "/api/v1/roles/" + role.ID + "/handover", map[string]any{"to_user_id": unknown}, 400, "invalid"},
		{"handover: malformed", a, "POST", "/api/v1/roles/" + role.ID + "/handover", `{"to_user_id":`, 400, "invalid"},
		{"handover: bad body, not a holder", b, "POST", "/api/v1/roles/" + role.ID + "/handover", `{`, 403, "forbidden"},
		{"take: unknown role", a, "POST", "/api/v1/roles/" + unknown + "/take", nil, 404, "not_found"},
		{"role message: empty", a, "POST", roleMsgs, map[string]any{"client_id": uuid.NewString(), "body": ""}, 400, "invalid"},
		{"role message: client id", a, "POST", roleMsgs, map[string]any{"client_id": "abc", "body": "x"}, 400, "invalid"},
		{"role message: priority", a, "POST", roleMsgs, map[string]any{"client_id": uuid.NewString(), "body": "x", "priority": "asap"}, 400, "invalid"},
		{"role message: too large", a, "POST", roleMsgs, map[string]any{"client_id": uuid.NewString(), "body": strings.Repeat("x", 1<<20)}, 413, "too_large"},
		{"role message: unknown role", a, "POST", "/api/v1/roles/" + unknown + "/messages", `{`, 404, "not_found"},
		// Duty and policy.
		{"status: unknown", a, "PUT", "/api/v1/me/status", map[string]any{"status": "asleep"}, 400, "invalid"},
		{"status: missing", a, "PUT", "/api/v1/me/status", map[string]any{}, 400, "invalid"},
		{"status: until past", a, "PUT", "/api/v1/me/status", map[string]any{"status": "off_duty", "until": past}, 400, "invalid"},
		{"status: until malformed", a, "PUT", "/api/v1/me/status", map[string]any{"status": "off_duty", "until": "tomorrow"}, 400, "invalid"},
		{"status: unknown covering role", a, "PUT", "/api/v1/me/status", map[string]any{"status": "off_duty", "covering_role_id": unknown}, 400, "invalid"},
		{"status: unknown field", a, "PUT", "/api/v1/me/status", map[string]any{"status": "off_duty", "reason": "tired"}, 400, "invalid"},
		{"policy: steps", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"escalation": map[string]int{"steps": 11}}, 400, "invalid"},
		{"policy: minutes", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"escalation": map[string]int{"urgent_after_minutes": -1}}, 400, "invalid"},
		{"policy: built-in category", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"categories": []string{"clinical"}}, 400, "invalid"},
		{"policy: working hours", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"working_hours": map[string]any{"start": "8", "end": "18:00"}}, 400, "invalid"},
		{"policy: time zone", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"working_hours": map[string]any{"start": "08:00", "end": "18:00", "time_zone": "../../etc/passwd"}}, 400, "invalid"},
		{"policy: covering role", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"covering_role_id": unknown}, 400, "invalid"},
		{"policy: unknown field", admin, "PUT", "/api/v1/admin/clinical-policy", map[string]any{"escalate": true}, 400, "invalid"},
		{"policy: by a member, bad body", a, "PUT", "/api/v1/admin/clinical-policy", `{`, 403, "forbidden"},
	}
	checkBadInput(t, cases, "9434765918", "1234567890")

	// Nothing above changed anything.
	var got wardline.Patient
	ts.mustStatus(a.Do("POST", "/api/v1/patients/lookup", map[string]string{"nhs_number": "9434765919", "date_of_birth": "1945-03-10"}, &got), 200)
	if got.ID != p.ID || got.OptedOut || got.Name != "Ada Lovelace" {
		t.Fatalf("patient changed: %+v", got)
	}
	if got := b.Do("POST", "/api/v1/patients/lookup", map[string]string{"nhs_number": "4010232137", "date_of_birth": "1945-03-10"}, nil); got != 404 {
		t.Fatalf("a bad registration stored a patient: %d", got)
	}
	var c wardline.Conversation
	ts.mustStatus(a.Do("GET", convPath, nil, &c), 200)
	if c.Status != "open" || c.Category != nil || c.PatientID != nil || c.EscalationRoleID != nil || c.LastSeq != 0 {
		t.Fatalf("conversation changed: %+v", c)
	}
	var roles struct {
		Items []*wardline.Role `json:"items"`
	}
	ts.mustStatus(a.Do("GET", "/api/v1/roles", nil, &roles), 200)
	if len(roles.Items) != 2 || roles.Items[0].Name != "Registrar" || roles.Items[0].FallbackRoleID != nil || len(roles.Items[0].EscalationRoleIDs) != 0 ||
		len(roles.Items[0].Holders) != 1 || roles.Items[0].Holders[0].UserID != a.User.ID {
		t.Fatalf("roles changed: %+v", roles.Items[0])
	}
	var convs struct {
		Items []*wardline.Conversation `json:"items"`
	}
	ts.mustStatus(a.Do("GET", "/api/v1/conversations", nil, &convs), 200)
	if len(convs.Items) != 2 {
		t.Fatalf("conversations: %d, want 2 (no role conversation was made)", len(convs.Items))
	}
	var me wardline.User
	ts.mustStatus(a.Do("GET", "/api/v1/me", nil, &me), 200)
	if me.DutyStatus != wardline.DutyOn || me.DutyUntil != nil {
		t.Fatalf("duty changed: %+v", me)
	}
	var policy wardline.ClinicalPolicy
	ts.mustStatus(a.Do("GET", "/api/v1/clinical-policy", nil, &policy), 200)
	if policy.Escalation != wardline.DefaultEscalation || len(policy.Categories) != 0 || policy.WorkingHours != nil || policy.CoveringRoleID != nil {
		t.Fatalf("policy changed: %+v", policy)
	}
}
