package app

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode"

	"wardline"
	"wardline/audit"
)

// AuditService is what IG officers (org role auditor) do with their organisation's log: search
// it, export it, open investigations, read alerts; and what anyone may check of the log as a
// whole: its signed checkpoints and the proofs that it only grew. Every use of the log by an
// officer is itself an entry in it, visible to the organisation's other officers.
type AuditService struct {
	*deps
	checkpoints *Checkpointer
	alerts      *Alerts
}

// MaxAuditExport bounds one export: past it, the officer narrows the search.
const MaxAuditExport = 50_000

// requireAuditor returns the actor when they are an IG officer of their organisation.
func requireAuditor(ctx context.Context) (*wardline.Actor, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if a.User.OrgRole != wardline.OrgRoleAuditor {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "only an IG officer (auditor) may do this")
	}
	return a, nil
}

// auditFilter checks a search and turns it into a store filter of the officer's own
// organisation, with a summary for the search's own audit entry. A typed NHS number becomes its
// HMAC here and goes no further.
func (s *AuditService) auditFilter(ctx context.Context, a *wardline.Actor, q wardline.AuditSearch) (wardline.AuditFilter, map[string]any, error) {
	f := wardline.AuditFilter{OrgID: a.User.OrgID, ActorID: q.ActorID, ConversationID: q.ConversationID, Action: q.Action,
		Since: q.Since, Until: q.Until}
	detail := map[string]any{}
	if q.ActorID != "" && !wardline.ValidID(q.ActorID) {
		return f, nil, errInvalid("actor_id must be a user id")
	}
	if q.ActorEmail != "" {
		if q.ActorID != "" {
			return f, nil, errInvalid("give actor_id or actor_email, not both")
		}
		u, err := s.store.UserByOrgEmail(ctx, a.User.OrgID, wardline.NormalizeEmail(q.ActorEmail))
		if err != nil && !isNotFound(err) {
			return f, nil, err
		}
		if u == nil {
			f.ActorID = wardline.NewID() // nobody: the search finds nothing, as for an unknown id
		} else {
			f.ActorID = u.ID
		}
	}
	if q.ConversationID != "" && !wardline.ValidID(q.ConversationID) {
		return f, nil, errInvalid("conversation_id must be a conversation id")
	}
	if len(q.Action) > 100 || strings.ContainsFunc(q.Action, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '.' || r == '_')
	}) {
		return f, nil, errInvalid("action must be an action name such as message.history_read")
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return f, nil, errInvalid("since must be before until")
	}
	if q.PatientNHSNumber != "" {
		n := strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' {
				return -1
			}
			return r
		}, q.PatientNHSNumber)
		if len(n) != 10 || strings.ContainsFunc(n, func(r rune) bool { return !unicode.IsDigit(r) || r > '9' }) {
			return f, nil, errInvalid("nhs_number must be 10 digits")
		}
		h, err := s.IdentifierHMAC(ctx, a.User.OrgID, audit.IdentNHSNumber, n)
		if err != nil {
			return f, nil, err
		}
		f.PatientHMAC = h
		detail[wardline.DetailPatientHMAC] = h // a search for a patient is findable by that patient
	}
	for k, v := range map[string]string{"actor_id": f.ActorID, "conversation_id": f.ConversationID, "action": f.Action} {
		if v != "" {
			detail[k] = v
		}
	}
	if !f.Since.IsZero() {
		detail["since"] = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		detail["until"] = f.Until.UTC().Format(time.RFC3339Nano)
	}
	return f, detail, nil
}

func encodeSeqCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(seq, 10)))
}

func decodeSeqCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(b), "seq:")
	n, perr := strconv.ParseInt(s, 10, 64)
	if err != nil || !ok || perr != nil || n < 1 {
		return 0, errInvalid("cursor is not valid")
	}
	return n, nil
}

// Search pages through the officer's organisation's log, newest first. The search is audited
// before the answer returns, with what it looked for (a patient only as their HMAC).
func (s *AuditService) Search(ctx context.Context, q wardline.AuditSearch) ([]*wardline.AuditEvent, string, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, "", err
	}
	f, detail, err := s.auditFilter(ctx, a, q)
	if err != nil {
		return nil, "", err
	}
	if q.Limit < 0 || q.Limit > wardline.MaxPageSize {
		return nil, "", errInvalid("limit must be between 1 and 200")
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	if q.Cursor != "" {
		if f.BeforeSeq, err = decodeSeqCursor(q.Cursor); err != nil {
			return nil, "", err
		}
	}
	f.Desc, f.Limit = true, limit+1
	events, err := s.store.AuditEvents(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(events) > limit {
		events = events[:limit]
		next = encodeSeqCursor(events[limit-1].Seq)
	}
	detail[wardline.DetailCount] = len(events)
	ev := s.auditEvent(ctx, wardline.ActionAuditSearched, "audit", "")
	ev.Detail = detail
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// Export returns every entry the search finds (in log order, at most MaxAuditExport), audited
// as an export of that many items before it is returned: bulk exports raise an alert.
func (s *AuditService) Export(ctx context.Context, q wardline.AuditSearch, format string) ([]*wardline.AuditEvent, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, err
	}
	f, detail, err := s.auditFilter(ctx, a, q)
	if err != nil {
		return nil, err
	}
	if format != "csv" && format != "json" {
		return nil, errInvalid("format must be csv or json")
	}
	if q.Cursor != "" || q.Limit != 0 {
		return nil, errInvalid("an export takes no cursor or limit: it covers the whole search")
	}
	var out []*wardline.AuditEvent
	for {
		f.Limit = 1000
		page, err := s.store.AuditEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(out) > MaxAuditExport {
			return nil, wardline.Errorf(wardline.ETOOLARGE, "more than %d entries match: narrow the search (a shorter time range)", MaxAuditExport)
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterSeq = page[len(page)-1].Seq
	}
	detail[wardline.DetailCount] = len(out)
	detail["format"] = format
	ev := s.auditEvent(ctx, wardline.ActionAuditExported, "audit", "")
	ev.Detail = detail
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	return out, nil
}

// Alerts lists the officer's organisation's alerts, newest first; the listing is audited.
func (s *AuditService) Alerts(ctx context.Context, kind, cursor string, limit int) ([]*wardline.Alert, string, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, "", err
	}
	if kind != "" && !knownAlertKind(kind) {
		return nil, "", errInvalid("kind must be an alert kind")
	}
	alerts, next, err := s.store.Alerts(ctx, wardline.AlertFilter{OrgID: a.User.OrgID, Kind: kind, Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	ev := s.auditEvent(ctx, wardline.ActionAlertsListed, "org", a.User.OrgID)
	ev.Detail = map[string]any{"count": len(alerts)}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, "", err
	}
	return alerts, next, nil
}

func knownAlertKind(kind string) bool {
	for _, k := range wardline.AlertKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// requirePolicyOfficer admits admins and IG officers to the alert thresholds.
func requirePolicyOfficer(ctx context.Context) (*wardline.Actor, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if a.User.OrgRole != wardline.OrgRoleAuditor && a.User.OrgRole != wardline.OrgRoleAdmin {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "only an admin or an IG officer may see or set alert thresholds")
	}
	return a, nil
}

// AlertPolicy returns the organisation's alert thresholds, defaults filled in.
func (s *AuditService) AlertPolicy(ctx context.Context) (*wardline.AlertPolicy, error) {
	a, err := requirePolicyOfficer(ctx)
	if err != nil {
		return nil, err
	}
	org, err := s.store.Org(ctx, a.User.OrgID)
	if err != nil {
		return nil, err
	}
	p := org.Policy.Normalize().Alerts
	return &p, nil
}

// SetAlertPolicy replaces the organisation's alert thresholds. Loosening them could hide
// snooping, so the change is audited with the old and new values, for the other officers to see.
func (s *AuditService) SetAlertPolicy(ctx context.Context, p wardline.AlertPolicy) (*wardline.AlertPolicy, error) {
	a, err := requirePolicyOfficer(ctx)
	if err != nil {
		return nil, err
	}
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionAlertPolicySet, "org", a.User.OrgID)
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		org, err := tx.Org(ctx, a.User.OrgID)
		if err != nil {
			return err
		}
		old := org.Policy.Normalize().Alerts
		pol := org.Policy
		pol.Alerts = p
		if err := tx.UpdateOrgPolicy(ctx, org.ID, pol); err != nil {
			return err
		}
		ev.Detail = map[string]any{"from": old, "to": p}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	s.alerts.PolicyChanged(a.User.OrgID)
	return &p, nil
}
