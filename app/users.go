package app

import (
	"context"
	"sort"
	"strings"

	"wardline"
)

// UserService is the organisation's directory and its administration.
type UserService struct{ *deps }

var _ wardline.UserService = (*UserService)(nil)

// Me returns the caller, restricted sessions included.
func (s *UserService) Me(ctx context.Context) (*wardline.User, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return nil, err
	}
	u := *a.User
	if err := s.fillOrgName(ctx, &u); err != nil {
		return nil, err
	}
	return &u, s.fillDuty(ctx, &u)
}

// fillOrgName names u's organisation, for the caller's own account.
func (d *deps) fillOrgName(ctx context.Context, u *wardline.User) error {
	org, err := d.store.Org(ctx, u.OrgID)
	if err != nil {
		return err
	}
	u.OrgName = org.Name
	return nil
}

// CreateOrg creates an organisation and its first admin, as the command line's bootstrap and
// create-org do. With onlyFirst it refuses when any organisation exists.
func (s *UserService) CreateOrg(ctx context.Context, name string, admin wardline.NewUser, onlyFirst bool) (*wardline.Org, *wardline.User, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 200 {
		return nil, nil, "", errInvalid("the organisation needs a name of at most 200 characters")
	}
	admin.OrgRole = wardline.OrgRoleAdmin
	admin.Normalize()
	if err := admin.Validate(); err != nil {
		return nil, nil, "", err
	}
	now := s.now()
	org := &wardline.Org{ID: wardline.NewID(), Name: name, Policy: wardline.DefaultPolicy, CreatedAt: now}
	orgKey, err := s.keys.NewOrgKey(ctx, org.ID)
	if err != nil {
		return nil, nil, "", err
	}
	user, password, err := s.newUser(org.ID, admin)
	if err != nil {
		return nil, nil, "", err
	}
	ev := s.auditEvent(ctx, wardline.ActionOrgCreated, "org", org.ID)
	ev.OrgID = org.ID
	ev2 := s.auditEvent(ctx, wardline.ActionUserCreated, "user", user.ID)
	ev2.OrgID = org.ID
	ev2.Detail = map[string]any{"org_role": user.OrgRole}
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		if onlyFirst {
			if n, err := tx.CountOrgs(ctx); err != nil {
				return err
			} else if n > 0 {
				return wardline.Errorf(wardline.ECONFLICT, "an organisation exists already; use create-org to add another")
			}
		}
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		if err := tx.InsertKey(ctx, orgKey); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev2)
	})
	if err != nil {
		return nil, nil, "", err
	}
	return org, user, password, nil
}

func (s *UserService) newUser(orgID string, n wardline.NewUser) (*wardline.User, string, error) {
	password := newInitialPassword()
	hash, err := hashPassword(password, s.config.PasswordParams)
	if err != nil {
		return nil, "", err
	}
	return &wardline.User{
		ID:                     wardline.NewID(),
		OrgID:                  orgID,
		Email:                  n.Email,
		DisplayName:            n.DisplayName,
		JobTitle:               n.JobTitle,
		Profession:             n.Profession,
		Registration:           n.Registration,
		OrgRole:                n.OrgRole,
		Status:                 wardline.UserActive,
		CreatedAt:              s.now(),
		PasswordHash:           hash,
		PasswordChangeRequired: true,
	}, password, nil
}

// CreateUser adds a member of staff to the admin's organisation and returns their initial
// password, which they must change at first sign-in.
func (s *UserService) CreateUser(ctx context.Context, n wardline.NewUser) (*wardline.User, string, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, "", err
	}
	n.Normalize()
	if err := n.Validate(); err != nil {
		return nil, "", err
	}
	user, password, err := s.newUser(a.User.OrgID, n)
	if err != nil {
		return nil, "", err
	}
	ev := s.auditEvent(ctx, wardline.ActionUserCreated, "user", user.ID)
	ev.Detail = map[string]any{"org_role": user.OrgRole}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return nil, "", err
	}
	return user, password, s.fillDuty(ctx, user)
}

// FindUsers lists the admin's organisation's staff.
func (s *UserService) FindUsers(ctx context.Context, f wardline.UserFilter) ([]*wardline.User, string, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, "", err
	}
	switch f.Status {
	case "", wardline.UserActive, wardline.UserSuspended, wardline.UserOffboarded:
	default:
		return nil, "", errInvalid("status must be active, suspended or offboarded")
	}
	f.OrgID, f.ByEmail = a.User.OrgID, true
	users, next, err := s.store.FindUsers(ctx, f)
	if err != nil {
		return nil, "", err
	}
	// An admin action that reads staff records: audited, naming the filter's shape, not its text.
	ev := s.auditEvent(ctx, wardline.ActionAdminUsersListed, "org", a.User.OrgID)
	ev.Detail = map[string]any{"count": len(users), "query_given": f.Query != "", "status": f.Status}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, "", err
	}
	return users, next, s.fillDuty(ctx, users...)
}

// Directory lists active colleagues of the caller's organisation matching q, and its clinical
// roles matching q with who holds them now. Roles come first, on the first page only (at most
// limit of them); people are paged by the cursor.
func (s *UserService) Directory(ctx context.Context, q, cursor string, limit int) ([]*wardline.DirectoryEntry, string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	users, next, err := s.store.FindUsers(ctx, wardline.UserFilter{OrgID: a.User.OrgID, Query: q, Status: wardline.UserActive, Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	var out []*wardline.DirectoryEntry
	if cursor == "" {
		roles, _, err := s.store.Roles(ctx, a.User.OrgID, q, "", limit)
		if err != nil {
			return nil, "", err
		}
		if err := s.withHolders(ctx, s.store, roles, s.now()); err != nil {
			return nil, "", err
		}
		for _, r := range roles {
			out = append(out, &wardline.DirectoryEntry{Kind: "role", ID: r.ID, Name: r.Name, Holders: r.Holders})
		}
	}
	for _, u := range users {
		out = append(out, &wardline.DirectoryEntry{Kind: "user", ID: u.ID, DisplayName: u.DisplayName, JobTitle: u.JobTitle, Profession: u.Profession})
	}
	return out, next, nil
}

// orgUser loads a user of the admin's own organisation; anyone else is not found.
func (s *UserService) orgUser(ctx context.Context, tx wardline.Reader, a *wardline.Actor, id string) (*wardline.User, error) {
	if !wardline.ValidID(id) {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "user not found")
	}
	u, err := tx.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.OrgID != a.User.OrgID {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "user not found")
	}
	return u, nil
}

// adminTarget returns the admin calling and the user of their organisation they act on: 403 for
// anyone else calling, 404 for a user of another organisation or none.
func (s *UserService) adminTarget(ctx context.Context, userID string) (*wardline.Actor, *wardline.User, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.orgUser(ctx, s.store, a, userID)
	if err != nil {
		return nil, nil, err
	}
	return a, u, nil
}

// Suspend stops a user signing in and ends every session at once.
func (s *UserService) Suspend(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, wardline.UserSuspended, wardline.ActionUserSuspended)
}

// Reinstate lets a suspended or offboarded user sign in again. Memberships are not restored.
func (s *UserService) Reinstate(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, wardline.UserActive, wardline.ActionUserReinstated)
}

func (s *UserService) setStatus(ctx context.Context, id, status, action string) error {
	a, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	if id == a.User.ID && status != wardline.UserActive {
		return wardline.Errorf(wardline.EFORBIDDEN, "you cannot suspend yourself")
	}
	now := s.now()
	var revoked []string
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		u, err := s.orgUser(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if u.Status == wardline.UserOffboarded && status == wardline.UserSuspended {
			return wardline.Errorf(wardline.ECONFLICT, "this user has been offboarded")
		}
		from := u.Status
		u.Status = status
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if status != wardline.UserActive {
			if revoked, err = tx.RevokeUserSessions(ctx, u.ID, now); err != nil {
				return err
			}
			if err := auditSessionsRevoked(ctx, s.deps, tx, u, revoked, status); err != nil {
				return err
			}
		}
		ev := s.auditEvent(ctx, action, "user", u.ID)
		ev.Detail = map[string]any{"from": from, "sessions_ended": len(revoked)}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	if status != wardline.UserActive {
		s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{id}})
	}
	return nil
}

// Offboard removes a leaver: suspended, every session ended, removed from every conversation, in
// one transaction with each removal audited. A group or channel left without an owner gets its
// longest-standing member as owner. The other person keeps a direct conversation.
func (s *UserService) Offboard(ctx context.Context, id string) error {
	a, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	if id == a.User.ID {
		return wardline.Errorf(wardline.EFORBIDDEN, "you cannot offboard yourself")
	}
	now := s.now()
	var changed []*wardline.Conversation
	err = s.store.Update(ctx, func(tx wardline.Tx) error {
		changed = changed[:0]
		u, err := s.orgUser(ctx, tx, a, id)
		if err != nil {
			return err
		}
		u.Status = wardline.UserOffboarded
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		revoked, err := tx.RevokeUserSessions(ctx, u.ID, now)
		if err != nil {
			return err
		}
		if err := auditSessionsRevoked(ctx, s.deps, tx, u, revoked, wardline.UserOffboarded); err != nil {
			return err
		}
		convs, err := tx.Memberships(ctx, u.ID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(convs))
		for cid := range convs {
			ids = append(ids, cid)
		}
		sort.Strings(ids)
		for _, cid := range ids {
			c, err := removeMember(ctx, s.deps, tx, cid, u.ID)
			if err != nil {
				return err
			}
			changed = append(changed, c)
		}
		roles, err := tx.EndUserRoleHoldings(ctx, u.ID, now)
		if err != nil {
			return err
		}
		for _, r := range roles {
			ev := s.auditEvent(ctx, wardline.ActionRoleReleased, "role", r)
			ev.Detail = map[string]any{"user_id": u.ID, "reason": "offboarded"}
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		// A leaver's second factors, PIN and passkeys go too: reinstated, they enrol afresh.
		passkeys, err := endFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		ev := s.auditEvent(ctx, wardline.ActionUserOffboarded, "user", u.ID)
		ev.Detail = map[string]any{"conversations_left": len(ids), "sessions_ended": len(revoked), "passkeys_removed": passkeys, "roles_left": roles}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, &wardline.Event{Type: wardline.EventSessionRevoked, Recipients: []string{id}})
	for _, c := range changed {
		s.publishConversation(ctx, c, id)
	}
	return nil
}
