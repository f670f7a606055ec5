package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"wardline"
)

// AuthService signs staff in and out and turns tokens into actors.
type AuthService struct {
	*deps
	passkeys *PasskeyService
}

var _ wardline.AuthService = (*AuthService)(nil)

// dummyHash is checked against when the email is unknown, so that a wrong email and a wrong
// password take the same time.
var dummyHash, _ = hashPassword("wardline-timing-equaliser", DefaultPasswordParams)

// HashToken returns the stored form of a session token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// failureKey names a login-failure counter without storing what was typed in clear.
func failureKey(kind, value string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + value))
	return kind + ":" + hex.EncodeToString(h[:16])
}

// lockedUntil reports until when a counter is locked: when at least max failures fell within the
// window ending at its latest failure, it stays locked for lock after that failure. Attempts
// while locked are not counted, so a lock ends on time.
func (s *AuthService) lockedUntil(ctx context.Context, key string, max int, window, lock time.Duration) (time.Time, error) {
	last, err := s.store.LastLoginFailure(ctx, key)
	if err != nil || last.IsZero() {
		return time.Time{}, err
	}
	if !s.now().Before(last.Add(lock)) {
		return time.Time{}, nil
	}
	n, err := s.store.CountLoginFailures(ctx, key, last.Add(-window))
	if err != nil || n < max {
		return time.Time{}, err
	}
	return last.Add(lock), nil
}

// Login checks an email and password against the account the address signs in to by default
// (LoginAt with no organisation).
func (s *AuthService) Login(ctx context.Context, email, password string) (*wardline.LoginResult, error) {
	return s.LoginAt(ctx, "", email, password)
}

// LoginAt checks an email and password against the address's account in org (an organisation's
// id or name, in any case), or, when org is empty, its default account (account). Wrong email,
// wrong organisation and wrong password answer alike, after one password hash each, so that
// nobody learns without the password whether or where an address has an account; a locked
// address or a noisy source address are refused before the password is looked at.
func (s *AuthService) LoginAt(ctx context.Context, org, email, password string) (*wardline.LoginResult, error) {
	email = wardline.NormalizeEmail(email)
	org = strings.TrimSpace(org)
	actor := wardline.ActorFromContext(ctx)
	addr := ""
	if actor != nil {
		addr = actor.Addr
	}
	if email == "" || password == "" || len(email) > 254 || len(password) > 1024 {
		return nil, wardline.Errorf(wardline.EINVALID, "email and password are required")
	}
	if len(org) > 200 {
		return nil, wardline.Errorf(wardline.EINVALID, "org must be an organisation's id or name")
	}

	user, err := s.account(ctx, org, email)
	if err != nil {
		return nil, err
	}
	policy := wardline.DefaultPolicy
	if user != nil {
		org, err := s.store.Org(ctx, user.OrgID)
		if err != nil {
			return nil, err
		}
		policy = org.Policy.Normalize()
	}
	window := time.Duration(policy.LoginWindowMinutes) * time.Minute
	lock := time.Duration(policy.LoginLockMinutes) * time.Minute
	emailKey, addrKey := failureKey("email", email), failureKey("addr", addr)

	if until, err := s.lockedUntil(ctx, addrKey, policy.LoginAddrFailures, window, lock); err != nil {
		return nil, err
	} else if !until.IsZero() {
		return nil, wardline.Errorf(wardline.ERATELIMITED, "too many failed sign-ins from this address; try again later")
	}
	if until, err := s.lockedUntil(ctx, emailKey, policy.LoginLockFailures, window, lock); err != nil {
		return nil, err
	} else if !until.IsZero() {
		return nil, wardline.Errorf(wardline.ELOCKED, "this account is locked after too many failed sign-ins; try again after %s", until.Format("15:04 MST"))
	}

	hash := dummyHash
	if user != nil {
		hash = user.PasswordHash
	}
	ok := checkPassword(password, hash)
	if !ok || user == nil {
		ev := s.auditEvent(ctx, wardline.ActionLoginFailed, "user", "")
		ev.Outcome = wardline.OutcomeFailure
		if user != nil {
			ev.OrgID, ev.TargetID = user.OrgID, user.ID
		}
		now := s.now()
		if err := s.store.Update(ctx, func(tx wardline.Tx) error {
			if err := tx.RecordLoginFailure(ctx, emailKey, now); err != nil {
				return err
			}
			if err := tx.RecordLoginFailure(ctx, addrKey, now); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, ev)
		}); err != nil {
			return nil, err
		}
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "the email address or password is not right")
	}

	if !user.Active() {
		ev := s.auditEvent(ctx, wardline.ActionLoginFailed, "user", user.ID)
		ev.OrgID, ev.ActorID, ev.Outcome = user.OrgID, user.ID, wardline.OutcomeDenied
		ev.Detail = map[string]any{"reason": user.Status}
		if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
			return nil, err
		}
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "this account is %s; ask your administrator", user.Status)
	}

	methods, err := s.methods(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if len(methods) > 0 {
		return nil, s.demandSecondFactor(ctx, user, methods)
	}
	return s.startSession(ctx, user, policy, "password")
}

// account is the account that a sign-in with email (normalised) and org reaches, or nil. An
// address is unique within an organisation, and one person may hold it in several (bank staff,
// doctors on rotation). Without org it is the oldest account that is active, or the oldest of
// all when none is (so that a suspended account still answers 403 after the right password).
func (s *AuthService) account(ctx context.Context, org, email string) (*wardline.User, error) {
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	if org == "" {
		for _, u := range users {
			if u.Active() {
				return u, nil
			}
		}
		return users[0], nil
	}
	// By id, else by name: exactly as written first (names are unique as written), then in
	// any case and spacing.
	names := make([]string, len(users))
	for i, u := range users {
		if u.OrgID == org {
			return u, nil
		}
		o, err := s.store.Org(ctx, u.OrgID)
		if err != nil {
			return nil, err
		}
		if names[i] = o.Name; o.Name == org {
			return u, nil
		}
	}
	folded := strings.Join(strings.Fields(org), " ")
	for i, u := range users {
		if strings.EqualFold(strings.Join(strings.Fields(names[i]), " "), folded) {
			return u, nil
		}
	}
	return nil, nil
}

// startSession signs user in on the actor's device: a new session, the email's failures
// cleared, audited. method says how the person proved who they are, for the audit log.
func (s *AuthService) startSession(ctx context.Context, user *wardline.User, policy wardline.OrgPolicy, method string, also ...func(tx wardline.Tx) error) (*wardline.LoginResult, error) {
	actor := wardline.ActorFromContext(ctx)
	now := s.now()
	token := newToken()
	sess := &wardline.Session{
		ID:                     wardline.NewID(),
		UserID:                 user.ID,
		OrgID:                  user.OrgID,
		TokenHash:              HashToken(token),
		CreatedAt:              now,
		LastSeenAt:             now,
		ExpiresAt:              now.Add(time.Duration(policy.SessionAbsoluteMinutes) * time.Minute),
		IdleMinutes:            policy.SessionIdleMinutes,
		PasswordChangeRequired: user.PasswordChangeRequired,
	}
	if method == "password" && policy.MFARequired() {
		// Reached only by a user without any second factor: enrol before anything else.
		sess.MFAEnrollmentRequired = true
	}
	if actor != nil {
		sess.Addr, sess.Device = actor.Addr, truncate(actor.Device, 200)
	}
	sess.Name = deviceName(sess.Device)
	emailKey := failureKey("email", user.Email)
	ev := s.auditEvent(ctx, wardline.ActionLoginSucceeded, "session", sess.ID)
	ev.OrgID, ev.ActorID, ev.SessionID = user.OrgID, user.ID, sess.ID
	ev.Detail = map[string]any{"method": method, wardline.DetailDevice: DeviceFingerprint(sess.Device, sess.Addr)}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		for _, fn := range also {
			if err := fn(tx); err != nil {
				return err
			}
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.ClearLoginFailures(ctx, emailKey); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return nil, err
	}
	copied := *user
	user = &copied
	if err := s.fillOrgName(ctx, user); err != nil {
		return nil, err
	}
	if err := s.fillDuty(ctx, user); err != nil {
		return nil, err
	}
	return &wardline.LoginResult{
		Token:                  token,
		ExpiresAt:              sess.ExpiresAt,
		User:                   user,
		PasswordChangeRequired: sess.PasswordChangeRequired,
		MFAEnrollmentRequired:  sess.MFAEnrollmentRequired,
		LockIdleSeconds:        policy.LockIdleSeconds,
		Session:                sess,
	}, nil
}

// Authenticate resolves a bearer token to its actor, or EUNAUTHENTICATED when the session has
// ended (revoked, idle, expired) or its user may no longer sign in. It records use of the session
// at most every minute (or a quarter of the idle limit), to keep the idle clock honest without a
// write per request.
func (s *AuthService) Authenticate(ctx context.Context, token, addr string) (*wardline.Actor, error) {
	if token == "" || len(token) > 200 {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "sign in first")
	}
	sess, user, err := s.store.SessionWithUser(ctx, HashToken(token))
	if isNotFound(err) {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "sign in first")
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !sess.Live(now) || !user.Active() {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "your session has ended; sign in again")
	}
	if err := s.touch(ctx, sess, now); err != nil {
		return nil, err
	}
	return &wardline.Actor{User: user, Session: sess, Addr: addr}, nil
}

// Touch records activity on the event stream (a client message) for the idle clock.
func (s *AuthService) Touch(ctx context.Context, sess *wardline.Session) error {
	return s.touch(ctx, sess, s.now())
}

func (s *AuthService) touch(ctx context.Context, sess *wardline.Session, now time.Time) error {
	every := min(time.Minute, time.Duration(sess.IdleMinutes)*time.Minute/4)
	if now.Sub(sess.LastSeenAt) < every {
		return nil
	}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.TouchSession(ctx, sess.ID, now) }); err != nil {
		return err
	}
	sess.LastSeenAt = now
	return nil
}

// SessionLive re-reads a session for long-lived streams: false once it has ended for any reason.
func (s *AuthService) SessionLive(ctx context.Context, sessionID string) (bool, error) {
	live, _, err := s.SessionState(ctx, sessionID)
	return live, err
}

// Logout ends the caller's session everywhere at once and closes its streams.
func (s *AuthService) Logout(ctx context.Context) error {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	ev := s.auditEvent(ctx, wardline.ActionLogout, "session", a.Session.ID)
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.RevokeSession(ctx, a.Session.ID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{a.User.ID}, SessionIDs: []string{a.Session.ID}})
	return nil
}

// ChangePassword replaces the caller's password. Every session of the user ends, the caller's
// included: "after the change, sign in again" (API.md).
func (s *AuthService) ChangePassword(ctx context.Context, current, next string) error {
	a, err := requireCaller(ctx, allowPasswordChange)
	if err != nil {
		return err
	}
	if current == "" {
		return errInvalid("current_password is required")
	}
	if !checkPassword(current, a.User.PasswordHash) {
		return wardline.Errorf(wardline.EFORBIDDEN, "the current password is not right")
	}
	if err := validateNewPassword(next, a.User.Email, a.User.DisplayName); err != nil {
		return err
	}
	if current == next {
		return errInvalid("the new password must differ from the current one")
	}
	hash, err := hashPassword(next, s.config.PasswordParams)
	if err != nil {
		return err
	}
	now := s.now()
	ev := s.auditEvent(ctx, wardline.ActionPasswordChanged, "user", a.User.ID)
	var revoked []string
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		u, err := tx.User(ctx, a.User.ID)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordChangeRequired = hash, false
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, now); err != nil {
			return err
		}
		if err := auditSessionsRevoked(ctx, s.deps, tx, u, revoked, "password_changed"); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{a.User.ID}, SessionIDs: revoked})
	return nil
}

func errInvalid(msg string) error { return wardline.Errorf(wardline.EINVALID, "%s", msg) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// auditSessionsRevoked writes one entry per session that a change ended, naming why, in the
// change's transaction: each ended session is a thing an investigator may need to find.
func auditSessionsRevoked(ctx context.Context, d *deps, tx wardline.Tx, u *wardline.User, sessions []string, reason string) error {
	for _, id := range sessions {
		ev := d.auditEvent(ctx, wardline.ActionSessionRevoked, "session", id)
		if ev.OrgID == "" {
			ev.OrgID = u.OrgID
		}
		ev.Detail = map[string]any{"user_id": u.ID, "reason": reason}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}
