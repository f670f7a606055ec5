package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
)

// newNHSNumber returns a random NHS number that passes the Modulus 11 check.
func newNHSNumber() string {
	for {
		nine := fmt.Sprintf("%09d", rand.IntN(1_000_000_000))
		if d := wardline.NHSCheckDigit(nine); d >= 0 {
			return nine + fmt.Sprint(d)
		}
	}
}

// clinicalFixture adds to the authorization fixture, per case: a patient registered by the owner
// and linked to the group, and a role that the owner holds.
type clinicalFixture struct {
	*authzFixture
	patient *wardline.Patient
	nhs     string
	role    *wardline.Role
}

func (f *clinicalFixture) refresh(t *testing.T) {
	f.authzFixture.refresh(t)
	owner := f.clients["owner"]
	f.nhs = newNHSNumber()
	var p wardline.Patient
	f.ts.mustStatus(owner.Do("POST", "/api/v1/patients", map[string]string{"nhs_number": f.nhs, "name": "Test Patient", "date_of_birth": "1960-01-31"}, &p), 201)
	f.patient = &p
	f.ts.mustStatus(owner.Do("PATCH", "/api/v1/conversations/"+f.conv.ID, map[string]any{"patient_id": p.ID}, nil), 200)
	var r wardline.Role
	f.ts.mustStatus(f.ts.Admin.Do("POST", "/api/v1/admin/roles", map[string]any{"name": "Role " + uuid.NewString()[:8]}, &r), 201)
	f.role = &r
	f.ts.mustStatus(owner.Do("POST", "/api/v1/roles/"+r.ID+"/take", nil, nil), 204)
}

func TestAuthorizationMatrixClinical(t *testing.T) {
	f := &clinicalFixture{authzFixture: newAuthzFixture(t)}
	type req = func(f *clinicalFixture, caller string) (string, string, any)
	get := func(path func(*clinicalFixture) string) req {
		return func(f *clinicalFixture, _ string) (string, string, any) { return "GET", path(f), nil }
	}
	patient := func(f *clinicalFixture) string { return "/api/v1/patients/" + f.patient.ID }
	role := func(f *clinicalFixture) string { return "/api/v1/roles/" + f.role.ID }
	adminRole := func(f *clinicalFixture) string { return "/api/v1/admin/roles/" + f.role.ID }
	fixed := func(p string) func(*clinicalFixture) string { return func(*clinicalFixture) string { return p } }
	rotaNights := 0

	//              anonymous  non-member  member  owner  admin  auditor  suspended
	cases := []struct {
		name string
		req  req
		want [7]int
	}{
		{"POST patients", func(*clinicalFixture, string) (string, string, any) {
			return "POST", "/api/v1/patients", map[string]string{"nhs_number": newNHSNumber(), "name": "New Patient", "date_of_birth": "1990-05-05"}
		}, [7]int{401, 201, 201, 201, 201, 201, 401}},
		{"POST patients (registered already)", func(f *clinicalFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/patients", map[string]string{"nhs_number": f.nhs, "name": "Test Patient", "date_of_birth": "1960-01-31"}
		}, [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST patients/lookup", func(f *clinicalFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/patients/lookup", map[string]string{"nhs_number": f.nhs, "date_of_birth": "1960-01-31"}
		}, [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST patients/lookup (wrong date of birth)", func(f *clinicalFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/patients/lookup", map[string]string{"nhs_number": f.nhs, "date_of_birth": "1960-02-01"}
		}, [7]int{401, 404, 404, 404, 404, 404, 401}},
		{"GET patient", get(patient), [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"PATCH patient", func(f *clinicalFixture, _ string) (string, string, any) {
			return "PATCH", patient(f), map[string]bool{"opted_out": true}
		}, [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"GET patient timeline", get(func(f *clinicalFixture) string { return patient(f) + "/timeline" }), [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"PATCH conversation (group)", func(f *clinicalFixture, _ string) (string, string, any) {
			return "PATCH", "/api/v1/conversations/" + f.conv.ID, map[string]string{"status": "resolved"}
		}, [7]int{401, 404, 403, 200, 404, 404, 401}},
		{"PATCH conversation (channel)", func(f *clinicalFixture, _ string) (string, string, any) {
			return "PATCH", "/api/v1/conversations/" + f.channel.ID, map[string]string{"category": "handover"}
		}, [7]int{401, 404, 403, 200, 200, 404, 401}},
		{"GET roles", get(fixed("/api/v1/roles")), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST admin/roles", func(*clinicalFixture, string) (string, string, any) {
			return "POST", "/api/v1/admin/roles", map[string]string{"name": "Role " + uuid.NewString()}
		}, [7]int{401, 403, 403, 403, 201, 403, 401}},
		{"PATCH admin/roles/{id}", func(f *clinicalFixture, _ string) (string, string, any) {
			return "PATCH", adminRole(f), map[string]string{"name": "Renamed " + uuid.NewString()}
		}, [7]int{401, 403, 403, 403, 200, 403, 401}},
		{"POST admin/roles/{id}/rota", func(f *clinicalFixture, _ string) (string, string, any) {
			now := time.Now().UTC()
			return "POST", adminRole(f) + "/rota", map[string]any{"user_id": f.third.User.ID, "starts_at": now, "ends_at": now.Add(8 * time.Hour)}
		}, [7]int{401, 403, 403, 403, 201, 403, 401}},
		{"DELETE admin/roles/{id}/rota/{entry_id}", func(f *clinicalFixture, _ string) (string, string, any) {
			// A fresh entry for each caller, a night ahead (one each: the same person may not be
			// on a rota twice at once), so that the admin's call finds it.
			rotaNights++
			start := time.Now().UTC().Add(time.Duration(rotaNights) * 24 * time.Hour)
			var e wardline.RotaEntry
			f.ts.mustStatus(f.ts.Admin.Do("POST", adminRole(f)+"/rota", map[string]any{"user_id": f.third.User.ID, "starts_at": start, "ends_at": start.Add(12 * time.Hour)}, &e), 201)
			return "DELETE", adminRole(f) + "/rota/" + e.ID, nil
		}, [7]int{401, 403, 403, 403, 204, 403, 401}},
		{"GET roles/{id}/rota", get(func(f *clinicalFixture) string { return role(f) + "/rota" }), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"GET me/rota", get(fixed("/api/v1/me/rota")), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST roles/{id}/take", func(f *clinicalFixture, _ string) (string, string, any) { return "POST", role(f) + "/take", nil },
			[7]int{401, 204, 204, 204, 204, 204, 401}},
		{"POST roles/{id}/release", func(f *clinicalFixture, _ string) (string, string, any) { return "POST", role(f) + "/release", nil },
			[7]int{401, 204, 204, 204, 204, 204, 401}},
		{"POST roles/{id}/handover (the owner holds it)", func(f *clinicalFixture, _ string) (string, string, any) {
			return "POST", role(f) + "/handover", map[string]string{"to_user_id": f.third.User.ID}
		}, [7]int{401, 403, 403, 204, 403, 403, 401}},
		{"POST roles/{id}/messages", func(f *clinicalFixture, _ string) (string, string, any) {
			return "POST", role(f) + "/messages", map[string]any{"client_id": uuid.NewString(), "body": "please review", "priority": "urgent"}
		}, [7]int{401, 201, 201, 201, 201, 201, 401}},
		{"PUT me/status", func(*clinicalFixture, string) (string, string, any) {
			return "PUT", "/api/v1/me/status", map[string]string{"status": "on_duty"}
		}, [7]int{401, 204, 204, 204, 204, 204, 401}},
		{"GET clinical-policy", get(fixed("/api/v1/clinical-policy")), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"PUT admin/clinical-policy", func(*clinicalFixture, string) (string, string, any) {
			return "PUT", "/api/v1/admin/clinical-policy", map[string]any{"categories": []string{"theatres"}}
		}, [7]int{401, 403, 403, 403, 200, 403, 401}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.refresh(t)
			for i, caller := range callers {
				method, path, body := tc.req(f, caller)
				if got, raw := f.clients[caller].DoRaw(method, path, body, nil); got != tc.want[i] {
					t.Errorf("%s: got %d (%s), want %d", caller, got, strings.TrimSpace(string(raw)), tc.want[i])
				}
			}
		})
	}

	// A patient or role of another organisation is not found, for its admin too.
	t.Run("other organisation", func(t *testing.T) {
		f.refresh(t)
		other := otherOrgAdmin(t, f.ts)
		for _, path := range []string{"/api/v1/patients/" + f.patient.ID, "/api/v1/patients/" + f.patient.ID + "/timeline"} {
			if got := other.Do("GET", path, nil, nil); got != 404 {
				t.Errorf("GET %s: got %d, want 404", path, got)
			}
		}
		if got := other.Do("POST", "/api/v1/patients/lookup", map[string]string{"nhs_number": f.nhs, "date_of_birth": "1960-01-31"}, nil); got != 404 {
			t.Errorf("lookup: got %d, want 404", got)
		}
		for _, path := range []string{"/take", "/release", "/messages"} {
			var body any
			if path == "/messages" {
				body = map[string]string{"client_id": uuid.NewString(), "body": "x"}
			}
			if got := other.Do("POST", "/api/v1/roles/"+f.role.ID+path, body, nil); got != 404 {
				t.Errorf("POST roles/{id}%s: got %d, want 404", path, got)
			}
		}
		if got := other.Do("PATCH", "/api/v1/admin/roles/"+f.role.ID, map[string]string{"name": "Mine"}, nil); got != 404 {
			t.Errorf("PATCH admin/roles/{id}: got %d, want 404", got)
		}
		if got := other.Do("GET", "/api/v1/roles/"+f.role.ID+"/rota", nil, nil); got != 404 {
			t.Errorf("GET roles/{id}/rota: got %d, want 404", got)
		}
		start := time.Now().UTC().Add(24 * time.Hour)
		var e wardline.RotaEntry
		f.ts.mustStatus(f.ts.Admin.Do("POST", "/api/v1/admin/roles/"+f.role.ID+"/rota", map[string]any{"user_id": f.third.User.ID, "starts_at": start, "ends_at": start.Add(time.Hour)}, &e), 201)
		if got := other.Do("DELETE", "/api/v1/admin/roles/"+f.role.ID+"/rota/"+e.ID, nil, nil); got != 404 {
			t.Errorf("DELETE admin/roles/{id}/rota/{entry_id}: got %d, want 404", got)
		}
	})
}

// otherOrgAdmin creates a second organisation on the same server and signs its admin in.
func otherOrgAdmin(t *testing.T, ts *TestServer) *Client {
	t.Helper()
	ctx := wardline.NewContextWithActor(t.Context(), &wardline.Actor{Addr: "test"})
	org, admin, pw, err := ts.App.Users.CreateOrg(ctx, "Other Trust "+uuid.NewString()[:8], wardline.NewUser{Email: uuid.NewString()[:8] + "@other.nhs.uk", DisplayName: "Other Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	policy := org.Policy
	policy.MFAOptional = true // as MustRunServer does: a password alone signs in
	if err := ts.Store.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(ctx, org.ID, policy) }); err != nil {
		t.Fatal(err)
	}
	return ts.signInFirstTime(admin.Email, pw)
}
