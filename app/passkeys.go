package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"wardline"
)

// Passkeys (WebAuthn) as a second factor, for passwordless sign-in where the organisation allows
// it, and to unlock a locked session. Every ceremony asks for user verification (Face ID, a
// fingerprint, the device PIN), so a passkey alone is two factors. Registrations make
// discoverable credentials, so a passwordless sign-in needs no email address first.

// WebAuthnConfig names the relying party: the host passkeys are bound to, and the origins
// (scheme, host, port) the browser may use it from.
type WebAuthnConfig struct {
	RPID          string   // e.g. "wardline.example.nhs.uk" or "localhost"; "" disables passkeys
	RPDisplayName string   // shown by the browser; "Wardline" when empty
	Origins       []string // e.g. ["https://wardline.example.nhs.uk"]
}

func (c WebAuthnConfig) enabled() bool { return c.RPID != "" && len(c.Origins) > 0 }

// ceremonyLifetime is how long a begun ceremony may be finished.
const ceremonyLifetime = 5 * time.Minute

// challengeMFAWebAuthn is a passkey assertion begun at the second step of a sign-in; its
// SessionID names the MFA step's challenge.
const challengeMFAWebAuthn = "mfa_webauthn"

// PasskeyService registers, lists and removes passkeys and runs the WebAuthn ceremonies.
type PasskeyService struct {
	*deps
	auth *AuthService
	wa   *webauthn.WebAuthn
	err  error // why passkeys are unavailable, when they are
}

func newPasskeyService(d *deps) *PasskeyService {
	s := &PasskeyService{deps: d}
	c := d.config.WebAuthn
	if !c.enabled() {
		s.err = wardline.Errorf(wardline.EFORBIDDEN, "passkeys are not configured on this server")
		return s
	}
	name := c.RPDisplayName
	if name == "" {
		name = "Wardline"
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          c.RPID,
		RPDisplayName: name,
		RPOrigins:     c.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: false, Timeout: ceremonyLifetime},
			Registration: webauthn.TimeoutConfig{Enforce: false, Timeout: ceremonyLifetime},
		},
	})
	if err != nil {
		d.log.Error("passkeys unavailable", "err", err)
		s.err = wardline.Errorf(wardline.EFORBIDDEN, "passkeys are not configured on this server")
		return s
	}
	s.wa = wa
	return s
}

// waUser is a user as the WebAuthn library sees one: the handle is the user id (opaque, not
// personal data), and the credentials are the opened passkeys.
type waUser struct {
	u     *wardline.User
	keys  []*wardline.Passkey
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Email }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.DisplayName }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// loadUser opens a user's passkeys.
func (s *PasskeyService) loadUser(ctx context.Context, u *wardline.User) (*waUser, error) {
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u, keys: keys}
	for _, k := range keys {
		b, err := s.keys.Open(ctx, wardline.MFAScope(u.ID), wardline.AAD("passkeys", k.ID, "credential"), k.Sealed)
		if err != nil {
			return nil, err
		}
		var c webauthn.Credential
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		w.creds = append(w.creds, c)
	}
	return w, nil
}

// passkeyOf finds the stored passkey of a credential the library verified.
func (w *waUser) passkeyOf(c *webauthn.Credential) *wardline.Passkey {
	for _, k := range w.keys {
		if string(k.CredentialID) == string(c.ID) {
			return k
		}
	}
	return nil
}

// newCeremony stores the WebAuthn session data of a begun ceremony. Its expiry is ours (the
// injected clock), so the library's own is cleared.
func (s *PasskeyService) newCeremony(kind string, user *wardline.User, parentID string, sd *webauthn.SessionData) (*wardline.AuthChallenge, error) {
	sd.Expires = time.Time{}
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &wardline.AuthChallenge{ID: wardline.NewID(), Kind: kind, SessionID: parentID, Data: data, CreatedAt: now, ExpiresAt: now.Add(ceremonyLifetime)}
	if user != nil {
		c.UserID, c.OrgID = user.ID, user.OrgID
	}
	return c, nil
}

// storeCeremony replaces the parent's earlier ceremonies of the kind with c.
func (s *PasskeyService) storeCeremony(ctx context.Context, c *wardline.AuthChallenge) error {
	return s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.DeleteExpiredAuthChallenges(ctx, s.now()); err != nil {
			return err
		}
		if c.SessionID != "" {
			if err := tx.DeleteSessionChallenges(ctx, c.SessionID, c.Kind); err != nil {
				return err
			}
		}
		return tx.InsertAuthChallenge(ctx, c)
	})
}

// ceremony finds the live ceremony of a kind begun by parentID, and its session data.
func (s *PasskeyService) ceremony(ctx context.Context, parentID, kind string) (*wardline.AuthChallenge, *webauthn.SessionData, error) {
	c, err := s.store.SessionChallenge(ctx, parentID, kind)
	if isNotFound(err) || (err == nil && !s.now().Before(c.ExpiresAt)) {
		return nil, nil, wardline.Errorf(wardline.ECONFLICT, "begin again: there is no passkey request in progress, or it expired")
	} else if err != nil {
		return nil, nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, nil, err
	}
	return c, &sd, nil
}

// BeginRegistration starts registering a passkey for the caller (allowed to a session that must
// enrol a second factor). It answers the PublicKeyCredentialCreationOptions for the browser.
func (s *PasskeyService) BeginRegistration(ctx context.Context) (*protocol.PublicKeyCredentialCreationOptions, error) {
	a, err := requireCaller(ctx, allowEnrolment)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	w, err := s.loadUser(ctx, a.User)
	if err != nil {
		return nil, err
	}
	creation, sd, err := s.wa.BeginRegistration(w,
		webauthn.WithExclusions(webauthn.Credentials(w.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	c, err := s.newCeremony(wardline.ChallengePasskeyRegister, a.User, a.Session.ID, sd)
	if err != nil {
		return nil, err
	}
	if err := s.storeCeremony(ctx, c); err != nil {
		return nil, err
	}
	return &creation.Response, nil
}

// FinishRegistration checks the browser's answer to BeginRegistration and keeps the passkey
// under the given name. On a session that had to enrol it lifts that restriction.
func (s *PasskeyService) FinishRegistration(ctx context.Context, name string, credential json.RawMessage) (*wardline.Passkey, error) {
	a, err := requireCaller(ctx, allowEnrolment)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 100 {
		return nil, errInvalid("name must be at most 100 characters")
	}
	if len(credential) == 0 || string(credential) == "null" {
		return nil, errInvalid("credential is required")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, errInvalid("credential is not a WebAuthn registration response")
	}
	c, sd, err := s.ceremony(ctx, a.Session.ID, wardline.ChallengePasskeyRegister)
	if err != nil {
		return nil, err
	}
	w, err := s.loadUser(ctx, a.User)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.CreateCredential(w, *sd, parsed)
	if err != nil {
		return nil, errInvalid("the passkey could not be verified: " + webauthnReason(err))
	}
	if name == "" {
		name = fmt.Sprintf("Passkey %d", len(w.keys)+1)
	}
	key, err := s.mfaKey(ctx, a.User.OrgID, a.User.ID)
	if err != nil {
		return nil, err
	}
	p := &wardline.Passkey{ID: wardline.NewID(), UserID: a.User.ID, OrgID: a.User.OrgID, CredentialID: cred.ID, Name: name, CreatedAt: s.now()}
	if p.Sealed, err = s.sealCredential(ctx, p, cred); err != nil {
		s.forgetNewKey(key, err)
		return nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionPasskeyRegistered, "passkey", p.ID)
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.DeleteAuthChallenge(ctx, c.ID); err != nil {
			return err
		}
		if key != nil {
			if err := tx.InsertKey(ctx, key); err != nil {
				return err
			}
		}
		if err := tx.InsertPasskey(ctx, p); err != nil {
			return err
		}
		if err := liftEnrolment(ctx, tx, a.Session.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	s.forgetNewKey(key, err)
	if err != nil {
		return nil, err
	}
	a.Session.MFAEnrollmentRequired = false
	return p, nil
}

func (s *PasskeyService) sealCredential(ctx context.Context, p *wardline.Passkey, c *webauthn.Credential) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return s.keys.Seal(ctx, wardline.MFAScope(p.UserID), wardline.AAD("passkeys", p.ID, "credential"), b)
}

// webauthnReason is the library's short description of a failed check (no secrets in it).
func webauthnReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return "it does not match the request"
}

// List returns the caller's passkeys.
func (s *PasskeyService) List(ctx context.Context) ([]*wardline.Passkey, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.Passkeys(ctx, a.User.ID)
	if keys == nil && err == nil {
		keys = []*wardline.Passkey{}
	}
	return keys, err
}

// Remove deletes one of the caller's passkeys; another person's is not found. Where the
// organisation requires a second factor, one must remain.
func (s *PasskeyService) Remove(ctx context.Context, id string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	keys, err := s.store.Passkeys(ctx, a.User.ID)
	if err != nil {
		return err
	}
	var found *wardline.Passkey
	for _, k := range keys {
		if k.ID == id {
			found = k
		}
	}
	if found == nil {
		return wardline.Errorf(wardline.ENOTFOUND, "passkey not found")
	}
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return err
	}
	if err := s.keepsSecondFactor(ctx, a.User, len(keys)-1, m.HasTOTP()); err != nil {
		return err
	}
	ev := s.auditEvent(ctx, wardline.ActionPasskeyRemoved, "passkey", id)
	return s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.DeletePasskey(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// verifyAssertion checks a passkey assertion for user against a ceremony's session data, and
// returns the passkey with its record moved on (sign count, flags, last use), sealed again, for
// the caller to write. A possibly cloned authenticator is refused.
func (s *PasskeyService) verifyAssertion(ctx context.Context, user *wardline.User, sd *webauthn.SessionData, credential json.RawMessage) (*wardline.Passkey, error) {
	if len(credential) == 0 || string(credential) == "null" {
		return nil, errInvalid("credential is required")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, errInvalid("credential is not a WebAuthn assertion")
	}
	w, err := s.loadUser(ctx, user)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.ValidateLogin(w, *sd, parsed)
	if err != nil {
		return nil, errWrongPasskey
	}
	return s.movePasskeyOn(ctx, w, cred)
}

var errWrongPasskey = wardline.Errorf(wardline.EUNAUTHENTICATED, "the passkey was not accepted")

func (s *PasskeyService) movePasskeyOn(ctx context.Context, w *waUser, cred *webauthn.Credential) (*wardline.Passkey, error) {
	if cred.Authenticator.CloneWarning {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "this passkey's signature counter went backwards: it may have been copied; ask your administrator")
	}
	p := w.passkeyOf(cred)
	if p == nil {
		return nil, errWrongPasskey
	}
	now := s.now()
	p.LastUsedAt = &now
	sealed, err := s.sealCredential(ctx, p, cred)
	if err != nil {
		return nil, err
	}
	p.Sealed = sealed
	return p, nil
}

// assertionOptions begins an assertion for user (nil: discoverable, any user).
func (s *PasskeyService) assertionOptions(user *wardline.User, ctx context.Context) (*protocol.PublicKeyCredentialRequestOptions, *webauthn.SessionData, error) {
	if user == nil {
		a, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, nil, err
		}
		return &a.Response, sd, nil
	}
	w, err := s.loadUser(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	if len(w.creds) == 0 {
		return nil, nil, wardline.Errorf(wardline.ECONFLICT, "no passkey is registered for this account")
	}
	a, sd, err := s.wa.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, err
	}
	return &a.Response, sd, nil
}
