package postgres

import (
	"context"
	"encoding/json"
	"time"

	"wardline"
)

// AppendAudit adds e to the transaction's audit events. They are inserted and numbered together
// as the transaction's last step (see commitWithAudit), so e.Seq is set once Update has
// committed, not inside fn; reads inside the transaction already see e, without a seq.
func (q queries) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	if _, err := auditDetail(e); err != nil {
		return err
	}
	q.tx.audit = append(q.tx.audit, e)
	return nil
}

func auditDetail(e *wardline.AuditEvent) (string, error) {
	if len(e.Detail) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(e.Detail)
	return string(b), err
}

// auditArrays turns events into one array per column, for an insert from unnest.
func auditArrays(events []*wardline.AuditEvent) []any {
	n := len(events)
	var (
		ids, orgs, actors, sessions, addrs, actions   = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ttypes, tids, convs, outcomes, justs, details = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats                                           = make([]time.Time, n)
	)
	for i, e := range events {
		ids[i], ats[i], orgs[i], actors[i], sessions[i], addrs[i] = e.ID, e.At, e.OrgID, e.ActorID, e.SessionID, e.Addr
		actions[i], ttypes[i], tids[i], convs[i], outcomes[i], justs[i] = e.Action, e.TargetType, e.TargetID, e.ConversationID, e.Outcome, e.Justification
		details[i], _ = auditDetail(e) // checked by AppendAudit
	}
	return []any{ids, ats, orgs, actors, sessions, addrs, actions, ttypes, tids, convs, outcomes, justs, details}
}

func (q queries) AuditEvents(ctx context.Context, f wardline.AuditFilter) ([]*wardline.AuditEvent, error) {
	limit := clampLimit(f.Limit)
	until := f.Until
	if until.IsZero() {
		until = time.Unix(1<<40, 0)
	}
	rows, err := q.db.Query(ctx, `SELECT seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail
		FROM audit_events
		WHERE ($1 = '' OR org_id = $1) AND seq > $2 AND ($3 = '' OR actor_id = $3) AND ($4 = '' OR conversation_id = $4)
		  AND ($5 = '' OR action = $5) AND at >= $6 AND at < $7
		ORDER BY seq LIMIT $8`,
		f.OrgID, f.AfterSeq, f.ActorID, f.ConversationID, f.Action, f.Since, until, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.AuditEvent
	for rows.Next() {
		var e wardline.AuditEvent
		var detail map[string]any
		if err := rows.Scan(&e.Seq, &e.ID, &e.At, &e.OrgID, &e.ActorID, &e.SessionID, &e.Addr, &e.Action, &e.TargetType,
			&e.TargetID, &e.ConversationID, &e.Outcome, &e.Justification, &detail); err != nil {
			return nil, err
		}
		e.At = utc(e.At)
		if len(detail) > 0 {
			e.Detail = detail
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Inside a transaction, its own events come after every committed one.
	if q.tx != nil {
		for _, e := range q.tx.audit {
			if len(out) >= limit {
				break
			}
			if (f.OrgID == "" || e.OrgID == f.OrgID) && (f.ActorID == "" || e.ActorID == f.ActorID) &&
				(f.ConversationID == "" || e.ConversationID == f.ConversationID) && (f.Action == "" || e.Action == f.Action) &&
				!e.At.Before(f.Since) && e.At.Before(until) {
				c := *e
				out = append(out, &c)
			}
		}
	}
	return out, nil
}
