package app

import (
	"context"
	"sync"
	"time"

	"wardline"
)

// ClinicalService holds the organisation's clinical policy (escalation, categories, working hours,
// off-duty rules) and the duty status people set for themselves.
type ClinicalService struct{ *deps }

var _ wardline.ClinicalPolicyService = (*ClinicalService)(nil)

// policyTTL is how long a node trusts its cached copy of a policy. A change made on this node is
// seen at once; one made on another node within this time.
const policyTTL = 30 * time.Second

// policyCache keeps each organisation's clinical policy in memory: every send consults it (to work
// out who is off duty by working hours) and must not pay a query for it.
type policyCache struct {
	mu sync.RWMutex
	m  map[string]cachedPolicy
}

type cachedPolicy struct {
	p  *wardline.ClinicalPolicy
	at time.Time
}

// policy returns an organisation's normalised clinical policy. Treat it as read-only.
func (d *deps) policy(ctx context.Context, orgID string) (*wardline.ClinicalPolicy, error) {
	now := d.clock.Now()
	d.policies.mu.RLock()
	c, ok := d.policies.m[orgID]
	d.policies.mu.RUnlock()
	if ok && now.Sub(c.at) < policyTTL && !now.Before(c.at) {
		return c.p, nil
	}
	p, err := d.store.ClinicalPolicy(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := p.Normalize(); err != nil {
		// A stored policy was valid when stored; one that no longer is falls back to the defaults
		// rather than stopping every send.
		d.log.Warn("stored clinical policy is not valid; using the defaults", "org_id", orgID, "err", err)
		p = &wardline.ClinicalPolicy{}
		_ = p.Normalize()
	}
	d.policies.mu.Lock()
	if d.policies.m == nil {
		d.policies.m = map[string]cachedPolicy{}
	}
	d.policies.m[orgID] = cachedPolicy{p: p, at: now}
	d.policies.mu.Unlock()
	return p, nil
}

func (d *deps) forgetPolicy(orgID string) {
	d.policies.mu.Lock()
	delete(d.policies.m, orgID)
	d.policies.mu.Unlock()
}

// dutyOf is someone's effective duty status at now under policy p.
func dutyOf(s wardline.DutySetting, p *wardline.ClinicalPolicy, now time.Time) string {
	return wardline.EffectiveDuty(s.Status, s.Until, p.WorkingHours, now)
}

// coveringRole is who covers for someone away: the role they named, else the organisation's.
func coveringRole(s wardline.DutySetting, p *wardline.ClinicalPolicy) *string {
	if s.CoveringRoleID != nil {
		return s.CoveringRoleID
	}
	return p.CoveringRoleID
}

// fillDuty sets the duty fields of users (of one organisation) as of now. One query for them all.
func (d *deps) fillDuty(ctx context.Context, users ...*wardline.User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	settings, err := d.store.DutySettings(ctx, ids)
	if err != nil {
		return err
	}
	p, err := d.policy(ctx, users[0].OrgID)
	if err != nil {
		return err
	}
	now := d.now()
	for _, u := range users {
		s := settings[u.ID]
		u.DutyStatus = dutyOf(s, p, now)
		u.DutyUntil, u.CoveringRoleID = nil, s.CoveringRoleID
		if s.Status != "" && s.Until != nil && now.Before(*s.Until) {
			u.DutyUntil = s.Until
		}
	}
	return nil
}

// orgRole loads a role of the caller's organisation; anything else is not found.
func (d *deps) orgRole(ctx context.Context, r wardline.Reader, orgID, id string) (*wardline.Role, error) {
	notFound := wardline.Errorf(wardline.ENOTFOUND, "role not found")
	if !wardline.ValidID(id) {
		return nil, notFound
	}
	role, err := r.Role(ctx, id)
	if isNotFound(err) || (err == nil && role.OrgID != orgID) {
		return nil, notFound
	}
	return role, err
}

// ClinicalPolicy returns the caller's organisation's clinical policy, defaults filled in. Anyone
// signed in may read it: clients show the categories and the escalation times.
func (s *ClinicalService) ClinicalPolicy(ctx context.Context) (*wardline.ClinicalPolicy, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.policy(ctx, a.User.OrgID)
	if err != nil {
		return nil, err
	}
	cp := *p
	return &cp, nil
}

// SetClinicalPolicy replaces the organisation's clinical policy (admins).
func (s *ClinicalService) SetClinicalPolicy(ctx context.Context, p wardline.ClinicalPolicy) (*wardline.ClinicalPolicy, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	if p.CoveringRoleID != nil {
		if _, err := s.orgRole(ctx, s.store, a.User.OrgID, *p.CoveringRoleID); err != nil {
			return nil, errInvalid("covering_role_id must be a role of the organisation")
		}
	}
	ev := s.auditEvent(ctx, wardline.ActionClinicalPolicySet, "org", a.User.OrgID)
	ev.Detail = map[string]any{"escalation": p.Escalation, "categories": len(p.Categories), "working_hours": p.WorkingHours != nil, "alert_off_duty": p.AlertOffDuty}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.SetClinicalPolicy(ctx, a.User.OrgID, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return nil, err
	}
	s.forgetPolicy(a.User.OrgID)
	return &p, nil
}

// SetDutyStatus records the caller's own duty status, until a time or until changed, and the role
// that covers for them meanwhile.
func (s *ClinicalService) SetDutyStatus(ctx context.Context, set wardline.DutySetting) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !wardline.ValidDutyStatus(set.Status) {
		return errInvalid("status must be on_duty, off_duty or on_leave")
	}
	now := s.now()
	if set.Until != nil {
		u := set.Until.UTC().Truncate(time.Microsecond)
		if !u.After(now) {
			return errInvalid("until must be in the future")
		}
		set.Until = &u
	}
	if set.CoveringRoleID != nil {
		if _, err := s.orgRole(ctx, s.store, a.User.OrgID, *set.CoveringRoleID); err != nil {
			return errInvalid("covering_role_id must be a role of the organisation")
		}
	}
	ev := s.auditEvent(ctx, wardline.ActionDutyStatusSet, "user", a.User.ID)
	detail := map[string]any{"status": set.Status}
	if set.Until != nil {
		detail["until"] = set.Until
	}
	if set.CoveringRoleID != nil {
		detail["covering_role_id"] = *set.CoveringRoleID
	}
	ev.Detail = detail
	return s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.SetDutySetting(ctx, a.User.ID, set); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.dutyChanged(ctx) })
		return tx.AppendAudit(ctx, ev)
	})
}

// dutyChanged tells every node that a stored duty setting changed: off-duty protection must see it
// on the next message, not after the conversation snapshots expire.
func (d *deps) dutyChanged(ctx context.Context) {
	d.convs.clear()
	d.publish(ctx, &wardline.Event{Type: wardline.EventDutyChanged})
}
