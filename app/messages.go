package app

import (
	"context"
	"errors"
	"strconv"

	"wardline"
)

// MessageService sends, reads, revises and acknowledges messages.
type MessageService struct{ *deps }

var _ wardline.MessageService = (*MessageService)(nil)

// bodyAAD binds a sealed body to its message and version, so that neither another message's text
// nor an older version can be put in its place.
func bodyAAD(msgID string, version int) []byte {
	return wardline.AAD("messages", msgID+"/"+strconv.Itoa(version), "body")
}

// openBody fills m.Body from its sealed form: empty for a deleted message, and marked shredded
// when its conversation's key was destroyed.
func (d *deps) openBody(ctx context.Context, m *wardline.Message) error {
	if m.Deleted || len(m.BodySealed) == 0 {
		m.Body = ""
		return nil
	}
	b, err := d.keys.Open(ctx, m.ConversationID, bodyAAD(m.ID, m.Version), m.BodySealed)
	if errors.Is(err, wardline.ErrContentDestroyed) {
		m.Body, m.Shredded = "", true
		return nil
	} else if err != nil {
		return err
	}
	m.Body = string(b)
	return nil
}

// member loads a conversation whose member the caller is; anyone else gets ENOTFOUND (admins see
// channel metadata, never messages).
func (d *deps) member(ctx context.Context, r wardline.Reader, a *wardline.Actor, convID string) (*wardline.Conversation, error) {
	c, member, err := d.visible(ctx, r, a, convID)
	if err != nil {
		return nil, err
	}
	if !member {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "conversation not found")
	}
	return c, nil
}

// Send stores a message durably and then delivers it. A retry with the same client_id answers
// the stored message and stores nothing (ECONFLICT if the text differs).
//
// The clinical rules ride along in the same transaction: an urgent or emergency message that needs
// acknowledgement registers its escalation (one insert), and off-duty protection (duty.go,
// delivery.go) makes a routine message to someone off duty silent for them and forwards an urgent
// one to their covering role. The members' duty settings come with the conversation and the
// policy from a cache, so none of this costs a query per recipient.
func (s *MessageService) Send(ctx context.Context, convID string, n wardline.NewMessage) (*wardline.SendResult, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	// The hot path: a recent snapshot of the conversation answers who the caller may be and who
	// is off duty; membership itself is checked again, and the recipients read, in the transaction.
	c, err := s.convs.member(ctx, s.deps, a, convID)
	if err != nil {
		return nil, err
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	p, err := s.policy(ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	m := &wardline.Message{
		ID:             wardline.NewID(),
		ConversationID: c.ID,
		OrgID:          c.OrgID,
		SenderID:       a.User.ID,
		ClientID:       n.ClientID,
		Body:           n.Body,
		Priority:       n.Priority,
		RequiresAck:    *n.RequiresAck,
		Version:        1,
	}
	if m.BodySealed, err = s.keys.Seal(ctx, c.ID, bodyAAD(m.ID, m.Version), []byte(m.Body)); err != nil {
		return nil, errShredded(err)
	}
	for attempt := 0; ; attempt++ {
		res, err := s.send(ctx, a, c, m, p)
		if errors.Is(err, errRoleConvRace) && attempt == 0 {
			continue // a covering role's conversation was made meanwhile: it exists now
		}
		return res, err
	}
}

func (s *MessageService) send(ctx context.Context, a *wardline.Actor, c *wardline.Conversation, m *wardline.Message, p *wardline.ClinicalPolicy) (*wardline.SendResult, error) {
	now := s.now()
	m.CreatedAt = now
	plan, err := s.planDuty(ctx, a.User, c, m, p, now)
	if err != nil {
		return nil, err
	}
	esc := newEscalation(m, p, m.ID, plan.alerted, now)
	m.Escalation = esc
	ev := s.auditEvent(ctx, wardline.ActionMessageSent, "message", m.ID)
	ev.ConversationID = c.ID
	if len(plan.silent) > 0 {
		ev.Detail = map[string]any{"silent_for": plan.silent}
	}

	var existing *wardline.Message
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		// Membership again, inside the transaction, and the recipients as of the commit: an
		// offboarding may have committed since the snapshot, and a leaver must not get the message.
		// A retry with the same client_id collides with the stored message: this write is undone
		// (its seq too) and the stored one answered, without a look-up on every send.
		recipients, err := appendMessage(ctx, tx, m, ev, esc, now)
		if wardline.ErrorCode(err) == wardline.ECONFLICT {
			return errSameClientID
		} else if err != nil {
			return err
		}
		// Published from the commit, in commit order: members see a conversation in seq order.
		tx.AfterCommit(func() {
			s.publish(ctx, &wardline.Event{Type: wardline.EventMessageCreated, Recipients: recipients, Message: m, Silent: plan.silent})
		})
		return plan.write(ctx, s.deps, tx, now)
	})
	if errors.Is(err, errSameClientID) {
		if existing, err = s.store.MessageByClientID(ctx, c.ID, a.User.ID, m.ClientID); isNotFound(err) {
			err = wardline.Errorf(wardline.ECONFLICT, "message exists")
		}
	}
	if err != nil || existing != nil {
		plan.forget(s.deps)
	}
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if err := s.openBody(ctx, existing); err != nil {
			return nil, err
		}
		if existing.Body != m.Body && !existing.Deleted {
			return nil, wardline.Errorf(wardline.ECONFLICT, "a different message was already sent with this client_id")
		}
		if err := s.attachEscalations(ctx, s.store, []*wardline.Message{existing}); err != nil {
			return nil, err
		}
		return &wardline.SendResult{Message: existing, Warnings: []*wardline.Warning{}}, nil
	}
	warnings := plan.warnings
	if warnings == nil {
		warnings = []*wardline.Warning{}
	}
	return &wardline.SendResult{Message: m, Created: true, Warnings: warnings}, nil
}

// ValidateHistoryQuery checks a history page request.
func ValidateHistoryQuery(q wardline.HistoryQuery) error {
	if q.AfterSeq < 0 || q.BeforeSeq < 0 {
		return errInvalid("after_seq and before_seq must not be negative")
	}
	if (q.Forward || q.AfterSeq > 0) && q.BeforeSeq > 0 {
		return errInvalid("give after_seq or before_seq, not both")
	}
	if q.Limit < 0 || q.Limit > wardline.MaxPageSize {
		return errInvalid("limit must be between 1 and 200")
	}
	return nil
}

// History returns a page of messages, audits the read before returning it, and counts the page
// as delivered to the caller.
func (s *MessageService) History(ctx context.Context, convID string, q wardline.HistoryQuery) ([]*wardline.Message, bool, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, false, err
	}
	c, err := s.member(ctx, s.store, a, convID)
	if err != nil {
		return nil, false, err
	}
	if err := ValidateHistoryQuery(q); err != nil {
		return nil, false, err
	}
	msgs, more, err := s.store.Messages(ctx, c.ID, q)
	if err != nil {
		return nil, false, err
	}
	for _, m := range msgs {
		if err := s.openBody(ctx, m); err != nil {
			return nil, false, err
		}
	}
	if err := s.attachEscalations(ctx, s.store, msgs); err != nil {
		return nil, false, err
	}
	ev := s.auditEvent(ctx, wardline.ActionHistoryRead, "conversation", c.ID)
	ev.ConversationID = c.ID
	detail := map[string]any{"count": len(msgs)}
	var top *wardline.Message
	if len(msgs) > 0 {
		detail["from_seq"], detail["to_seq"] = msgs[0].Seq, msgs[len(msgs)-1].Seq
		top = msgs[len(msgs)-1]
	}
	ev.Detail = detail
	now := s.now()
	advanced := false
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if top != nil {
			advanced, err = tx.AdvanceWatermark(ctx, c.ID, a.User.ID, wardline.ReceiptDelivered, top.Seq, now)
			return err
		}
		return nil
	}); err != nil {
		return nil, false, err
	}
	if advanced {
		s.publishReceipt(ctx, c.MemberIDs(), &wardline.Receipt{ConversationID: c.ID, MessageID: top.ID, Seq: top.Seq, UserID: a.User.ID, Kind: wardline.ReceiptDelivered, At: now})
	}
	return msgs, more, nil
}

// revisable loads a message the caller sent, for an edit or a deletion.
func (s *MessageService) revisable(ctx context.Context, tx wardline.Reader, a *wardline.Actor, convID, msgID string) (*wardline.Conversation, *wardline.Message, error) {
	c, err := s.member(ctx, tx, a, convID)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.message(ctx, tx, c, msgID)
	if err != nil {
		return nil, nil, err
	}
	if m.SenderID != a.User.ID {
		return nil, nil, wardline.Errorf(wardline.EFORBIDDEN, "only the sender may change a message")
	}
	return c, m, s.attachEscalations(ctx, tx, []*wardline.Message{m})
}

func (d *deps) message(ctx context.Context, r wardline.Reader, c *wardline.Conversation, msgID string) (*wardline.Message, error) {
	if !wardline.ValidID(msgID) {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "message not found")
	}
	m, err := r.Message(ctx, c.ID, msgID)
	if isNotFound(err) {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "message not found")
	}
	return m, err
}

// Edit replaces the text of the caller's message, keeping the earlier text in the record.
func (s *MessageService) Edit(ctx context.Context, convID, msgID, body string) (*wardline.Message, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	c, m, err := s.revisable(ctx, s.store, a, convID, msgID)
	if err != nil {
		return nil, err
	}
	if m.Deleted {
		return nil, wardline.Errorf(wardline.ECONFLICT, "a deleted message cannot be edited")
	}
	if err := wardline.ValidateBody(body); err != nil {
		return nil, err
	}
	prev := &wardline.MessageVersion{MessageID: m.ID, Version: m.Version, BodySealed: m.BodySealed, At: m.CreatedAt}
	if m.EditedAt != nil {
		prev.At = *m.EditedAt
	}
	now := s.now()
	m.Version++
	m.EditedAt = &now
	m.Body = body
	if m.BodySealed, err = s.keys.Seal(ctx, c.ID, bodyAAD(m.ID, m.Version), []byte(body)); err != nil {
		return nil, errShredded(err)
	}
	ev := s.auditEvent(ctx, wardline.ActionMessageEdited, "message", m.ID)
	ev.ConversationID = c.ID
	ev.Detail = map[string]any{"seq": m.Seq, "version": m.Version}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.ReviseMessage(ctx, m, prev); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return nil, err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventMessageUpdated, Recipients: c.MemberIDs(), Message: m})
	return m, nil
}

// Delete hides the caller's message from members; its text stays in the audited record.
func (s *MessageService) Delete(ctx context.Context, convID, msgID string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	c, m, err := s.revisable(ctx, s.store, a, convID, msgID)
	if err != nil {
		return err
	}
	if m.Deleted {
		return nil
	}
	prev := &wardline.MessageVersion{MessageID: m.ID, Version: m.Version, BodySealed: m.BodySealed, At: m.CreatedAt}
	if m.EditedAt != nil {
		prev.At = *m.EditedAt
	}
	now := s.now()
	m.Version++
	m.EditedAt = &now
	m.Deleted, m.Body, m.BodySealed = true, "", nil
	ev := s.auditEvent(ctx, wardline.ActionMessageDeleted, "message", m.ID)
	ev.ConversationID = c.ID
	ev.Detail = map[string]any{"seq": m.Seq, "version": m.Version}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.ReviseMessage(ctx, m, prev); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventMessageUpdated, Recipients: c.MemberIDs(), Message: m})
	return nil
}

// MarkRead raises the caller's read watermark to seq; what is read was delivered too.
func (s *MessageService) MarkRead(ctx context.Context, convID string, seq int64) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	c, err := s.member(ctx, s.store, a, convID)
	if err != nil {
		return err
	}
	if seq < 1 || seq > c.LastSeq {
		return errInvalid("seq must be a message of this conversation")
	}
	m, err := s.store.MessageBySeq(ctx, c.ID, seq)
	if err != nil {
		return err
	}
	now := s.now()
	var read, delivered bool
	ev := s.auditEvent(ctx, wardline.ActionMarkedRead, "message", m.ID)
	ev.ConversationID = c.ID
	ev.Detail = map[string]any{"seq": seq}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		if delivered, err = tx.AdvanceWatermark(ctx, c.ID, a.User.ID, wardline.ReceiptDelivered, seq, now); err != nil {
			return err
		}
		if read, err = tx.AdvanceWatermark(ctx, c.ID, a.User.ID, wardline.ReceiptRead, seq, now); err != nil || !read {
			return err
		}
		// A read receipt is evidence ("she had read it at 14:02"): when the watermark rises it
		// is also in the tamper-evident log.
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	r := wardline.Receipt{ConversationID: c.ID, MessageID: m.ID, Seq: seq, UserID: a.User.ID, At: now}
	if delivered {
		r := r
		r.Kind = wardline.ReceiptDelivered
		s.publishReceipt(ctx, c.MemberIDs(), &r)
	}
	if read {
		r.Kind = wardline.ReceiptRead
		s.publishReceipt(ctx, c.MemberIDs(), &r)
	}
	return nil
}

// Acknowledge records that the caller has acted on a message. Acknowledging twice is harmless.
func (s *MessageService) Acknowledge(ctx context.Context, convID, msgID string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	c, err := s.member(ctx, s.store, a, convID)
	if err != nil {
		return err
	}
	m, err := s.message(ctx, s.store, c, msgID)
	if err != nil {
		return err
	}
	now := s.now()
	ev := s.auditEvent(ctx, wardline.ActionMessageAcked, "message", m.ID)
	ev.ConversationID = c.ID
	ev.Detail = map[string]any{"seq": m.Seq}
	var fresh bool
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		if fresh, err = tx.InsertAck(ctx, c.ID, m.ID, a.User.ID, now); err != nil || !fresh {
			return err
		}
		if needsEscalation(m) && m.SenderID != a.User.ID {
			// Anyone entitled (a member other than the sender) stops the escalation, and that of
			// the copies forwarded to covering roles.
			if err := s.acknowledged(ctx, tx, c, m.ID, now); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	if fresh {
		s.publishReceipt(ctx, c.MemberIDs(), &wardline.Receipt{ConversationID: c.ID, MessageID: m.ID, Seq: m.Seq, UserID: a.User.ID, Kind: wardline.ReceiptAcked, At: now})
	}
	return nil
}

// Receipts answers, for one message, each current member's (other than the sender's) delivered,
// read and acknowledged times.
func (s *MessageService) Receipts(ctx context.Context, convID, msgID string) ([]*wardline.MessageReceipt, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.member(ctx, s.store, a, convID)
	if err != nil {
		return nil, err
	}
	m, err := s.message(ctx, s.store, c, msgID)
	if err != nil {
		return nil, err
	}
	var others []string
	for _, id := range c.MemberIDs() {
		if id != m.SenderID {
			others = append(others, id)
		}
	}
	receipts, err := s.store.Receipts(ctx, c.ID, m.ID, m.Seq, others)
	if err != nil {
		return nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionReceiptsRead, "message", m.ID)
	ev.ConversationID = c.ID
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	return receipts, nil
}

func (d *deps) publishReceipt(ctx context.Context, recipients []string, r *wardline.Receipt) {
	d.publish(ctx, &wardline.Event{Type: wardline.EventReceipt, Recipients: recipients, Receipt: r})
}

// errSameClientID undoes a send whose client_id was already used by the same sender here.
var errSameClientID = errors.New("same client_id")

// errShredded turns a destroyed key into an answer a person understands.
func errShredded(err error) error {
	if errors.Is(err, wardline.ErrContentDestroyed) {
		return wardline.Errorf(wardline.ECONFLICT, "this conversation's content has been destroyed; it takes no new messages")
	}
	return err
}
