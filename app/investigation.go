package app

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"wardline"
)

// Justifications are the record of why an officer looked: long enough to say something, short
// enough to read, and never a patient's identifier (refer to a case or complaint number).
const (
	minJustification = 20
	maxJustification = 2000
)

// nhsNumberLike finds ten digits written as an NHS number is (with or without spaces).
var nhsNumberLike = regexp.MustCompile(`\b\d{3}[ -]?\d{3}[ -]?\d{4}\b`)

func validateJustification(j string) (string, error) {
	j = strings.TrimSpace(j)
	if !utf8.ValidString(j) {
		return "", errInvalid("justification must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(j); n < minJustification || n > maxJustification {
		return "", wardline.Errorf(wardline.EINVALID, "justification must be %d to %d characters: say why, and quote the case or complaint reference", minJustification, maxJustification)
	}
	if nhsNumberLike.MatchString(j) {
		return "", errInvalid("justification must not hold an NHS number: the audit log keeps no patient identifier in clear; quote the case reference instead")
	}
	return j, nil
}

// InvestigationView is an investigation with what has been done under it: the exports of its
// transcript, each an audit entry, so that every officer sees who took what.
type InvestigationView struct {
	*wardline.Investigation
	Exports []*wardline.AuditEvent
}

// OpenInvestigation opens a case on a conversation of the officer's organisation, with a written
// justification that goes into the audit log with the opening.
func (s *AuditService) OpenInvestigation(ctx context.Context, convID, justification string) (*wardline.Investigation, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, err
	}
	if !wardline.ValidID(convID) {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "conversation not found")
	}
	c, err := s.store.Conversation(ctx, convID)
	if isNotFound(err) || (err == nil && c.OrgID != a.User.OrgID) {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "conversation not found")
	} else if err != nil {
		return nil, err
	}
	if justification, err = validateJustification(justification); err != nil {
		return nil, err
	}
	inv := &wardline.Investigation{ID: wardline.NewID(), OrgID: a.User.OrgID, ConversationID: c.ID, OpenedBy: a.User.ID,
		OpenedAt: s.now(), Justification: justification, Status: wardline.InvestigationOpen}
	ev := s.auditEvent(ctx, wardline.ActionInvestigationOpen, "investigation", inv.ID)
	ev.ConversationID, ev.Justification = c.ID, justification
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.CreateInvestigation(ctx, inv); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return nil, err
	}
	return inv, nil
}

// orgInvestigation loads an investigation of the officer's organisation; others are not found.
func (s *AuditService) orgInvestigation(ctx context.Context, a *wardline.Actor, id string) (*wardline.Investigation, error) {
	notFound := wardline.Errorf(wardline.ENOTFOUND, "investigation not found")
	if !wardline.ValidID(id) {
		return nil, notFound
	}
	inv, err := s.store.Investigation(ctx, id)
	if isNotFound(err) || (err == nil && inv.OrgID != a.User.OrgID) {
		return nil, notFound
	}
	return inv, err
}

// Investigations lists the organisation's investigations, newest first, for every officer.
func (s *AuditService) Investigations(ctx context.Context, cursor string, limit int) ([]*wardline.Investigation, string, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, "", err
	}
	invs, next, err := s.store.Investigations(ctx, a.User.OrgID, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	ev := s.auditEvent(ctx, wardline.ActionInvestigationList, "org", a.User.OrgID)
	ev.Detail = map[string]any{"count": len(invs)}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, "", err
	}
	return invs, next, nil
}

// Investigation returns one investigation with its exports; the view is audited.
func (s *AuditService) Investigation(ctx context.Context, id string) (*InvestigationView, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := s.orgInvestigation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	exports, err := s.store.AuditEvents(ctx, wardline.AuditFilter{OrgID: a.User.OrgID, TargetID: inv.ID, Action: wardline.ActionTranscriptExport, Limit: 1000})
	if err != nil {
		return nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionInvestigationView, "investigation", inv.ID)
	ev.ConversationID = inv.ConversationID
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	return &InvestigationView{Investigation: inv, Exports: exports}, nil
}

// CloseInvestigation ends a case: no more transcripts under it. Any officer of the
// organisation may close it.
func (s *AuditService) CloseInvestigation(ctx context.Context, id string) error {
	a, err := requireAuditor(ctx)
	if err != nil {
		return err
	}
	inv, err := s.orgInvestigation(ctx, a, id)
	if err != nil {
		return err
	}
	if inv.Status != wardline.InvestigationOpen {
		return wardline.Errorf(wardline.ECONFLICT, "the investigation is closed already")
	}
	now := s.now()
	ev := s.auditEvent(ctx, wardline.ActionInvestigationShut, "investigation", inv.ID)
	ev.ConversationID = inv.ConversationID
	return s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.CloseInvestigation(ctx, inv.ID, a.User.ID, now); err != nil {
			if isNotFound(err) {
				return wardline.Errorf(wardline.ECONFLICT, "the investigation is closed already")
			}
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}
