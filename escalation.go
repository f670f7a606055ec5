package wardline

import (
	"context"
	"time"
)

// Escalation states (Message.Escalation.State).
const (
	EscalationPending      = "pending"
	EscalationAcknowledged = "acknowledged"
	EscalationExhausted    = "exhausted"
)

// Escalation is what happens to an urgent or emergency message that needs acknowledgement: while
// nobody entitled acknowledges it, at NextAt it takes the next step (its recipients are alerted
// again and the next role of the chain is brought in), until the policy's last step.
type Escalation struct {
	State    string     `json:"state"`
	Step     int        `json:"step"`    // 0 when sent; +1 per escalation
	NextAt   *time.Time `json:"next_at"` // null once acknowledged or exhausted
	Notified []string   `json:"notified"`

	MessageID      string `json:"-"`
	ConversationID string `json:"-"`
	OrgID          string `json:"-"`
	SenderID       string `json:"-"`
	// GroupID ties a message to the copies forwarded to covering roles: acknowledging any of them
	// stops them all. It is the original message's id.
	GroupID   string        `json:"-"`
	Priority  string        `json:"-"`
	Interval  time.Duration `json:"-"` // between steps, fixed when sent
	LastStep  int           `json:"-"` // the policy's last step, fixed when sent
	CreatedAt time.Time     `json:"-"`
	UpdatedAt time.Time     `json:"-"`
}

// EscalationStep records one step taken.
type EscalationStep struct {
	MessageID string    `json:"message_id"`
	Step      int       `json:"step"`
	At        time.Time `json:"at"`
	// Notified are everyone alerted by this step; Added the people brought into the conversation.
	Notified []string `json:"notified"`
	Added    []string `json:"added"`
	RoleID   *string  `json:"role_id"` // the role of the chain this step reached, if any
}

// EscalationEvent is the body of an "escalation" event.
type EscalationEvent struct {
	ConversationID string     `json:"conversation_id"`
	MessageID      string     `json:"message_id"`
	Step           int        `json:"step"`
	State          string     `json:"state"`
	NextAt         *time.Time `json:"next_at"`
	Notified       []string   `json:"notified"`
}

// EscalationScheduler takes the escalation steps and rota changes that are due. Tick is safe to
// run on every node at once: each step is claimed by exactly one.
type EscalationScheduler interface {
	Tick(ctx context.Context) (int, error)
}
