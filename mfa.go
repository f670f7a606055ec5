package wardline

import "time"

// Strong authentication: second factors (TOTP, passkeys, recovery codes), PIN unlock, device
// sessions. The secrets among them (TOTP secrets, recovery code hashes, passkey records) are
// sealed with the keyring under the user's own scope, so the database never holds them in clear.

// Audit actions of strong authentication.
const (
	ActionMFARequired         = "auth.mfa_required"          // a right password; a second factor asked for
	ActionMFAFailed           = "auth.mfa_failed"            // a wrong code, recovery code or passkey
	ActionTOTPEnrolStarted    = "auth.totp_enrol_started"    // a new secret issued, not yet confirmed
	ActionTOTPEnrolled        = "auth.totp_enrolled"         // confirmed; recovery codes issued
	ActionTOTPRemoved         = "auth.totp_removed"          //
	ActionRecoveryCodeUsed    = "auth.recovery_code_used"    //
	ActionRecoveryCodesIssued = "auth.recovery_codes_issued" // a new set replaces the old
	ActionPasskeyRegistered   = "auth.passkey_registered"    //
	ActionPasskeyRemoved      = "auth.passkey_removed"       //
	ActionPINSet              = "auth.pin_set"               //
	ActionPINRemoved          = "auth.pin_removed"           //
	ActionSessionLocked       = "auth.session_locked"        //
	ActionSessionUnlocked     = "auth.session_unlocked"      //
	ActionUnlockFailed        = "auth.unlock_failed"         // a wrong PIN or passkey at the lock screen
	ActionSessionsRevokedAll  = "auth.sessions_revoked_all"  // "sign out everywhere"
	ActionPasswordReset       = "admin.password_reset"       // an admin issued a new initial password
	ActionMFAReset            = "admin.mfa_reset"            // an admin removed every factor of a user
	ActionPolicyChanged       = "admin.policy_changed"       //
	ActionSessionsListed      = "auth.sessions_listed"       // an admin looked at someone's devices
)

// Event types of strong authentication. Neither carries anything but its type: they tell a
// node's streams of the session that it locked or unlocked.
const (
	EventSessionLocked   = "session.locked"
	EventSessionUnlocked = "session.unlocked"
)

// Second-factor methods, as login's mfa_required answer names them.
const (
	MethodTOTP         = "totp"
	MethodWebAuthn     = "webauthn"
	MethodRecoveryCode = "recovery_code"
)

// MaxPINFailures wrong PINs end a locked session: the person signs in again in full.
const MaxPINFailures = 5

// RecoveryCodeCount is how many single-use recovery codes a TOTP enrolment issues.
const RecoveryCodeCount = 10

// MFARequiredError is what a sign-in answers when the password was right but a second factor is
// needed (and what a wrong code answers while the MFA token may still be used): code
// EMFAREQUIRED, with the token and the user's methods for the API's 401 body.
type MFARequiredError struct {
	Err     *Error
	Token   string   // the mfa_token: proves the password was right, for a few minutes
	Methods []string // the user's second factors
}

func (e *MFARequiredError) Error() string { return e.Err.Error() }

// Unwrap lets ErrorCode and ErrorMessage find the code and message.
func (e *MFARequiredError) Unwrap() error { return e.Err }

// UserMFA is a user's second factors and PIN as stored. Sealed fields are opened only with the
// keyring, under MFAScope(UserID), bound to AAD("user_mfa", UserID, <column>).
type UserMFA struct {
	UserID string
	OrgID  string

	TOTPSealed        []byte     // the confirmed TOTP secret, sealed; nil when not enrolled
	TOTPPendingSealed []byte     // a secret issued by enrolment and not yet confirmed
	TOTPLastStep      int64      // the last 30-second step whose code was accepted: no code twice
	TOTPEnrolledAt    *time.Time //

	RecoverySealed    []byte // sealed JSON list of the unused recovery codes' hashes
	RecoveryRemaining int    // how many are left (a count, not a secret)

	PINHash string // argon2id; "" when no PIN is set

	// Version rises by one with every write; a write that finds another version fails with
	// ECONFLICT, so two requests racing over one recovery code cannot both spend it.
	Version   int64
	UpdatedAt time.Time
}

// HasTOTP reports whether a TOTP secret is confirmed.
func (m *UserMFA) HasTOTP() bool { return m != nil && len(m.TOTPSealed) > 0 }

// HasPIN reports whether a PIN is set.
func (m *UserMFA) HasPIN() bool { return m != nil && m.PINHash != "" }

// MFAScope names the keyring scope of a user's authentication secrets.
func MFAScope(userID string) string { return "mfa:" + userID }

// Passkey is one WebAuthn credential of a user. The credential record (public key, sign count,
// flags) is sealed; its id is in clear because a passwordless sign-in looks the credential up by it.
type Passkey struct {
	ID           string     `json:"id"`
	UserID       string     `json:"-"`
	OrgID        string     `json:"-"`
	CredentialID []byte     `json:"-"`
	Name         string     `json:"name"`
	Sealed       []byte     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
}

// Kinds of AuthChallenge.
const (
	ChallengeMFA             = "mfa"              // a password was right; the second factor is awaited
	ChallengePasskeyRegister = "passkey_register" // a passkey registration was begun by a session
	ChallengePasskeyLogin    = "passkey_login"    // a passwordless sign-in was begun
	ChallengeUnlock          = "unlock"           // a passkey unlock was begun by a locked session
)

// AuthChallenge is one step of a sign-in or ceremony in progress, kept in the store so that the
// next step may reach any node. Token-bearing challenges (the MFA token) keep only its SHA-256.
type AuthChallenge struct {
	ID        string
	Kind      string
	TokenHash []byte // nil for challenges found by id or session
	UserID    string // "" for a passwordless sign-in, whose user is not known yet
	OrgID     string
	SessionID string // the session that began it, for registration and unlock
	Data      []byte // the WebAuthn ceremony's session data (a challenge, not a secret), JSON
	Attempts  int    // wrong answers so far
	CreatedAt time.Time
	ExpiresAt time.Time
}
