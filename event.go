package wardline

import (
	"context"
	"encoding/json"
	"time"
)

// Event types on the event stream (API.md "Event stream").
const (
	EventHello          = "hello"
	EventMessageCreated = "message.created"
	EventMessageUpdated = "message.updated"
	EventReceipt        = "receipt"
	// EventReceipts carries the delivered receipts of one conversation that one flush of the
	// delivered watermarks advanced. A stream that asked for it (`?receipts=batched`) gets it as
	// one frame; any other stream gets one `receipt` frame per receipt in it.
	EventReceipts            = "receipts"
	EventConversationUpdated = "conversation.updated"
	EventSessionRevoked      = "session.revoked"
	EventResumeDone          = "resume.done"
	EventResumeTruncated     = "resume.truncated"
	EventEscalation          = "escalation"

	// EventKeyShredded is node-to-node only: every node drops the named scope's keys from memory.
	EventKeyShredded = "internal.key_shredded"
	// EventDutyChanged is node-to-node only: someone's stored duty setting changed, so every node
	// drops what it remembers of conversations' members.
	EventDutyChanged = "internal.duty_changed"
)

// Event is something that happened, published on the bus after it committed, for the nodes that
// hold the recipients' event streams.
type Event struct {
	Type string `json:"type"`
	// Recipients are the user ids whose streams receive the event.
	Recipients []string `json:"recipients,omitempty"`
	// SessionIDs, for session.revoked, name the sessions whose streams must close. When empty,
	// every stream of the recipients closes.
	SessionIDs []string `json:"session_ids,omitempty"`

	// Scope, for internal.key_shredded, is the scope whose keys were destroyed.
	Scope string `json:"scope,omitempty"`

	Message      *Message         `json:"message,omitempty"`
	Receipt      *Receipt         `json:"receipt,omitempty"`
	Receipts     []*Receipt       `json:"receipts,omitempty"` // EventReceipts: one conversation's
	Conversation *Conversation    `json:"conversation,omitempty"`
	Alert        *Alert           `json:"alert,omitempty"`
	Escalation   *EscalationEvent `json:"escalation,omitempty"`

	// Silent are the recipients (off duty) whose copy says "silent": true, so that their clients
	// show it without alerting.
	Silent []string `json:"silent,omitempty"`

	// PublishedAt is when the event was published (set by buses that cross nodes), for the
	// fan-out latency metric; zero means "just now".
	PublishedAt time.Time `json:"-"`

	// wire caches the JSON sent to clients, so that a message is encoded once however many
	// members receive it.
	wire []byte
}

// SilentFor reports whether userID's copy of e is silent.
func (e *Event) SilentFor(userID string) bool {
	for _, id := range e.Silent {
		if id == userID {
			return true
		}
	}
	return false
}

// SilentClientFrame is ClientFrame with "silent": true added.
func (e *Event) SilentClientFrame() ([]byte, error) {
	b, err := e.ClientFrame()
	if err != nil || len(b) < 2 || b[len(b)-1] != '}' {
		return b, err
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:len(b)-1]...)
	return append(out, `,"silent":true}`...), nil
}

// SetWire stores the encoded client frame of e.
func (e *Event) SetWire(b []byte) { e.wire = b }

// Wire returns the cached client frame, or nil.
func (e *Event) Wire() []byte { return e.wire }

// ClientFrame is the JSON object a client receives for e (API.md shapes).
func (e *Event) ClientFrame() ([]byte, error) {
	switch e.Type {
	case EventMessageCreated, EventMessageUpdated:
		return json.Marshal(struct {
			Type    string   `json:"type"`
			Message *Message `json:"message"`
		}{e.Type, e.Message})
	case EventReceipt:
		return receiptFrame(e.Receipt)
	case EventReceipts:
		conv := ""
		if len(e.Receipts) > 0 {
			conv = e.Receipts[0].ConversationID
		}
		return json.Marshal(struct {
			Type           string     `json:"type"`
			ConversationID string     `json:"conversation_id"`
			Receipts       []*Receipt `json:"receipts"`
		}{e.Type, conv, e.Receipts})
	case EventAlert:
		return json.Marshal(struct {
			Type  string `json:"type"`
			Alert *Alert `json:"alert"`
		}{e.Type, e.Alert})
	case EventEscalation:
		return json.Marshal(struct {
			Type string `json:"type"`
			*EscalationEvent
		}{e.Type, e.Escalation})
	case EventConversationUpdated:
		return json.Marshal(struct {
			Type         string        `json:"type"`
			Conversation *Conversation `json:"conversation"`
		}{e.Type, e.Conversation})
	default:
		return json.Marshal(struct {
			Type string `json:"type"`
		}{e.Type})
	}
}

func receiptFrame(r *Receipt) ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
		*Receipt
	}{EventReceipt, r})
}

// ReceiptFrames are the `receipt` frames of an EventReceipts, one per receipt, for streams that
// did not ask for them batched.
func (e *Event) ReceiptFrames() ([][]byte, error) {
	out := make([][]byte, 0, len(e.Receipts))
	for _, r := range e.Receipts {
		b, err := receiptFrame(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// EventBus carries events between the services that commit them and the nodes that deliver them.
// It only wakes nodes up: durability is the store's job, and a client that missed an event
// recovers it with resume.
type EventBus interface {
	// Publish sends e to every subscriber on every node. Call it only after the change committed.
	// A bus that implements BusInterest sends it only to the nodes that want it.
	Publish(ctx context.Context, e *Event) error
	// Subscribe calls fn for every event published anywhere until the returned function is called.
	// fn must not block.
	Subscribe(fn func(*Event)) (unsubscribe func())
	// Ping reports whether the bus is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// BusInterest is implemented by a bus that carries to each node only the events it asked for
// (NATS, one subject per conversation and per user): a node asks for the conversations and the
// users of the streams it holds. Events every node needs (conversation changes, key shredding,
// duty changes) reach every node without asking. A bus without it delivers everything everywhere.
type BusInterest interface {
	// WantConversation asks for a conversation's messages, edits and receipts until release is
	// called; fresh reports that this node did not already have them, so that events published
	// before Synced returns may have been missed.
	WantConversation(id string) (release func(), fresh bool)
	// WantUser asks for a person's own events (sessions, alerts, escalations) until release.
	WantUser(id string) (release func())
	// Synced returns once every want so far is in force: events published after it arrive.
	Synced(ctx context.Context) error
}
