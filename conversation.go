package wardline

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Conversation kinds.
const (
	KindDirect  = "direct"
	KindGroup   = "group"
	KindChannel = "channel"
)

// Member roles within a conversation.
const (
	MemberOwner  = "owner"
	MemberMember = "member"
)

// MaxTitleLength bounds conversation titles, in Unicode characters.
const MaxTitleLength = 200

// Conversation is a direct, group or channel conversation of one organisation.
type Conversation struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"-"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Members     []*Member `json:"members"`
	LastSeq     int64     `json:"last_seq"`
	UnreadCount int64     `json:"unread_count"`
	PatientID   *string   `json:"patient_id"`
	// Category is clinical, handover, referral, admin, social or one of the organisation's own;
	// nil when none was given.
	Category *string `json:"category"`
	Status   string  `json:"status"` // ConvOpen or ConvResolved
	// RoleID is the role of a role conversation (KindRole); nil otherwise.
	RoleID *string `json:"role_id"`
	// EscalationRoleID is the conversation's escalation contact: unacknowledged urgent messages
	// bring its holders in (and then its escalation chain's).
	EscalationRoleID *string `json:"escalation_role_id"`
	// LastActivityAt orders the conversation list (most recently active first).
	LastActivityAt time.Time `json:"last_activity_at"`
	// Shredded is true once the conversation's key was destroyed: its title and messages no longer
	// exist anywhere, and it takes no new messages.
	Shredded bool `json:"shredded,omitempty"`

	// TitleSealed is the encrypted title as stored; the service opens it into Title.
	TitleSealed []byte `json:"-"`
	// DirectKey identifies a direct conversation by its two members, so there is only one.
	DirectKey string `json:"-"`
}

// Member is a person's membership of a conversation, with how the directory names them.
type Member struct {
	UserID      string    `json:"user_id"`
	Role        string    `json:"role"`
	JoinedAt    time.Time `json:"joined_at"`
	DisplayName string    `json:"display_name"`
	JobTitle    string    `json:"job_title"`

	// The member's duty setting as stored (loaded with the members, so that sending needs no
	// query per recipient); the service works out the effective status.
	Duty DutySetting `json:"-"`
}

// MemberRole returns the role of userID in c, or "" when they are not a member.
func (c *Conversation) MemberRole(userID string) string {
	for _, m := range c.Members {
		if m.UserID == userID {
			return m.Role
		}
	}
	return ""
}

// MemberIDs returns the user ids of c's members.
func (c *Conversation) MemberIDs() []string {
	ids := make([]string, len(c.Members))
	for i, m := range c.Members {
		ids[i] = m.UserID
	}
	return ids
}

// NewConversation is what a client supplies to start a conversation.
type NewConversation struct {
	Kind      string   `json:"kind"`
	Title     string   `json:"title"`
	MemberIDs []string `json:"member_ids"`
	// Clinical workflow: the patient it is about, its category and status, its escalation contact.
	PatientID        *string `json:"patient_id"`
	Category         *string `json:"category"`
	Status           string  `json:"status"`
	EscalationRoleID *string `json:"escalation_role_id"`
}

// Validate checks the shape of n; whether the members exist is the service's business.
func (n *NewConversation) Validate() error {
	n.Title = strings.TrimSpace(n.Title)
	switch n.Kind {
	case KindDirect:
		n.Title = ""
		if len(n.MemberIDs) != 1 {
			return Errorf(EINVALID, "a direct conversation takes exactly one other member")
		}
	case KindGroup:
	case KindChannel:
		if n.Title == "" {
			return Errorf(EINVALID, "a channel needs a title")
		}
	default:
		return Errorf(EINVALID, "kind must be direct, group or channel")
	}
	if utf8.RuneCountInString(n.Title) > MaxTitleLength {
		return Errorf(EINVALID, "title must be at most %d characters", MaxTitleLength)
	}
	if len(n.MemberIDs) > 1000 {
		return Errorf(EINVALID, "at most 1000 members at once")
	}
	for _, id := range n.MemberIDs {
		if !ValidID(id) {
			return Errorf(EINVALID, "member_ids must be user ids")
		}
	}
	switch n.Status {
	case "":
		n.Status = ConvOpen
	case ConvOpen, ConvResolved:
	default:
		return Errorf(EINVALID, "status must be open or resolved")
	}
	if n.PatientID != nil && !ValidID(*n.PatientID) {
		return Errorf(EINVALID, "patient_id must be a patient id")
	}
	if n.EscalationRoleID != nil {
		if !ValidID(*n.EscalationRoleID) {
			return Errorf(EINVALID, "escalation_role_id must be a role id")
		}
		if n.Kind == KindDirect {
			return Errorf(EINVALID, "a direct conversation has no escalation contact")
		}
	}
	return nil
}

// ConversationPatch changes a conversation's clinical fields; absent fields stay as they are and
// null clears patient_id, category or escalation_role_id.
type ConversationPatch struct {
	PatientID        Optional[*string] `json:"patient_id"`
	Category         Optional[*string] `json:"category"`
	Status           Optional[string]  `json:"status"`
	EscalationRoleID Optional[*string] `json:"escalation_role_id"`
}

// Validate checks the shape of p.
func (p *ConversationPatch) Validate() error {
	if p.PatientID.Set && p.PatientID.Value != nil && !ValidID(*p.PatientID.Value) {
		return Errorf(EINVALID, "patient_id must be a patient id")
	}
	if p.Status.Set && p.Status.Value != ConvOpen && p.Status.Value != ConvResolved {
		return Errorf(EINVALID, "status must be open or resolved")
	}
	if p.EscalationRoleID.Set && p.EscalationRoleID.Value != nil && !ValidID(*p.EscalationRoleID.Value) {
		return Errorf(EINVALID, "escalation_role_id must be a role id")
	}
	if !p.PatientID.Set && !p.Category.Set && !p.Status.Set && !p.EscalationRoleID.Set {
		return Errorf(EINVALID, "nothing to change")
	}
	return nil
}

// ConversationService starts conversations and manages their members.
type ConversationService interface {
	CreateConversation(ctx context.Context, n NewConversation) (conv *Conversation, created bool, err error)
	Conversation(ctx context.Context, id string) (*Conversation, error)
	Conversations(ctx context.Context, cursor string, limit int) ([]*Conversation, string, error)
	AddMember(ctx context.Context, convID, userID string) error
	RemoveMember(ctx context.Context, convID, userID string) error
	UpdateConversation(ctx context.Context, id string, p ConversationPatch) (*Conversation, error)
}
