package app

import (
	"context"

	"wardline"
)

// TOTPEnrolment is a new secret, shown once, for the person to put in an authenticator app.
type TOTPEnrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

// totpIssuer is the name authenticator apps show beside the account.
const totpIssuer = "Wardline"

// updateMFA reads the user's MFA row (a new one when none), lets change alter it, and writes it
// with a data key made if needed, in one transaction with the extra writes. change may seal.
func (d *deps) updateMFA(ctx context.Context, user *wardline.User, change func(m *wardline.UserMFA) error, also func(tx wardline.Tx) error) (*wardline.UserMFA, error) {
	m, err := d.store.UserMFA(ctx, user.ID)
	if isNotFound(err) {
		m, err = &wardline.UserMFA{UserID: user.ID, OrgID: user.OrgID}, nil
	}
	if err != nil {
		return nil, err
	}
	key, err := d.mfaKey(ctx, user.OrgID, user.ID)
	if err != nil {
		return nil, err
	}
	if err := change(m); err != nil {
		d.forgetNewKey(key, err)
		return nil, err
	}
	m.UpdatedAt = d.now()
	err = d.store.Update(ctx, func(tx wardline.Tx) error {
		if key != nil {
			if err := tx.InsertKey(ctx, key); err != nil {
				return err
			}
		}
		if err := tx.PutUserMFA(ctx, m); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	d.forgetNewKey(key, err)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// BeginTOTP issues a new TOTP secret for the caller to confirm with a code. Until confirmed it
// changes nothing: an earlier secret keeps working. Allowed to a session that must enrol.
func (s *AuthService) BeginTOTP(ctx context.Context) (*TOTPEnrolment, error) {
	a, err := requireCaller(ctx, allowEnrolment)
	if err != nil {
		return nil, err
	}
	secret := newTOTPSecret()
	ev := s.auditEvent(ctx, wardline.ActionTOTPEnrolStarted, "user", a.User.ID)
	_, err = s.updateMFA(ctx, a.User, func(m *wardline.UserMFA) error {
		sealed, err := s.sealMFA(ctx, a.User.ID, "totp_pending", secret)
		m.TOTPPendingSealed = sealed
		return err
	}, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) })
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: EncodeTOTPSecret(secret), OTPAuthURL: otpauthURL(totpIssuer, a.User.Email, secret)}, nil
}

// ConfirmTOTP checks a code of the secret BeginTOTP issued and makes it the caller's second
// factor, with ten new recovery codes (shown once; only hashes are kept). On a session that had
// to enrol it lifts that restriction, on the same token. Wrong codes count toward lockout.
func (s *AuthService) ConfirmTOTP(ctx context.Context, code string) ([]string, error) {
	a, err := requireCaller(ctx, allowEnrolment)
	if err != nil {
		return nil, err
	}
	if err := checkTOTPFormat(code); err != nil {
		return nil, err
	}
	org, err := s.store.Org(ctx, a.User.OrgID)
	if err != nil {
		return nil, err
	}
	if err := s.checkLockout(ctx, a.User.Email, org.Policy.Normalize()); err != nil {
		return nil, err
	}
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return nil, err
	}
	if m == nil || len(m.TOTPPendingSealed) == 0 {
		return nil, wardline.Errorf(wardline.ECONFLICT, "start with POST /api/v1/me/totp to get a secret")
	}
	secret, err := s.openMFA(ctx, a.User.ID, "totp_pending", m.TOTPPendingSealed)
	if err != nil {
		return nil, err
	}
	step := checkTOTP(secret, code, s.now(), 0)
	if step == 0 {
		if _, err := s.recordFactorFailure(ctx, a.User, nil, wardline.ActionMFAFailed, "totp_confirm"); err != nil {
			return nil, err
		}
		return nil, errInvalid("the code is not right; check the time on your device and try the next code")
	}
	codes := newRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = recoveryHash(a.User.ID, c)
	}
	now := s.now()
	ev := s.auditEvent(ctx, wardline.ActionTOTPEnrolled, "user", a.User.ID)
	ev.Detail = map[string]any{"recovery_codes": len(codes)}
	sessionID := a.Session.ID
	_, err = s.updateMFA(ctx, a.User, func(m2 *wardline.UserMFA) error {
		if m2.Version != m.Version {
			return wardline.Errorf(wardline.ECONFLICT, "the enrolment changed meanwhile; start again")
		}
		sealed, err := s.sealMFA(ctx, a.User.ID, "totp_secret", secret)
		if err != nil {
			return err
		}
		m2.TOTPSealed, m2.TOTPPendingSealed, m2.TOTPLastStep, m2.TOTPEnrolledAt = sealed, nil, step, &now
		return s.sealRecoveryHashes(ctx, m2, hashes)
	}, func(tx wardline.Tx) error {
		if err := liftEnrolment(ctx, tx, sessionID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	a.Session.MFAEnrollmentRequired = false
	return codes, nil
}

// liftEnrolment clears a session's enrolment restriction (the same token carries on).
func liftEnrolment(ctx context.Context, tx wardline.Tx, sessionID string) error {
	sess, err := tx.Session(ctx, sessionID)
	if err != nil {
		return err
	}
	if !sess.MFAEnrollmentRequired {
		return nil
	}
	sess.MFAEnrollmentRequired = false
	return tx.UpdateSessionState(ctx, sess)
}

// RemoveTOTP removes the caller's authenticator app and recovery codes. Where the organisation
// requires a second factor, a passkey must remain.
func (s *AuthService) RemoveTOTP(ctx context.Context) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return err
	}
	if !m.HasTOTP() {
		return wardline.Errorf(wardline.ENOTFOUND, "no authenticator app is set up")
	}
	keys, err := s.store.Passkeys(ctx, a.User.ID)
	if err != nil {
		return err
	}
	if err := s.keepsSecondFactor(ctx, a.User, len(keys), false); err != nil {
		return err
	}
	ev := s.auditEvent(ctx, wardline.ActionTOTPRemoved, "user", a.User.ID)
	_, err = s.updateMFA(ctx, a.User, func(m2 *wardline.UserMFA) error {
		m2.TOTPSealed, m2.TOTPPendingSealed, m2.TOTPEnrolledAt = nil, nil, nil
		m2.RecoverySealed, m2.RecoveryRemaining = nil, 0
		return nil
	}, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) })
	return err
}

// keepsSecondFactor refuses to remove a factor when the organisation requires one and the user
// would be left without: passkeysLeft and totpLeft say what would remain.
func (d *deps) keepsSecondFactor(ctx context.Context, user *wardline.User, passkeysLeft int, totpLeft bool) error {
	org, err := d.store.Org(ctx, user.OrgID)
	if err != nil {
		return err
	}
	if !org.Policy.Normalize().MFARequired() || passkeysLeft > 0 || totpLeft {
		return nil
	}
	return wardline.Errorf(wardline.ECONFLICT, "your organisation requires a second factor: add another before removing this one")
}

// NewRecoveryCodes replaces the caller's recovery codes with ten new ones, shown once.
func (s *AuthService) NewRecoveryCodes(ctx context.Context) ([]string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.userMFA(ctx, a.User.ID)
	if err != nil {
		return nil, err
	}
	if !m.HasTOTP() {
		return nil, wardline.Errorf(wardline.ECONFLICT, "recovery codes go with an authenticator app: set one up first")
	}
	codes := newRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = recoveryHash(a.User.ID, c)
	}
	ev := s.auditEvent(ctx, wardline.ActionRecoveryCodesIssued, "user", a.User.ID)
	_, err = s.updateMFA(ctx, a.User, func(m2 *wardline.UserMFA) error {
		return s.sealRecoveryHashes(ctx, m2, hashes)
	}, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) })
	if err != nil {
		return nil, err
	}
	return codes, nil
}
