// Package storetest is the contract every wardline.Store must meet. Each backend's tests call Run
// with a function that opens a fresh, empty store; every behaviour the services rely on is
// specified here once, so that SQLite and PostgreSQL behave alike (STYLE.md habit 4).
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"wardline"
)

// Run runs the whole contract against stores made by open; each subtest gets a fresh empty store.
// open must register the store's Close with t.Cleanup; it is called from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) wardline.Store) {
	t.Run("Orgs", func(t *testing.T) { testOrgs(t, open) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("FindUsers", func(t *testing.T) { testFindUsers(t, open) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, open) })
	t.Run("Conversations", func(t *testing.T) { testConversations(t, open) })
	t.Run("Members", func(t *testing.T) { testMembers(t, open) })
	t.Run("Sequences", func(t *testing.T) { testSequences(t, open) })
	t.Run("Messages", func(t *testing.T) { testMessages(t, open) })
	t.Run("History", func(t *testing.T) { testHistory(t, open) })
	t.Run("Receipts", func(t *testing.T) { testReceipts(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("AuditLog", func(t *testing.T) { testAuditLog(t, open) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, open) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	// Clinical workflow.
	t.Run("Clinical", func(t *testing.T) { testClinical(t, open) })
	// Strong authentication.
	t.Run("Auth", func(t *testing.T) { testAuth(t, open) })
}

// opener is the type of Run's open argument.
type opener = func(t *testing.T) wardline.Store

// T0 is the base time of every test: fixed, in UTC and in whole microseconds, the precision every
// backend keeps. Tests place events at T0 plus an offset and compare times with Equal.
var T0 = time.Date(2025, time.March, 3, 8, 30, 15, 123456000, time.UTC).Truncate(time.Microsecond)

// at returns T0 plus n seconds.
func at(n int) time.Time { return T0.Add(time.Duration(n) * time.Second) }

// MustUpdate runs fn in one Update and fails the test when it returns an error.
func MustUpdate(tb testing.TB, s wardline.Store, fn func(tx wardline.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

// NewOrg returns an organisation that is not stored yet.
func NewOrg(name string) *wardline.Org {
	return &wardline.Org{ID: wardline.NewID(), Name: name, Policy: wardline.DefaultPolicy, CreatedAt: T0}
}

// MustCreateOrg stores a new organisation with the given name.
func MustCreateOrg(tb testing.TB, s wardline.Store, name string) *wardline.Org {
	tb.Helper()
	o := NewOrg(name)
	MustUpdate(tb, s, func(tx wardline.Tx) error { return tx.CreateOrg(context.Background(), o) })
	return o
}

// NewUser returns an active member of staff of orgID that is not stored yet, with an email address
// made from the name and unique to this user.
func NewUser(orgID, displayName string) *wardline.User {
	id := wardline.NewID()
	local := strings.ToLower(strings.Join(strings.Fields(displayName), "."))
	return &wardline.User{
		ID:           id,
		OrgID:        orgID,
		Email:        fmt.Sprintf("%s.%s@example.nhs.uk", local, id[len(id)-12:]),
		DisplayName:  displayName,
		JobTitle:     "Staff Nurse",
		Profession:   "Nursing",
		Registration: "NMC 12A3456B",
		OrgRole:      wardline.OrgRoleMember,
		Status:       wardline.UserActive,
		CreatedAt:    T0,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
	}
}

// MustCreateUsers stores the given users in one Update.
func MustCreateUsers(tb testing.TB, s wardline.Store, users ...*wardline.User) {
	tb.Helper()
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		for _, u := range users {
			if err := tx.CreateUser(context.Background(), u); err != nil {
				return fmt.Errorf("create user %s: %w", u.DisplayName, err)
			}
		}
		return nil
	})
}

// MustCreateUser stores a new user of orgID with the given display name.
func MustCreateUser(tb testing.TB, s wardline.Store, orgID, displayName string) *wardline.User {
	tb.Helper()
	u := NewUser(orgID, displayName)
	MustCreateUsers(tb, s, u)
	return u
}

// NewConversation returns a conversation of orgID created at the given time by owner, who is its
// owner; the others join one microsecond apart, in the order given. It is not stored yet.
func NewConversation(orgID, kind string, created time.Time, owner string, others ...string) *wardline.Conversation {
	c := &wardline.Conversation{
		ID:             wardline.NewID(),
		OrgID:          orgID,
		Kind:           kind,
		CreatedAt:      created,
		CreatedBy:      owner,
		LastActivityAt: created,
		TitleSealed:    []byte("sealed title of " + kind),
		Members:        []*wardline.Member{{UserID: owner, Role: wardline.MemberOwner, JoinedAt: created}},
	}
	for i, id := range others {
		c.Members = append(c.Members, &wardline.Member{UserID: id, Role: wardline.MemberMember,
			JoinedAt: created.Add(time.Duration(i+1) * time.Microsecond)})
	}
	return c
}

// MustCreateConversations stores the given conversations in one Update.
func MustCreateConversations(tb testing.TB, s wardline.Store, convs ...*wardline.Conversation) {
	tb.Helper()
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		for _, c := range convs {
			if err := tx.CreateConversation(context.Background(), c); err != nil {
				return fmt.Errorf("create conversation: %w", err)
			}
		}
		return nil
	})
}

// Fixture is one organisation with three users and a group conversation between them, the
// starting point of most tests.
type Fixture struct {
	Org               *wardline.Org
	Alice, Bob, Carol *wardline.User
	Conv              *wardline.Conversation
}

// MustCreateFixture stores a Fixture: Alice owns the group; Bob and Carol are members.
func MustCreateFixture(tb testing.TB, s wardline.Store) *Fixture {
	tb.Helper()
	f := &Fixture{Org: NewOrg("Northgate Hospitals NHS Trust")}
	f.Alice = NewUser(f.Org.ID, "Alice Adeyemi")
	f.Bob = NewUser(f.Org.ID, "Bob Byrne")
	f.Carol = NewUser(f.Org.ID, "Carol Chen")
	f.Conv = NewConversation(f.Org.ID, wardline.KindGroup, T0, f.Alice.ID, f.Bob.ID, f.Carol.ID)
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		ctx := context.Background()
		if err := tx.CreateOrg(ctx, f.Org); err != nil {
			return err
		}
		for _, u := range []*wardline.User{f.Alice, f.Bob, f.Carol} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.CreateConversation(ctx, f.Conv)
	})
	return f
}

// NewMessage returns a routine message of convID from senderID at seq, sent at the given time,
// with a sealed body that names it. It is not stored yet.
func NewMessage(convID, senderID string, seq int64, sent time.Time) *wardline.Message {
	return &wardline.Message{
		ID:             wardline.NewID(),
		ConversationID: convID,
		Seq:            seq,
		SenderID:       senderID,
		ClientID:       wardline.NewID(),
		Priority:       wardline.PriorityRoutine,
		CreatedAt:      sent,
		Version:        1,
		BodySealed:     []byte(fmt.Sprintf("sealed body %d", seq)),
	}
}

// MustSendMessages sends n messages from senderID into convID in one Update, as the message
// service does (NextSeq, then InsertMessage), the i-th at sent plus i seconds.
func MustSendMessages(tb testing.TB, s wardline.Store, convID, senderID string, n int, sent time.Time) []*wardline.Message {
	tb.Helper()
	var msgs []*wardline.Message
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		msgs = msgs[:0]
		ctx := context.Background()
		for i := range n {
			when := sent.Add(time.Duration(i) * time.Second)
			seq, err := tx.NextSeq(ctx, convID, when)
			if err != nil {
				return err
			}
			m := NewMessage(convID, senderID, seq, when)
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		return nil
	})
	return msgs
}

// AssertCode fails the test unless err carries the given wardline error code ("" for no error).
func AssertCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := wardline.ErrorCode(err); got != code {
		tb.Errorf("error code: got %q (%v), want %q", got, err, code)
	}
}

// AssertSame fails the test for every field in which got differs from want. Times compare with
// Equal, byte slices by content (nil and empty alike); fields named in ignore (by their path, as
// "Body" or "Members[0].JoinedAt") are skipped.
func AssertSame(tb testing.TB, what string, got, want any, ignore ...string) {
	tb.Helper()
	skip := map[string]bool{}
	for _, f := range ignore {
		skip[f] = true
	}
	for _, d := range diff("", reflect.ValueOf(got), reflect.ValueOf(want), skip) {
		tb.Errorf("%s%s", what, d)
	}
}

var (
	timeType  = reflect.TypeOf(time.Time{})
	bytesType = reflect.TypeOf([]byte(nil))
)

func diff(path string, got, want reflect.Value, skip map[string]bool) []string {
	if skip[strings.TrimPrefix(path, ".")] {
		return nil
	}
	mismatch := func() []string {
		return []string{fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want))}
	}
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			return mismatch()
		}
		return nil
	}
	switch {
	case got.Type() == timeType:
		if !got.Interface().(time.Time).Equal(want.Interface().(time.Time)) {
			return mismatch()
		}
		return nil
	case got.Type() == bytesType:
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			return mismatch()
		}
		return nil
	}
	switch got.Kind() {
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return mismatch()
			}
			return nil
		}
		return diff(path, got.Elem(), want.Elem(), skip)
	case reflect.Struct:
		var out []string
		for i := range got.NumField() {
			if f := got.Type().Field(i); f.IsExported() {
				out = append(out, diff(path+"."+f.Name, got.Field(i), want.Field(i), skip)...)
			}
		}
		return out
	case reflect.Slice:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: got %d items, want %d", path, got.Len(), want.Len())}
		}
		var out []string
		for i := range got.Len() {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), skip)...)
		}
		return out
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		return mismatch()
	}
	return nil
}

func show(v reflect.Value) string {
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "nil"
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return "nil"
	}
	if v.Type() == bytesType {
		return fmt.Sprintf("%q", v.Bytes())
	}
	return fmt.Sprintf("%#v", v.Interface())
}

// ids returns the id of each item, in order.
func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func userID(u *wardline.User) string         { return u.ID }
func convID(c *wardline.Conversation) string { return c.ID }
func sessionID(s *wardline.Session) string   { return s.ID }
func memberID(m *wardline.Member) string     { return m.UserID }
func auditID(e *wardline.AuditEvent) string  { return e.ID }
func keyID(k *wardline.KeyRecord) string     { return k.ID }

// seqs returns the seq of each message, in order.
func seqs(msgs []*wardline.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// span returns the seqs from..to inclusive (nil when to < from).
func span(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// WithDirectoryNames returns a copy of c whose members carry their display name and job title
// from the directory, as a store returns them.
func WithDirectoryNames(tb testing.TB, s wardline.Store, c *wardline.Conversation) *wardline.Conversation {
	tb.Helper()
	out := *c
	out.Members = make([]*wardline.Member, len(c.Members))
	for i, m := range c.Members {
		u, err := s.User(context.Background(), m.UserID)
		if err != nil {
			tb.Fatalf("User %s: %v", m.UserID, err)
		}
		mm := *m
		mm.DisplayName, mm.JobTitle = u.DisplayName, u.JobTitle
		out.Members[i] = &mm
	}
	return &out
}
