package app

import (
	"context"
	"encoding/json"

	"wardline"
)

// PIN unlock. After the organisation's idle time the client locks its screen and tells the
// server (Lock); until the PIN or a passkey unlocks it, the session may do nothing else and its
// event streams carry nothing with content. MaxPINFailures wrong answers end the session.

// validPIN reports whether pin is 4 to 8 ASCII digits.
func validPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 8 {
		return false
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SetPIN sets or replaces the caller's unlock PIN (stored as an argon2id hash).
func (s *AuthService) SetPIN(ctx context.Context, pin string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !validPIN(pin) {
		return errInvalid("pin must be 4 to 8 digits")
	}
	hash, err := hashPassword(pin, s.config.PasswordParams)
	if err != nil {
		return err
	}
	ev := s.auditEvent(ctx, wardline.ActionPINSet, "user", a.User.ID)
	_, err = s.updateMFA(ctx, a.User, func(m *wardline.UserMFA) error {
		m.PINHash = hash
		return nil
	}, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) })
	return err
}

// RemovePIN removes the caller's PIN.
func (s *AuthService) RemovePIN(ctx context.Context) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return err
	}
	if !m.HasPIN() {
		return wardline.Errorf(wardline.ENOTFOUND, "no PIN is set")
	}
	ev := s.auditEvent(ctx, wardline.ActionPINRemoved, "user", a.User.ID)
	_, err = s.updateMFA(ctx, a.User, func(m *wardline.UserMFA) error {
		m.PINHash = ""
		return nil
	}, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) })
	return err
}

// Lock locks the caller's session: the client's screen locked. The caller needs a PIN or a
// passkey to unlock with. Locking a locked session changes nothing.
func (s *AuthService) Lock(ctx context.Context) error {
	a, err := requireCaller(ctx, allowLocked)
	if err != nil {
		return err
	}
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return err
	}
	if !m.HasPIN() {
		keys, err := s.store.Passkeys(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if len(keys) == 0 || !s.config.WebAuthn.enabled() {
			return wardline.Errorf(wardline.ECONFLICT, "set a PIN or register a passkey first, to have something to unlock with")
		}
	}
	now := s.now()
	already := false
	ev := s.auditEvent(ctx, wardline.ActionSessionLocked, "session", a.Session.ID)
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		sess, err := tx.Session(ctx, a.Session.ID)
		if err != nil {
			return err
		}
		if already = sess.Locked(); already {
			return nil
		}
		sess.LockedAt, sess.PINFailures = &now, 0
		if err := tx.UpdateSessionState(ctx, sess); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	a.Session.LockedAt = &now
	if already {
		return nil
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventSessionLocked, Recipients: []string{a.User.ID}, SessionIDs: []string{a.Session.ID}})
	return nil
}

// Unlock unlocks the caller's session with the PIN or (credential set) a passkey assertion
// answering BeginUnlock. A wrong answer is counted; the MaxPINFailures-th ends the session.
func (s *AuthService) Unlock(ctx context.Context, pin string, credential json.RawMessage) error {
	a, err := requireCaller(ctx, allowLocked)
	if err != nil {
		return err
	}
	hasCred := len(credential) > 0 && string(credential) != "null"
	if (pin == "") == !hasCred {
		return errInvalid("send either pin or credential")
	}
	var passkey *wardline.Passkey
	var ceremony *wardline.AuthChallenge
	method := "pin"
	if hasCred {
		method = "passkey"
		passkey, ceremony, err = s.passkeys.verifyUnlock(ctx, a, credential)
		if wardline.ErrorCode(err) == wardline.EUNAUTHENTICATED {
			return s.wrongUnlock(ctx, a, method)
		} else if err != nil {
			return err
		}
	} else {
		if !validPIN(pin) {
			return errInvalid("pin must be 4 to 8 digits")
		}
		m, err := s.userMFA(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if !m.HasPIN() {
			return wardline.Errorf(wardline.ECONFLICT, "no PIN is set; unlock with a passkey or sign in again")
		}
		if !checkPassword(pin, m.PINHash) {
			return s.wrongUnlock(ctx, a, method)
		}
	}
	ev := s.auditEvent(ctx, wardline.ActionSessionUnlocked, "session", a.Session.ID)
	ev.Detail = map[string]any{"method": method}
	wasLocked := false
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		sess, err := tx.Session(ctx, a.Session.ID)
		if err != nil {
			return err
		}
		if sess.RevokedAt != nil {
			return wardline.Errorf(wardline.EUNAUTHENTICATED, "your session has ended; sign in again")
		}
		if passkey != nil {
			if err := tx.DeleteAuthChallenge(ctx, ceremony.ID); isNotFound(err) {
				return wardline.Errorf(wardline.ECONFLICT, "begin again: the passkey request was used already")
			} else if err != nil {
				return err
			}
			if err := tx.UpdatePasskey(ctx, passkey); err != nil {
				return err
			}
		}
		wasLocked = sess.Locked()
		sess.LockedAt, sess.PINFailures = nil, 0
		if err := tx.UpdateSessionState(ctx, sess); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	a.Session.LockedAt = nil
	if wasLocked {
		s.publish(ctx, &wardline.Event{Type: wardline.EventSessionUnlocked, Recipients: []string{a.User.ID}, SessionIDs: []string{a.Session.ID}})
	}
	return nil
}

// wrongUnlock counts a wrong PIN (or passkey) on the session and ends it at the limit.
func (s *AuthService) wrongUnlock(ctx context.Context, a *wardline.Actor, method string) error {
	now := s.now()
	ended := false
	left := 0
	ev := s.auditEvent(ctx, wardline.ActionUnlockFailed, "session", a.Session.ID)
	ev.Outcome = wardline.OutcomeFailure
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		sess, err := tx.Session(ctx, a.Session.ID)
		if err != nil {
			return err
		}
		sess.PINFailures++
		left = wardline.MaxPINFailures - sess.PINFailures
		ended = left <= 0
		if err := tx.UpdateSessionState(ctx, sess); err != nil {
			return err
		}
		if ended {
			if err := tx.RevokeSession(ctx, sess.ID, now); err != nil {
				return err
			}
		}
		ev.Detail = map[string]any{"method": method, "failures": sess.PINFailures, "session_ended": ended}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	if ended {
		s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{a.User.ID}, SessionIDs: []string{a.Session.ID}})
		return wardline.Errorf(wardline.EUNAUTHENTICATED, "too many wrong tries: this session has ended; sign in again")
	}
	if method == "pin" {
		return wardline.Errorf(wardline.EFORBIDDEN, "the PIN is not right; %d tries left", left).WithTriesLeft(left)
	}
	return wardline.Errorf(wardline.EFORBIDDEN, "the passkey was not accepted; %d tries left", left).WithTriesLeft(left)
}
