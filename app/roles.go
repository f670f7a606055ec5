package app

import (
	"context"
	"slices"
	"sort"
	"time"

	"wardline"
)

// RoleService defines clinical roles (admins), lets staff take, release and hand them over, puts
// people on rotas, and sends messages to whoever holds a role (rolemessages.go). A role's
// conversations follow its holders: whoever takes it joins them, whoever gives it up leaves them,
// and the history stays with the role.
type RoleService struct{ *deps }

var _ wardline.RoleService = (*RoleService)(nil)

// holderIDs returns the distinct users among holdings, in order of holding.
func holderIDs(hs []*wardline.RoleHolder) []string {
	var ids []string
	for _, h := range hs {
		if !slices.Contains(ids, h.UserID) {
			ids = append(ids, h.UserID)
		}
	}
	return ids
}

// withHolders fills each role's current holders, one query for them all.
func (d *deps) withHolders(ctx context.Context, r wardline.Reader, roles []*wardline.Role, now time.Time) error {
	ids := make([]string, len(roles))
	for i, role := range roles {
		ids[i] = role.ID
	}
	holders, err := r.RoleHolders(ctx, ids, now)
	if err != nil {
		return err
	}
	for _, role := range roles {
		role.Holders = holders[role.ID]
		if role.Holders == nil {
			role.Holders = []*wardline.RoleHolder{}
		}
	}
	return nil
}

// Roles lists the organisation's roles with who holds them now.
func (s *RoleService) Roles(ctx context.Context, cursor string, limit int) ([]*wardline.Role, string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	roles, next, err := s.store.Roles(ctx, a.User.OrgID, "", cursor, limit)
	if err != nil {
		return nil, "", err
	}
	return roles, next, s.withHolders(ctx, s.store, roles, s.now())
}

// checkRoleRefs checks that a role's fallback and escalation chain name other roles of the
// organisation, and that following fallbacks from it never comes back to it.
func (s *RoleService) checkRoleRefs(ctx context.Context, r wardline.Reader, role *wardline.Role) error {
	if err := wardline.ValidateRoleRefs(role.FallbackRoleID, role.EscalationRoleIDs); err != nil {
		return err
	}
	if f := role.FallbackRoleID; f != nil {
		if *f == role.ID {
			return errInvalid("a role cannot be its own fallback")
		}
		seen := map[string]bool{role.ID: true}
		for next := f; next != nil; {
			if seen[*next] {
				return errInvalid("fallback roles must not go round in a circle")
			}
			seen[*next] = true
			fr, err := s.orgRole(ctx, r, role.OrgID, *next)
			if err != nil {
				return errInvalid("fallback_role_id must be a role of the organisation")
			}
			next = fr.FallbackRoleID
		}
	}
	for _, id := range role.EscalationRoleIDs {
		if id == role.ID {
			return errInvalid("a role cannot escalate to itself")
		}
		if _, err := s.orgRole(ctx, r, role.OrgID, id); err != nil {
			return errInvalid("escalation_role_ids must be roles of the organisation")
		}
	}
	return nil
}

// CreateRole defines a role (admins).
func (s *RoleService) CreateRole(ctx context.Context, n wardline.NewRole) (*wardline.Role, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	name, err := wardline.ValidateRoleName(n.Name)
	if err != nil {
		return nil, err
	}
	role := &wardline.Role{
		ID: wardline.NewID(), OrgID: a.User.OrgID, Name: name, FallbackRoleID: n.FallbackRoleID,
		EscalationRoleIDs: n.EscalationRoleIDs, CreatedAt: s.now(), Holders: []*wardline.RoleHolder{},
	}
	if role.EscalationRoleIDs == nil {
		role.EscalationRoleIDs = []string{}
	}
	ev := s.auditEvent(ctx, wardline.ActionRoleCreated, "role", role.ID)
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := s.checkRoleRefs(ctx, tx, role); err != nil {
			return err
		}
		if err := tx.CreateRole(ctx, role); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return role, nil
}

// UpdateRole renames a role or changes its fallback and escalation chain (admins).
func (s *RoleService) UpdateRole(ctx context.Context, id string, p wardline.RolePatch) (*wardline.Role, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	var role *wardline.Role
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		if role, err = s.orgRole(ctx, tx, a.User.OrgID, id); err != nil {
			return err
		}
		if !p.Name.Set && !p.FallbackRoleID.Set && !p.EscalationRoleIDs.Set {
			return errInvalid("nothing to change")
		}
		if p.Name.Set {
			if role.Name, err = wardline.ValidateRoleName(p.Name.Value); err != nil {
				return err
			}
		}
		if p.FallbackRoleID.Set {
			role.FallbackRoleID = p.FallbackRoleID.Value
		}
		if p.EscalationRoleIDs.Set {
			role.EscalationRoleIDs = p.EscalationRoleIDs.Value
			if role.EscalationRoleIDs == nil {
				role.EscalationRoleIDs = []string{}
			}
		}
		if err := s.checkRoleRefs(ctx, tx, role); err != nil {
			return err
		}
		if err := tx.UpdateRole(ctx, role); err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionRoleUpdated, "role", role.ID)
		ev.Detail = map[string]any{"fallback_role_id": role.FallbackRoleID, "escalation_role_ids": role.EscalationRoleIDs}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return role, s.withHolders(ctx, s.store, []*wardline.Role{role}, s.now())
}

// roleChange is a conversation whose members changed, and who left it (they hear of it too).
type roleChange struct {
	conv    *wardline.Conversation
	removed []string
}

// syncRole makes the members of every conversation of a role its sender and the role's current
// holders, inside tx, each change audited. It returns the conversations that changed.
func (d *deps) syncRole(ctx context.Context, tx wardline.Tx, roleID string, now time.Time) ([]roleChange, error) {
	holders, err := tx.RoleHolders(ctx, []string{roleID}, now)
	if err != nil {
		return nil, err
	}
	ids := holderIDs(holders[roleID])
	convs, err := tx.RoleConversations(ctx, roleID)
	if err != nil {
		return nil, err
	}
	var out []roleChange
	for _, id := range convs {
		c, removed, changed, err := d.syncRoleConversation(ctx, tx, id, ids, now)
		if err != nil {
			return nil, err
		}
		if changed {
			out = append(out, roleChange{c, removed})
		}
	}
	return out, nil
}

// syncRoleConversation adds the holders missing from a role conversation and removes members who
// are neither holders nor the person who writes to the role.
func (d *deps) syncRoleConversation(ctx context.Context, tx wardline.Tx, convID string, holders []string, now time.Time) (*wardline.Conversation, []string, bool, error) {
	c, err := tx.Conversation(ctx, convID)
	if err != nil {
		return nil, nil, false, err
	}
	changed := false
	var removed []string
	for _, uid := range holders {
		if c.MemberRole(uid) != "" {
			continue
		}
		if err := tx.AddMember(ctx, c.ID, &wardline.Member{UserID: uid, Role: wardline.MemberMember, JoinedAt: now}); err != nil {
			return nil, nil, false, err
		}
		ev := d.auditEvent(ctx, wardline.ActionMemberAdded, "user", uid)
		ev.OrgID, ev.ConversationID = c.OrgID, c.ID
		ev.Detail = map[string]any{"reason": "role holder"}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return nil, nil, false, err
		}
		changed = true
	}
	for _, m := range c.Members {
		if m.UserID == c.CreatedBy || slices.Contains(holders, m.UserID) {
			continue
		}
		if _, err := removeMemberOf(ctx, d, tx, c.OrgID, c.ID, m.UserID, "no longer holds the role"); err != nil {
			return nil, nil, false, err
		}
		removed = append(removed, m.UserID)
		changed = true
	}
	if changed {
		if c, err = tx.Conversation(ctx, convID); err != nil {
			return nil, nil, false, err
		}
	}
	return c, removed, changed, nil
}

func (d *deps) publishRoleChanges(ctx context.Context, changes []roleChange) {
	for _, ch := range changes {
		d.publishConversation(ctx, ch.conv, ch.removed...)
	}
}

// Take makes the caller a holder of the role from now, until they release or hand it over.
func (s *RoleService) Take(ctx context.Context, id string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, id)
	if err != nil {
		return err
	}
	now := s.now()
	var changes []roleChange
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		changes = nil
		holders, err := tx.RoleHolders(ctx, []string{role.ID}, now)
		if err != nil {
			return err
		}
		if slices.Contains(holderIDs(holders[role.ID]), a.User.ID) {
			return nil // holds it already
		}
		h := &wardline.RoleHolder{ID: wardline.NewID(), RoleID: role.ID, UserID: a.User.ID, Source: wardline.HoldTaken, Since: now}
		if err := tx.AddRoleHolder(ctx, h, true); err != nil {
			return err
		}
		if changes, err = s.syncRole(ctx, tx, role.ID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.auditEvent(ctx, wardline.ActionRoleTaken, "role", role.ID))
	})
	if err != nil {
		return err
	}
	s.publishRoleChanges(ctx, changes)
	return nil
}

// Release ends the caller's holding of the role now. Releasing a role one does not hold changes
// nothing.
func (s *RoleService) Release(ctx context.Context, id string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, id)
	if err != nil {
		return err
	}
	now := s.now()
	var changes []roleChange
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		changes = nil
		n, err := tx.EndRoleHoldings(ctx, role.ID, a.User.ID, now)
		if err != nil || n == 0 {
			return err
		}
		if changes, err = s.syncRole(ctx, tx, role.ID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.auditEvent(ctx, wardline.ActionRoleReleased, "role", role.ID))
	})
	if err != nil {
		return err
	}
	s.publishRoleChanges(ctx, changes)
	return nil
}

// Handover passes the caller's holding of the role to a colleague, for what remains of it: the
// colleague joins the role's conversations and the caller leaves them, in one transaction.
func (s *RoleService) Handover(ctx context.Context, id, toUserID string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, id)
	if err != nil {
		return err
	}
	now := s.now()
	var changes []roleChange
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		changes = nil
		holders, err := tx.RoleHolders(ctx, []string{role.ID}, now)
		if err != nil {
			return err
		}
		var mine *wardline.RoleHolder
		for _, h := range holders[role.ID] {
			if h.UserID == a.User.ID && (mine == nil || laterEnd(h.Until, mine.Until)) {
				mine = h
			}
		}
		if mine == nil {
			return wardline.Errorf(wardline.EFORBIDDEN, "you do not hold this role")
		}
		if !wardline.ValidID(toUserID) || toUserID == a.User.ID {
			return errInvalid("to_user_id must be a colleague's id")
		}
		to, err := tx.User(ctx, toUserID)
		if isNotFound(err) || (err == nil && (to.OrgID != a.User.OrgID || !to.Active())) {
			return errInvalid("to_user_id must be an active colleague from the directory")
		} else if err != nil {
			return err
		}
		if _, err := tx.EndRoleHoldings(ctx, role.ID, a.User.ID, now); err != nil {
			return err
		}
		if !slices.Contains(holderIDs(holders[role.ID]), to.ID) {
			h := &wardline.RoleHolder{ID: wardline.NewID(), RoleID: role.ID, UserID: to.ID, Source: wardline.HoldHandover, Since: now, Until: mine.Until}
			if err := tx.AddRoleHolder(ctx, h, true); err != nil {
				return err
			}
		}
		if changes, err = s.syncRole(ctx, tx, role.ID, now); err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionRoleHandedOver, "role", role.ID)
		ev.Detail = map[string]any{"to_user_id": to.ID}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	s.publishRoleChanges(ctx, changes)
	return nil
}

// laterEnd reports whether a ends after b (nil is never).
func laterEnd(a, b *time.Time) bool {
	if a == nil {
		return b != nil
	}
	return b != nil && a.After(*b)
}

// AddRotaEntry puts someone on the rota for a role (admins): they hold it from starts_at to
// ends_at, and are on duty meanwhile. The scheduler applies a start or end in the future.
func (s *RoleService) AddRotaEntry(ctx context.Context, roleID string, n wardline.NewRotaEntry) (*wardline.RotaEntry, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, roleID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := n.Validate(now); err != nil {
		return nil, err
	}
	h := &wardline.RoleHolder{ID: wardline.NewID(), RoleID: role.ID, UserID: n.UserID, Source: wardline.HoldRota, Since: *n.StartsAt, Until: n.EndsAt}
	started := !h.Since.After(now)
	var changes []roleChange
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		changes = nil
		u, err := tx.User(ctx, n.UserID)
		if isNotFound(err) || (err == nil && (u.OrgID != a.User.OrgID || !u.Active())) {
			return errInvalid("user_id must be an active colleague from the directory")
		} else if err != nil {
			return err
		}
		// The same person twice for overlapping periods is a slip (a form sent twice): refused,
		// so that taking one entry off the rota leaves nothing behind.
		if overlap, err := s.rotaOverlap(ctx, tx, h); err != nil {
			return err
		} else if overlap != nil {
			return wardline.Errorf(wardline.ECONFLICT, "they are already on this rota for an overlapping period")
		}
		if err := tx.AddRoleHolder(ctx, h, started); err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionRotaEntryCreated, "role", role.ID)
		ev.Detail = map[string]any{"user_id": u.ID, "starts_at": h.Since, "ends_at": h.Until, "rota_entry_id": h.ID}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if started {
			changes, err = s.startRota(ctx, tx, role, h, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publishRoleChanges(ctx, changes)
	return rotaEntry(h, role.Name), nil
}

// rotaOverlap returns a rota period of h's role and person that overlaps h, if there is one. It
// pages through the person's periods, which are far fewer than the role's.
func (s *RoleService) rotaOverlap(ctx context.Context, tx wardline.Tx, h *wardline.RoleHolder) (*wardline.RoleHolder, error) {
	for cursor := ""; ; {
		page, next, err := tx.RotaHoldings(ctx, wardline.RotaOf{UserID: h.UserID}, h.Since, cursor, 200)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			if o.RoleID == h.RoleID && o.Since.Before(*h.Until) {
				return o, nil
			}
		}
		if next == "" {
			return nil, nil
		}
		cursor = next
	}
}

func rotaEntry(h *wardline.RoleHolder, roleName string) *wardline.RotaEntry {
	return &wardline.RotaEntry{ID: h.ID, RoleID: h.RoleID, UserID: h.UserID, StartsAt: h.Since, EndsAt: *h.Until, RoleName: roleName}
}

// Rota lists a role's rota periods that have not ended, the soonest first. Anyone in the
// organisation may read it: who is on call tonight, and who next, is no secret among colleagues.
func (s *RoleService) Rota(ctx context.Context, roleID, cursor string, limit int) ([]*wardline.RotaEntry, string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, roleID)
	if err != nil {
		return nil, "", err
	}
	hs, next, err := s.store.RotaHoldings(ctx, wardline.RotaOf{RoleID: role.ID}, s.now(), cursor, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]*wardline.RotaEntry, 0, len(hs))
	for _, h := range hs {
		out = append(out, rotaEntry(h, role.Name))
	}
	return out, next, nil
}

// MyRota lists the caller's own rota periods that have not ended, in every role, the soonest
// first: "when am I on next?" without looking through each role's rota.
func (s *RoleService) MyRota(ctx context.Context, cursor string, limit int) ([]*wardline.RotaEntry, string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	hs, next, err := s.store.RotaHoldings(ctx, wardline.RotaOf{UserID: a.User.ID}, s.now(), cursor, limit)
	if err != nil {
		return nil, "", err
	}
	names := map[string]string{}
	out := make([]*wardline.RotaEntry, 0, len(hs))
	for _, h := range hs {
		name, ok := names[h.RoleID]
		if !ok {
			role, err := s.orgRole(ctx, s.store, a.User.OrgID, h.RoleID)
			if err != nil {
				return nil, "", err
			}
			name, names[h.RoleID] = role.Name, role.Name
		}
		out = append(out, rotaEntry(h, name))
	}
	return out, next, nil
}

// CancelRotaEntry takes someone off the rota (admins). A period that has not started is removed.
// One under way ends now: they leave the role's conversations (unless they hold the role
// otherwise), and the on-duty status the rota gave them ends with it, unless they have set
// another since. A period that has ended is history and cannot be cancelled (409).
func (s *RoleService) CancelRotaEntry(ctx context.Context, roleID, entryID string) error {
	a, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	role, err := s.orgRole(ctx, s.store, a.User.OrgID, roleID)
	if err != nil {
		return err
	}
	notFound := wardline.Errorf(wardline.ENOTFOUND, "rota entry not found")
	if !wardline.ValidID(entryID) {
		return notFound
	}
	now := s.now()
	var changes []roleChange
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		changes = nil
		h, err := tx.RoleHolding(ctx, entryID)
		if isNotFound(err) || (err == nil && (h.RoleID != role.ID || h.Source != wardline.HoldRota)) {
			return notFound
		} else if err != nil {
			return err
		}
		if !h.Until.After(now) {
			return wardline.Errorf(wardline.ECONFLICT, "the rota entry has ended")
		}
		underWay := !h.Since.After(now)
		if err := tx.CancelRotaHolding(ctx, h.ID, now); err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionRotaEntryCancelled, "role", role.ID)
		ev.Detail = map[string]any{"user_id": h.UserID, "rota_entry_id": h.ID, "starts_at": h.Since, "ends_at": h.Until, "under_way": underWay}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if !underWay {
			return nil
		}
		// The status startRota set (on duty until the period's end), if it is still the one in
		// force; whether or not the scheduler had applied the start yet, which on PostgreSQL
		// another node may be doing at this moment.
		settings, err := tx.DutySettings(ctx, []string{h.UserID})
		if err != nil {
			return err
		}
		if set, ok := settings[h.UserID]; ok && set.Status == wardline.DutyOn && set.Until != nil && set.Until.Equal(*h.Until) {
			set.Until = &now
			if err := tx.SetDutySetting(ctx, h.UserID, set); err != nil {
				return err
			}
			tx.AfterCommit(func() { s.dutyChanged(ctx) })
		}
		changes, err = s.syncRole(ctx, tx, role.ID, now)
		return err
	})
	if err != nil {
		return err
	}
	s.publishRoleChanges(ctx, changes)
	return nil
}

// startRota does what the start of a rota period does: the person is on duty until its end and
// joins the role's conversations.
func (d *deps) startRota(ctx context.Context, tx wardline.Tx, role *wardline.Role, h *wardline.RoleHolder, now time.Time) ([]roleChange, error) {
	settings, err := tx.DutySettings(ctx, []string{h.UserID})
	if err != nil {
		return nil, err
	}
	set := wardline.DutySetting{Status: wardline.DutyOn, Until: h.Until, CoveringRoleID: settings[h.UserID].CoveringRoleID}
	if err := tx.SetDutySetting(ctx, h.UserID, set); err != nil {
		return nil, err
	}
	tx.AfterCommit(func() { d.dutyChanged(ctx) })
	return d.syncRole(ctx, tx, role.ID, now)
}

// applyRotaChanges acts on the rota periods that started or ended by now. Each start and end is
// claimed in the store, so that of several nodes exactly one acts on it.
func (d *deps) applyRotaChanges(ctx context.Context, now time.Time) (int, error) {
	due, err := d.store.DueRotaChanges(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	sort.SliceStable(due, func(i, j int) bool { return due[i].Since.Before(due[j].Since) })
	applied := 0
	var first error
	for _, h := range due {
		var changes []roleChange
		did := false
		err := d.store.Update(ctx, func(tx wardline.Tx) error {
			changes, did = nil, false
			role, err := tx.Role(ctx, h.RoleID)
			if err != nil {
				return err
			}
			if !h.StartApplied && !h.Since.After(now) {
				ok, err := tx.ClaimRotaChange(ctx, h.ID, true)
				if err != nil {
					return err
				}
				if ok {
					did = true
					more, err := d.startRota(ctx, tx, role, h, now)
					if err != nil {
						return err
					}
					changes = append(changes, more...)
					if err := d.systemAudit(ctx, tx, role.OrgID, wardline.ActionRotaStarted, "role", role.ID, map[string]any{"user_id": h.UserID, "rota_entry_id": h.ID}); err != nil {
						return err
					}
				}
			}
			if h.Until != nil && !h.Until.After(now) {
				ok, err := tx.ClaimRotaChange(ctx, h.ID, false)
				if err != nil {
					return err
				}
				if ok {
					did = true
					more, err := d.syncRole(ctx, tx, role.ID, now)
					if err != nil {
						return err
					}
					changes = append(changes, more...)
					if err := d.systemAudit(ctx, tx, role.OrgID, wardline.ActionRotaEnded, "role", role.ID, map[string]any{"user_id": h.UserID, "rota_entry_id": h.ID}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			d.log.Warn("rota change", "rota_entry_id", h.ID, "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		if did {
			applied++
			d.publishRoleChanges(ctx, changes)
		}
	}
	return applied, first
}

// systemAudit records something the server did on its own (the scheduler), in an organisation.
func (d *deps) systemAudit(ctx context.Context, tx wardline.Tx, orgID, action, targetType, targetID string, detail map[string]any) error {
	ev := d.auditEvent(ctx, action, targetType, targetID)
	ev.OrgID, ev.ActorID, ev.Addr = orgID, "", "scheduler"
	ev.Detail = detail
	return tx.AppendAudit(ctx, ev)
}
