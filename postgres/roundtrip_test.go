package postgres_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"wardline"
	"wardline/postgres"
	"wardline/storetest"
)

// roundTrips counts what the store sends: each statement sent on its own, and each pipeline, is
// one round trip to the server.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A write costs a round trip for each of its statements and nothing more: BEGIN and the
// savepoints around each request go in the pipeline of the statement after them, and the last
// with the commit. Only a request whose statement the server refused costs one more (its
// rollback cannot wait: an aborted transaction refuses to prepare the next statement).
func TestWriteRoundTrips(t *testing.T) {
	rt := &roundTrips{}
	s := MustOpenURL(t, schemas.URL(t), postgres.Options{Tracer: rt})
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, s)
	errApp := errors.New("refused by the service")

	// A send's statements: the recipients, the seq, the message; and its audit event.
	send := func(fail error) func(tx wardline.Tx) error {
		return func(tx wardline.Tx) error {
			if _, err := tx.MemberIDs(ctx, f.Conv.ID); err != nil {
				return err
			}
			seq, err := tx.NextSeq(ctx, f.Conv.ID, storetest.T0)
			if err != nil {
				return err
			}
			m := storetest.NewMessage(f.Conv.ID, f.Alice.ID, seq, storetest.T0)
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, storetest.NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, storetest.T0)); err != nil {
				return err
			}
			return fail
		}
	}
	tests := []struct {
		name    string
		fn      func(tx wardline.Tx) error
		wantErr bool
		want    int64
	}{
		// 3 statements; the audit tree read, then its entries with the commit.
		{"send", send(nil), false, 3 + 2},
		// Rolled back to its savepoint in the commit's pipeline; no audit to write.
		{"send refused after its statements", send(errApp), true, 3 + 1},
		// Nothing sent but the commit (with BEGIN ahead of it).
		{"no statements", func(tx wardline.Tx) error { return nil }, false, 1},
		// The server refuses the first statement: rolled back at once, then the commit.
		{"statement refused", func(tx wardline.Tx) error {
			_ = tx.AddMember(ctx, wardline.NewID(), &wardline.Member{UserID: f.Bob.ID, Role: wardline.MemberMember, JoinedAt: storetest.T0})
			return nil
		}, true, 1 + 1 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Four times first, so that every connection of the pool has the statements prepared
			// (a statement new to a connection costs a round trip to prepare, once).
			for range 4 {
				_ = s.Update(ctx, tt.fn)
			}
			before := rt.n.Load()
			err := s.Update(ctx, tt.fn)
			if got := rt.n.Load() - before; got != tt.want {
				t.Errorf("round trips: got %d, want %d", got, tt.want)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("Update: got %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

// A statement new to the node goes to the server after the control before it, not in one
// pipeline with it: PostgreSQL prepares a pipeline's statements first, and one it refuses to
// prepare would abort the transaction with the earlier request's savepoint not yet released,
// failing the whole batch. Here only the request with the bad statement fails.
func TestRefusedStatementFailsOnlyItsRequest(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, s)
	next := func(tx wardline.Tx) error {
		_, err := tx.NextSeq(ctx, f.Conv.ID, storetest.T0)
		return err
	}
	storetest.MustUpdate(t, s, next) // known to the node from now on
	errs, err := postgres.RunOneBatch(s, next, func(tx wardline.Tx) error {
		return postgres.ExecInTx(ctx, tx, "UPDATE conversations SET no_such_column = 1")
	}, next)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	var pe *pgconn.PgError
	if errs[0] != nil || errs[2] != nil || !errors.As(errs[1], &pe) || pe.Code != "42703" {
		t.Errorf("requests: got %v, want nil, undefined column (42703), nil", errs)
	}
	if c, err := s.Conversation(ctx, f.Conv.ID); err != nil || c.LastSeq != 3 {
		t.Errorf("last seq: got %v, %v; want 3 (one before the batch, two in it)", c, err)
	}
}

// An argument that cannot be encoded for a statement the node knows fails its own request only:
// the pipeline it was in is lost (with the control ahead of the statement), the batch is tried
// again, and the statement then goes after its control.
func TestUnencodableArgumentFailsOnlyItsRequest(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, s)
	const touch = "UPDATE conversations SET last_seq = last_seq WHERE id = $1"
	storetest.MustUpdate(t, s, func(tx wardline.Tx) error { return postgres.ExecInTx(ctx, tx, touch, f.Conv.ID) })
	next := func(tx wardline.Tx) error {
		_, err := tx.NextSeq(ctx, f.Conv.ID, storetest.T0)
		return err
	}
	errs, err := postgres.RunOneBatch(s, next, func(tx wardline.Tx) error {
		return postgres.ExecInTx(ctx, tx, touch, make(chan int)) // no encoding for a channel
	}, next)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Errorf("requests: got %v, want nil, an encoding error, nil", errs)
	}
	if c, err := s.Conversation(ctx, f.Conv.ID); err != nil || c.LastSeq != 2 {
		t.Errorf("last seq: got %v, %v; want 2", c, err)
	}
}
