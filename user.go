package wardline

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Organisation roles (User.OrgRole).
const (
	OrgRoleMember  = "member"
	OrgRoleAdmin   = "admin"
	OrgRoleAuditor = "auditor"
)

// User statuses.
const (
	UserActive     = "active"
	UserSuspended  = "suspended"
	UserOffboarded = "offboarded"
)

// Org is an organisation (a trust, a practice): the data controller that owns its directory,
// its conversations and its audit log. Organisations in one deployment see nothing of each other.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Policy    OrgPolicy `json:"policy"`
	CreatedAt time.Time `json:"created_at"`
}

// OrgPolicy holds what an organisation may set for itself. Zero fields take the defaults of
// DefaultPolicy; Normalize fills them in. Every field is arranged so that its zero value is the
// secure default: that is why the second-factor rule is stored as MFAOptional (zero: required)
// while its JSON name stays "mfa_required".
type OrgPolicy struct {
	SessionIdleMinutes     int `json:"session_idle_minutes"`     // end a session after this long without use
	SessionAbsoluteMinutes int `json:"session_absolute_minutes"` // and after this long in any case
	LoginLockFailures      int `json:"login_lock_failures"`      // failures for one email before 423
	LoginAddrFailures      int `json:"login_addr_failures"`      // failures from one address before 429
	LoginWindowMinutes     int `json:"login_window_minutes"`     // the window both counts cover
	LoginLockMinutes       int `json:"login_lock_minutes"`       // how long the lock lasts
	// LockIdleSeconds is how long the client waits without use before it locks its screen and
	// asks for the PIN (or a passkey).
	LockIdleSeconds int `json:"lock_idle_seconds"`

	// MFAOptional lets members sign in without a second factor. The zero value (false) means a
	// second factor is required, so an organisation created from a zero policy is safe; in JSON
	// it is "mfa_required" (its negation). A user who enrolled a factor needs it regardless.
	MFAOptional bool `json:"-"`
	// PasswordlessAllowed lets members sign in with a passkey alone (user verification on).
	PasswordlessAllowed bool `json:"passwordless_allowed"`

	// Alerts are the organisation's anomaly-alert thresholds (the audit feature).
	Alerts AlertPolicy `json:"alerts"`
}

// DefaultPolicy is what API.md promises when an organisation sets nothing: the limits there are
// the most an organisation may allow.
var DefaultPolicy = OrgPolicy{
	SessionIdleMinutes:     60,
	SessionAbsoluteMinutes: 14 * 60,
	LoginLockFailures:      10,
	LoginAddrFailures:      50,
	LoginWindowMinutes:     15,
	LoginLockMinutes:       15,
	LockIdleSeconds:        120,
}

// MinLockIdleSeconds is the shortest idle lock an organisation may set.
const MinLockIdleSeconds = 10

// Normalize fills unset fields with the defaults and caps every limit at the default: a policy
// may tighten the rules, never loosen them. The switches are the organisation's to choose:
// requiring a second factor is the default, and turning it off (an organisation whose sign-in
// brings its own second factor, a demo) is an explicit, audited choice.
func (p OrgPolicy) Normalize() OrgPolicy {
	capAt := func(v, max int) int {
		if v <= 0 || v > max {
			return max
		}
		return v
	}
	d := DefaultPolicy
	p.SessionIdleMinutes = capAt(p.SessionIdleMinutes, d.SessionIdleMinutes)
	p.SessionAbsoluteMinutes = capAt(p.SessionAbsoluteMinutes, d.SessionAbsoluteMinutes)
	p.LoginLockFailures = capAt(p.LoginLockFailures, d.LoginLockFailures)
	p.LoginAddrFailures = capAt(p.LoginAddrFailures, d.LoginAddrFailures)
	p.LoginWindowMinutes = capAt(p.LoginWindowMinutes, d.LoginWindowMinutes)
	p.LoginLockMinutes = capAt(p.LoginLockMinutes, d.LoginLockMinutes)
	p.Alerts = p.Alerts.Normalize()
	p.LockIdleSeconds = max(capAt(p.LockIdleSeconds, d.LockIdleSeconds), MinLockIdleSeconds)
	return p
}

// MFARequired reports whether every member must have a second factor.
func (p OrgPolicy) MFARequired() bool { return !p.MFAOptional }

// policyJSON is OrgPolicy on the wire and in the database.
type policyJSON struct {
	orgPolicyFields
	MFARequired *bool `json:"mfa_required,omitempty"`
}

type orgPolicyFields OrgPolicy // without OrgPolicy's methods, so encoding/json does not recurse

// MarshalJSON writes the policy with "mfa_required" in place of MFAOptional.
func (p OrgPolicy) MarshalJSON() ([]byte, error) {
	req := !p.MFAOptional
	return json.Marshal(policyJSON{orgPolicyFields(p), &req})
}

// UnmarshalJSON reads a policy; a missing "mfa_required" means required.
func (p *OrgPolicy) UnmarshalJSON(b []byte) error {
	var v policyJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = OrgPolicy(v.orgPolicyFields)
	p.MFAOptional = v.MFARequired != nil && !*v.MFARequired
	return nil
}

// User is a member of staff in an organisation's directory.
type User struct {
	ID           string    `json:"id"`
	OrgID        string    `json:"org_id"`
	Email        string    `json:"email"`
	DisplayName  string    `json:"display_name"`
	JobTitle     string    `json:"job_title"`
	Profession   string    `json:"profession"`
	Registration string    `json:"registration"`
	OrgRole      string    `json:"org_role"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
	// DutyStatus is on_duty, off_duty or on_leave now: what the user (or a rota) set, while it
	// lasts, else the organisation's working hours. DutyUntil is when a set status ends, and
	// CoveringRoleID the role that covers for them while they are away.
	DutyStatus     string     `json:"duty_status"`
	DutyUntil      *time.Time `json:"duty_until"`
	CoveringRoleID *string    `json:"covering_role_id"`
	// OrgName is the organisation's name, on the caller's own account only (GET /me and
	// sign-in): someone with accounts in two organisations sees which one they are in.
	OrgName string `json:"org_name,omitempty"`

	// Never serialised: the argon2id hash of the password, and whether it must be changed
	// before anything else (an initial or admin-reset password).
	PasswordHash           string `json:"-"`
	PasswordChangeRequired bool   `json:"-"`
}

// Active reports whether the user may sign in and be reached.
func (u *User) Active() bool { return u != nil && u.Status == UserActive }

// NewUser is what an admin supplies to create a member of staff.
type NewUser struct {
	Email        string `json:"email"`
	DisplayName  string `json:"display_name"`
	JobTitle     string `json:"job_title"`
	Profession   string `json:"profession"`
	Registration string `json:"registration"`
	OrgRole      string `json:"org_role"`
}

// Normalize trims the fields and lower-cases the email, so that one person has one address.
func (n *NewUser) Normalize() {
	n.Email = NormalizeEmail(n.Email)
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	n.JobTitle = strings.TrimSpace(n.JobTitle)
	n.Profession = strings.TrimSpace(n.Profession)
	n.Registration = strings.TrimSpace(n.Registration)
	if n.OrgRole == "" {
		n.OrgRole = OrgRoleMember
	}
}

// Validate reports the first thing wrong with n as an EINVALID error.
func (n *NewUser) Validate() error {
	if !ValidEmail(n.Email) {
		return Errorf(EINVALID, "email must be a valid email address")
	}
	if n.DisplayName == "" {
		return Errorf(EINVALID, "display_name is required")
	}
	for name, v := range map[string]string{"display_name": n.DisplayName, "job_title": n.JobTitle, "profession": n.Profession, "registration": n.Registration} {
		if utf8.RuneCountInString(v) > 200 {
			return Errorf(EINVALID, "%s must be at most 200 characters", name)
		}
	}
	switch n.OrgRole {
	case OrgRoleMember, OrgRoleAdmin, OrgRoleAuditor:
	default:
		return Errorf(EINVALID, "org_role must be member, admin or auditor")
	}
	return nil
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail is a deliberately plain check: one @, something on each side, a dot in the domain,
// no spaces, at most 254 bytes. Delivery is not Wardline's concern; a typo is.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.Contains(domain, "@") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// UserFilter selects users of one organisation.
type UserFilter struct {
	OrgID string
	Query string // matches name, job title or profession (and email with ByEmail), case-insensitively
	// ByEmail also matches the query against email addresses (admins' searches only).
	ByEmail bool
	Status  string // "" for any
	Cursor  string
	Limit   int
}

// Session is one signed-in device. The token itself is never stored, only its SHA-256 hash.
type Session struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	OrgID       string     `json:"-"`
	TokenHash   []byte     `json:"-"`
	Name        string     `json:"name"`   // what the person calls the device, or one made from the user agent
	Device      string     `json:"device"` // the user agent
	Addr        string     `json:"address"`
	CreatedAt   time.Time  `json:"created_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	IdleMinutes int        `json:"-"` // the idle limit in force when it was created

	// LockedAt is set while the client's screen is locked: until the PIN or a passkey unlocks it,
	// the session may do nothing else and its event streams carry no content.
	LockedAt *time.Time `json:"locked_at,omitempty"`
	// PINFailures counts wrong PINs since the last unlock; at MaxPINFailures the session ends.
	PINFailures int `json:"-"`
	// Current marks the caller's own session in listings; never stored.
	Current bool `json:"current"`

	// Restrictions the client must clear before anything else works (API.md "Authentication").
	PasswordChangeRequired bool `json:"-"`
	MFAEnrollmentRequired  bool `json:"-"`
}

// Live reports whether s may still be used at now.
func (s *Session) Live(now time.Time) bool {
	return s != nil && s.RevokedAt == nil && now.Before(s.ExpiresAt) &&
		now.Before(s.LastSeenAt.Add(time.Duration(s.IdleMinutes)*time.Minute))
}

// Locked reports whether the session waits for its PIN or a passkey.
func (s *Session) Locked() bool { return s != nil && s.LockedAt != nil }

// LoginResult is the answer to a successful sign-in. (A sign-in that needs a second factor
// answers *MFARequiredError instead.)
type LoginResult struct {
	Token                  string    `json:"token,omitempty"`
	ExpiresAt              time.Time `json:"expires_at"`
	User                   *User     `json:"user"`
	PasswordChangeRequired bool      `json:"password_change_required,omitempty"`
	MFAEnrollmentRequired  bool      `json:"mfa_enrollment_required,omitempty"`
	LockIdleSeconds        int       `json:"lock_idle_seconds,omitempty"`
	Session                *Session  `json:"-"`
}

// AuthService signs people in and out and resolves tokens to actors.
type AuthService interface {
	Login(ctx context.Context, email, password string) (*LoginResult, error)
	// LoginAt is Login to the address's account in one organisation (its id or name): an
	// address is unique within an organisation, and one person may hold it in several.
	LoginAt(ctx context.Context, org, email, password string) (*LoginResult, error)
	Logout(ctx context.Context) error
	Authenticate(ctx context.Context, token, addr string) (*Actor, error)
	ChangePassword(ctx context.Context, current, next string) error
}

// UserService is the organisation's directory and its administration.
type UserService interface {
	Me(ctx context.Context) (*User, error)
	CreateUser(ctx context.Context, n NewUser) (*User, string, error)
	FindUsers(ctx context.Context, f UserFilter) ([]*User, string, error)
	Suspend(ctx context.Context, userID string) error
	Reinstate(ctx context.Context, userID string) error
	Offboard(ctx context.Context, userID string) error
	Directory(ctx context.Context, q, cursor string, limit int) ([]*DirectoryEntry, string, error)
}

// DirectoryEntry is one item of the directory: a person or a clinical role.
type DirectoryEntry struct {
	Kind        string
	ID          string
	DisplayName string // people
	JobTitle    string
	Profession  string
	Name        string        // roles
	Holders     []*RoleHolder // roles: who holds it now
}

// MarshalJSON writes the fields of the entry's kind, every one of them even when empty.
func (e *DirectoryEntry) MarshalJSON() ([]byte, error) {
	if e.Kind == "user" {
		return json.Marshal(struct {
			Kind        string `json:"kind"`
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
			JobTitle    string `json:"job_title"`
			Profession  string `json:"profession"`
		}{e.Kind, e.ID, e.DisplayName, e.JobTitle, e.Profession})
	}
	holders := e.Holders
	if holders == nil {
		holders = []*RoleHolder{}
	}
	return json.Marshal(struct {
		Kind    string        `json:"kind"`
		ID      string        `json:"id"`
		Name    string        `json:"name"`
		Holders []*RoleHolder `json:"holders"`
	}{e.Kind, e.ID, e.Name, holders})
}
