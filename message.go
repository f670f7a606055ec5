package wardline

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Message priorities.
const (
	PriorityRoutine   = "routine"
	PriorityUrgent    = "urgent"
	PriorityEmergency = "emergency"
)

// MaxBodyLength bounds a message body, in Unicode characters.
const MaxBodyLength = 8000

// Message is one message in a conversation. Body is plaintext in memory only; the store holds it
// sealed (BodySealed).
type Message struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	Seq            int64      `json:"seq"`
	SenderID       string     `json:"sender_id"`
	ClientID       string     `json:"client_id"`
	Body           string     `json:"body"`
	Priority       string     `json:"priority"`
	RequiresAck    bool       `json:"requires_ack"`
	CreatedAt      time.Time  `json:"created_at"`
	EditedAt       *time.Time `json:"edited_at"`
	Deleted        bool       `json:"deleted"`
	// Shredded is true when the conversation's key was destroyed: the content no longer exists.
	Shredded bool `json:"shredded,omitempty"`
	// Escalation is the state of an urgent or emergency message's escalation; nil for others.
	Escalation *Escalation `json:"escalation"`

	OrgID      string `json:"-"`
	BodySealed []byte `json:"-"`
	Version    int    `json:"-"` // 1 for the original text, +1 per edit
}

// MessageVersion is one text a message has had, kept for the audited record.
type MessageVersion struct {
	MessageID  string
	Version    int
	BodySealed []byte
	At         time.Time
	Deleted    bool
}

// NewMessage is what a client supplies to send a message.
type NewMessage struct {
	ClientID    string `json:"client_id"`
	Body        string `json:"body"`
	Priority    string `json:"priority"`
	RequiresAck *bool  `json:"requires_ack"`
}

// Validate checks n and fills in the defaults of API.md.
func (n *NewMessage) Validate() error {
	if !ValidID(n.ClientID) {
		return Errorf(EINVALID, "client_id must be a UUID")
	}
	n.ClientID = strings.ToLower(n.ClientID)
	if err := ValidateBody(n.Body); err != nil {
		return err
	}
	switch n.Priority {
	case "":
		n.Priority = PriorityRoutine
	case PriorityRoutine, PriorityUrgent, PriorityEmergency:
	default:
		return Errorf(EINVALID, "priority must be routine, urgent or emergency")
	}
	if n.RequiresAck == nil {
		v := n.Priority != PriorityRoutine
		n.RequiresAck = &v
	}
	return nil
}

// ValidateBody checks a message body: 1 to MaxBodyLength characters of valid UTF-8, not blank.
func ValidateBody(body string) error {
	if !utf8.ValidString(body) {
		return Errorf(EINVALID, "body must be valid UTF-8")
	}
	if strings.TrimSpace(body) == "" {
		return Errorf(EINVALID, "body must not be empty")
	}
	if utf8.RuneCountInString(body) > MaxBodyLength {
		return Errorf(EINVALID, "body must be at most %d characters", MaxBodyLength)
	}
	return nil
}

// MaxPageSize bounds every list.
const MaxPageSize = 200

// HistoryQuery selects a page of a conversation's messages.
type HistoryQuery struct {
	Forward   bool  // page forwards from AfterSeq (set when after_seq is given, even as 0)
	AfterSeq  int64 // messages after this seq, when Forward
	BeforeSeq int64 // > 0: messages before this seq
	Limit     int
}

// Receipt kinds.
const (
	ReceiptDelivered = "delivered"
	ReceiptRead      = "read"
	ReceiptAcked     = "acked"
)

// Receipt is a change of a member's delivered or read watermark, or an acknowledgement.
type Receipt struct {
	ConversationID string    `json:"conversation_id"`
	MessageID      string    `json:"message_id"`
	Seq            int64     `json:"seq"`
	UserID         string    `json:"user_id"`
	Kind           string    `json:"kind"`
	At             time.Time `json:"at"`
}

// WatermarkTarget is a seq to raise one member's watermark of a conversation to.
type WatermarkTarget struct {
	ConversationID string
	UserID         string
	Seq            int64
}

// CheckWatermarkTargets refuses a list that names one member of a conversation twice: each
// target is one rise, and its answer one flag.
func CheckWatermarkTargets(targets []WatermarkTarget) error {
	seen := make(map[[2]string]struct{}, len(targets))
	for _, t := range targets {
		k := [2]string{t.ConversationID, t.UserID}
		if _, dup := seen[k]; dup {
			return Errorf(EINVALID, "watermark of member %s in conversation %s given twice", t.UserID, t.ConversationID)
		}
		seen[k] = struct{}{}
	}
	return nil
}

// MessageReceipt is one member's state for one message.
type MessageReceipt struct {
	UserID      string     `json:"user_id"`
	DeliveredAt *time.Time `json:"delivered_at"`
	ReadAt      *time.Time `json:"read_at"`
	AckedAt     *time.Time `json:"acked_at"`
}

// SendResult is the answer to a send: the message, and whether it was new.
type SendResult struct {
	Message  *Message
	Created  bool
	Warnings []*Warning
}

// MessageService sends, reads, edits and acknowledges messages.
type MessageService interface {
	Send(ctx context.Context, convID string, n NewMessage) (*SendResult, error)
	History(ctx context.Context, convID string, q HistoryQuery) ([]*Message, bool, error)
	Edit(ctx context.Context, convID, msgID, body string) (*Message, error)
	Delete(ctx context.Context, convID, msgID string) error
	MarkRead(ctx context.Context, convID string, seq int64) error
	Acknowledge(ctx context.Context, convID, msgID string) error
	Receipts(ctx context.Context, convID, msgID string) ([]*MessageReceipt, error)
}
