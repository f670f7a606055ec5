package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wardline"
	"wardline/postgres"
	"wardline/postgres/pgtest"
	"wardline/storetest"
)

// Three stores on one schema stand for three nodes: what the contract suite checks for one node
// must hold across them.

func openNodes(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.SchemaURL(t)
	nodes := make([]*postgres.Store, n)
	for i := range nodes {
		nodes[i] = MustOpenURL(t, url, postgres.Options{})
	}
	return nodes
}

// Senders on every node write into one conversation at once; each message also writes an audit
// event. Seqs are 1..n without gap or duplicate, and so are the audit log's.
func TestNodesShareSequences(t *testing.T) {
	nodes := openNodes(t, 3)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, nodes[0])
	const senders, each = 8, 30
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for g := range senders {
		s := nodes[g%len(nodes)]
		wg.Go(func() {
			for i := range each {
				err := s.Update(ctx, func(tx wardline.Tx) error {
					seq, err := tx.NextSeq(ctx, f.Conv.ID, storetest.T0)
					if err != nil {
						return err
					}
					if err := tx.InsertMessage(ctx, storetest.NewMessage(f.Conv.ID, f.Bob.ID, seq, storetest.T0)); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, storetest.NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionMessageSent, storetest.T0))
				})
				if err != nil {
					errs <- fmt.Errorf("sender %d message %d: %w", g, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	msgs, _, err := nodes[1].Messages(ctx, f.Conv.ID, wardline.HistoryQuery{Forward: true, Limit: senders * each})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, m := range msgs {
		got = append(got, m.Seq)
	}
	if want := seqRange(1, senders*each); !slices.Equal(got, want) {
		t.Errorf("message seqs: got %v, want 1..%d", got, senders*each)
	}
	events, err := nodes[2].AuditEvents(ctx, wardline.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, e := range events {
		got = append(got, e.Seq)
	}
	if want := seqRange(1, senders*each); !slices.Equal(got, want) {
		t.Errorf("audit seqs: got %v, want 1..%d", got, senders*each)
	}
}

// A reader that sees audit seq N sees every seq below N: seqs are handed out in commit order, so
// a log follower (the Merkle tree of the audit issue) never skips an event that commits late.
func TestAuditSeqFollowsCommitOrder(t *testing.T) {
	nodes := openNodes(t, 3)
	ctx := t.Context()
	o := storetest.MustCreateOrg(t, nodes[0], "Northgate")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range nodes {
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					storetest.MustAppendAudit(t, s, storetest.NewAuditEvent(o.ID, wardline.NewID(), wardline.ActionLoginSucceeded, storetest.T0))
				}
			})
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	var after int64
	for time.Now().Before(deadline) {
		page, err := nodes[0].AuditEvents(ctx, wardline.AuditFilter{AfterSeq: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Seq != after+1 {
				t.Fatalf("follower after seq %d read seq %d: a seq below it was not yet visible", after, e.Seq)
			}
			after = e.Seq
		}
	}
	close(stop)
	wg.Wait()
	if after < 100 {
		t.Errorf("follower saw %d events in 2 s, want many more", after)
	}
}

// Batches on two nodes that lock two conversations in opposite orders would deadlock until
// PostgreSQL's deadlock_timeout; the lock timeout puts the loser into its node's next batch.
func TestCrossNodeLockOrder(t *testing.T) {
	nodes := openNodes(t, 2)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, nodes[0])
	other := storetest.NewConversation(f.Org.ID, wardline.KindGroup, storetest.T0, f.Alice.ID, f.Bob.ID)
	storetest.MustCreateConversations(t, nodes[0], other)
	convs := [2]string{f.Conv.ID, other.ID}

	const rounds = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4*rounds)
	start := time.Now()
	for n, s := range nodes {
		for w := range 2 {
			wg.Go(func() {
				for range rounds {
					// Each Update takes both rows; nodes take them in opposite orders.
					first, second := convs[n], convs[1-n]
					if w == 1 {
						first, second = second, first
					}
					err := s.Update(ctx, func(tx wardline.Tx) error {
						if _, err := tx.NextSeq(ctx, first, storetest.T0); err != nil {
							return err
						}
						_, err := tx.NextSeq(ctx, second, storetest.T0)
						return err
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	for _, id := range convs {
		c, err := nodes[1].Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.LastSeq != 4*rounds {
			t.Errorf("conversation %s LastSeq: got %d, want %d", id, c.LastSeq, 4*rounds)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("%d crossing updates took %v: writes waited for deadlock detection", 4*rounds, d)
	}
}

// A fn that swallows a database error leaves the transaction aborted; that fn alone fails, and the
// others of its batch commit.
func TestSwallowedErrorFailsOnlyItsUpdate(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, s)
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range results {
		wg.Go(func() {
			results[i] = s.Update(ctx, func(tx wardline.Tx) error {
				if i%5 == 0 {
					// A member of a conversation that does not exist: a foreign key violation.
					_ = tx.AddMember(ctx, wardline.NewID(), &wardline.Member{UserID: f.Bob.ID, Role: wardline.MemberMember, JoinedAt: storetest.T0})
					return nil
				}
				_, err := tx.NextSeq(ctx, f.Conv.ID, storetest.T0)
				return err
			})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch {
		case i%5 == 0 && err == nil:
			t.Errorf("Update %d swallowed a database error and succeeded", i)
		case i%5 != 0 && err != nil:
			t.Errorf("Update %d: %v", i, err)
		case err == nil:
			ok++
		}
	}
	c, err := s.Conversation(ctx, f.Conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq != int64(ok) {
		t.Errorf("LastSeq: got %d, want %d", c.LastSeq, ok)
	}
}

// A batch whose connection dies before COMMIT is retried on another connection: nothing lost.
func TestBatchRetriedAfterConnectionLoss(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, s)
	killed := false
	err := s.Update(ctx, func(tx wardline.Tx) error {
		if _, err := tx.NextSeq(ctx, f.Conv.ID, storetest.T0); err != nil {
			return err
		}
		if !killed {
			killed = true
			// End this transaction's backend from another connection.
			var pid int
			if err := tx.(interface {
				BackendPID() int
			}).BackendPID(); err == 0 {
				return errors.New("no pid")
			} else {
				pid = err
			}
			if _, err := s.Pool().Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	c, err := s.Conversation(ctx, f.Conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq != 1 {
		t.Errorf("LastSeq: got %d, want 1 (the retry, and only it)", c.LastSeq)
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// Every node's scheduler may find the same escalation step due: exactly one claims it.
func TestNodesClaimEscalationStepOnce(t *testing.T) {
	nodes := openNodes(t, 3)
	ctx := t.Context()
	f := storetest.MustCreateFixture(t, nodes[0])
	for round := range 5 {
		m := storetest.MustSendMessages(t, nodes[0], f.Conv.ID, f.Alice.ID, 1, storetest.T0)[0]
		due := storetest.T0
		e := &wardline.Escalation{State: wardline.EscalationPending, NextAt: &due, Notified: []string{f.Bob.ID},
			MessageID: m.ID, ConversationID: f.Conv.ID, OrgID: f.Org.ID, SenderID: f.Alice.ID, GroupID: m.ID,
			Priority: wardline.PriorityUrgent, Interval: time.Minute, LastStep: 3, CreatedAt: storetest.T0, UpdatedAt: storetest.T0}
		storetest.MustUpdate(t, nodes[0], func(tx wardline.Tx) error { return tx.InsertEscalation(ctx, e) })
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			s := nodes[i%len(nodes)]
			wg.Go(func() {
				moved := *e
				moved.Step = 1
				err := s.Update(ctx, func(tx wardline.Tx) error {
					ok, err := tx.ClaimEscalationStep(ctx, &moved, 0, &wardline.EscalationStep{MessageID: m.ID, Step: 1, At: storetest.T0})
					if ok {
						tx.AfterCommit(func() { won.Add(1) }) // counted once committed
					}
					return err
				})
				if err != nil {
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Errorf("round %d: step claimed %d times across nodes, want once", round, n)
		}
	}
}
