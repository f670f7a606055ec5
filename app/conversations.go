package app

import (
	"context"
	"errors"
	"sort"

	"wardline"
)

// ConversationService starts conversations and manages who is in them.
type ConversationService struct{ *deps }

var _ wardline.ConversationService = (*ConversationService)(nil)

// titleAAD binds a sealed title to its conversation.
func titleAAD(convID string) []byte { return wardline.AAD("conversations", convID, "title") }

// openTitle fills c.Title from its sealed form. A shredded conversation has no title.
func (d *deps) openTitle(ctx context.Context, c *wardline.Conversation) error {
	if len(c.TitleSealed) == 0 {
		c.Title = ""
		return nil
	}
	b, err := d.keys.Open(ctx, c.ID, titleAAD(c.ID), c.TitleSealed)
	if errors.Is(err, wardline.ErrContentDestroyed) {
		c.Title, c.Shredded = "", true
		return nil
	} else if err != nil {
		return err
	}
	c.Title = string(b)
	return nil
}

// visible loads a conversation the caller may see: its members, and org admins for channels.
// Everyone else gets ENOTFOUND, so that its existence does not leak. member reports whether the
// caller is a member (admins may see a channel's metadata without being one).
func (d *deps) visible(ctx context.Context, r wardline.Reader, a *wardline.Actor, convID string) (c *wardline.Conversation, member bool, err error) {
	notFound := wardline.Errorf(wardline.ENOTFOUND, "conversation not found")
	if !wardline.ValidID(convID) {
		return nil, false, notFound
	}
	c, err = r.Conversation(ctx, convID)
	if isNotFound(err) {
		return nil, false, notFound
	} else if err != nil {
		return nil, false, err
	}
	if c.OrgID != a.User.OrgID {
		return nil, false, notFound
	}
	if c.MemberRole(a.User.ID) != "" {
		return c, true, nil
	}
	if c.Kind == wardline.KindChannel && a.User.OrgRole == wardline.OrgRoleAdmin {
		return c, false, nil
	}
	return nil, false, notFound
}

// mayManage reports whether the caller may change a conversation's members.
func mayManage(c *wardline.Conversation, a *wardline.Actor) bool {
	return c.MemberRole(a.User.ID) == wardline.MemberOwner ||
		(c.Kind == wardline.KindChannel && a.User.OrgRole == wardline.OrgRoleAdmin)
}

func directKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + ":" + b
}

// CreateConversation starts a conversation with people from the caller's directory. For a direct
// conversation that exists already it answers that one, with created false.
func (s *ConversationService) CreateConversation(ctx context.Context, n wardline.NewConversation) (*wardline.Conversation, bool, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := n.Validate(); err != nil {
		return nil, false, err
	}
	// Every member must be an active colleague: nobody can add a stranger.
	seen := map[string]bool{a.User.ID: true}
	var others []string
	names := map[string]*wardline.User{a.User.ID: a.User}
	for _, id := range n.MemberIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		u, err := s.store.User(ctx, id)
		if isNotFound(err) || (err == nil && (u.OrgID != a.User.OrgID || !u.Active())) {
			return nil, false, errInvalid("every member must be an active colleague from the directory")
		} else if err != nil {
			return nil, false, err
		}
		others = append(others, id)
		names[id] = u
	}
	if n.Kind == wardline.KindDirect {
		if len(others) != 1 {
			return nil, false, errInvalid("a direct conversation is with one other person")
		}
		if c, err := s.existingDirect(ctx, a, others[0]); err != nil || c != nil {
			return c, false, err
		}
	}
	if err := s.checkClinicalFields(ctx, a, n.PatientID, n.Category, n.EscalationRoleID); err != nil {
		return nil, false, err
	}

	now := s.now()
	c := &wardline.Conversation{
		ID:               wardline.NewID(),
		OrgID:            a.User.OrgID,
		Kind:             n.Kind,
		Title:            n.Title,
		CreatedAt:        now,
		CreatedBy:        a.User.ID,
		LastActivityAt:   now,
		Members:          []*wardline.Member{{UserID: a.User.ID, Role: wardline.MemberOwner, JoinedAt: now, DisplayName: a.User.DisplayName, JobTitle: a.User.JobTitle}},
		PatientID:        n.PatientID,
		Category:         n.Category,
		Status:           n.Status,
		EscalationRoleID: n.EscalationRoleID,
	}
	for _, id := range others {
		role := wardline.MemberMember
		if n.Kind == wardline.KindDirect {
			role = wardline.MemberOwner // neither side of a direct conversation outranks the other
		}
		c.Members = append(c.Members, &wardline.Member{UserID: id, Role: role, JoinedAt: now, DisplayName: names[id].DisplayName, JobTitle: names[id].JobTitle})
	}
	if n.Kind == wardline.KindDirect {
		c.DirectKey = directKey(a.User.ID, others[0])
	}
	key, err := s.keys.NewDataKey(ctx, c.OrgID, c.ID)
	if err != nil {
		return nil, false, err
	}
	if c.Title != "" {
		if c.TitleSealed, err = s.keys.Seal(ctx, c.ID, titleAAD(c.ID), []byte(c.Title)); err != nil {
			return nil, false, err
		}
	}
	ev := s.auditEvent(ctx, wardline.ActionConvCreated, "conversation", c.ID)
	ev.ConversationID = c.ID
	ev.Detail = map[string]any{"kind": c.Kind, "members": c.MemberIDs()}
	if c.PatientID != nil {
		ev.Detail["patient_id"] = *c.PatientID
	}
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.InsertKey(ctx, key); err != nil {
			return err
		}
		if err := tx.CreateConversation(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if wardline.ErrorCode(err) == wardline.ECONFLICT && n.Kind == wardline.KindDirect {
		// Both people started it at once: answer the one that won.
		s.keys.Forget(c.ID)
		ex, err := s.existingDirect(ctx, a, others[0])
		return ex, false, err
	} else if err != nil {
		return nil, false, err
	}
	s.publishConversation(ctx, c)
	return c, true, nil
}

func (s *ConversationService) existingDirect(ctx context.Context, a *wardline.Actor, other string) (*wardline.Conversation, error) {
	c, err := s.store.DirectConversation(ctx, a.User.OrgID, directKey(a.User.ID, other))
	if isNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if c.MemberRole(a.User.ID) == "" {
		// The caller left it; a new direct conversation cannot be made while the old one stands,
		// so they rejoin it and see its history, as any member does.
		now := s.now()
		m := &wardline.Member{UserID: a.User.ID, Role: wardline.MemberOwner, JoinedAt: now, DisplayName: a.User.DisplayName, JobTitle: a.User.JobTitle}
		ev := s.auditEvent(ctx, wardline.ActionMemberAdded, "user", a.User.ID)
		ev.ConversationID = c.ID
		if err := s.store.Update(ctx, func(tx wardline.Tx) error {
			if err := tx.AddMember(ctx, c.ID, m); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, ev)
		}); err != nil {
			return nil, err
		}
		c.Members = append(c.Members, m)
		s.publishConversation(ctx, c)
	}
	if err := s.openTitle(ctx, c); err != nil {
		return nil, err
	}
	c.UnreadCount, err = s.store.UnreadCount(ctx, c.ID, a.User.ID)
	return c, err
}

// Conversation returns one conversation the caller may see.
func (s *ConversationService) Conversation(ctx context.Context, id string) (*wardline.Conversation, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	c, member, err := s.visible(ctx, s.store, a, id)
	if err != nil {
		return nil, err
	}
	if member {
		if c.UnreadCount, err = s.store.UnreadCount(ctx, c.ID, a.User.ID); err != nil {
			return nil, err
		}
	}
	if err := s.openTitle(ctx, c); err != nil {
		return nil, err
	}
	// The title is content: its read is audited before it is returned (DESIGN.md rule 3).
	ev := s.auditEvent(ctx, wardline.ActionConvRead, "conversation", c.ID)
	ev.ConversationID = c.ID
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	return c, nil
}

// Conversations lists the caller's conversations, most recently active first.
func (s *ConversationService) Conversations(ctx context.Context, cursor string, limit int) ([]*wardline.Conversation, string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	convs, next, err := s.store.ConversationsOf(ctx, a.User.ID, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	for _, c := range convs {
		if err := s.openTitle(ctx, c); err != nil {
			return nil, "", err
		}
	}
	ev := s.auditEvent(ctx, wardline.ActionConvListed, "user", a.User.ID)
	ev.Detail = map[string]any{"count": len(convs)}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, "", err
	}
	return convs, next, nil
}

// AddMember adds a colleague. Owners may, and org admins for channels. A person already in
// the conversation is left as they are.
func (s *ConversationService) AddMember(ctx context.Context, convID, userID string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	var c *wardline.Conversation
	var added bool
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		added = false
		if c, _, err = s.visible(ctx, tx, a, convID); err != nil {
			return err
		}
		if !mayManage(c, a) {
			return wardline.Errorf(wardline.EFORBIDDEN, "only an owner may add members")
		}
		if c.Kind == wardline.KindDirect {
			return errInvalid("a direct conversation is between two people; start a group instead")
		}
		if c.Kind == wardline.KindRole {
			return errInvalid("a role conversation's members are whoever holds the role")
		}
		if !wardline.ValidID(userID) {
			return errInvalid("user_id must be a colleague's id")
		}
		u, err := tx.User(ctx, userID)
		if isNotFound(err) || (err == nil && (u.OrgID != a.User.OrgID || !u.Active())) {
			return errInvalid("only an active colleague from the directory can be added")
		} else if err != nil {
			return err
		}
		if c.MemberRole(userID) != "" {
			return nil
		}
		m := &wardline.Member{UserID: userID, Role: wardline.MemberMember, JoinedAt: s.now(), DisplayName: u.DisplayName, JobTitle: u.JobTitle}
		if err := tx.AddMember(ctx, c.ID, m); err != nil {
			return err
		}
		c.Members = append(c.Members, m)
		added = true
		ev := s.auditEvent(ctx, wardline.ActionMemberAdded, "user", userID)
		ev.ConversationID = c.ID
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	if added {
		s.publishConversation(ctx, c)
	}
	return nil
}

// RemoveMember removes someone. Members may remove themselves; owners (and org admins, for
// channels) anyone.
func (s *ConversationService) RemoveMember(ctx context.Context, convID, userID string) error {
	a, err := requireUser(ctx)
	if err != nil {
		return err
	}
	var c *wardline.Conversation
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		conv, _, err := s.visible(ctx, tx, a, convID)
		if err != nil {
			return err
		}
		if userID != a.User.ID && !mayManage(conv, a) {
			return wardline.Errorf(wardline.EFORBIDDEN, "only an owner may remove other members")
		}
		if conv.MemberRole(userID) == "" {
			return wardline.Errorf(wardline.ENOTFOUND, "that person is not a member")
		}
		c, err = removeMember(ctx, s.deps, tx, conv.ID, userID)
		return err
	})
	if err != nil {
		return err
	}
	s.publishConversation(ctx, c, userID)
	return nil
}

// removeMember takes userID out of a conversation inside tx, audited, and when that leaves a
// group or channel with members but no owner, makes its longest-standing member owner.
func removeMember(ctx context.Context, d *deps, tx wardline.Tx, convID, userID string) (*wardline.Conversation, error) {
	return removeMemberOf(ctx, d, tx, "", convID, userID, "")
}

// removeMemberOf is removeMember for a conversation of orgID ("": the actor's), with a reason for
// the audit log ("": none).
func removeMemberOf(ctx context.Context, d *deps, tx wardline.Tx, orgID, convID, userID, reason string) (*wardline.Conversation, error) {
	if err := tx.RemoveMember(ctx, convID, userID); err != nil {
		return nil, err
	}
	ev := d.auditEvent(ctx, wardline.ActionMemberRemoved, "user", userID)
	ev.ConversationID = convID
	if orgID != "" {
		ev.OrgID = orgID
	}
	if reason != "" {
		ev.Detail = map[string]any{"reason": reason}
	}
	if err := tx.AppendAudit(ctx, ev); err != nil {
		return nil, err
	}
	c, err := tx.Conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	if c.Kind == wardline.KindDirect || len(c.Members) == 0 {
		return c, nil
	}
	for _, m := range c.Members {
		if m.Role == wardline.MemberOwner {
			return c, nil
		}
	}
	heir := c.Members[0] // members come longest-standing first
	if err := tx.SetMemberRole(ctx, convID, heir.UserID, wardline.MemberOwner); err != nil {
		return nil, err
	}
	heir.Role = wardline.MemberOwner
	ev = d.auditEvent(ctx, wardline.ActionOwnerChanged, "user", heir.UserID)
	ev.ConversationID = convID
	if orgID != "" {
		ev.OrgID = orgID
	}
	ev.Detail = map[string]any{"reason": "last owner left"}
	return c, tx.AppendAudit(ctx, ev)
}

// publishConversation tells the members (and anyone just removed) that a conversation changed.
func (d *deps) publishConversation(ctx context.Context, c *wardline.Conversation, alsoTo ...string) {
	if err := d.openTitle(ctx, c); err != nil {
		d.log.Warn("open title for event", "conversation_id", c.ID, "err", err)
	}
	recipients := append(c.MemberIDs(), alsoTo...)
	sort.Strings(recipients)
	ev := *c
	ev.UnreadCount = 0 // per reader; clients refresh it with GET
	d.publish(ctx, &wardline.Event{Type: wardline.EventConversationUpdated, Recipients: recipients, Conversation: &ev})
}
