package app

import (
	"context"

	"wardline"
)

// Conversation tracking: the patient a conversation is about, its category and status, and its
// escalation contact.

// checkClinicalFields checks what a conversation may be linked to: a patient the caller can see, a
// category of the organisation, and one of its roles as escalation contact.
func (s *ConversationService) checkClinicalFields(ctx context.Context, a *wardline.Actor, patientID, category, escalationRoleID *string) error {
	if patientID != nil {
		if _, err := s.visiblePatient(ctx, a, *patientID); isNotFound(err) {
			return errInvalid("patient_id must be a patient you can see")
		} else if err != nil {
			return err
		}
	}
	if category != nil {
		p, err := s.policy(ctx, a.User.OrgID)
		if err != nil {
			return err
		}
		if !p.HasCategory(*category) {
			return errInvalid("category must be clinical, handover, referral, admin, social or one of the organisation's own")
		}
	}
	if escalationRoleID != nil {
		if _, err := s.orgRole(ctx, s.store, a.User.OrgID, *escalationRoleID); err != nil {
			return errInvalid("escalation_role_id must be a role of the organisation")
		}
	}
	return nil
}

// UpdateConversation changes a conversation's patient, category, status or escalation contact.
// Owners may (and org admins, for channels); linking a patient needs a patient the caller can see,
// and gives every member sight of that patient.
func (s *ConversationService) UpdateConversation(ctx context.Context, id string, p wardline.ConversationPatch) (*wardline.Conversation, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	c, _, err := s.visible(ctx, s.store, a, id)
	if err != nil {
		return nil, err
	}
	if !mayManage(c, a) {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "only an owner may change a conversation")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.EscalationRoleID.Set && p.EscalationRoleID.Value != nil && (c.Kind == wardline.KindDirect || c.Kind == wardline.KindRole) {
		return nil, errInvalid("a direct or role conversation has no escalation contact of its own")
	}
	var patientID, category, escalation *string
	if p.PatientID.Set {
		patientID = p.PatientID.Value
	}
	if p.Category.Set {
		category = p.Category.Value
	}
	if p.EscalationRoleID.Set {
		escalation = p.EscalationRoleID.Value
	}
	if err := s.checkClinicalFields(ctx, a, patientID, category, escalation); err != nil {
		return nil, err
	}
	changed := map[string]any{}
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		if c, _, err = s.visible(ctx, tx, a, id); err != nil {
			return err
		}
		if !mayManage(c, a) {
			return wardline.Errorf(wardline.EFORBIDDEN, "only an owner may change a conversation")
		}
		if p.PatientID.Set {
			c.PatientID = p.PatientID.Value
			changed["patient_id"] = c.PatientID
		}
		if p.Category.Set {
			c.Category = p.Category.Value
			changed["category"] = c.Category
		}
		if p.Status.Set {
			c.Status = p.Status.Value
			changed["status"] = c.Status
		}
		if p.EscalationRoleID.Set {
			c.EscalationRoleID = p.EscalationRoleID.Value
			changed["escalation_role_id"] = c.EscalationRoleID
		}
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionConvUpdated, "conversation", c.ID)
		ev.ConversationID = c.ID
		ev.Detail = changed
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	if c.MemberRole(a.User.ID) != "" {
		if c.UnreadCount, err = s.store.UnreadCount(ctx, c.ID, a.User.ID); err != nil {
			return nil, err
		}
	}
	s.publishConversation(ctx, c)
	out := *c
	return &out, nil
}
