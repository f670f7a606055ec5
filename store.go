package wardline

import (
	"context"
	"time"
)

// Store is the durable state of Wardline. Implementations (sqlite, postgres) pass the contract
// suite in storetest. Reads run outside transactions; writes run in Update.
type Store interface {
	Reader

	// Update runs fn in a write transaction and returns once its effects are durable (fsync'd),
	// or returns fn's error with none of its effects applied. Implementations may run several
	// concurrent calls in one database transaction (group commit), each isolated by a savepoint,
	// and may call fn more than once when a transaction has to be retried: fn must touch nothing
	// but tx, and do no slow work (hash passwords and seal content before calling Update).
	Update(ctx context.Context, fn func(tx Tx) error) error

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is a write transaction: everything a Reader can see, as of the transaction, and the writes.
type Tx interface {
	Reader
	Writer
	// AfterCommit runs fn once the transaction is durable, before Update returns. Functions of one
	// store run one at a time in commit order, so events published from them leave in the order
	// their changes committed (a conversation's messages in seq order). They must not block.
	AfterCommit(fn func())
}

// Reader is every query the services need. A missing row is an ENOTFOUND *Error.
type Reader interface {
	Org(ctx context.Context, id string) (*Org, error)
	CountOrgs(ctx context.Context) (int, error)
	// OrgIDs lists every organisation's id, oldest first.
	OrgIDs(ctx context.Context) ([]string, error)
	OrgByName(ctx context.Context, name string) (*Org, error)

	User(ctx context.Context, id string) (*User, error)
	// UserByOrgEmail is the organisation's account with this (normalised) email address. An
	// address is unique within an organisation; one person may hold it in several.
	UserByOrgEmail(ctx context.Context, orgID, email string) (*User, error)
	// UsersByEmail lists the accounts with this (normalised) email address in every
	// organisation, the oldest first (sign-in, before the organisation is known).
	UsersByEmail(ctx context.Context, email string) ([]*User, error)
	FindUsers(ctx context.Context, f UserFilter) ([]*User, string, error)

	SessionByTokenHash(ctx context.Context, hash []byte) (*Session, error)
	// SessionWithUser is SessionByTokenHash and the session's user, read together (sign-in
	// checks on every request).
	SessionWithUser(ctx context.Context, hash []byte) (*Session, *User, error)
	Session(ctx context.Context, id string) (*Session, error)
	// LiveSessions returns the user's sessions that are not revoked and not past their absolute end.
	LiveSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)

	// CountLoginFailures counts failures recorded under key since the given time.
	CountLoginFailures(ctx context.Context, key string, since time.Time) (int, error)
	// LastLoginFailure is the time of the latest failure under key, or zero.
	LastLoginFailure(ctx context.Context, key string) (time.Time, error)

	// Conversation returns a conversation with its current members.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// DirectConversation finds the direct conversation with the given DirectKey.
	DirectConversation(ctx context.Context, orgID, directKey string) (*Conversation, error)
	// ConversationsOf lists userID's conversations, most recently active first, each with its
	// members and UnreadCount for userID.
	ConversationsOf(ctx context.Context, userID, cursor string, limit int) ([]*Conversation, string, error)
	// Memberships returns the ids of every conversation userID belongs to, with their last seq.
	Memberships(ctx context.Context, userID string) (map[string]int64, error)
	IsMember(ctx context.Context, convID, userID string) (bool, error)
	// MemberIDs returns the user ids of a conversation's current members, in id order (none for a
	// conversation that does not exist).
	MemberIDs(ctx context.Context, convID string) ([]string, error)
	// UnreadCount counts messages after userID's read watermark that others sent and that are
	// not deleted.
	UnreadCount(ctx context.Context, convID, userID string) (int64, error)

	Message(ctx context.Context, convID, id string) (*Message, error)
	MessageByClientID(ctx context.Context, convID, senderID, clientID string) (*Message, error)
	MessageBySeq(ctx context.Context, convID string, seq int64) (*Message, error)
	// Messages returns a page of a conversation in ascending seq, and whether more lie beyond it
	// in the direction of the query.
	Messages(ctx context.Context, convID string, q HistoryQuery) ([]*Message, bool, error)
	MessageVersions(ctx context.Context, msgID string) ([]*MessageVersion, error)

	// Watermark returns a member's delivered or read watermark (0 when none).
	Watermark(ctx context.Context, convID, userID, kind string) (int64, error)
	// Receipts returns, for the message at seq, when each given member's delivered and read
	// watermarks first covered it and when they acknowledged it.
	Receipts(ctx context.Context, convID, msgID string, seq int64, userIDs []string) ([]*MessageReceipt, error)

	// AuditEvents lists audit events of one organisation in log order.
	AuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)

	// Keys returns every term of a scope's keys, by kind and then term.
	Keys(ctx context.Context, scope string) ([]*KeyRecord, error)
	// KeysWrappedBy lists keys wrapped by the given key id, after the given key id, for re-wrapping.
	KeysWrappedBy(ctx context.Context, wrappedBy, afterID string, limit int) ([]*KeyRecord, error)

	// The audit feature: tamper evidence, investigations, alerts.

	// AuditTreeState returns the Merkle tree of the whole log as of the last commit: its size and
	// its state in audit.Tree's binary form. AppendAudit keeps it, in the same transaction.
	AuditTreeState(ctx context.Context) (size int64, state []byte, err error)
	// AuditLeafHashes returns the stored leaf hashes of leaves [begin, end): entries begin+1..end.
	AuditLeafHashes(ctx context.Context, begin, end int64) ([][]byte, error)
	// AuditEntries returns up to limit entries after afterSeq, in stored order, each with its
	// stored leaf hash, for verification: whatever the rows hold, unfiltered and unrepaired.
	AuditEntries(ctx context.Context, afterSeq int64, limit int) ([]*AuditEntry, error)
	// AuditEventsMatching returns up to limit entries after afterSeq whose action is one of
	// actions or whose target type is targetType, in log order, and the seq the log was read
	// through: the last entry at the time of the call when fewer than limit matched, else the
	// last one returned. Entries are committed in seq order, so a reader that starts the next
	// call from through misses nothing (the alerts of a cluster tail the log with it).
	AuditEventsMatching(ctx context.Context, afterSeq int64, actions []string, targetType string, limit int) (events []*AuditEvent, through int64, err error)
	// AuditCheckpoints lists every stored checkpoint, oldest first.
	AuditCheckpoints(ctx context.Context) ([]*AuditCheckpoint, error)
	// LatestAuditCheckpoint returns the checkpoint of the largest size (ENOTFOUND when none).
	LatestAuditCheckpoint(ctx context.Context) (*AuditCheckpoint, error)
	// AuditCheckpointBySize returns the checkpoint of exactly that size (ENOTFOUND when none).
	AuditCheckpointBySize(ctx context.Context, size int64) (*AuditCheckpoint, error)
	// AuditCheckpointBefore returns the latest checkpoint made before at (ENOTFOUND when none).
	AuditCheckpointBefore(ctx context.Context, at time.Time) (*AuditCheckpoint, error)

	Investigation(ctx context.Context, id string) (*Investigation, error)
	// Investigations lists an organisation's investigations, newest first.
	Investigations(ctx context.Context, orgID, cursor string, limit int) ([]*Investigation, string, error)
	// Alerts lists an organisation's alerts, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]*Alert, string, error)
	// UsersWithRole returns the ids of the active users of an organisation with an org role.
	UsersWithRole(ctx context.Context, orgID, role string) ([]string, error)
	// WatermarkAdvances returns every rise of every member's watermarks in a conversation, in
	// time order; Acks every acknowledgement in it.
	WatermarkAdvances(ctx context.Context, convID string) ([]*WatermarkAdvance, error)
	Acks(ctx context.Context, convID string) ([]*Ack, error)
	// ConversationVersions returns the earlier versions of every message of a conversation.
	ConversationVersions(ctx context.Context, convID string) ([]*MessageVersion, error)

	// Strong authentication (auth).

	// UserMFA returns a user's second factors and PIN; ENOTFOUND when none was ever set.
	UserMFA(ctx context.Context, userID string) (*UserMFA, error)
	// Passkeys lists a user's passkeys, oldest first.
	Passkeys(ctx context.Context, userID string) ([]*Passkey, error)
	// PasskeyByCredentialID finds a passkey by its WebAuthn credential id.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	AuthChallenge(ctx context.Context, id string) (*AuthChallenge, error)
	AuthChallengeByTokenHash(ctx context.Context, hash []byte) (*AuthChallenge, error)
	// SessionChallenge finds the latest challenge of a kind begun by a session.
	SessionChallenge(ctx context.Context, sessionID, kind string) (*AuthChallenge, error)

	// Clinical workflow: patients, roles and rotas, duty, escalation.

	Patient(ctx context.Context, id string) (*Patient, error)
	// PatientByHMAC finds an organisation's patient by the HMAC of their NHS number.
	PatientByHMAC(ctx context.Context, orgID, nhsHMAC string) (*Patient, error)
	// CanSeePatient reports whether userID is a member of a conversation about the patient, or
	// was granted access (registered or looked the patient up) at or after grantedSince.
	CanSeePatient(ctx context.Context, patientID, userID string, grantedSince time.Time) (bool, error)
	// PatientTimeline pages, newest first, through the messages about a patient in the
	// conversations userID belongs to. The cursor is opaque.
	PatientTimeline(ctx context.Context, patientID, userID, cursor string, limit int) ([]*Message, string, error)
	// ClinicalPolicy returns an organisation's clinical policy as stored (zero when never set).
	ClinicalPolicy(ctx context.Context, orgID string) (*ClinicalPolicy, error)
	// DutySettings returns the stored duty settings of the given users (absent: none stored).
	DutySettings(ctx context.Context, userIDs []string) (map[string]DutySetting, error)

	// Role returns a role without its holders.
	Role(ctx context.Context, id string) (*Role, error)
	// Roles pages through an organisation's roles by name, matching query in the name.
	Roles(ctx context.Context, orgID, query, cursor string, limit int) ([]*Role, string, error)
	// RoleHolders returns, per role, the holdings of active users that cover the given time.
	RoleHolders(ctx context.Context, roleIDs []string, at time.Time) (map[string][]*RoleHolder, error)
	// RoleConversations lists the ids of a role's conversations.
	RoleConversations(ctx context.Context, roleID string) ([]string, error)
	// DueRotaChanges lists rota holdings whose start or end has passed at now and has not been
	// applied yet (ClaimRotaChange).
	DueRotaChanges(ctx context.Context, now time.Time, limit int) ([]*RoleHolder, error)
	// RotaHoldings pages through the rota periods of one role, or of one person (across roles),
	// that end after at, by start, then id. The cursor is opaque.
	RotaHoldings(ctx context.Context, of RotaOf, at time.Time, cursor string, limit int) ([]*RoleHolder, string, error)
	// RoleHolding returns one holding of a role, of any source.
	RoleHolding(ctx context.Context, id string) (*RoleHolder, error)

	// Escalations returns the escalations of the given messages, by message id.
	Escalations(ctx context.Context, msgIDs []string) (map[string]*Escalation, error)
	// DueEscalations lists pending escalations whose next step is due at now, soonest first.
	DueEscalations(ctx context.Context, now time.Time, limit int) ([]*Escalation, error)
	// EscalationSteps lists the steps a message's escalation took, in order.
	EscalationSteps(ctx context.Context, msgID string) ([]*EscalationStep, error)
}

// Writer is every change the services make. Writes happen only inside Update.
type Writer interface {
	CreateOrg(ctx context.Context, o *Org) error
	UpdateOrgPolicy(ctx context.Context, orgID string, p OrgPolicy) error

	CreateUser(ctx context.Context, u *User) error
	// UpdateUser writes the user's profile, role, status, password hash and restriction.
	UpdateUser(ctx context.Context, u *User) error

	CreateSession(ctx context.Context, s *Session) error
	TouchSession(ctx context.Context, id string, at time.Time) error
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeUserSessions ends every live session of a user and returns their ids.
	RevokeUserSessions(ctx context.Context, userID string, at time.Time) ([]string, error)

	RecordLoginFailure(ctx context.Context, key string, at time.Time) error
	ClearLoginFailures(ctx context.Context, key string) error

	// CreateConversation inserts c and its members.
	CreateConversation(ctx context.Context, c *Conversation) error
	AddMember(ctx context.Context, convID string, m *Member) error
	RemoveMember(ctx context.Context, convID, userID string) error
	SetMemberRole(ctx context.Context, convID, userID, role string) error

	// NextSeq reserves the next seq of a conversation and marks it active at the given time.
	// Concurrent transactions never receive the same seq, and a rolled-back one leaves no gap.
	NextSeq(ctx context.Context, convID string, at time.Time) (int64, error)
	// InsertMessage stores m (with BodySealed).
	InsertMessage(ctx context.Context, m *Message) error
	// AppendMessage stores m as its conversation's next message if its sender is a member: it
	// reserves the seq as NextSeq does (setting m.Seq) and inserts m as InsertMessage does, and
	// answers the conversation's member ids (sorted), in one statement where the store has round
	// trips. ENOTFOUND, with nothing written, if the conversation does not exist or the sender is
	// not a member; ECONFLICT as InsertMessage, after which the caller must not commit (the seq
	// was reserved).
	AppendMessage(ctx context.Context, m *Message, at time.Time) ([]string, error)
	// ReviseMessage keeps prev, the version m replaces, in the message's history and writes m's
	// new state (an edit or a deletion). Nothing a message ever said is overwritten.
	ReviseMessage(ctx context.Context, m *Message, prev *MessageVersion) error

	// AdvanceWatermark raises a member's delivered or read watermark to seq, recording the time,
	// and reports whether it rose.
	AdvanceWatermark(ctx context.Context, convID, userID, kind string, seq int64, at time.Time) (bool, error)
	// AdvanceWatermarks does what AdvanceWatermark does for many members at once (one statement
	// where the store has round trips), answering for each target, in order, whether it rose. A
	// target that is not a member does not rise. EINVALID if a member is named twice.
	AdvanceWatermarks(ctx context.Context, kind string, targets []WatermarkTarget, at time.Time) ([]bool, error)
	// InsertAck records an acknowledgement and reports whether it is new.
	InsertAck(ctx context.Context, convID, msgID, userID string, at time.Time) (bool, error)

	// AppendAudit adds e to the log and sets e.Seq.
	AppendAudit(ctx context.Context, e *AuditEvent) error

	// InsertKey stores a key record; ECONFLICT when its scope has a key of that kind and term.
	InsertKey(ctx context.Context, k *KeyRecord) error
	RewrapKey(ctx context.Context, id, wrappedBy string, wrapped []byte) error
	// DestroyKeys erases the key material of every term of a scope (crypto-shredding).
	DestroyKeys(ctx context.Context, scope string, at time.Time) error

	// The audit feature.

	InsertAuditCheckpoint(ctx context.Context, c *AuditCheckpoint) error
	CreateInvestigation(ctx context.Context, inv *Investigation) error
	CloseInvestigation(ctx context.Context, id, by string, at time.Time) error
	// InsertAlert stores an alert; an id stored already is ECONFLICT (another node raised it).
	InsertAlert(ctx context.Context, a *Alert) error
	// AddKnownDevice records that userID signed in from a device, and reports whether it was new
	// and how many devices were known for the user before.
	AddKnownDevice(ctx context.Context, userID, fingerprint string, at time.Time) (added bool, before int, err error)

	// Strong authentication (auth).

	// PutUserMFA writes m when the stored version is m.Version (0: nothing stored yet) and then
	// sets m.Version to the new one; another version answers ECONFLICT and writes nothing.
	PutUserMFA(ctx context.Context, m *UserMFA) error
	// DeleteUserMFA removes a user's TOTP, recovery codes and PIN (offboarding, admin reset).
	DeleteUserMFA(ctx context.Context, userID string) error
	InsertPasskey(ctx context.Context, p *Passkey) error
	// UpdatePasskey writes a passkey's sealed record and last use (the sign count moves on).
	UpdatePasskey(ctx context.Context, p *Passkey) error
	DeletePasskey(ctx context.Context, id string) error
	// DeleteUserPasskeys removes every passkey of a user and returns how many there were.
	DeleteUserPasskeys(ctx context.Context, userID string) (int, error)
	InsertAuthChallenge(ctx context.Context, c *AuthChallenge) error
	// RecordChallengeAttempt counts a wrong answer and returns the count so far.
	RecordChallengeAttempt(ctx context.Context, id string) (int, error)
	// DeleteAuthChallenge consumes a challenge; ENOTFOUND when it is gone already, so that of two
	// requests racing to use one, only one succeeds.
	DeleteAuthChallenge(ctx context.Context, id string) error
	// DeleteSessionChallenges removes a session's challenges of a kind (a new one replaces them).
	DeleteSessionChallenges(ctx context.Context, sessionID, kind string) error
	// DeleteExpiredAuthChallenges removes challenges that ended before the given time.
	DeleteExpiredAuthChallenges(ctx context.Context, before time.Time) error
	// UpdateSessionState writes a session's lock, PIN failures and restrictions.
	UpdateSessionState(ctx context.Context, s *Session) error

	// Clinical workflow: patients, roles and rotas, duty, escalation.

	// CreatePatient stores p; ECONFLICT when the organisation has a patient with that NHSHMAC.
	CreatePatient(ctx context.Context, p *Patient) error
	SetPatientOptOut(ctx context.Context, id string, optedOut bool) error
	// GrantPatientAccess records that userID registered or looked up the patient at the given time.
	GrantPatientAccess(ctx context.Context, patientID, userID string, at time.Time) error
	// UpdateConversation writes a conversation's patient, category, status and escalation contact.
	UpdateConversation(ctx context.Context, c *Conversation) error
	SetClinicalPolicy(ctx context.Context, orgID string, p ClinicalPolicy) error
	SetDutySetting(ctx context.Context, userID string, s DutySetting) error

	// CreateRole stores r; ECONFLICT when the organisation has a role of that name.
	CreateRole(ctx context.Context, r *Role) error
	// UpdateRole writes r's name, fallback and escalation chain; ECONFLICT for a taken name.
	UpdateRole(ctx context.Context, r *Role) error
	AddRoleHolder(ctx context.Context, h *RoleHolder, startApplied bool) error
	// EndRoleHoldings ends userID's holdings of roleID that cover at, at that time, and reports
	// how many there were. Later rota entries stay.
	EndRoleHoldings(ctx context.Context, roleID, userID string, at time.Time) (int, error)
	// EndUserRoleHoldings ends every holding of userID that covers at and deletes later ones
	// (offboarding), returning the roles concerned.
	EndUserRoleHoldings(ctx context.Context, userID string, at time.Time) ([]string, error)
	// ClaimRotaChange marks the start (or end) of a rota holding applied, and reports whether
	// this call did so: of concurrent callers, on any number of nodes, exactly one gets true.
	ClaimRotaChange(ctx context.Context, holdingID string, start bool) (bool, error)
	// CancelRotaHolding takes a rota period off the rota at at: one that has not started by then is
	// deleted; one under way ends then, its start and end marked applied so that the scheduler
	// leaves it alone. ENOTFOUND when there is no such holding.
	CancelRotaHolding(ctx context.Context, id string, at time.Time) error

	InsertEscalation(ctx context.Context, e *Escalation) error
	// ClaimEscalationStep moves a pending escalation from fromStep to e's state, records step,
	// and reports whether this call did so: of concurrent callers, on any number of nodes,
	// exactly one gets true (a conditional update on the step).
	ClaimEscalationStep(ctx context.Context, e *Escalation, fromStep int, step *EscalationStep) (bool, error)
	// AcknowledgeEscalations marks acknowledged every unacknowledged escalation of the group of
	// msgID (the message and its forwarded copies) and returns those it changed.
	AcknowledgeEscalations(ctx context.Context, msgID string, at time.Time) ([]*Escalation, error)
}

// AuditFilter selects audit events.
type AuditFilter struct {
	OrgID          string
	ActorID        string
	ConversationID string
	Action         string
	Since, Until   time.Time
	AfterSeq       int64
	Limit          int

	// The audit feature: search by the HMAC of a patient identifier (Detail["patient_hmac"]) and
	// by target, and page newest first (entries before BeforeSeq when it is set).
	PatientHMAC string
	TargetID    string
	Desc        bool
	BeforeSeq   int64
}
