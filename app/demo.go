package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"wardline"
)

// DemoUser is one person of the demo organisation, with the password to sign in as them.
type DemoUser struct {
	Email    string
	Name     string
	JobTitle string
	Role     string
	Password string
	// TOTPSecret is the base32 secret of the user's authenticator app: the demo organisation
	// requires a second factor, as a real one does by default, so a person trying the demo adds
	// it to any authenticator app (or computes codes with oathtool --totp -b SECRET).
	TOTPSecret string
}

// demoStaff is a medical ward's team: enough professions and org roles to try every screen.
var demoStaff = []wardline.NewUser{
	{Email: "sam.okafor@demo.wardline.nhs.uk", DisplayName: "Sam Okafor", JobTitle: "Ward Manager", Profession: "Nursing", Registration: "NMC 09A1234E", OrgRole: wardline.OrgRoleAdmin},
	{Email: "priya.shah@demo.wardline.nhs.uk", DisplayName: "Dr Priya Shah", JobTitle: "Foundation Year 1 Doctor", Profession: "Medicine", Registration: "GMC 7654321", OrgRole: wardline.OrgRoleMember},
	{Email: "tom.hughes@demo.wardline.nhs.uk", DisplayName: "Dr Tom Hughes", JobTitle: "Medical Registrar", Profession: "Medicine", Registration: "GMC 7123456", OrgRole: wardline.OrgRoleMember},
	{Email: "grace.mensah@demo.wardline.nhs.uk", DisplayName: "Grace Mensah", JobTitle: "Senior Staff Nurse", Profession: "Nursing", Registration: "NMC 12B3456C", OrgRole: wardline.OrgRoleMember},
	{Email: "owen.jones@demo.wardline.nhs.uk", DisplayName: "Owen Jones", JobTitle: "Physiotherapist", Profession: "Physiotherapy", Registration: "HCPC PH123456", OrgRole: wardline.OrgRoleMember},
	{Email: "helen.clarke@demo.wardline.nhs.uk", DisplayName: "Helen Clarke", JobTitle: "Information Governance Officer", Profession: "Information Governance", OrgRole: wardline.OrgRoleAuditor},
}

// SeedDemo creates the demo organisation (a ward of a fictional trust), signs everyone up with one
// shared password that needs no change and an authenticator app already enrolled (the secrets
// are returned for printing), and starts a few conversations. The organisation keeps the default
// policy (second factor required) and also allows passwordless passkeys. It refuses when any
// organisation exists.
func (a *App) SeedDemo(ctx context.Context, password string) ([]DemoUser, error) {
	if err := validateNewPassword(password); err != nil {
		return nil, err
	}
	d := a.deps
	org, admin, _, err := a.Users.CreateOrg(ctx, "Demo NHS Trust", demoStaff[0], true)
	if err != nil {
		return nil, err
	}
	hash, err := hashPassword(password, d.config.PasswordParams)
	if err != nil {
		return nil, err
	}
	users := []*wardline.User{admin}
	for _, n := range demoStaff[1:] {
		n.Normalize()
		u, _, err := a.Users.newUser(org.ID, n)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	secrets := make([][]byte, len(users))
	factors := make([]*wardline.UserMFA, len(users))
	var keys []*wardline.KeyRecord
	now := d.now()
	for i, u := range users {
		key, err := d.mfaKey(ctx, org.ID, u.ID)
		if err != nil {
			return nil, err
		}
		if key != nil {
			keys = append(keys, key)
		}
		secrets[i] = newTOTPSecret()
		sealed, err := d.sealMFA(ctx, u.ID, "totp_secret", secrets[i])
		if err != nil {
			return nil, err
		}
		factors[i] = &wardline.UserMFA{UserID: u.ID, OrgID: org.ID, TOTPSealed: sealed, TOTPEnrolledAt: &now, UpdatedAt: now}
	}
	policy := org.Policy
	policy.PasswordlessAllowed = true
	err = d.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.UpdateOrgPolicy(ctx, org.ID, policy); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.InsertKey(ctx, k); err != nil {
				return err
			}
		}
		for i, u := range users {
			u.PasswordHash, u.PasswordChangeRequired = hash, false
			var err error
			if i == 0 {
				err = tx.UpdateUser(ctx, u)
			} else {
				err = tx.CreateUser(ctx, u)
			}
			if err != nil {
				return err
			}
			if err := tx.PutUserMFA(ctx, factors[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, k := range keys {
			d.keys.Forget(k.Scope)
		}
		return nil, err
	}

	as := func(u *wardline.User) context.Context {
		return wardline.NewContextWithActor(ctx, &wardline.Actor{User: u, Session: &wardline.Session{ID: "demo-seed"}, Addr: "seed"})
	}
	ids := func(us ...*wardline.User) []string {
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = u.ID
		}
		return out
	}
	sam, priya, tom, grace, owen := users[0], users[1], users[2], users[3], users[4]
	team, _, err := a.Conversations.CreateConversation(as(sam), wardline.NewConversation{Kind: wardline.KindChannel, Title: "Ward 7 team", MemberIDs: ids(priya, tom, grace, owen)})
	if err != nil {
		return nil, err
	}
	direct, _, err := a.Conversations.CreateConversation(as(grace), wardline.NewConversation{Kind: wardline.KindDirect, MemberIDs: ids(priya)})
	if err != nil {
		return nil, err
	}
	script := []struct {
		who  *wardline.User
		conv *wardline.Conversation
		body string
		prio string
	}{
		{sam, team, "Morning all. Two admissions expected from ED before 10:00; bays 3 and 4 are ready.", ""},
		{tom, team, "Thanks Sam. I'm the medical registrar on call today, message me here or through the on-call role.", ""},
		{owen, team, "Physio will see the post-op patients in bay 2 after the ward round.", ""},
		{grace, direct, "Bed 12's NEWS2 has gone up to 6. Could you review before the ward round?", wardline.PriorityUrgent},
		{priya, direct, "On my way, 5 minutes.", ""},
	}
	for _, s := range script {
		if _, err := a.Messages.Send(as(s.who), s.conv.ID, wardline.NewMessage{ClientID: uuid.NewString(), Body: s.body, Priority: s.prio}); err != nil {
			return nil, fmt.Errorf("demo message: %w", err)
		}
	}
	out := make([]DemoUser, len(users))
	for i, u := range users {
		out[i] = DemoUser{Email: u.Email, Name: u.DisplayName, JobTitle: u.JobTitle, Role: u.OrgRole, Password: password, TOTPSecret: EncodeTOTPSecret(secrets[i])}
	}
	return out, nil
}
