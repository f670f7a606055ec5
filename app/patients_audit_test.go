package app_test

import (
	"slices"
	"testing"

	"wardline"
)

// An IG officer's search by NHS number finds everything done to that patient: registering,
// looking up, viewing, the timeline and the opt-out. Patient entries carry the number's HMAC
// under wardline.DetailPatientHMAC, the key the search matches (it used to be "nhs_hmac", which
// no search found).
func TestPatientEntriesFoundByNHSNumber(t *testing.T) {
	e := newEnv(t)
	nurse, doctor := e.user("Nurse"), e.user("Doctor")
	ig, _, err := e.app.Users.CreateUser(as(e.admin), wardline.NewUser{Email: "ig@test.nhs.uk", DisplayName: "IG", OrgRole: wardline.OrgRoleAuditor})
	if err != nil {
		t.Fatal(err)
	}
	p := register(t, e, nurse, ada)
	if _, err := e.app.Patients.Lookup(as(doctor), wardline.PatientLookup{NHSNumber: ada.NHSNumber, DateOfBirth: ada.DateOfBirth}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Patients.Lookup(as(doctor), wardline.PatientLookup{NHSNumber: ada.NHSNumber, DateOfBirth: "1945-03-11"}); err == nil {
		t.Fatal("lookup with the wrong date of birth found the patient")
	}
	if _, err := e.app.Patients.Patient(as(doctor), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.app.Patients.Timeline(as(nurse), p.ID, "", 10); err != nil {
		t.Fatal(err)
	}
	optOut := true
	if _, err := e.app.Patients.UpdatePatient(as(nurse), p.ID, wardline.PatientUpdate{OptedOut: &optOut}); err != nil {
		t.Fatal(err)
	}
	// Another patient's entries stay out of the answer.
	register(t, e, nurse, wardline.NewPatient{NHSNumber: "4010232137", Name: "Grace Hopper", DateOfBirth: "1906-12-09"})

	found, _, err := e.app.Audit.Search(as(ig), wardline.AuditSearch{PatientNHSNumber: "943 476 5919", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range found {
		if ev.TargetType == "patient" && ev.TargetID != "" && ev.TargetID != p.ID {
			t.Fatalf("another patient's entry: %+v", ev)
		}
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{wardline.ActionPatientRegistered, wardline.ActionPatientLookedUp, wardline.ActionPatientViewed, wardline.ActionPatientTimelineViewed, wardline.ActionPatientUpdated} {
		if !slices.Contains(actions, want) {
			t.Errorf("search by NHS number misses %s; found %v", want, actions)
		}
	}
	// The failed look-up is there too, by the number's HMAC.
	if n := len(slices.DeleteFunc(slices.Clone(found), func(ev *wardline.AuditEvent) bool { return ev.Outcome != wardline.OutcomeFailure })); n != 1 {
		t.Errorf("%d failed look-ups found, want 1", n)
	}
}
