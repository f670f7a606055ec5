package wardline

import "time"

// The audit feature's actions: what IG officers do, what the log itself does, and the actions
// of the core that were not audited before (each still in the clinic's words).
const (
	ActionConvListed        = "conversation.listed"
	ActionAuditSearched     = "audit.searched"
	ActionAuditExported     = "audit.exported"
	ActionInvestigationOpen = "audit.investigation_opened"
	ActionInvestigationView = "audit.investigation_viewed"
	ActionInvestigationList = "audit.investigations_listed"
	ActionInvestigationShut = "audit.investigation_closed"
	ActionTranscriptExport  = "audit.transcript_exported"
	ActionAlertRaised       = "audit.alert_raised"
	ActionAlertsListed      = "audit.alerts_listed"
	ActionAuditEntryProved  = "audit.inclusion_proved"
	ActionAlertPolicySet    = "admin.alert_policy_changed"
	ActionAlertPolicyRead   = "admin.alert_policy_viewed"
	ActionOrgKeyRotated     = "keys.org_key_rotated"
	ActionSigningKeyCreated = "keys.audit_signing_key_created"
	ActionIdentKeyCreated   = "keys.identifier_key_created"
)

// ExportActions are the actions that hand data out of Wardline in bulk; their Detail["count"]
// is how many items left. The bulk-export alert adds them up per person. A later feature that
// exports (FHIR, NHSmail) adds its action here.
var ExportActions = map[string]bool{
	ActionAuditExported:    true,
	ActionTranscriptExport: true,
}

// Detail keys with a meaning for the audit feature, so that other features write them alike.
const (
	// DetailPatientHMAC holds the HMAC of the NHS number of the patient an event concerns
	// (App.IdentifierHMAC), never the number itself. Auditors search for it.
	DetailPatientHMAC = "patient_hmac"
	// DetailPatientAccess says on what grounds a patient's record was read: PatientAccessMember
	// (the reader is in a conversation about the patient) or anything else. A read on other
	// grounds raises the "patient read outside any conversation" alert.
	DetailPatientAccess = "patient_access"
	// DetailDevice is a sign-in's device fingerprint (see app.DeviceFingerprint).
	DetailDevice = "device"
	// DetailCount is how many items an event covered (messages read, entries exported).
	DetailCount = "count"
)

// Grounds for reading a patient's record (Detail[DetailPatientAccess]).
const (
	PatientAccessMember   = "conversation_member"
	PatientAccessLookup   = "lookup"
	PatientAccessRegister = "registered"
)

// AuditCheckpoint is a signed checkpoint as stored: the size and root of the log's Merkle tree
// and the signed note (C2SP signed-note text) that commits to them.
type AuditCheckpoint struct {
	Size int64
	Root []byte
	At   time.Time
	Note string
}

// AuditEntry is one stored entry of the log with the leaf hash stored beside it.
type AuditEntry struct {
	Event    *AuditEvent
	LeafHash []byte
}

// Investigation statuses.
const (
	InvestigationOpen   = "open"
	InvestigationClosed = "closed"
)

// Investigation is an IG case: an auditor's written reason to see one conversation in full.
type Investigation struct {
	ID             string     `json:"id"`
	OrgID          string     `json:"org_id"`
	ConversationID string     `json:"conversation_id"`
	OpenedBy       string     `json:"opened_by"`
	OpenedAt       time.Time  `json:"opened_at"`
	Justification  string     `json:"justification"`
	Status         string     `json:"status"`
	ClosedBy       string     `json:"closed_by,omitempty"`
	ClosedAt       *time.Time `json:"closed_at"`
}

// WatermarkAdvance is one rise of a member's delivered or read watermark.
type WatermarkAdvance struct {
	UserID string
	Kind   string
	Seq    int64
	At     time.Time
}

// Ack is one acknowledgement of a message.
type Ack struct {
	MessageID string
	UserID    string
	At        time.Time
}

// AuditSearch is what an IG officer searches the log by. PatientNHSNumber is typed by the
// officer, turned into its HMAC and forgotten: it is never stored.
type AuditSearch struct {
	ActorID          string    `json:"actor_id"`
	ActorEmail       string    `json:"actor_email"`
	ConversationID   string    `json:"conversation_id"`
	PatientNHSNumber string    `json:"nhs_number"`
	Action           string    `json:"action"`
	Since            time.Time `json:"since"`
	Until            time.Time `json:"until"`
	Cursor           string    `json:"cursor"`
	Limit            int       `json:"limit"`
}
