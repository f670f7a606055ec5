package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
	"wardline/app"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/mock"
	"wardline/sqlite"
)

// Env is a set of real services on a temporary SQLite database, with a hand-moved clock.
type Env struct {
	App   *app.App
	Store *sqlite.Store
	Keys  wardline.Keyring
	Bus   *inmem.Bus
	Clock *mock.Clock
	Org   *wardline.Org
	Admin *wardline.User
}

// rebuild replaces e's services by ones around keys, on the same store, bus and clock.
func rebuild(tb testing.TB, e *Env, keys wardline.Keyring) *Env {
	tb.Helper()
	cfg := app.DefaultConfig
	cfg.PasswordParams = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	cfg.DeliveryFlushInterval = time.Hour
	a := app.New(e.Store, e.Bus, keys, e.Clock, slog.New(slog.DiscardHandler), cfg)
	tb.Cleanup(a.Close)
	out := *e
	out.App, out.Keys = a, keys
	return &out
}

// MustOpenEnv builds the services and an organisation with its admin.
func MustOpenEnv(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "wardline.db"))
	if err != nil {
		tb.Fatal(err)
	}
	master, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		tb.Fatal(err)
	}
	clock := mock.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	keys := keyring.New(master, store, clock)
	bus := inmem.NewBus()
	cfg := app.DefaultConfig
	cfg.PasswordParams = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	cfg.DeliveryFlushInterval = time.Hour // tests flush by hand
	a := app.New(store, bus, keys, clock, slog.New(slog.DiscardHandler), cfg)
	tb.Cleanup(func() { a.Close(); store.Close() })
	org, admin, _, err := a.Users.CreateOrg(anon(ctx), "Test Trust", wardline.NewUser{Email: "admin@test.nhs.uk", DisplayName: "Ada Admin"}, true)
	if err != nil {
		tb.Fatal(err)
	}
	return &Env{App: a, Store: store, Keys: keys, Bus: bus, Clock: clock, Org: org, Admin: admin}
}

func anon(ctx context.Context) context.Context {
	return wardline.NewContextWithActor(ctx, &wardline.Actor{Addr: "198.51.100.7"})
}

// As returns a context signed in as u (with a session that has no restrictions).
func As(u *wardline.User) context.Context {
	return wardline.NewContextWithActor(context.Background(), &wardline.Actor{User: u, Session: &wardline.Session{ID: "s-" + u.ID}, Addr: "198.51.100.7"})
}

// MustCreateUser has the admin create an active member of staff.
func (e *Env) MustCreateUser(tb testing.TB, name string) (*wardline.User, string) {
	tb.Helper()
	u, pw, err := e.App.Users.CreateUser(As(e.Admin), wardline.NewUser{Email: uuid.NewString()[:8] + "@test.nhs.uk", DisplayName: name})
	if err != nil {
		tb.Fatal(err)
	}
	return u, pw
}

// MustGroup starts a group conversation of owner with others.
func (e *Env) MustGroup(tb testing.TB, owner *wardline.User, others ...*wardline.User) *wardline.Conversation {
	tb.Helper()
	ids := []string{}
	for _, o := range others {
		ids = append(ids, o.ID)
	}
	c, _, err := e.App.Conversations.CreateConversation(As(owner), wardline.NewConversation{Kind: wardline.KindGroup, Title: "Group", MemberIDs: ids})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustSend sends a message and returns it.
func (e *Env) MustSend(tb testing.TB, from *wardline.User, convID, body string) *wardline.Message {
	tb.Helper()
	res, err := e.App.Messages.Send(As(from), convID, wardline.NewMessage{ClientID: uuid.NewString(), Body: body})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Message
}

func code(err error) string { return wardline.ErrorCode(err) }
