package http

import (
	"encoding/json"
	"errors"
	"net/http"

	"wardline"
)

// Strong authentication: the second step of sign-in, passwordless sign-in, second factors, PIN
// lock and unlock, device sessions, and their administration.

// mfaRequiredBody is login's 401 when a second factor is needed (API.md "Authentication").
type mfaRequiredBody struct {
	errorBody
	MFAToken string   `json:"mfa_token"`
	Methods  []string `json:"methods"`
}

// loginError writes a sign-in failure: the mfa_required answer with its token and methods, or
// the usual error object.
func (s *Server) loginError(w http.ResponseWriter, r *http.Request, err error) {
	var mfa *wardline.MFARequiredError
	if errors.As(err, &mfa) {
		var body mfaRequiredBody
		body.Error.Code, body.Error.Message = wardline.EMFAREQUIRED, mfa.Err.Message
		body.MFAToken, body.Methods = mfa.Token, mfa.Methods
		writeJSON(w, http.StatusUnauthorized, body)
		return
	}
	s.Error(w, r, err)
}

// writeLogin answers a completed sign-in, the token in an HttpOnly cookie for a browser.
func (s *Server) writeLogin(w http.ResponseWriter, r *http.Request, res *wardline.LoginResult) {
	out := loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: res.User,
		PasswordChangeRequired: res.PasswordChangeRequired, MFAEnrollmentRequired: res.MFAEnrollmentRequired,
		LockIdleSeconds: res.LockIdleSeconds}
	if r.Header.Get(csrfHeader) == "1" {
		// A browser: the token lives only in an HttpOnly cookie that scripts cannot read.
		http.SetCookie(w, &http.Cookie{
			Name:     sessionCookie,
			Value:    res.Token,
			Path:     "/",
			Expires:  res.ExpiresAt,
			HttpOnly: true,
			Secure:   true,
			SameSite: http.SameSiteStrictMode,
		})
		out.Token = ""
	}
	writeJSON(w, http.StatusOK, out)
}

type mfaCodeRequest struct {
	MFAToken string `json:"mfa_token"`
	Code     string `json:"code"`
}

func (s *Server) handleMFATOTP(w http.ResponseWriter, r *http.Request) {
	var req mfaCodeRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Auth.VerifyTOTP(anonymousContext(r), req.MFAToken, req.Code)
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	s.writeLogin(w, r, res)
}

func (s *Server) handleMFARecovery(w http.ResponseWriter, r *http.Request) {
	var req mfaCodeRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Auth.UseRecoveryCode(anonymousContext(r), req.MFAToken, req.Code)
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	s.writeLogin(w, r, res)
}

type mfaTokenRequest struct {
	MFAToken string `json:"mfa_token"`
}

// publicKeyResponse carries WebAuthn options in the W3C JSON form that
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON take.
type publicKeyResponse struct {
	PublicKey any `json:"public_key"`
}

func (s *Server) handleMFAWebAuthnBegin(w http.ResponseWriter, r *http.Request) {
	var req mfaTokenRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	opts, err := s.app.Passkeys.BeginMFA(anonymousContext(r), req.MFAToken)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, publicKeyResponse{opts})
}

type mfaWebAuthnRequest struct {
	MFAToken   string          `json:"mfa_token"`
	Credential json.RawMessage `json:"credential"`
}

func (s *Server) handleMFAWebAuthnFinish(w http.ResponseWriter, r *http.Request) {
	var req mfaWebAuthnRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Passkeys.FinishMFA(anonymousContext(r), req.MFAToken, req.Credential)
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	s.writeLogin(w, r, res)
}

func (s *Server) handlePasskeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Passkeys.BeginPasswordless(anonymousContext(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type passkeyLoginRequest struct {
	ChallengeID string          `json:"challenge_id"`
	Credential  json.RawMessage `json:"credential"`
}

func (s *Server) handlePasskeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	var req passkeyLoginRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Passkeys.FinishPasswordless(anonymousContext(r), req.ChallengeID, req.Credential)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeLogin(w, r, res)
}

func (s *Server) handleSecurity(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, probeFirst(err, func() error { _, e := s.app.Auth.Security(r.Context()); return e }))
		return
	}
	sec, err := s.app.Auth.Security(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sec)
}

func (s *Server) handleBeginTOTP(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.app.Auth.BeginTOTP(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

type codeRequest struct {
	Code string `json:"code"`
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) handleConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Auth.ConfirmTOTP(r.Context(), "")
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	codes, err := s.app.Auth.ConfirmTOTP(r.Context(), req.Code)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{codes})
}

// noContent runs a call that takes no body and answers 204.
func (s *Server) noContent(call func(*http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := noBody(r); err != nil {
			s.Error(w, r, err)
			return
		}
		if err := call(r); err != nil {
			s.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleRemoveTOTP(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Auth.RemoveTOTP(r.Context()) })(w, r)
}

func (s *Server) handleNewRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	codes, err := s.app.Auth.NewRecoveryCodes(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{codes})
}

func (s *Server) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	opts, err := s.app.Passkeys.BeginRegistration(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, publicKeyResponse{opts})
}

type passkeyRegisterRequest struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func (s *Server) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	var req passkeyRegisterRequest
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Passkeys.FinishRegistration(r.Context(), "", nil)
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Passkeys.FinishRegistration(r.Context(), req.Name, req.Credential)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) handleListPasskeys(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, probeFirst(err, func() error { _, e := s.app.Passkeys.List(r.Context()); return e }))
		return
	}
	keys, err := s.app.Passkeys.List(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(keys, ""))
}

func (s *Server) handleRemovePasskey(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Passkeys.Remove(r.Context(), r.PathValue("id")) })(w, r)
}

type pinRequest struct {
	PIN string `json:"pin"`
}

func (s *Server) handleSetPIN(w http.ResponseWriter, r *http.Request) {
	var req pinRequest
	if err := s.decode(r, &req, func() error { return s.app.Auth.SetPIN(r.Context(), "") }); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Auth.SetPIN(r.Context(), req.PIN); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRemovePIN(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Auth.RemovePIN(r.Context()) })(w, r)
}

func (s *Server) handleLock(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Auth.Lock(r.Context()) })(w, r)
}

func (s *Server) handleUnlockBegin(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	opts, err := s.app.Passkeys.BeginUnlock(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, publicKeyResponse{opts})
}

type unlockRequest struct {
	PIN        string          `json:"pin"`
	Credential json.RawMessage `json:"credential"`
}

func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request) {
	var req unlockRequest
	if err := s.decode(r, &req, func() error { return s.app.Auth.Unlock(r.Context(), "", nil) }); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Auth.Unlock(r.Context(), req.PIN, req.Credential); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMySessions(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, probeFirst(err, func() error { _, e := s.app.Auth.Sessions(r.Context()); return e }))
		return
	}
	list, err := s.app.Auth.Sessions(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
}

func (s *Server) handleEndMySession(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Auth.EndSession(r.Context(), r.PathValue("id")) })(w, r)
}

func (s *Server) handleEndAllMySessions(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Auth.EndAllSessions(r.Context()); err != nil {
		s.Error(w, r, err)
		return
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleUserSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		// Not UserSessions itself: it would audit a listing the caller never saw.
		s.Error(w, r, probeFirst(err, func() error { return s.app.Users.CheckUserSessions(r.Context(), r.PathValue("id")) }))
		return
	}
	list, err := s.app.Users.UserSessions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
}

func (s *Server) handleEndUserSession(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error {
		return s.app.Users.EndUserSession(r.Context(), r.PathValue("id"), r.PathValue("session_id"))
	})(w, r)
}

func (s *Server) handleEndAllUserSessions(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Users.EndAllUserSessions(r.Context(), r.PathValue("id")) })(w, r)
}

func (s *Server) handleResetMFA(w http.ResponseWriter, r *http.Request) {
	s.noContent(func(r *http.Request) error { return s.app.Users.ResetMFA(r.Context(), r.PathValue("id")) })(w, r)
}

type resetPasswordResponse struct {
	InitialPassword string `json:"initial_password"`
}

func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	pw, err := s.app.Users.ResetPassword(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resetPasswordResponse{pw})
}

func (s *Server) handleGetPolicy(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, probeFirst(err, func() error { _, e := s.app.Users.Policy(r.Context()); return e }))
		return
	}
	p, err := s.app.Users.Policy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// policyRequest is the policy as a client sends it: every field named, nothing unknown.
type policyRequest struct {
	SessionIdleMinutes     *int  `json:"session_idle_minutes"`
	SessionAbsoluteMinutes *int  `json:"session_absolute_minutes"`
	LoginLockFailures      *int  `json:"login_lock_failures"`
	LoginAddrFailures      *int  `json:"login_addr_failures"`
	LoginWindowMinutes     *int  `json:"login_window_minutes"`
	LoginLockMinutes       *int  `json:"login_lock_minutes"`
	LockIdleSeconds        *int  `json:"lock_idle_seconds"`
	MFARequired            *bool `json:"mfa_required"`
	PasswordlessAllowed    *bool `json:"passwordless_allowed"`
}

// apply writes the fields the request names into cur: a field left out keeps its value, and a
// negative number is refused.
func (p *policyRequest) apply(cur *wardline.OrgPolicy) error {
	ints := []struct {
		v   *int
		dst *int
	}{
		{p.SessionIdleMinutes, &cur.SessionIdleMinutes}, {p.SessionAbsoluteMinutes, &cur.SessionAbsoluteMinutes},
		{p.LoginLockFailures, &cur.LoginLockFailures}, {p.LoginAddrFailures, &cur.LoginAddrFailures},
		{p.LoginWindowMinutes, &cur.LoginWindowMinutes}, {p.LoginLockMinutes, &cur.LoginLockMinutes},
		{p.LockIdleSeconds, &cur.LockIdleSeconds},
	}
	for _, f := range ints {
		if f.v != nil {
			if *f.v < 0 {
				return wardline.Errorf(wardline.EINVALID, "policy numbers must not be negative")
			}
			*f.dst = *f.v
		}
	}
	if p.MFARequired != nil {
		cur.MFAOptional = !*p.MFARequired
	}
	if p.PasswordlessAllowed != nil {
		cur.PasswordlessAllowed = *p.PasswordlessAllowed
	}
	return nil
}

func (s *Server) handleSetPolicy(w http.ResponseWriter, r *http.Request) {
	var req policyRequest
	if err := s.decode(r, &req, func() error { _, e := s.app.Users.Policy(r.Context()); return e }); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Users.UpdatePolicy(r.Context(), req.apply)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
