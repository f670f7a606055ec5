package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"wardline"
)

// The second step of a sign-in: after the password, a TOTP code, a recovery code or a passkey.
// The password step leaves an MFA token (its SHA-256 in the store, with the user) that the second
// step presents. Wrong answers count toward the email's lockout and the address's rate limit
// exactly as wrong passwords do, and an MFA token takes at most mfaTokenAttempts of them.

const (
	mfaTokenLifetime = 5 * time.Minute
	mfaTokenAttempts = 5
)

// methods lists the user's second factors in the order a client should offer them.
func (s *AuthService) methods(ctx context.Context, userID string) ([]string, error) {
	var out []string
	m, err := s.userMFA(ctx, userID)
	if err != nil {
		return nil, err
	}
	if m.HasTOTP() {
		out = append(out, wardline.MethodTOTP)
	}
	if s.config.WebAuthn.enabled() {
		keys, err := s.store.Passkeys(ctx, userID)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			out = append(out, wardline.MethodWebAuthn)
		}
	}
	if m.HasTOTP() && m.RecoveryRemaining > 0 {
		out = append(out, wardline.MethodRecoveryCode)
	}
	return out, nil
}

// demandSecondFactor stores a new MFA token for user and returns the mfa_required answer.
func (s *AuthService) demandSecondFactor(ctx context.Context, user *wardline.User, methods []string) error {
	now := s.now()
	token := newToken()
	c := &wardline.AuthChallenge{
		ID: wardline.NewID(), Kind: wardline.ChallengeMFA, TokenHash: HashToken(token),
		UserID: user.ID, OrgID: user.OrgID, CreatedAt: now, ExpiresAt: now.Add(mfaTokenLifetime),
	}
	ev := s.auditEvent(ctx, wardline.ActionMFARequired, "user", user.ID)
	ev.OrgID, ev.ActorID = user.OrgID, user.ID
	ev.Detail = map[string]any{"methods": strings.Join(methods, ",")}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.DeleteExpiredAuthChallenges(ctx, now); err != nil {
			return err
		}
		if err := tx.InsertAuthChallenge(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	return &wardline.MFARequiredError{
		Err:     wardline.Errorf(wardline.EMFAREQUIRED, "enter the code from your authenticator app, or use a passkey"),
		Token:   token,
		Methods: methods,
	}
}

// mfaStep is a second step in progress: its challenge, user and organisation policy.
type mfaStep struct {
	c      *wardline.AuthChallenge
	token  string
	user   *wardline.User
	policy wardline.OrgPolicy
}

// startMFAStep finds the MFA token's challenge and refuses when it is unknown, spent or old, when
// the user may no longer sign in, or when the email or address is locked out.
func (s *AuthService) startMFAStep(ctx context.Context, token string) (*mfaStep, error) {
	again := wardline.Errorf(wardline.EUNAUTHENTICATED, "this sign-in has expired; enter your email and password again")
	if token == "" || len(token) > 200 {
		return nil, again
	}
	c, err := s.store.AuthChallengeByTokenHash(ctx, HashToken(token))
	if isNotFound(err) {
		return nil, again
	} else if err != nil {
		return nil, err
	}
	if c.Kind != wardline.ChallengeMFA || !s.now().Before(c.ExpiresAt) || c.Attempts >= mfaTokenAttempts {
		return nil, again
	}
	user, err := s.store.User(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	if !user.Active() {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "this account is %s; ask your administrator", user.Status)
	}
	org, err := s.store.Org(ctx, user.OrgID)
	if err != nil {
		return nil, err
	}
	st := &mfaStep{c: c, token: token, user: user, policy: org.Policy.Normalize()}
	if err := s.checkLockout(ctx, user.Email, st.policy); err != nil {
		return nil, err
	}
	return st, nil
}

// checkLockout refuses when the address is rate limited or the email locked out.
func (s *AuthService) checkLockout(ctx context.Context, email string, policy wardline.OrgPolicy) error {
	window := time.Duration(policy.LoginWindowMinutes) * time.Minute
	lock := time.Duration(policy.LoginLockMinutes) * time.Minute
	if until, err := s.lockedUntil(ctx, failureKey("addr", actorAddr(ctx)), policy.LoginAddrFailures, window, lock); err != nil {
		return err
	} else if !until.IsZero() {
		return wardline.Errorf(wardline.ERATELIMITED, "too many failed sign-ins from this address; try again later")
	}
	if until, err := s.lockedUntil(ctx, failureKey("email", email), policy.LoginLockFailures, window, lock); err != nil {
		return err
	} else if !until.IsZero() {
		return wardline.Errorf(wardline.ELOCKED, "this account is locked after too many failed sign-ins; try again after %s", until.Format("15:04 MST"))
	}
	return nil
}

func actorAddr(ctx context.Context) string {
	if a := wardline.ActorFromContext(ctx); a != nil {
		return a.Addr
	}
	return ""
}

// recordFactorFailure counts a wrong second factor toward the email's lockout and the address's
// rate limit, audited. Passing a challenge also counts the attempt on it.
func (d *deps) recordFactorFailure(ctx context.Context, user *wardline.User, c *wardline.AuthChallenge, action, method string) (attempts int, err error) {
	now := d.now()
	ev := d.auditEvent(ctx, action, "user", user.ID)
	ev.OrgID, ev.ActorID, ev.Outcome = user.OrgID, user.ID, wardline.OutcomeFailure
	ev.Detail = map[string]any{"method": method}
	err = d.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.RecordLoginFailure(ctx, failureKey("email", user.Email), now); err != nil {
			return err
		}
		if err := tx.RecordLoginFailure(ctx, failureKey("addr", actorAddr(ctx)), now); err != nil {
			return err
		}
		if c != nil {
			var err error
			if attempts, err = tx.RecordChallengeAttempt(ctx, c.ID); err != nil && !isNotFound(err) {
				return err
			}
		}
		return tx.AppendAudit(ctx, ev)
	})
	return attempts, err
}

// wrongFactor records a wrong answer at the second step and says what to do next: try again
// with the same token, or (the token spent) sign in again.
func (s *AuthService) wrongFactor(ctx context.Context, st *mfaStep, method, msg string) error {
	n, err := s.recordFactorFailure(ctx, st.user, st.c, wardline.ActionMFAFailed, method)
	if err != nil {
		return err
	}
	if n >= mfaTokenAttempts {
		return wardline.Errorf(wardline.EUNAUTHENTICATED, "%s; too many tries, so enter your email and password again", msg)
	}
	methods, err := s.methods(ctx, st.user.ID)
	if err != nil {
		return err
	}
	return &wardline.MFARequiredError{Err: wardline.Errorf(wardline.EMFAREQUIRED, "%s", msg), Token: st.token, Methods: methods}
}

// finishMFAStep spends the MFA token and starts the session, with extra writes in the same
// transaction. A token spent meanwhile by a racing request answers as expired.
func (s *AuthService) finishMFAStep(ctx context.Context, st *mfaStep, method string, also func(tx wardline.Tx) error) (*wardline.LoginResult, error) {
	return s.startSession(ctx, st.user, st.policy, method, func(tx wardline.Tx) error {
		if err := tx.DeleteAuthChallenge(ctx, st.c.ID); isNotFound(err) {
			return wardline.Errorf(wardline.EUNAUTHENTICATED, "this sign-in has expired; enter your email and password again")
		} else if err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
}

// VerifyTOTP completes a sign-in with a code from the user's authenticator app.
// The token comes first (401 before 400); a code that cannot be one is bad input, refused
// without counting as a wrong answer.
func (s *AuthService) VerifyTOTP(ctx context.Context, token, code string) (*wardline.LoginResult, error) {
	st, err := s.startMFAStep(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := checkTOTPFormat(code); err != nil {
		return nil, err
	}
	m, err := s.userMFA(ctx, st.user.ID)
	if err != nil {
		return nil, err
	}
	if !m.HasTOTP() {
		return nil, s.wrongFactor(ctx, st, wardline.MethodTOTP, "no authenticator app is set up for this account")
	}
	secret, err := s.openMFA(ctx, m.UserID, "totp_secret", m.TOTPSealed)
	if err != nil {
		return nil, err
	}
	step := checkTOTP(secret, code, s.now(), m.TOTPLastStep)
	if step == 0 {
		return nil, s.wrongFactor(ctx, st, wardline.MethodTOTP, "the code is not right (or was used already)")
	}
	m.TOTPLastStep, m.UpdatedAt = step, s.now()
	res, err := s.finishMFAStep(ctx, st, "password+totp", func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, m) })
	if wardline.ErrorCode(err) == wardline.ECONFLICT {
		// Another request spent a code meanwhile: this one may have been the same code.
		return nil, s.wrongFactor(ctx, st, wardline.MethodTOTP, "the code is not right (or was used already)")
	}
	return res, err
}

// UseRecoveryCode completes a sign-in with one of the user's recovery codes, which is spent.
// As VerifyTOTP, a code that cannot be a recovery code is refused without counting.
func (s *AuthService) UseRecoveryCode(ctx context.Context, token, code string) (*wardline.LoginResult, error) {
	st, err := s.startMFAStep(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := checkRecoveryCodeFormat(code); err != nil {
		return nil, err
	}
	m, err := s.userMFA(ctx, st.user.ID)
	if err != nil {
		return nil, err
	}
	const wrong = "the recovery code is not right (or was used already)"
	if m == nil || m.RecoveryRemaining == 0 {
		return nil, s.wrongFactor(ctx, st, wardline.MethodRecoveryCode, wrong)
	}
	hashes, err := s.openRecoveryHashes(ctx, m)
	if err != nil {
		return nil, err
	}
	want := recoveryHash(st.user.ID, code)
	idx := -1
	for i, h := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
			idx = i
		}
	}
	if idx < 0 {
		return nil, s.wrongFactor(ctx, st, wardline.MethodRecoveryCode, wrong)
	}
	hashes = append(hashes[:idx], hashes[idx+1:]...)
	if err := s.sealRecoveryHashes(ctx, m, hashes); err != nil {
		return nil, err
	}
	m.UpdatedAt = s.now()
	ev := s.auditEvent(ctx, wardline.ActionRecoveryCodeUsed, "user", st.user.ID)
	ev.OrgID, ev.ActorID = st.user.OrgID, st.user.ID
	ev.Detail = map[string]any{"remaining": len(hashes)}
	res, err := s.finishMFAStep(ctx, st, "password+recovery_code", func(tx wardline.Tx) error {
		if err := tx.PutUserMFA(ctx, m); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if wardline.ErrorCode(err) == wardline.ECONFLICT {
		return nil, s.wrongFactor(ctx, st, wardline.MethodRecoveryCode, wrong)
	}
	return res, err
}

// userMFA reads a user's second factors and PIN: nil, and no error, when none was ever set
// (HasTOTP and HasPIN answer false for nil).
func (d *deps) userMFA(ctx context.Context, userID string) (*wardline.UserMFA, error) {
	m, err := d.store.UserMFA(ctx, userID)
	if isNotFound(err) {
		return nil, nil
	}
	return m, err
}

// Sealing of a user's authentication secrets, under the user's own keyring scope.

// mfaKey makes the user's data key when there is none yet; the caller inserts the returned
// record in the transaction that stores what it sealed (and calls forgetNewKey if that fails).
func (d *deps) mfaKey(ctx context.Context, orgID, userID string) (*wardline.KeyRecord, error) {
	scope := wardline.MFAScope(userID)
	recs, err := d.store.Keys(ctx, scope)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Kind == wardline.KeyKindData {
			return nil, nil
		}
	}
	return d.keys.NewDataKey(ctx, orgID, scope)
}

// forgetNewKey drops a key made for a transaction that did not commit.
func (d *deps) forgetNewKey(rec *wardline.KeyRecord, err error) {
	if rec != nil && err != nil {
		d.keys.Forget(rec.Scope)
	}
}

func (d *deps) sealMFA(ctx context.Context, userID, column string, plain []byte) ([]byte, error) {
	return d.keys.Seal(ctx, wardline.MFAScope(userID), wardline.AAD("user_mfa", userID, column), plain)
}

func (d *deps) openMFA(ctx context.Context, userID, column string, sealed []byte) ([]byte, error) {
	return d.keys.Open(ctx, wardline.MFAScope(userID), wardline.AAD("user_mfa", userID, column), sealed)
}

// Recovery codes: ten random codes of 12 characters from an alphabet without look-alikes (60
// bits each), shown once. Only their SHA-256 hashes are kept, and the list of hashes is sealed.

func newRecoveryCodes() []string {
	out := make([]string, wardline.RecoveryCodeCount)
	for i := range out {
		pw := strings.ReplaceAll(newInitialPassword(), "-", "")
		out[i] = pw[:4] + "-" + pw[4:8] + "-" + pw[8:12]
	}
	return out
}

// checkRecoveryCodeFormat refuses what cannot be a recovery code: 12 characters of their
// alphabet once spaces and dashes are dropped, in either case.
func checkRecoveryCodeFormat(code string) error {
	c := strings.ToLower(normalizeCode(code))
	if c == "" {
		return errInvalid("code is required")
	}
	if len(c) != 12 || strings.Trim(c, initialPasswordAlphabet) != "" {
		return errInvalid("a recovery code is 12 letters and digits, as shown when the authenticator app was set up")
	}
	return nil
}

// recoveryHash binds a code to its user, so that equal codes of two users hash apart.
func recoveryHash(userID, code string) string {
	code = strings.ToLower(normalizeCode(code))
	h := sha256.Sum256([]byte("wardline recovery code\x00" + userID + "\x00" + code))
	return hex.EncodeToString(h[:])
}

func (d *deps) openRecoveryHashes(ctx context.Context, m *wardline.UserMFA) ([]string, error) {
	if len(m.RecoverySealed) == 0 {
		return nil, nil
	}
	b, err := d.openMFA(ctx, m.UserID, "recovery_codes", m.RecoverySealed)
	if err != nil {
		return nil, err
	}
	var hashes []string
	if err := json.Unmarshal(b, &hashes); err != nil {
		return nil, err
	}
	return hashes, nil
}

func (d *deps) sealRecoveryHashes(ctx context.Context, m *wardline.UserMFA, hashes []string) error {
	if hashes == nil {
		hashes = []string{}
	}
	b, _ := json.Marshal(hashes)
	sealed, err := d.sealMFA(ctx, m.UserID, "recovery_codes", b)
	if err != nil {
		return err
	}
	m.RecoverySealed, m.RecoveryRemaining = sealed, len(hashes)
	return nil
}

// Device names.

// deviceName names a device from its user agent ("Chrome on Android"), for lists of sessions.
func deviceName(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	case ua != "":
		return truncate(ua, 60)
	}
	return "Unknown device"
}
