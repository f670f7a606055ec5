package app

import (
	"context"
	"sort"

	"wardline"
)

// Device sessions: each sign-in is one. People list and end their own ("sign out everywhere"
// for a lost phone); admins list and end anyone's in their organisation. Ending a session
// closes its event streams with session.revoked, which tells the client to erase what it holds.

// liveSessions lists a user's sessions that may still be used, newest first.
func (d *deps) liveSessions(ctx context.Context, userID, currentID string) ([]*wardline.Session, error) {
	all, err := d.store.LiveSessions(ctx, userID, d.now())
	if err != nil {
		return nil, err
	}
	out := []*wardline.Session{}
	now := d.now()
	for _, s := range all {
		if s.Live(now) {
			s.Current = s.ID == currentID
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// endSession ends one session of userID (ENOTFOUND for another user's), audited, and closes
// its streams.
func (d *deps) endSession(ctx context.Context, userID, sessionID string) error {
	if !wardline.ValidID(sessionID) {
		return wardline.Errorf(wardline.ENOTFOUND, "session not found")
	}
	now := d.now()
	ev := d.auditEvent(ctx, wardline.ActionSessionRevoked, "session", sessionID)
	ev.Detail = map[string]any{"user_id": userID}
	if err := d.store.Update(ctx, func(tx wardline.Tx) error {
		sess, err := tx.Session(ctx, sessionID)
		if err != nil {
			return err
		}
		if sess.UserID != userID {
			return wardline.Errorf(wardline.ENOTFOUND, "session not found")
		}
		if err := tx.RevokeSession(ctx, sessionID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	d.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{userID}, SessionIDs: []string{sessionID}})
	return nil
}

// endAllSessions ends every session of userID, audited, and closes every stream of theirs.
func (d *deps) endAllSessions(ctx context.Context, userID string) (int, error) {
	now := d.now()
	var n int
	ev := d.auditEvent(ctx, wardline.ActionSessionsRevokedAll, "user", userID)
	if err := d.store.Update(ctx, func(tx wardline.Tx) error {
		ids, err := tx.RevokeUserSessions(ctx, userID, now)
		if err != nil {
			return err
		}
		n = len(ids)
		ev.Detail = map[string]any{"sessions_ended": n}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return 0, err
	}
	d.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{userID}})
	return n, nil
}

// Sessions lists the caller's live sessions, the caller's own marked current.
func (s *AuthService) Sessions(ctx context.Context) ([]*wardline.Session, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	return s.liveSessions(ctx, a.User.ID, a.Session.ID)
}

// EndSession ends one of the caller's sessions (the caller's own included).
func (s *AuthService) EndSession(ctx context.Context, sessionID string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	return s.endSession(ctx, a.User.ID, sessionID)
}

// EndAllSessions signs the caller out everywhere, this session included: the lost-phone button.
func (s *AuthService) EndAllSessions(ctx context.Context) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	_, err = s.endAllSessions(ctx, a.User.ID)
	return err
}

// SessionState re-reads a session for long-lived streams: whether it may still be used, and
// whether it is locked.
func (s *AuthService) SessionState(ctx context.Context, sessionID string) (live, locked bool, err error) {
	sess, err := s.store.Session(ctx, sessionID)
	if isNotFound(err) {
		return false, false, nil
	} else if err != nil {
		return false, false, err
	}
	if !sess.Live(s.now()) {
		return false, false, nil
	}
	user, err := s.store.User(ctx, sess.UserID)
	if err != nil {
		return false, false, err
	}
	return user.Active(), sess.Locked(), nil
}

// UserSessions lists the live sessions of a user of the admin's organisation.
func (s *UserService) UserSessions(ctx context.Context, userID string) ([]*wardline.Session, error) {
	a, u, err := s.adminTarget(ctx, userID)
	if err != nil {
		return nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionSessionsListed, "user", u.ID)
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	return s.liveSessions(ctx, u.ID, a.Session.ID)
}

// CheckUserSessions answers as UserSessions would for who may look (403, 404), without
// listing or auditing anything: for a request refused for its bad input, whose answer must not
// say more than the caller may know, and which must change nothing.
func (s *UserService) CheckUserSessions(ctx context.Context, userID string) error {
	_, _, err := s.adminTarget(ctx, userID)
	return err
}

// EndUserSession ends one session of a user of the admin's organisation.
func (s *UserService) EndUserSession(ctx context.Context, userID, sessionID string) error {
	_, u, err := s.adminTarget(ctx, userID)
	if err != nil {
		return err
	}
	return s.endSession(ctx, u.ID, sessionID)
}

// EndAllUserSessions signs a user of the admin's organisation out everywhere.
func (s *UserService) EndAllUserSessions(ctx context.Context, userID string) error {
	_, u, err := s.adminTarget(ctx, userID)
	if err != nil {
		return err
	}
	_, err = s.endAllSessions(ctx, u.ID)
	return err
}

// ResetPassword gives a user of the admin's organisation a new initial password, which they
// must change at their next sign-in; every session of theirs ends. Second factors stay.
func (s *UserService) ResetPassword(ctx context.Context, userID string) (string, error) {
	a, _, err := s.adminTarget(ctx, userID)
	if err != nil {
		return "", err
	}
	password := newInitialPassword()
	hash, err := hashPassword(password, s.config.PasswordParams)
	if err != nil {
		return "", err
	}
	now := s.now()
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		u, err := s.orgUser(ctx, tx, a, userID)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordChangeRequired = hash, true
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		ids, err := tx.RevokeUserSessions(ctx, u.ID, now)
		if err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionPasswordReset, "user", u.ID)
		ev.Detail = map[string]any{"sessions_ended": len(ids)}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return "", err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{userID}})
	return password, nil
}

// ResetMFA removes every second factor and the PIN of a user of the admin's organisation (a
// lost phone with no recovery codes left) and ends their sessions; where the organisation
// requires a second factor they enrol again at their next sign-in.
func (s *UserService) ResetMFA(ctx context.Context, userID string) error {
	a, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		u, err := s.orgUser(ctx, tx, a, userID)
		if err != nil {
			return err
		}
		passkeys, err := endFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		ids, err := tx.RevokeUserSessions(ctx, u.ID, now)
		if err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionMFAReset, "user", u.ID)
		ev.Detail = map[string]any{"sessions_ended": len(ids), "passkeys_removed": passkeys}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{userID}})
	return nil
}

// endFactors removes a user's TOTP, recovery codes, PIN and passkeys, in tx.
func endFactors(ctx context.Context, tx wardline.Tx, userID string) (passkeys int, err error) {
	if err := tx.DeleteUserMFA(ctx, userID); err != nil {
		return 0, err
	}
	return tx.DeleteUserPasskeys(ctx, userID)
}

// Policy returns the admin's organisation's policy, defaults filled in.
func (s *UserService) Policy(ctx context.Context) (wardline.OrgPolicy, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return wardline.OrgPolicy{}, err
	}
	org, err := s.store.Org(ctx, a.User.OrgID)
	if err != nil {
		return wardline.OrgPolicy{}, err
	}
	return org.Policy.Normalize(), nil
}

// UpdatePolicy changes the admin's organisation's policy with change. Limits above the defaults
// are lowered to them (a policy may tighten, never loosen); the answer is the policy now in
// force. It applies to sign-ins from now on.
func (s *UserService) UpdatePolicy(ctx context.Context, change func(p *wardline.OrgPolicy) error) (wardline.OrgPolicy, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return wardline.OrgPolicy{}, err
	}
	var p wardline.OrgPolicy
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		org, err := tx.Org(ctx, a.User.OrgID)
		if err != nil {
			return err
		}
		p = org.Policy.Normalize()
		if err := change(&p); err != nil {
			return err
		}
		p = p.Normalize()
		ev := s.auditEvent(ctx, wardline.ActionPolicyChanged, "org", a.User.OrgID)
		ev.Detail = map[string]any{
			"session_idle_minutes": p.SessionIdleMinutes, "session_absolute_minutes": p.SessionAbsoluteMinutes,
			"login_lock_failures": p.LoginLockFailures, "login_addr_failures": p.LoginAddrFailures,
			"login_window_minutes": p.LoginWindowMinutes, "login_lock_minutes": p.LoginLockMinutes,
			"lock_idle_seconds": p.LockIdleSeconds, "mfa_required": p.MFARequired(), "passwordless_allowed": p.PasswordlessAllowed,
		}
		if err := tx.UpdateOrgPolicy(ctx, a.User.OrgID, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return wardline.OrgPolicy{}, err
	}
	return p, nil
}

// Security is what the caller's account has for signing in and unlocking, and what the
// organisation asks: for the client's settings and lock screen.
type Security struct {
	TOTP                   bool `json:"totp"`
	RecoveryCodesRemaining int  `json:"recovery_codes_remaining"`
	Passkeys               int  `json:"passkeys"`
	PIN                    bool `json:"pin"`
	MFARequired            bool `json:"mfa_required"`
	PasswordlessAllowed    bool `json:"passwordless_allowed"`
	LockIdleSeconds        int  `json:"lock_idle_seconds"`
	Locked                 bool `json:"locked"`
}

// Security describes the caller's second factors, PIN and organisation policy. A session that
// must enrol or is locked may ask, so that the client can show the right screen.
func (s *AuthService) Security(ctx context.Context) (*Security, error) {
	a, err := requireCaller(ctx, allowEnrolment|allowLocked)
	if err != nil {
		return nil, err
	}
	org, err := s.store.Org(ctx, a.User.OrgID)
	if err != nil {
		return nil, err
	}
	p := org.Policy.Normalize()
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.Passkeys(ctx, a.User.ID)
	if err != nil {
		return nil, err
	}
	out := &Security{TOTP: m.HasTOTP(), PIN: m.HasPIN(), Passkeys: len(keys), MFARequired: p.MFARequired(),
		PasswordlessAllowed: p.PasswordlessAllowed, LockIdleSeconds: p.LockIdleSeconds, Locked: a.Session.Locked()}
	if m.HasTOTP() {
		out.RecoveryCodesRemaining = m.RecoveryRemaining
	}
	return out, nil
}
