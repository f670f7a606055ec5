package main

import (
	"context"
	"strings"
	"testing"

	"wardline"
)

// TestAuthorizationMatrixAudit tries every audit endpoint as every kind of caller. Only IG
// officers (auditors) use the log; admins and officers set the alert thresholds; the signed
// checkpoint and consistency proofs are for anyone.
func TestAuthorizationMatrixAudit(t *testing.T) {
	f := newAuthzFixture(t)
	ctx := context.Background()
	ig := f.clients["auditor"]
	// A checkpoint to prove against, signed now rather than after a minute.
	checkpoint := func(f *authzFixture) {
		if _, err := f.ts.App.Checkpoints.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	newInvestigation := func(f *authzFixture) string {
		var inv wardline.Investigation
		f.ts.mustStatus(ig.Do("POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": f.conv.ID, "justification": "Complaint ref C-1 about the ward round"}, &inv), 201)
		return "/api/v1/audit/investigations/" + inv.ID
	}
	get := func(p string) func(*authzFixture, string) (string, string, any) {
		return func(*authzFixture, string) (string, string, any) { return "GET", p, nil }
	}
	//                 anonymous  non-member  member  owner  admin  auditor  suspended
	cases := []authzCase{
		{"POST audit/search", func(*authzFixture, string) (string, string, any) {
			return "POST", "/api/v1/audit/search", map[string]any{"action": wardline.ActionMessageSent}
		}, [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"POST audit/export", func(*authzFixture, string) (string, string, any) {
			return "POST", "/api/v1/audit/export", map[string]any{"format": "json"}
		}, [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"GET audit/checkpoint", func(f *authzFixture, _ string) (string, string, any) {
			checkpoint(f)
			return "GET", "/api/v1/audit/checkpoint", nil
		}, [7]int{200, 200, 200, 200, 200, 200, 200}},
		{"GET audit/proof/consistency", func(f *authzFixture, _ string) (string, string, any) {
			checkpoint(f)
			return "GET", "/api/v1/audit/proof/consistency?from=1", nil
		}, [7]int{200, 200, 200, 200, 200, 200, 200}},
		{"GET audit/proof/inclusion", func(f *authzFixture, _ string) (string, string, any) {
			checkpoint(f)
			return "GET", "/api/v1/audit/proof/inclusion?seq=2", nil
		}, [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"POST audit/investigations", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": f.conv.ID, "justification": "Complaint ref C-2 about the ward round"}
		}, [7]int{401, 403, 403, 403, 403, 201, 401}},
		{"GET audit/investigations", get("/api/v1/audit/investigations"), [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"GET audit/investigations/{id}", func(f *authzFixture, _ string) (string, string, any) {
			return "GET", newInvestigation(f), nil
		}, [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"POST audit/investigations/{id}/close", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", newInvestigation(f) + "/close", nil
		}, [7]int{401, 403, 403, 403, 403, 204, 401}},
		{"GET audit/investigations/{id}/transcript", func(f *authzFixture, _ string) (string, string, any) {
			return "GET", newInvestigation(f) + "/transcript", nil
		}, [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"GET audit/alerts", get("/api/v1/audit/alerts"), [7]int{401, 403, 403, 403, 403, 200, 401}},
		{"GET audit/alert-policy", get("/api/v1/audit/alert-policy"), [7]int{401, 403, 403, 403, 200, 200, 401}},
		{"PUT audit/alert-policy", func(*authzFixture, string) (string, string, any) {
			return "PUT", "/api/v1/audit/alert-policy", map[string]any{"conversations_read_per_hour": 50}
		}, [7]int{401, 403, 403, 403, 200, 200, 401}},
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
}

// Officers see only their own organisation: its entries, conversations and cases.
func TestAuditOrgScoping(t *testing.T) {
	ts := MustRunServer(t)
	ig := ts.NewUser("auditor")
	a := ts.NewUser("member")
	conv := a.StartConversation("group", "North ward", ts.Admin)
	var inv wardline.Investigation
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": conv.ID, "justification": "Complaint ref N-7, north ward"}, &inv), 201)

	// A second organisation on the same server, with its own officer.
	ctx := wardline.NewContextWithActor(context.Background(), &wardline.Actor{Addr: "test"})
	org2, admin2, pw, err := ts.App.Users.CreateOrg(ctx, "South Trust", wardline.NewUser{Email: "admin@south.nhs.uk", DisplayName: "South Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	policy := org2.Policy
	policy.MFAOptional = true
	if err := ts.Store.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(ctx, org2.ID, policy) }); err != nil {
		t.Fatal(err)
	}
	south := ts.signInFirstTime(admin2.Email, pw)
	saved := ts.Admin
	ts.Admin = south
	ig2 := ts.NewUser("auditor")
	ts.Admin = saved

	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/investigations/"+inv.ID, nil, nil), 404)
	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/investigations/"+inv.ID+"/transcript", nil, nil), 404)
	ts.mustStatus(ig2.Do("POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": conv.ID, "justification": "Looking at another trust's ward"}, nil), 404)
	var found auditList
	ts.mustStatus(ig2.Do("POST", "/api/v1/audit/search", map[string]any{"conversation_id": conv.ID}, &found), 200)
	if len(found.Items) != 0 {
		t.Errorf("an officer of another organisation found %d entries", len(found.Items))
	}
	ts.mustStatus(ig2.Do("POST", "/api/v1/audit/search", map[string]any{"limit": 200}, &found), 200)
	for _, e := range found.Items {
		if e.OrgID != admin2.OrgID {
			t.Fatalf("search returned entry %d of organisation %s", e.Seq, e.OrgID)
		}
	}
	var list struct {
		Items []wardline.Investigation `json:"items"`
	}
	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/investigations", nil, &list), 200)
	if len(list.Items) != 0 {
		t.Errorf("another organisation's investigations are listed")
	}
	// Inclusion proofs only for the officer's own entries: entry 2 is the first trust's (1 is the signing key's).
	if _, err := ts.App.Checkpoints.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.mustStatus(ig2.Do("GET", "/api/v1/audit/proof/inclusion?seq=2", nil, nil), 404)
	ts.mustStatus(ig.Do("GET", "/api/v1/audit/proof/inclusion?seq=2", nil, nil), 200)
}

// Bad input to every audit endpoint answers 4xx with a code and changes nothing.
func TestAuditBadInput(t *testing.T) {
	ts := MustRunServer(t)
	ig := ts.NewUser("auditor")
	conv := ig.StartConversation("group", "x", ts.Admin)
	cases := []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/v1/audit/search", `{"limit": 500}`, 400},
		{"POST", "/api/v1/audit/search", `{"actor_id": "nope"}`, 400},
		{"POST", "/api/v1/audit/search", `{"nhs_number": "12345"}`, 400},
		{"POST", "/api/v1/audit/search", `{"since": "2025-01-02T00:00:00Z", "until": "2025-01-01T00:00:00Z"}`, 400},
		{"POST", "/api/v1/audit/search", `{"cursor": "!!"}`, 400},
		{"POST", "/api/v1/audit/search", `{"unknown": 1}`, 400},
		{"POST", "/api/v1/audit/search", `{"format": "csv"}`, 400},
		{"POST", "/api/v1/audit/export", `{"format": "xml"}`, 400},
		{"POST", "/api/v1/audit/export", `{"format": "csv", "limit": 3}`, 400},
		{"GET", "/api/v1/audit/checkpoint?x=1", nil, 400},
		{"GET", "/api/v1/audit/proof/consistency?from=0", nil, 404}, // no checkpoint yet
		{"GET", "/api/v1/audit/proof/inclusion?seq=x", nil, 400},
		{"POST", "/api/v1/audit/investigations", `{"conversation_id": "` + conv.ID + `", "justification": "short"}`, 400},
		{"POST", "/api/v1/audit/investigations", `{"conversation_id": "` + wardline.NewID() + `", "justification": "a long enough justification"}`, 404},
		{"POST", "/api/v1/audit/investigations", `[]`, 400},
		{"GET", "/api/v1/audit/investigations?limit=0", nil, 400},
		{"GET", "/api/v1/audit/investigations/not-an-id", nil, 404},
		{"GET", "/api/v1/audit/investigations/" + wardline.NewID() + "/transcript?format=doc", nil, 404},
		{"GET", "/api/v1/audit/alerts?kind=nope", nil, 400},
		{"PUT", "/api/v1/audit/alert-policy", `{"working_hours": "7-8"}`, 400},
		{"PUT", "/api/v1/audit/alert-policy", `{"time_zone": "Mars/Olympus"}`, 400},
		{"PUT", "/api/v1/audit/alert-policy", `{"conversations_read_per_hour": 2000000}`, 400},
		{"PUT", "/api/v1/audit/alert-policy", `{"disabled": ["nope"]}`, 400},
	}
	for _, tc := range cases {
		status, raw := ig.DoRaw(tc.method, tc.path, tc.body, nil)
		if status != tc.status || errCode(raw) == "" {
			t.Errorf("%s %s %v: got %d %s, want %d with a code", tc.method, tc.path, tc.body, status, raw, tc.status)
		}
	}
	var pol wardline.AlertPolicy
	ts.mustStatus(ig.Do("GET", "/api/v1/audit/alert-policy", nil, &pol), 200)
	if pol.ConversationsPerHour != wardline.DefaultAlertPolicy.ConversationsPerHour || pol.WorkingHours != wardline.DefaultAlertPolicy.WorkingHours {
		t.Errorf("a refused change changed the policy: %+v", pol)
	}
	var inv wardline.Investigation
	ts.mustStatus(ig.Do("POST", "/api/v1/audit/investigations", map[string]string{"conversation_id": conv.ID, "justification": "Complaint ref B-1 about this"}, &inv), 201)
	ts.mustStatus(ig.Do("GET", "/api/v1/audit/investigations/"+inv.ID+"/transcript?format=doc", nil, nil), 400)
}
