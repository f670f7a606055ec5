package wardline

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// KindRole is the conversation between one sender and a clinical role: its members are the sender
// and whoever holds the role, and it stays with the role across handovers.
const KindRole = "role"

// Role is a clinical role ("On-call medical registrar"): people take it, hand it over or are put
// on a rota for it, and messages to it reach whoever holds it.
type Role struct {
	ID                string        `json:"id"`
	Name              string        `json:"name"`
	Holders           []*RoleHolder `json:"holders"`
	FallbackRoleID    *string       `json:"fallback_role_id"`
	EscalationRoleIDs []string      `json:"escalation_role_ids"`

	OrgID     string    `json:"-"`
	CreatedAt time.Time `json:"-"`
}

// RoleHolder is one period of someone holding a role. Until is nil for "until they release it".
type RoleHolder struct {
	UserID string     `json:"user_id"`
	Since  time.Time  `json:"since"`
	Until  *time.Time `json:"until"`

	ID     string `json:"-"`
	RoleID string `json:"-"`
	Source string `json:"-"` // HoldTaken, HoldHandover or HoldRota
	// For rota periods: whether the scheduler has acted on their start and end.
	StartApplied bool `json:"-"`
	EndApplied   bool `json:"-"`
}

// HoldsAt reports whether h covers t.
func (h *RoleHolder) HoldsAt(t time.Time) bool {
	return !h.Since.After(t) && (h.Until == nil || h.Until.After(t))
}

// How someone came to hold a role.
const (
	HoldTaken    = "take"
	HoldHandover = "handover"
	HoldRota     = "rota"
)

// RotaOf names whose rota periods to list: a role's (RoleID) or a person's (UserID), exactly one.
type RotaOf struct {
	RoleID, UserID string
}

// RotaEntry assigns a role to someone for a period.
type RotaEntry struct {
	ID       string    `json:"id"`
	RoleID   string    `json:"role_id"`
	UserID   string    `json:"user_id"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	RoleName string    `json:"role_name"` // the role's name when listed, for the reader's convenience
}

// Limits of roles.
const (
	MaxRoleNameLength  = 200
	MaxEscalationRoles = 10
	MaxRotaEntryLength = 31 * 24 * time.Hour
	MaxFallbackHops    = 8 // how far a message follows fallback roles before giving up
)

// NewRole is what an admin supplies to define a role.
type NewRole struct {
	Name              string   `json:"name"`
	FallbackRoleID    *string  `json:"fallback_role_id"`
	EscalationRoleIDs []string `json:"escalation_role_ids"`
}

// ValidateRoleName trims and checks a role's name.
func ValidateRoleName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) {
		return "", Errorf(EINVALID, "name is required")
	}
	if utf8.RuneCountInString(name) > MaxRoleNameLength {
		return "", Errorf(EINVALID, "name must be at most %d characters", MaxRoleNameLength)
	}
	return name, nil
}

// ValidateRoleRefs checks the shape of a role's references to other roles; whether they exist is
// the service's business.
func ValidateRoleRefs(fallback *string, escalation []string) error {
	if fallback != nil && !ValidID(*fallback) {
		return Errorf(EINVALID, "fallback_role_id must be a role id")
	}
	if len(escalation) > MaxEscalationRoles {
		return Errorf(EINVALID, "escalation_role_ids takes at most %d roles", MaxEscalationRoles)
	}
	seen := map[string]bool{}
	for _, id := range escalation {
		if !ValidID(id) {
			return Errorf(EINVALID, "escalation_role_ids must be role ids")
		}
		if seen[id] {
			return Errorf(EINVALID, "escalation_role_ids names a role twice")
		}
		seen[id] = true
	}
	return nil
}

// RolePatch changes a role; absent fields stay as they are.
type RolePatch struct {
	Name              Optional[string]   `json:"name"`
	FallbackRoleID    Optional[*string]  `json:"fallback_role_id"`
	EscalationRoleIDs Optional[[]string] `json:"escalation_role_ids"`
}

// NewRotaEntry is what an admin supplies to put someone on a rota.
type NewRotaEntry struct {
	UserID   string     `json:"user_id"`
	StartsAt *time.Time `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at"`
}

// Validate checks the period, as of now: it ends in the future, after it starts, within
// MaxRotaEntryLength.
func (n *NewRotaEntry) Validate(now time.Time) error {
	if !ValidID(n.UserID) {
		return Errorf(EINVALID, "user_id must be a colleague's id")
	}
	if n.StartsAt == nil || n.EndsAt == nil {
		return Errorf(EINVALID, "starts_at and ends_at are required")
	}
	s, e := n.StartsAt.UTC().Truncate(time.Microsecond), n.EndsAt.UTC().Truncate(time.Microsecond)
	n.StartsAt, n.EndsAt = &s, &e
	if !e.After(s) {
		return Errorf(EINVALID, "ends_at must be after starts_at")
	}
	if !e.After(now) {
		return Errorf(EINVALID, "ends_at must be in the future")
	}
	if e.Sub(s) > MaxRotaEntryLength {
		return Errorf(EINVALID, "a rota entry lasts at most 31 days")
	}
	return nil
}

// Warning tells the sender of a message something they should know: who did not get it as they
// meant, and who covers for them.
type Warning struct {
	Code           string  `json:"code"`
	UserID         *string `json:"user_id"`
	CoveringRoleID *string `json:"covering_role_id"`
	// RoleID names the role a warning is about (for messages to roles).
	RoleID *string `json:"role_id,omitempty"`
	// ConversationID names the covering role's conversation that an urgent message was forwarded to.
	ConversationID *string `json:"conversation_id,omitempty"`
}

// Warning codes.
const (
	// WarnRecipientOffDuty: a recipient is off duty or on leave. A routine message reached them
	// silently; an urgent one went to covering_role_id (conversation_id) as well.
	WarnRecipientOffDuty = "recipient_off_duty"
	// WarnRoleNotHeld: nobody holds role_id now; the message went to its fallback, covering_role_id.
	WarnRoleNotHeld = "role_not_held"
	// WarnNobodyReached: nobody holds the role or any of its fallbacks; the message is stored in the
	// role's conversation and will be seen by whoever takes the role.
	WarnNobodyReached = "nobody_reached"
)

// RoleMessageResult is the answer to a message sent to a role.
type RoleMessageResult struct {
	Message        *Message   `json:"message"`
	ConversationID string     `json:"conversation_id"`
	RoleID         string     `json:"role_id"` // the role whose conversation got it (a fallback, maybe)
	Reached        []string   `json:"reached"`
	Warnings       []*Warning `json:"warnings"`
	Created        bool       `json:"-"`
}

// RoleService defines roles, who holds them, and sends messages to them.
type RoleService interface {
	Roles(ctx context.Context, cursor string, limit int) ([]*Role, string, error)
	CreateRole(ctx context.Context, n NewRole) (*Role, error)
	UpdateRole(ctx context.Context, id string, p RolePatch) (*Role, error)
	Take(ctx context.Context, id string) error
	Release(ctx context.Context, id string) error
	Handover(ctx context.Context, id, toUserID string) error
	AddRotaEntry(ctx context.Context, roleID string, n NewRotaEntry) (*RotaEntry, error)
	Rota(ctx context.Context, roleID, cursor string, limit int) ([]*RotaEntry, string, error)
	CancelRotaEntry(ctx context.Context, roleID, entryID string) error
	SendToRole(ctx context.Context, roleID string, n NewMessage) (*RoleMessageResult, error)
}
