package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wardline"
	"wardline/audit"
)

var ada = wardline.NewPatient{NHSNumber: "943 476 5919", Name: "Ada Lovelace", DateOfBirth: "1945-03-10"}

func register(t *testing.T, e *env, u *wardline.User, n wardline.NewPatient) *wardline.Patient {
	t.Helper()
	p, _, err := e.app.Patients.Register(as(u), n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPatientRegisterAndFind(t *testing.T) {
	e := newEnv(t)
	nurse, doctor := e.user("Nurse"), e.user("Doctor")

	p, created, err := e.app.Patients.Register(as(nurse), ada)
	if err != nil || !created || p.NHSNumber != "9434765919" || p.Name != "Ada Lovelace" || p.DateOfBirth != "1945-03-10" || p.OptedOut {
		t.Fatalf("register: %+v, %v, %v", p, created, err)
	}
	// The same NHS number and date of birth: the same patient, not a new one.
	again, created, err := e.app.Patients.Register(as(doctor), wardline.NewPatient{NHSNumber: "9434765919", Name: "A. Lovelace", DateOfBirth: "1945-03-10"})
	if err != nil || created || again.ID != p.ID || again.Name != "Ada Lovelace" {
		t.Fatalf("register again: %+v, %v, %v", again, created, err)
	}
	// Another date of birth: a conflict.
	_, _, err = e.app.Patients.Register(as(doctor), wardline.NewPatient{NHSNumber: "9434765919", Name: "Ada", DateOfBirth: "1950-01-01"})
	mustCode(t, err, wardline.ECONFLICT)
	// A number that fails the check.
	_, _, err = e.app.Patients.Register(as(doctor), wardline.NewPatient{NHSNumber: "9434765918", Name: "Ada", DateOfBirth: "1945-03-10"})
	mustCode(t, err, wardline.EINVALID)

	// Look-up needs both the number and the date of birth.
	got, err := e.app.Patients.Lookup(as(doctor), wardline.PatientLookup{NHSNumber: "943 476 5919", DateOfBirth: "1945-03-10"})
	if err != nil || got.ID != p.ID {
		t.Fatalf("lookup: %+v, %v", got, err)
	}
	_, err = e.app.Patients.Lookup(as(doctor), wardline.PatientLookup{NHSNumber: "9434765919", DateOfBirth: "1945-03-11"})
	mustCode(t, err, wardline.ENOTFOUND)
	_, err = e.app.Patients.Lookup(as(doctor), wardline.PatientLookup{NHSNumber: "4010232137", DateOfBirth: "1945-03-10"})
	mustCode(t, err, wardline.ENOTFOUND)

	// Another organisation's staff find nothing.
	ctx := wardline.NewContextWithActor(context.Background(), &wardline.Actor{Addr: "test"})
	_, otherAdmin, _, err := e.app.Users.CreateOrg(ctx, "Other Trust", wardline.NewUser{Email: "admin@other.nhs.uk", DisplayName: "Other"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.app.Patients.Lookup(as(otherAdmin), wardline.PatientLookup{NHSNumber: "9434765919", DateOfBirth: "1945-03-10"})
	mustCode(t, err, wardline.ENOTFOUND)
	_, err = e.app.Patients.Patient(as(otherAdmin), p.ID)
	mustCode(t, err, wardline.ENOTFOUND)

	// The opt-out can be recorded by someone who may see the patient.
	yes := true
	if got, err := e.app.Patients.UpdatePatient(as(doctor), p.ID, wardline.PatientUpdate{OptedOut: &yes}); err != nil || !got.OptedOut {
		t.Fatalf("opt-out: %+v, %v", got, err)
	}
	if got, _ := e.app.Patients.Patient(as(nurse), p.ID); !got.OptedOut {
		t.Fatal("the opt-out was not kept")
	}
}

func TestPatientVisibility(t *testing.T) {
	e := newEnv(t)
	nurse, doctor, stranger, admin := e.user("Nurse"), e.user("Doctor"), e.user("Stranger"), e.admin
	p := register(t, e, nurse, ada)
	conv := e.conversation(nurse, wardline.NewConversation{Kind: wardline.KindGroup, Title: "Ada", PatientID: &p.ID}, doctor)
	e.send(nurse, conv.ID, wardline.PriorityRoutine, "Ada's bloods are back")
	elsewhere := e.group(nurse, stranger)
	e.send(nurse, elsewhere.ID, wardline.PriorityRoutine, "not about Ada")

	// A member of a conversation about the patient sees the patient and the timeline.
	if got, err := e.app.Patients.Patient(as(doctor), p.ID); err != nil || got.ID != p.ID {
		t.Fatalf("member: %+v, %v", got, err)
	}
	if msgs, _, err := e.app.Patients.Timeline(as(doctor), p.ID, "", 50); err != nil || len(msgs) != 1 || msgs[0].ConversationID != conv.ID {
		t.Fatalf("member's timeline: %+v, %v", msgs, err)
	}
	// Nobody else does, admins included: not found, not forbidden.
	for _, u := range []*wardline.User{stranger, admin} {
		_, err := e.app.Patients.Patient(as(u), p.ID)
		mustCode(t, err, wardline.ENOTFOUND)
		_, _, err = e.app.Patients.Timeline(as(u), p.ID, "", 50)
		mustCode(t, err, wardline.ENOTFOUND)
		_, err = e.app.Patients.UpdatePatient(as(u), p.ID, wardline.PatientUpdate{})
		mustCode(t, err, wardline.ENOTFOUND)
	}
	// Nor can a stranger link the patient to a conversation of theirs.
	_, _, err := e.app.Conversations.CreateConversation(as(stranger), wardline.NewConversation{Kind: wardline.KindGroup, PatientID: &p.ID})
	mustCode(t, err, wardline.EINVALID)

	// Looking the patient up lets the stranger see them for 24 hours, but the timeline shows only
	// conversations they belong to.
	if _, err := e.app.Patients.Lookup(as(stranger), wardline.PatientLookup{NHSNumber: ada.NHSNumber, DateOfBirth: ada.DateOfBirth}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Patients.Patient(as(stranger), p.ID); err != nil {
		t.Fatalf("after lookup: %v", err)
	}
	if msgs, _, err := e.app.Patients.Timeline(as(stranger), p.ID, "", 50); err != nil || len(msgs) != 0 {
		t.Fatalf("stranger's timeline: %d messages, %v", len(msgs), err)
	}
	e.clock.Add(24*time.Hour + time.Second)
	_, err = e.app.Patients.Patient(as(stranger), p.ID)
	mustCode(t, err, wardline.ENOTFOUND)
	// The registering nurse's own grant has lapsed too, but she is a member of Ada's conversation.
	if _, err := e.app.Patients.Patient(as(nurse), p.ID); err != nil {
		t.Fatalf("member after 24 hours: %v", err)
	}
	// Unlinking the conversation takes that away.
	unlink := wardline.ConversationPatch{PatientID: wardline.Some[*string](nil)}
	if _, err := e.app.Conversations.UpdateConversation(as(nurse), conv.ID, unlink); err != nil {
		t.Fatal(err)
	}
	_, err = e.app.Patients.Patient(as(doctor), p.ID)
	mustCode(t, err, wardline.ENOTFOUND)
}

func TestPatientTimelineNewestFirstAndPaged(t *testing.T) {
	e := newEnv(t)
	nurse, doctor := e.user("Nurse"), e.user("Doctor")
	p := register(t, e, nurse, ada)
	a := e.conversation(nurse, wardline.NewConversation{Kind: wardline.KindGroup, PatientID: &p.ID}, doctor)
	b := e.conversation(doctor, wardline.NewConversation{Kind: wardline.KindDirect, PatientID: &p.ID}, nurse)
	var want []string
	for i, c := range []*wardline.Conversation{a, b, a, b, a} {
		e.clock.Add(time.Minute)
		m := e.send(nurse, c.ID, wardline.PriorityUrgent, "update "+string(rune('1'+i))).Message
		want = append([]string{m.ID}, want...)
	}
	var got []string
	cursor := ""
	for {
		page, next, err := e.app.Patients.Timeline(as(doctor), p.ID, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			got = append(got, m.ID)
			if m.Body == "" || m.Escalation == nil {
				t.Fatalf("timeline item: %+v", m)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("timeline order:\n got %v\nwant %v", got, want)
	}
	if views := e.audit(wardline.ActionPatientTimelineViewed); len(views) != 3 || views[0].TargetID != p.ID {
		t.Fatalf("timeline views audited: %d", len(views))
	}
	_, _, err := e.app.Patients.Timeline(as(doctor), p.ID, "not a cursor", 2)
	mustCode(t, err, wardline.EINVALID)
}

// Identifiers never reach the database or the audit log in clear; searches are audited by HMAC.
func TestPatientIdentifiersAreNotStoredInClear(t *testing.T) {
	e := newEnv(t)
	nurse := e.user("Nurse")
	p := register(t, e, nurse, ada)
	if _, err := e.app.Patients.Patient(as(nurse), p.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.app.Patients.Lookup(as(nurse), wardline.PatientLookup{NHSNumber: "4010232137", DateOfBirth: "1990-01-01"})
	mustCode(t, err, wardline.ENOTFOUND)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "wardline.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var row []byte
	if err := db.QueryRow(`SELECT nhs_hmac || nhs_sealed || name_sealed || dob_sealed FROM patients`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"9434765919", "Ada Lovelace", "1945-03-10"} {
		if strings.Contains(string(row), secret) {
			t.Fatalf("%q is stored in clear", secret)
		}
	}
	rows, err := db.Query(`SELECT action, target_id, detail FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	missHMAC, err := e.keys.IdentifierHMAC(context.Background(), e.org.ID, audit.IdentNHSNumber, "4010232137")
	if err != nil {
		t.Fatal(err)
	}
	sawMiss := false
	for rows.Next() {
		var action, target, detail string
		if err := rows.Scan(&action, &target, &detail); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"9434765919", "943 476 5919", "4010232137", "Ada", "1945-03-10"} {
			if strings.Contains(detail, secret) || strings.Contains(target, secret) {
				t.Fatalf("audit %s holds %q: %s", action, secret, detail)
			}
		}
		if action == wardline.ActionPatientLookedUp {
			var d map[string]any
			_ = json.Unmarshal([]byte(detail), &d)
			if d[wardline.DetailPatientHMAC] == missHMAC {
				sawMiss = true
			}
		}
	}
	if !sawMiss {
		t.Fatal("the failed search is not audited by the number's HMAC")
	}

	// Erasure is destroying the patient's key: the identifiers are gone, the rest stays.
	if err := e.keys.Shred(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.app.Patients.Patient(as(nurse), p.ID)
	if err != nil || got.NHSNumber != "" || got.Name != "" || !got.Shredded {
		t.Fatalf("after shredding: %+v, %v", got, err)
	}
}

func TestConversationTracking(t *testing.T) {
	e := newEnv(t)
	nurse, doctor := e.user("Nurse"), e.user("Doctor")
	e.setPolicy(wardline.ClinicalPolicy{Categories: []string{"theatres"}})
	cat := "theatres"
	c := e.conversation(nurse, wardline.NewConversation{Kind: wardline.KindGroup, Category: &cat}, doctor)
	if *c.Category != "theatres" || c.Status != wardline.ConvOpen {
		t.Fatalf("created: %+v", c)
	}
	resolved := wardline.ConversationPatch{Status: wardline.Some(wardline.ConvResolved), Category: wardline.Some[*string](nil)}
	got, err := e.app.Conversations.UpdateConversation(as(nurse), c.ID, resolved)
	if err != nil || got.Status != wardline.ConvResolved || got.Category != nil {
		t.Fatalf("patched: %+v, %v", got, err)
	}
	if evs := e.takeEvents(wardline.EventConversationUpdated); len(evs) == 0 || evs[len(evs)-1].Conversation.Status != wardline.ConvResolved {
		t.Fatalf("conversation.updated: %+v", evs)
	}
	// Members who are not owners may not; nor may anyone with a category the organisation lacks.
	_, err = e.app.Conversations.UpdateConversation(as(doctor), c.ID, resolved)
	mustCode(t, err, wardline.EFORBIDDEN)
	bad := "gossip"
	_, err = e.app.Conversations.UpdateConversation(as(nurse), c.ID, wardline.ConversationPatch{Category: wardline.Some(&bad)})
	mustCode(t, err, wardline.EINVALID)
	_, err = e.app.Conversations.UpdateConversation(as(nurse), c.ID, wardline.ConversationPatch{})
	mustCode(t, err, wardline.EINVALID)
	if got := e.audit(wardline.ActionConvUpdated); len(got) != 1 {
		t.Fatalf("audited %d updates", len(got))
	}
}
