package app

import (
	"context"
	"errors"

	"wardline"
)

// SendToRole sends a message to whoever holds a role now. It goes into the conversation between
// the sender and the role (made on the first message; its members follow the role's holders).
// When nobody holds the role it goes to the first fallback role someone holds, and the sender is
// warned; when nobody holds any of them it is still stored, in the role's own conversation, where
// whoever takes the role next will see it, and the sender is warned that nobody was reached.
func (s *RoleService) SendToRole(ctx context.Context, roleID string, n wardline.NewMessage) (*wardline.RoleMessageResult, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, roleID)
	if err != nil {
		return nil, err
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	p, err := s.policy(ctx, a.User.OrgID)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		res, err := s.sendToRole(ctx, a, role, n, p)
		if errors.Is(err, errRoleConvRace) && attempt == 0 {
			continue // the conversation was made meanwhile: it exists now
		}
		return res, err
	}
}

func (s *RoleService) sendToRole(ctx context.Context, a *wardline.Actor, role *wardline.Role, n wardline.NewMessage, p *wardline.ClinicalPolicy) (*wardline.RoleMessageResult, error) {
	now := s.now()
	rd, err := s.planRoleDelivery(ctx, a.User, role, now)
	if err != nil {
		return nil, err
	}
	m := &wardline.Message{
		ID: wardline.NewID(), ConversationID: rd.conv.ID, OrgID: role.OrgID, SenderID: a.User.ID, ClientID: n.ClientID,
		Body: n.Body, Priority: n.Priority, RequiresAck: *n.RequiresAck, CreatedAt: now, Version: 1,
	}
	if m.BodySealed, err = s.keys.Seal(ctx, m.ConversationID, bodyAAD(m.ID, m.Version), []byte(m.Body)); err != nil {
		return nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionMessageSent, "message", m.ID)
	ev.ConversationID = m.ConversationID
	ev.Detail = map[string]any{"role_id": role.ID, "reached_role_id": rd.target.ID, "reached": rd.reached}
	esc := newEscalation(m, p, m.ID, rd.reached, now)
	m.Escalation = esc

	var existing *wardline.Message
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		existing = nil
		if !rd.isNew {
			old, err := tx.MessageByClientID(ctx, rd.conv.ID, a.User.ID, n.ClientID)
			if err == nil {
				existing = old
				return nil
			} else if !isNotFound(err) {
				return err
			}
		}
		changed, removed, err := s.writeRoleConversation(ctx, tx, rd, now)
		if err != nil {
			return err
		}
		if err := storeMessage(ctx, tx, m, ev, esc, now); err != nil {
			return err
		}
		conv := rd.conv
		tx.AfterCommit(func() {
			if changed {
				s.publishConversation(ctx, conv, removed...)
			}
			s.publish(ctx, &wardline.Event{Type: wardline.EventMessageCreated, Recipients: conv.MemberIDs(), Message: m})
		})
		return nil
	})
	if err != nil {
		if rd.isNew {
			s.keys.Forget(rd.conv.ID)
		}
		return nil, err
	}
	res := &wardline.RoleMessageResult{Message: m, ConversationID: rd.conv.ID, RoleID: rd.target.ID, Reached: rd.reached, Warnings: rd.warnings, Created: true}
	if existing != nil {
		// A retry: answer what was stored, and who is in the conversation now.
		if err := s.openBody(ctx, existing); err != nil {
			return nil, err
		}
		if existing.Body != n.Body && !existing.Deleted {
			return nil, wardline.Errorf(wardline.ECONFLICT, "a different message was already sent with this client_id")
		}
		if err := s.attachEscalations(ctx, s.store, []*wardline.Message{existing}); err != nil {
			return nil, err
		}
		res.Message, res.Created, res.Warnings = existing, false, nil
		res.Reached = without(rd.conv.MemberIDs(), []string{a.User.ID})
	}
	if res.Warnings == nil {
		res.Warnings = []*wardline.Warning{}
	}
	return res, nil
}
