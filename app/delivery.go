package app

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"wardline"
)

// Where a message goes beyond its conversation: to whoever holds a role now (or its fallback), and,
// for urgent messages to people off duty, to the role that covers for them.

// roleConvKey names the one conversation between a sender and a role (kept in direct_key, whose
// uniqueness makes concurrent first messages meet in one conversation).
func roleConvKey(roleID, senderID string) string { return "role:" + roleID + ":" + senderID }

// errRoleConvRace is the loss of a race to create a role conversation; the caller plans again.
var errRoleConvRace = errors.New("role conversation created concurrently")

// roleDelivery is where a message to a role goes: the role reached (the one asked, or a fallback),
// its holders, and the conversation between the sender and that role (made when new).
type roleDelivery struct {
	asked    *wardline.Role
	target   *wardline.Role
	holders  []string // every holder of target now
	reached  []string // holders other than the sender
	conv     *wardline.Conversation
	isNew    bool
	key      *wardline.KeyRecord // the data key of a new conversation
	warnings []*wardline.Warning
}

// planRoleDelivery resolves who a message to role reaches now, following fallbacks, and finds or
// prepares the conversation. It reads only; the writes happen in writeRoleConversation.
func (d *deps) planRoleDelivery(ctx context.Context, sender *wardline.User, role *wardline.Role, now time.Time) (*roleDelivery, error) {
	rd, err := d.reachRole(ctx, sender.ID, role, now)
	if err != nil {
		return nil, err
	}
	c, err := d.store.DirectConversation(ctx, role.OrgID, roleConvKey(rd.target.ID, sender.ID))
	if err == nil {
		rd.conv = c
		return rd, nil
	} else if !isNotFound(err) {
		return nil, err
	}
	roleID := rd.target.ID
	rd.isNew = true
	rd.conv = &wardline.Conversation{
		ID: wardline.NewID(), OrgID: role.OrgID, Kind: wardline.KindRole, CreatedAt: now, CreatedBy: sender.ID,
		LastActivityAt: now, Status: wardline.ConvOpen, RoleID: &roleID, DirectKey: roleConvKey(roleID, sender.ID),
		Members: []*wardline.Member{{UserID: sender.ID, Role: wardline.MemberOwner, JoinedAt: now, DisplayName: sender.DisplayName, JobTitle: sender.JobTitle}},
	}
	for _, id := range rd.reached {
		rd.conv.Members = append(rd.conv.Members, &wardline.Member{UserID: id, Role: wardline.MemberMember, JoinedAt: now})
	}
	if rd.key, err = d.keys.NewDataKey(ctx, role.OrgID, rd.conv.ID); err != nil {
		return nil, err
	}
	return rd, nil
}

// reachRole finds who holds role now, or else its first fallback that someone holds, with the
// warnings for the sender.
func (d *deps) reachRole(ctx context.Context, senderID string, role *wardline.Role, now time.Time) (*roleDelivery, error) {
	rd := &roleDelivery{asked: role}
	seen := map[string]bool{}
	for r := role; r != nil && len(seen) < wardline.MaxFallbackHops && !seen[r.ID]; {
		seen[r.ID] = true
		hs, err := d.store.RoleHolders(ctx, []string{r.ID}, now)
		if err != nil {
			return nil, err
		}
		if ids := holderIDs(hs[r.ID]); len(ids) > 0 {
			rd.target, rd.holders = r, ids
			break
		}
		if r.FallbackRoleID == nil {
			break
		}
		next, err := d.orgRole(ctx, d.store, role.OrgID, *r.FallbackRoleID)
		if isNotFound(err) {
			break
		} else if err != nil {
			return nil, err
		}
		r = next
	}
	switch {
	case rd.target == nil:
		rd.target = role
		rd.warnings = append(rd.warnings, &wardline.Warning{Code: wardline.WarnNobodyReached, RoleID: &role.ID})
	case rd.target.ID != role.ID:
		rd.warnings = append(rd.warnings, &wardline.Warning{Code: wardline.WarnRoleNotHeld, RoleID: &role.ID, CoveringRoleID: &rd.target.ID})
	}
	for _, id := range rd.holders {
		if id != senderID {
			rd.reached = append(rd.reached, id)
		}
	}
	if rd.reached == nil {
		rd.reached = []string{}
	}
	return rd, nil
}

// writeRoleConversation creates the role conversation, or brings its members in line with the
// holders (and the sender back in), inside tx. It reports whether the members changed.
func (d *deps) writeRoleConversation(ctx context.Context, tx wardline.Tx, rd *roleDelivery, now time.Time) (changed bool, removed []string, err error) {
	if rd.isNew {
		if err := tx.InsertKey(ctx, rd.key); err != nil {
			return false, nil, err
		}
		if err := tx.CreateConversation(ctx, rd.conv); wardline.ErrorCode(err) == wardline.ECONFLICT {
			return false, nil, errRoleConvRace
		} else if err != nil {
			return false, nil, err
		}
		ev := d.auditEvent(ctx, wardline.ActionConvCreated, "conversation", rd.conv.ID)
		ev.ConversationID = rd.conv.ID
		ev.Detail = map[string]any{"kind": wardline.KindRole, "role_id": rd.target.ID, "members": rd.conv.MemberIDs()}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return false, nil, err
		}
		c, err := tx.Conversation(ctx, rd.conv.ID)
		if err != nil {
			return false, nil, err
		}
		rd.conv = c
		return true, nil, nil
	}
	sender := rd.conv.CreatedBy
	if ok, err := tx.IsMember(ctx, rd.conv.ID, sender); err != nil {
		return false, nil, err
	} else if !ok {
		if err := tx.AddMember(ctx, rd.conv.ID, &wardline.Member{UserID: sender, Role: wardline.MemberOwner, JoinedAt: now}); err != nil {
			return false, nil, err
		}
		ev := d.auditEvent(ctx, wardline.ActionMemberAdded, "user", sender)
		ev.ConversationID = rd.conv.ID
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return false, nil, err
		}
		changed = true
	}
	c, removed, synced, err := d.syncRoleConversation(ctx, tx, rd.conv.ID, rd.reached, now)
	if err != nil {
		return false, nil, err
	}
	rd.conv = c
	return changed || synced, removed, nil
}

// newEscalation registers the escalation of an urgent or emergency message that needs
// acknowledgement (nil for any other): its first step is due one interval after sending.
func newEscalation(m *wardline.Message, p *wardline.ClinicalPolicy, groupID string, notified []string, now time.Time) *wardline.Escalation {
	interval := p.Escalation.Interval(m.Priority)
	if !m.RequiresAck || interval <= 0 {
		return nil
	}
	next := now.Add(interval)
	if notified == nil {
		notified = []string{}
	}
	return &wardline.Escalation{
		State: wardline.EscalationPending, Step: 0, NextAt: &next, Notified: notified,
		MessageID: m.ID, ConversationID: m.ConversationID, OrgID: m.OrgID, SenderID: m.SenderID, GroupID: groupID,
		Priority: m.Priority, Interval: interval, LastStep: p.Escalation.Steps, CreatedAt: now, UpdatedAt: now,
	}
}

// storeMessage inserts a sealed message with the next seq of its conversation, its audit event and
// its escalation, inside tx.
func storeMessage(ctx context.Context, tx wardline.Tx, m *wardline.Message, ev *wardline.AuditEvent, esc *wardline.Escalation, now time.Time) error {
	var err error
	if m.Seq, err = tx.NextSeq(ctx, m.ConversationID, now); err != nil {
		return err
	}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	return recordMessage(ctx, tx, m, ev, esc)
}

// appendMessage stores a member's message as storeMessage does, checking in the same statement
// that the sender is still a member (wardline.Tx's AppendMessage), and answers the members.
func appendMessage(ctx context.Context, tx wardline.Tx, m *wardline.Message, ev *wardline.AuditEvent, esc *wardline.Escalation, now time.Time) ([]string, error) {
	members, err := tx.AppendMessage(ctx, m, now)
	if err != nil {
		return nil, err
	}
	return members, recordMessage(ctx, tx, m, ev, esc)
}

// recordMessage adds a stored message's audit event (with its seq) and escalation.
func recordMessage(ctx context.Context, tx wardline.Tx, m *wardline.Message, ev *wardline.AuditEvent, esc *wardline.Escalation) error {
	if ev.Detail == nil {
		ev.Detail = map[string]any{}
	}
	ev.Detail["seq"], ev.Detail["priority"] = m.Seq, m.Priority
	if err := tx.AppendAudit(ctx, ev); err != nil {
		return err
	}
	if esc != nil {
		return tx.InsertEscalation(ctx, esc)
	}
	return nil
}

// dutyPlan is what off-duty protection does to one message: whose copy is silent, who is told of
// it as an alert, what the sender is warned of, and the copies that go to covering roles.
type dutyPlan struct {
	silent   []string
	alerted  []string
	warnings []*wardline.Warning
	forwards []*forward
}

// forward is an urgent message's copy for the role covering off-duty recipients.
type forward struct {
	rd    *roleDelivery
	msg   *wardline.Message
	ev    *wardline.AuditEvent
	esc   *wardline.Escalation
	users []string // the off-duty recipients it covers
}

// planDuty applies off-duty protection to m, sent by sender into c. The members' duty settings
// came with the conversation and the policy from the cache, so in the usual case (everyone on
// duty) it costs no query at all; only an urgent message to someone off duty reads roles.
func (d *deps) planDuty(ctx context.Context, sender *wardline.User, c *wardline.Conversation, m *wardline.Message, p *wardline.ClinicalPolicy, now time.Time) (*dutyPlan, error) {
	plan := &dutyPlan{}
	covered := map[string][]string{} // covering role → off-duty recipients of an urgent message
	var roleOrder []string
	for _, mb := range c.Members {
		if mb.UserID == sender.ID {
			continue
		}
		if dutyOf(mb.Duty, p, now) == wardline.DutyOn {
			plan.alerted = append(plan.alerted, mb.UserID)
			continue
		}
		uid, cover := mb.UserID, coveringRole(mb.Duty, p)
		if m.Priority == wardline.PriorityRoutine || cover == nil {
			if m.Priority == wardline.PriorityRoutine {
				plan.silent = append(plan.silent, uid)
			} else {
				plan.alerted = append(plan.alerted, uid) // nobody covers: an urgent message must reach them
			}
			plan.warnings = append(plan.warnings, &wardline.Warning{Code: wardline.WarnRecipientOffDuty, UserID: &uid, CoveringRoleID: cover})
			continue
		}
		if _, ok := covered[*cover]; !ok {
			roleOrder = append(roleOrder, *cover)
		}
		covered[*cover] = append(covered[*cover], uid)
	}
	for _, roleID := range roleOrder {
		users := covered[roleID]
		var rd *roleDelivery
		role, err := d.orgRole(ctx, d.store, c.OrgID, roleID)
		if err == nil {
			if rd, err = d.planRoleDelivery(ctx, sender, role, now); err != nil {
				return nil, err
			}
		} else if !isNotFound(err) {
			return nil, err
		}
		if rd == nil || len(rd.reached) == 0 {
			// The covering role reaches nobody: the urgent message alerts the person after all.
			if rd != nil && rd.isNew {
				d.keys.Forget(rd.conv.ID)
			}
			for _, uid := range users {
				plan.alerted = append(plan.alerted, uid)
				plan.warnings = append(plan.warnings, &wardline.Warning{Code: wardline.WarnRecipientOffDuty, UserID: &uid, CoveringRoleID: &roleID})
			}
			continue
		}
		f, err := d.prepareForward(ctx, m, rd, p, now)
		if err != nil {
			return nil, err
		}
		f.users = users
		plan.forwards = append(plan.forwards, f)
		for _, uid := range users {
			if !p.AlertOffDuty {
				plan.silent = append(plan.silent, uid)
			} else {
				plan.alerted = append(plan.alerted, uid)
			}
			plan.warnings = append(plan.warnings, &wardline.Warning{Code: wardline.WarnRecipientOffDuty, UserID: &uid, CoveringRoleID: &rd.target.ID, ConversationID: &rd.conv.ID})
		}
		for _, w := range rd.warnings {
			if w.Code == wardline.WarnRoleNotHeld {
				plan.warnings = append(plan.warnings, w)
			}
		}
	}
	sort.Strings(plan.silent)
	return plan, nil
}

// prepareForward makes and seals the copy of m for a covering role's conversation. Its client id
// is derived from m's, and its escalation belongs to m's group: acknowledging either stops both.
func (d *deps) prepareForward(ctx context.Context, m *wardline.Message, rd *roleDelivery, p *wardline.ClinicalPolicy, now time.Time) (*forward, error) {
	cid := uuid.NewSHA1(uuid.MustParse(m.ClientID), []byte("cover:"+rd.target.ID)).String()
	cp := &wardline.Message{
		ID: wardline.NewID(), ConversationID: rd.conv.ID, OrgID: m.OrgID, SenderID: m.SenderID, ClientID: cid,
		Body: m.Body, Priority: m.Priority, RequiresAck: m.RequiresAck, CreatedAt: now, Version: 1,
	}
	var err error
	if cp.BodySealed, err = d.keys.Seal(ctx, cp.ConversationID, bodyAAD(cp.ID, cp.Version), []byte(cp.Body)); err != nil {
		return nil, err
	}
	ev := d.auditEvent(ctx, wardline.ActionMessageForwarded, "message", cp.ID)
	ev.ConversationID = cp.ConversationID
	ev.Detail = map[string]any{"original_message_id": m.ID, "original_conversation_id": m.ConversationID, "role_id": rd.target.ID, "reached": rd.reached}
	f := &forward{rd: rd, msg: cp, ev: ev, esc: newEscalation(cp, p, m.ID, rd.reached, now)}
	cp.Escalation = f.esc
	return f, nil
}

// write stores the forwarded copies inside tx and queues their events.
func (plan *dutyPlan) write(ctx context.Context, d *deps, tx wardline.Tx, now time.Time) error {
	for _, f := range plan.forwards {
		changed, removed, err := d.writeRoleConversation(ctx, tx, f.rd, now)
		if err != nil {
			return err
		}
		if err := storeMessage(ctx, tx, f.msg, f.ev, f.esc, now); err != nil {
			return err
		}
		conv, msg := f.rd.conv, f.msg
		tx.AfterCommit(func() {
			if changed {
				d.publishConversation(ctx, conv, removed...)
			}
			d.publish(ctx, &wardline.Event{Type: wardline.EventMessageCreated, Recipients: conv.MemberIDs(), Message: msg})
		})
	}
	return nil
}

// forget drops the keys of role conversations that were prepared but not created.
func (plan *dutyPlan) forget(d *deps) {
	for _, f := range plan.forwards {
		if f.rd.isNew {
			d.keys.Forget(f.rd.conv.ID)
		}
	}
}

// without returns ids minus those in drop.
func without(ids, drop []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}
