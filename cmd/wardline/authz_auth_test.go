package main

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestAuthorizationMatrixAuth tries every endpoint of strong authentication as each kind of
// caller. Every caller acts on their own account; the cases run in order, so that later ones
// find what earlier ones left (a PIN set, then removed; a TOTP secret issued, not confirmed).
func TestAuthorizationMatrixAuth(t *testing.T) {
	f := newAuthzFixture(t)
	fixed := func(method, path string, body any) func(*authzFixture, string) (string, string, any) {
		return func(*authzFixture, string) (string, string, any) { return method, path, body }
	}
	target := func(method, suffix string, body any) func(*authzFixture, string) (string, string, any) {
		return func(f *authzFixture, _ string) (string, string, any) {
			return method, "/api/v1/admin/users/" + f.target.User.ID + suffix, body
		}
	}
	badToken := map[string]string{"mfa_token": "not-a-token", "code": "123456"}
	all401 := [7]int{401, 401, 401, 401, 401, 401, 401}

	//                 anonymous  non-member  member  owner  admin  auditor  suspended
	cases := []authzCase{
		{"POST auth/mfa/totp (unknown token)", fixed("POST", "/api/v1/auth/mfa/totp", badToken), all401},
		{"POST auth/mfa/recovery (unknown token)", fixed("POST", "/api/v1/auth/mfa/recovery", badToken), all401},
		{"POST auth/mfa/webauthn/begin (unknown token)", fixed("POST", "/api/v1/auth/mfa/webauthn/begin", map[string]string{"mfa_token": "x"}), all401},
		{"POST auth/mfa/webauthn/finish (unknown token)", fixed("POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": "x", "credential": map[string]any{}}), all401},
		{"POST auth/passkey/begin", fixed("POST", "/api/v1/auth/passkey/begin", nil), [7]int{200, 200, 200, 200, 200, 200, 200}},
		{"POST auth/passkey/finish (not a credential)", func(f *authzFixture, _ string) (string, string, any) {
			var begun struct {
				ChallengeID string `json:"challenge_id"`
			}
			f.ts.mustStatus(f.clients["anonymous"].Do("POST", "/api/v1/auth/passkey/begin", nil, &begun), 200)
			return "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": begun.ChallengeID, "credential": map[string]any{"id": "x"}}
		}, [7]int{400, 400, 400, 400, 400, 400, 400}},
		{"POST auth/passkey/finish (unknown challenge)", fixed("POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": uuid.NewString(), "credential": map[string]any{"id": "x"}}), all401},
		{"GET me/security", fixed("GET", "/api/v1/me/security", nil), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST me/totp", fixed("POST", "/api/v1/me/totp", nil), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST me/totp/confirm (wrong code)", fixed("POST", "/api/v1/me/totp/confirm", map[string]string{"code": "abcdef"}), [7]int{401, 400, 400, 400, 400, 400, 401}},
		{"DELETE me/totp (none enrolled)", fixed("DELETE", "/api/v1/me/totp", nil), [7]int{401, 404, 404, 404, 404, 404, 401}},
		{"POST me/recovery-codes (no TOTP)", fixed("POST", "/api/v1/me/recovery-codes", nil), [7]int{401, 409, 409, 409, 409, 409, 401}},
		{"POST me/passkeys/begin", fixed("POST", "/api/v1/me/passkeys/begin", nil), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST me/passkeys/finish (not a credential)", fixed("POST", "/api/v1/me/passkeys/finish", map[string]any{"credential": map[string]any{"id": "x"}}), [7]int{401, 400, 400, 400, 400, 400, 401}},
		{"GET me/passkeys", fixed("GET", "/api/v1/me/passkeys", nil), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"DELETE me/passkeys/{id} (unknown)", fixed("DELETE", "/api/v1/me/passkeys/"+uuid.NewString(), nil), [7]int{401, 404, 404, 404, 404, 404, 401}},
		{"PUT me/pin", fixed("PUT", "/api/v1/me/pin", map[string]string{"pin": "4729"}), [7]int{401, 204, 204, 204, 204, 204, 401}},
		{"DELETE me/pin", fixed("DELETE", "/api/v1/me/pin", nil), [7]int{401, 204, 204, 204, 204, 204, 401}},
		{"POST me/lock (nothing to unlock with)", fixed("POST", "/api/v1/me/lock", nil), [7]int{401, 409, 409, 409, 409, 409, 401}},
		{"POST me/unlock/begin (no passkey)", fixed("POST", "/api/v1/me/unlock/begin", nil), [7]int{401, 409, 409, 409, 409, 409, 401}},
		{"POST me/unlock (no PIN set)", fixed("POST", "/api/v1/me/unlock", map[string]string{"pin": "1234"}), [7]int{401, 409, 409, 409, 409, 409, 401}},
		{"GET me/sessions", fixed("GET", "/api/v1/me/sessions", nil), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"DELETE me/sessions/{id} (not the caller's)", fixed("DELETE", "/api/v1/me/sessions/"+uuid.NewString(), nil), [7]int{401, 404, 404, 404, 404, 404, 401}},
		{"GET admin/users/{id}/sessions", target("GET", "/sessions", nil), [7]int{401, 403, 403, 403, 200, 403, 401}},
		{"DELETE admin/users/{id}/sessions/{session_id} (unknown)", target("DELETE", "/sessions/"+uuid.NewString(), nil), [7]int{401, 403, 403, 403, 404, 403, 401}},
		{"POST admin/users/{id}/sessions/revoke-all", target("POST", "/sessions/revoke-all", nil), [7]int{401, 403, 403, 403, 204, 403, 401}},
		{"POST admin/users/{id}/reset-password", target("POST", "/reset-password", nil), [7]int{401, 403, 403, 403, 200, 403, 401}},
		{"POST admin/users/{id}/reset-mfa", target("POST", "/reset-mfa", nil), [7]int{401, 403, 403, 403, 204, 403, 401}},
		{"GET admin/policy", fixed("GET", "/api/v1/admin/policy", nil), [7]int{401, 403, 403, 403, 200, 403, 401}},
		{"PATCH admin/policy", fixed("PATCH", "/api/v1/admin/policy", map[string]any{"mfa_required": false}), [7]int{401, 403, 403, 403, 200, 403, 401}},
		// Last: it ends every session of the caller, who then signs in again.
		{"POST me/sessions/revoke-all", fixed("POST", "/api/v1/me/sessions/revoke-all", nil), [7]int{401, 204, 204, 204, 204, 204, 401}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.refresh(t)
			for i, caller := range callers {
				c := f.clients[caller]
				method, path, body := tc.req(f, caller)
				if got, raw := c.DoRaw(method, path, body, nil); got != tc.want[i] {
					t.Errorf("%s: got %d (%s), want %d", caller, got, strings.TrimSpace(string(raw)), tc.want[i])
				}
				if strings.HasSuffix(tc.name, "me/sessions/revoke-all") && c.User != nil && caller != "suspended" && tc.want[i] == 204 {
					again := f.ts.Login(c.User.Email, c.User.PasswordHash)
					c.Token = again.Token
				}
			}
		})
	}
}
