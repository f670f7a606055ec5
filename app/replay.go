package app

import (
	"context"
	"sort"

	"wardline"
)

// ReplayPage is what a resuming client missed in one conversation: up to ReplayLimit messages
// after its cursor, in seq order. When more are missing, Truncated is set and FromSeq is the
// first seq not replayed, which the client pages through history.
type ReplayPage struct {
	ConversationID string
	Recipients     []string
	Messages       []*wardline.Message
	Truncated      bool
	FromSeq        int64
}

// Replay finds what the caller missed since cursors (conversation id → last seq seen; a missing
// cursor means 0) in every conversation they belong to, writes one audit event naming what it
// covers, and then hands each conversation's page to emit, in seq order.
func (s *MessageService) Replay(ctx context.Context, cursors map[string]int64, emit func(*ReplayPage) error) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	seqs, err := s.store.Memberships(ctx, a.User.ID)
	if err != nil {
		return err
	}
	type plan struct {
		conv        string
		after, last int64
	}
	var plans []plan
	ranges := map[string][2]int64{}
	for conv, last := range seqs {
		after := max(cursors[conv], 0)
		if last > after {
			plans = append(plans, plan{conv, after, last})
			ranges[conv] = [2]int64{after + 1, min(last, after+int64(s.config.ReplayLimit))}
		}
	}
	sort.Slice(plans, func(i, j int) bool { return plans[i].conv < plans[j].conv })

	if len(plans) > 0 {
		ev := s.auditEvent(ctx, wardline.ActionResumeReplayed, "user", a.User.ID)
		ev.Detail = map[string]any{"ranges": ranges}
		if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
			return err
		}
	}
	for _, p := range plans {
		msgs, more, err := s.store.Messages(ctx, p.conv, wardline.HistoryQuery{Forward: true, AfterSeq: p.after, Limit: s.config.ReplayLimit})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := s.openBody(ctx, m); err != nil {
				return err
			}
		}
		if err := s.attachEscalations(ctx, s.store, msgs); err != nil {
			return err
		}
		c, err := s.store.Conversation(ctx, p.conv)
		if err != nil {
			return err
		}
		page := &ReplayPage{ConversationID: p.conv, Recipients: c.MemberIDs(), Messages: msgs, Truncated: more}
		if more && len(msgs) > 0 {
			page.FromSeq = msgs[len(msgs)-1].Seq + 1
		}
		if err := emit(page); err != nil {
			return err
		}
	}
	return nil
}
