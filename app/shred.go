package app

import (
	"context"
	"strings"

	"wardline"
)

// checkpointer is a store that can flush its write-ahead log (SQLite), so that erased key
// material does not linger there.
type checkpointer interface {
	Checkpoint(ctx context.Context) error
}

// Shred destroys a conversation's key (crypto-shredding): its title, every message and every
// earlier version become unreadable everywhere, in this database and — once the key terms that
// wrapped it are rotated and retired — in its backups. Org admins of the conversation's
// organisation may do it, with a written justification; it is audited and cannot be undone.
func (s *ConversationService) Shred(ctx context.Context, convID, justification string) error {
	a, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	notFound := wardline.Errorf(wardline.ENOTFOUND, "conversation not found")
	if !wardline.ValidID(convID) {
		return notFound
	}
	c, err := s.store.Conversation(ctx, convID)
	if isNotFound(err) || (err == nil && c.OrgID != a.User.OrgID) {
		return notFound
	} else if err != nil {
		return err
	}
	justification = strings.TrimSpace(justification)
	if len([]rune(justification)) < 10 || len([]rune(justification)) > 2000 {
		return errInvalid("a justification of 10 to 2000 characters is required")
	}
	now := s.now()
	ev := s.auditEvent(ctx, wardline.ActionContentShredded, "conversation", c.ID)
	ev.ConversationID, ev.Justification = c.ID, justification
	ev.Detail = map[string]any{"last_seq": c.LastSeq}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.DestroyKeys(ctx, c.ID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return err
	}
	s.keys.Forget(c.ID)
	s.publish(ctx, &wardline.Event{Type: wardline.EventKeyShredded, Scope: c.ID})
	if cp, ok := s.store.(checkpointer); ok {
		if err := cp.Checkpoint(ctx); err != nil {
			// Readers hold the log open; SQLite's own checkpoints will overwrite it soon.
			s.log.Warn("checkpoint after shredding", "err", err)
		}
	}
	s.publishConversation(ctx, c)
	return nil
}
