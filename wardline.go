// Package wardline holds the domain of Wardline, secure messaging for clinical teams: the plain
// types (users, conversations, messages, audit events), the errors every layer speaks, and the
// interfaces between the services (app), the stores (sqlite, postgres) and the event buses.
// It imports nothing of the project.
package wardline

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Version is the release of this build; cmd/wardline may overwrite it at link time.
var Version = "0.1.0-dev"

// Clock is the one source of time. Services take it as a field so tests can move time instead of
// sleeping (DESIGN.md rule 6).
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// NewID returns a new opaque identifier: a UUIDv7, so that ids sort roughly by creation time and
// index well.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does; nothing can continue safely then.
		panic("wardline: cannot read random source: " + err.Error())
	}
	return id.String()
}

// ValidID reports whether s has the shape of an id this system issues (a UUID in canonical form).
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Actor is who is doing something: the signed-in user, their session, and where the request came
// from. Services read it from the context; the HTTP layer puts it there after authentication.
type Actor struct {
	User    *User
	Session *Session
	Addr    string // source address, for the audit log
	Device  string // user agent or device name
}

type actorKey struct{}

// NewContextWithActor returns a context that carries a.
func NewContextWithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor in ctx, or nil for an anonymous caller.
func ActorFromContext(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// UserFromContext returns the signed-in user in ctx, or nil.
func UserFromContext(ctx context.Context) *User {
	if a := ActorFromContext(ctx); a != nil {
		return a.User
	}
	return nil
}
