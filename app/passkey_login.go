package app

import (
	"context"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"wardline"
)

// Signing in with a passkey: as the second step after the password, or alone where the
// organisation allows passwordless sign-in.

// BeginMFA starts a passkey assertion for the second step of a sign-in.
func (s *PasskeyService) BeginMFA(ctx context.Context, mfaToken string) (*protocol.PublicKeyCredentialRequestOptions, error) {
	if s.err != nil {
		return nil, s.err
	}
	st, err := s.auth.startMFAStep(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	opts, sd, err := s.assertionOptions(st.user, ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.newCeremony(challengeMFAWebAuthn, st.user, st.c.ID, sd)
	if err != nil {
		return nil, err
	}
	if err := s.storeCeremony(ctx, c); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishMFA completes the second step of a sign-in with the browser's passkey assertion.
func (s *PasskeyService) FinishMFA(ctx context.Context, mfaToken string, credential json.RawMessage) (*wardline.LoginResult, error) {
	if s.err != nil {
		return nil, s.err
	}
	st, err := s.auth.startMFAStep(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	c, sd, err := s.ceremony(ctx, st.c.ID, challengeMFAWebAuthn)
	if err != nil {
		return nil, err
	}
	p, err := s.verifyAssertion(ctx, st.user, sd, credential)
	if wardline.ErrorCode(err) == wardline.EUNAUTHENTICATED {
		return nil, s.auth.wrongFactor(ctx, st, wardline.MethodWebAuthn, wardline.ErrorMessage(err))
	} else if err != nil {
		return nil, err
	}
	return s.auth.finishMFAStep(ctx, st, "password+passkey", func(tx wardline.Tx) error {
		if err := tx.DeleteAuthChallenge(ctx, c.ID); err != nil && !isNotFound(err) {
			return err
		}
		return tx.UpdatePasskey(ctx, p)
	})
}

// PasskeyLogin is a passwordless sign-in begun: the id to finish it with, and the options for
// the browser.
type PasskeyLogin struct {
	ChallengeID string                                      `json:"challenge_id"`
	PublicKey   *protocol.PublicKeyCredentialRequestOptions `json:"public_key"`
}

// BeginPasswordless starts a passwordless sign-in: any discoverable passkey of this site.
func (s *PasskeyService) BeginPasswordless(ctx context.Context) (*PasskeyLogin, error) {
	if s.err != nil {
		return nil, s.err
	}
	opts, sd, err := s.assertionOptions(nil, ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.newCeremony(wardline.ChallengePasskeyLogin, nil, "", sd)
	if err != nil {
		return nil, err
	}
	if err := s.storeCeremony(ctx, c); err != nil {
		return nil, err
	}
	return &PasskeyLogin{ChallengeID: c.ID, PublicKey: opts}, nil
}

// FinishPasswordless signs in with a passkey alone: the passkey names its user. The user's
// organisation must allow it, and the user must be active.
func (s *PasskeyService) FinishPasswordless(ctx context.Context, challengeID string, credential json.RawMessage) (*wardline.LoginResult, error) {
	if s.err != nil {
		return nil, s.err
	}
	expired := wardline.Errorf(wardline.EUNAUTHENTICATED, "this passkey sign-in has expired; begin again")
	if !wardline.ValidID(challengeID) {
		return nil, expired
	}
	// The sign-in in progress first (401), then the input (400), as the MFA step does.
	c, err := s.store.AuthChallenge(ctx, challengeID)
	if isNotFound(err) {
		return nil, expired
	} else if err != nil {
		return nil, err
	}
	if c.Kind != wardline.ChallengePasskeyLogin || !s.now().Before(c.ExpiresAt) {
		return nil, expired
	}
	if len(credential) == 0 || string(credential) == "null" {
		return nil, errInvalid("credential is required")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, errInvalid("credential is not a WebAuthn assertion")
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, err
	}
	var w *waUser
	_, cred, err := s.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.store.PasskeyByCredentialID(ctx, rawID)
		if err != nil {
			return nil, err
		}
		if p.UserID != string(userHandle) {
			return nil, errWrongPasskey
		}
		u, err := s.store.User(ctx, p.UserID)
		if err != nil {
			return nil, err
		}
		if w, err = s.loadUser(ctx, u); err != nil {
			return nil, err
		}
		return w, nil
	}, sd, parsed)
	if err != nil {
		if w != nil {
			if _, ferr := s.recordFactorFailure(ctx, w.u, nil, wardline.ActionLoginFailed, "passkey"); ferr != nil {
				return nil, ferr
			}
		}
		return nil, errWrongPasskey
	}
	user := w.u
	if !user.Active() {
		ev := s.auditEvent(ctx, wardline.ActionLoginFailed, "user", user.ID)
		ev.OrgID, ev.ActorID, ev.Outcome = user.OrgID, user.ID, wardline.OutcomeDenied
		ev.Detail = map[string]any{"reason": user.Status, "method": "passkey"}
		if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
			return nil, err
		}
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "this account is %s; ask your administrator", user.Status)
	}
	org, err := s.store.Org(ctx, user.OrgID)
	if err != nil {
		return nil, err
	}
	policy := org.Policy.Normalize()
	if !policy.PasswordlessAllowed {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "your organisation asks for your password first; use the passkey as the second step")
	}
	p, err := s.movePasskeyOn(ctx, w, cred)
	if err != nil {
		return nil, err
	}
	return s.auth.startSession(ctx, user, policy, "passkey", func(tx wardline.Tx) error {
		if err := tx.DeleteAuthChallenge(ctx, c.ID); isNotFound(err) {
			return expired
		} else if err != nil {
			return err
		}
		return tx.UpdatePasskey(ctx, p)
	})
}

// BeginUnlock starts a passkey assertion to unlock the caller's locked session.
func (s *PasskeyService) BeginUnlock(ctx context.Context) (*protocol.PublicKeyCredentialRequestOptions, error) {
	a, err := requireCaller(ctx, allowLocked)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	opts, sd, err := s.assertionOptions(a.User, ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.newCeremony(wardline.ChallengeUnlock, a.User, a.Session.ID, sd)
	if err != nil {
		return nil, err
	}
	if err := s.storeCeremony(ctx, c); err != nil {
		return nil, err
	}
	return opts, nil
}

// verifyUnlock checks the assertion answering BeginUnlock; it returns the passkey moved on and
// the ceremony to delete, or EUNAUTHENTICATED for a passkey that does not match.
func (s *PasskeyService) verifyUnlock(ctx context.Context, a *wardline.Actor, credential json.RawMessage) (*wardline.Passkey, *wardline.AuthChallenge, error) {
	if s.err != nil {
		return nil, nil, s.err
	}
	c, sd, err := s.ceremony(ctx, a.Session.ID, wardline.ChallengeUnlock)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.verifyAssertion(ctx, a.User, sd, credential)
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}
