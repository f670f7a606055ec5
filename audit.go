package wardline

import "time"

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailure = "failure"
)

// AuditEvent is one entry of the organisation's audit log. It names who did what to which
// things, never what a message said or who a patient is: ids only (DESIGN.md rule 2).
type AuditEvent struct {
	Seq            int64     `json:"seq"` // position in the log, assigned by the store
	ID             string    `json:"id"`
	At             time.Time `json:"at"`
	OrgID          string    `json:"org_id"`
	ActorID        string    `json:"actor_id"`
	SessionID      string    `json:"session_id"`
	Addr           string    `json:"source_addr"`
	Action         string    `json:"action"`
	TargetType     string    `json:"target_type"`
	TargetID       string    `json:"target_id"`
	ConversationID string    `json:"conversation_id"`
	Outcome        string    `json:"outcome"`
	Justification  string    `json:"justification"`
	// Detail holds further ids and numbers (a seq range, a count); never content.
	Detail map[string]any `json:"detail,omitempty"`
}

// Audit actions. One name per kind of thing that happens, in the clinic's words.
const (
	ActionLoginSucceeded   = "auth.login"
	ActionLoginFailed      = "auth.login_failed"
	ActionLogout           = "auth.logout"
	ActionPasswordChanged  = "auth.password_changed"
	ActionSessionRevoked   = "auth.session_revoked"
	ActionUserCreated      = "admin.user_created"
	ActionUserSuspended    = "admin.user_suspended"
	ActionUserReinstated   = "admin.user_reinstated"
	ActionUserOffboarded   = "admin.user_offboarded"
	ActionOrgCreated       = "admin.org_created"
	ActionConvCreated      = "conversation.created"
	ActionConvRead         = "conversation.viewed"
	ActionMemberAdded      = "conversation.member_added"
	ActionMemberRemoved    = "conversation.member_removed"
	ActionOwnerChanged     = "conversation.owner_changed"
	ActionMessageSent      = "message.sent"
	ActionMessageEdited    = "message.edited"
	ActionMessageDeleted   = "message.deleted"
	ActionMessageAcked     = "message.acknowledged"
	ActionHistoryRead      = "message.history_read"
	ActionResumeReplayed   = "message.resume_replayed"
	ActionReceiptsRead     = "message.receipts_read"
	ActionMarkedRead       = "message.marked_read"
	ActionDirectorySearch  = "directory.searched"
	ActionAdminUsersListed = "admin.users_listed"
	ActionContentShredded  = "admin.conversation_shredded"
)
