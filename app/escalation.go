package app

import (
	"context"
	"slices"
	"sync"
	"time"

	"wardline"
)

// Scheduler takes the escalation steps and rota changes that fall due. Its time is the services'
// clock; what is due is stored (escalations.next_at, rota periods), so a restart resumes where it
// stopped, and each step is claimed in the store, so that when several nodes share a database
// exactly one takes it. Tick runs one round; the server runs it every Config.SchedulerInterval and
// tests call it after moving their clock.
type Scheduler struct {
	d    *deps
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

var _ wardline.EscalationScheduler = (*Scheduler)(nil)

// dueBatch bounds the steps taken in one round; the next round takes the rest.
const dueBatch = 100

func newScheduler(d *deps) *Scheduler {
	x := &Scheduler{d: d, stop: make(chan struct{}), done: make(chan struct{})}
	if d.config.SchedulerInterval > 0 {
		go x.loop()
	} else {
		close(x.done)
	}
	return x
}

func (x *Scheduler) loop() {
	defer close(x.done)
	t := time.NewTicker(x.d.config.SchedulerInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := x.Tick(context.Background()); err != nil {
				x.d.log.Warn("scheduler round", "err", err)
			}
		case <-x.stop:
			return
		}
	}
}

// Close stops the background rounds.
func (x *Scheduler) Close() {
	x.once.Do(func() { close(x.stop) })
	<-x.done
}

// Tick applies the rota changes and takes the escalation steps due now, and returns how many it
// did. Running it on several nodes at once does each thing once.
func (x *Scheduler) Tick(ctx context.Context) (int, error) {
	now := x.d.now()
	// One change that fails (the store hiccups) must not hold up the others: it stays due and is
	// tried again next round.
	n, first := x.d.applyRotaChanges(ctx, now)
	due, err := x.d.store.DueEscalations(ctx, now, dueBatch)
	if err != nil {
		return n, err
	}
	for _, e := range due {
		fired, err := x.d.escalate(ctx, e, now)
		if err != nil {
			x.d.log.Warn("escalation step", "message_id", e.MessageID, "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		if fired {
			n++
		}
	}
	return n, first
}

// escalationChain is the roles an unacknowledged message in c is escalated to, step by step: a
// role conversation's role's chain, or the conversation's escalation contact followed by its chain.
func (d *deps) escalationChain(ctx context.Context, c *wardline.Conversation) ([]string, error) {
	var chain []string
	start := c.EscalationRoleID
	if c.Kind == wardline.KindRole && c.RoleID != nil {
		start = c.RoleID
	} else if start != nil {
		chain = append(chain, *start)
	}
	if start == nil {
		return nil, nil
	}
	r, err := d.orgRole(ctx, d.store, c.OrgID, *start)
	if isNotFound(err) {
		return chain, nil
	} else if err != nil {
		return nil, err
	}
	for _, id := range r.EscalationRoleIDs {
		if !slices.Contains(chain, id) {
			chain = append(chain, id)
		}
	}
	return chain, nil
}

// escalate takes the next step of e, unless another node (or an acknowledgement) got there first:
// the recipients are alerted again, the holders of the next role of the chain (or of its
// fallback) join the conversation and are alerted, and the step is recorded and audited.
func (d *deps) escalate(ctx context.Context, e *wardline.Escalation, now time.Time) (bool, error) {
	c, err := d.store.Conversation(ctx, e.ConversationID)
	if err != nil {
		return false, err
	}
	m, err := d.store.Message(ctx, e.ConversationID, e.MessageID)
	if err != nil {
		return false, err
	}
	p, err := d.policy(ctx, e.OrgID)
	if err != nil {
		return false, err
	}
	step := &wardline.EscalationStep{MessageID: e.MessageID, Step: e.Step + 1, At: now, Notified: []string{}, Added: []string{}}
	next := *e
	next.Step, next.UpdatedAt = step.Step, now
	var silent []string
	if m.Deleted {
		// The sender withdrew it: nobody is alerted any more.
		next.State, next.NextAt = wardline.EscalationExhausted, nil
	} else {
		chain, err := d.escalationChain(ctx, c)
		if err != nil {
			return false, err
		}
		if i := e.Step; i < len(chain) {
			if role, err := d.orgRole(ctx, d.store, c.OrgID, chain[i]); err == nil {
				rd, err := d.reachRole(ctx, e.SenderID, role, now)
				if err != nil {
					return false, err
				}
				if len(rd.reached) > 0 {
					step.RoleID = &rd.target.ID
				}
				for _, uid := range rd.reached {
					if c.MemberRole(uid) == "" {
						step.Added = append(step.Added, uid)
					}
				}
			} else if !isNotFound(err) {
				return false, err
			}
		}
		for _, mb := range c.Members {
			if mb.UserID == e.SenderID {
				continue
			}
			if dutyOf(mb.Duty, p, now) != wardline.DutyOn && !p.AlertOffDuty {
				silent = append(silent, mb.UserID)
				continue
			}
			step.Notified = append(step.Notified, mb.UserID)
		}
		step.Notified = append(step.Notified, step.Added...)
		next.Notified = slices.Clone(e.Notified)
		for _, id := range step.Notified {
			if !slices.Contains(next.Notified, id) {
				next.Notified = append(next.Notified, id)
			}
		}
		if step.Step >= e.LastStep {
			next.State, next.NextAt = wardline.EscalationExhausted, nil
		} else {
			at := e.NextAt.Add(e.Interval)
			if !at.After(now) {
				at = now.Add(e.Interval) // the server was down: carry on from now, not in a burst
			}
			next.NextAt = &at
		}
	}

	claimed := false
	err = d.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		if claimed, err = tx.ClaimEscalationStep(ctx, &next, e.Step, step); err != nil || !claimed {
			return err
		}
		for _, uid := range step.Added {
			if ok, err := tx.IsMember(ctx, c.ID, uid); err != nil {
				return err
			} else if ok {
				continue // joined meanwhile
			}
			if err := tx.AddMember(ctx, c.ID, &wardline.Member{UserID: uid, Role: wardline.MemberMember, JoinedAt: now}); err != nil {
				return err
			}
			ev := d.auditEvent(ctx, wardline.ActionMemberAdded, "user", uid)
			ev.OrgID, ev.ConversationID, ev.Addr = c.OrgID, c.ID, "scheduler"
			ev.Detail = map[string]any{"reason": "escalation", "message_id": e.MessageID}
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		ev := d.auditEvent(ctx, wardline.ActionEscalationStep, "message", e.MessageID)
		ev.OrgID, ev.ConversationID, ev.Addr = c.OrgID, c.ID, "scheduler"
		ev.Detail = map[string]any{"step": step.Step, "state": next.State, "notified": step.Notified, "added": step.Added, "role_id": step.RoleID}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if len(step.Added) > 0 {
			if c, err = tx.Conversation(ctx, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !claimed {
		return false, err
	}
	if len(step.Added) > 0 {
		d.publishConversation(ctx, c)
	}
	if !m.Deleted {
		d.publishEscalation(ctx, c.MemberIDs(), silent, &next, step.Notified)
	}
	return true, nil
}

// publishEscalation tells the members of a conversation (the newly notified among them) that a
// message's escalation moved on.
func (d *deps) publishEscalation(ctx context.Context, recipients, silent []string, e *wardline.Escalation, notified []string) {
	if notified == nil {
		notified = []string{}
	}
	d.publish(ctx, &wardline.Event{Type: wardline.EventEscalation, Recipients: recipients, Silent: silent, Escalation: &wardline.EscalationEvent{
		ConversationID: e.ConversationID, MessageID: e.MessageID, Step: e.Step, State: e.State, NextAt: e.NextAt, Notified: notified,
	}})
}

// needsEscalation reports whether m may have an escalation (so that pages without any such
// message cost no query).
func needsEscalation(m *wardline.Message) bool {
	return m.RequiresAck && m.Priority != wardline.PriorityRoutine
}

// attachEscalations fills Message.Escalation for the messages that have one, in one query.
func (d *deps) attachEscalations(ctx context.Context, r wardline.Reader, msgs []*wardline.Message) error {
	var ids []string
	for _, m := range msgs {
		if needsEscalation(m) {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	escs, err := r.Escalations(ctx, ids)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if e := escs[m.ID]; e != nil {
			m.Escalation = e
		}
	}
	return nil
}

// acknowledged stops the escalations of msgID's group inside tx (an acknowledgement by someone
// other than the sender) and queues their events.
func (d *deps) acknowledged(ctx context.Context, tx wardline.Tx, c *wardline.Conversation, msgID string, now time.Time) error {
	stopped, err := tx.AcknowledgeEscalations(ctx, msgID, now)
	if err != nil || len(stopped) == 0 {
		return err
	}
	recipients := map[string][]string{c.ID: c.MemberIDs()}
	for _, e := range stopped {
		if recipients[e.ConversationID] != nil {
			continue
		}
		other, err := tx.Conversation(ctx, e.ConversationID)
		if err != nil {
			return err
		}
		recipients[e.ConversationID] = other.MemberIDs()
	}
	tx.AfterCommit(func() {
		for _, e := range stopped {
			d.publishEscalation(ctx, recipients[e.ConversationID], nil, e, nil)
		}
	})
	return nil
}
