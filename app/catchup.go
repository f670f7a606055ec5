package app

import (
	"context"

	"wardline"
)

// CatchUp returns the messages of convID after seq, for a node that may have missed their live
// events (the bus is at most once): up to limit, in seq order, opened, with the conversation's
// members as recipients. It is live delivery by other means, recorded by the delivered watermark
// when written to the stream, so it writes no audit event (DESIGN.md rule 3); a caller who is not
// a member gets ENOTFOUND.
func (s *MessageService) CatchUp(ctx context.Context, convID string, after int64, limit int) ([]*wardline.Message, []string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.member(ctx, s.store, a, convID)
	if err != nil {
		return nil, nil, err
	}
	if limit <= 0 || limit > s.config.ReplayLimit {
		limit = s.config.ReplayLimit
	}
	msgs, _, err := s.store.Messages(ctx, convID, wardline.HistoryQuery{Forward: true, AfterSeq: after, Limit: limit})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		if err := s.openBody(ctx, m); err != nil {
			return nil, nil, err
		}
	}
	return msgs, c.MemberIDs(), nil
}
