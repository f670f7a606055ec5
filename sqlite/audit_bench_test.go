//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"wardline"
	"wardline/storetest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSendAuditShare measures what the audit log's tamper evidence (a leaf hash per entry
// and the Merkle tree, persisted once per batch) adds to a message send in the store: the send's
// transaction (duplicate check, membership check, next seq, insert message, append audit entry)
// from 64 concurrent senders through group commit, with the tree on and off in alternating
// rounds of one run. It reports the process CPU per message of each and the tree's share.
//
//	go test ./sqlite -run '^$' -bench SendAuditShare -benchtime 40000x
func BenchmarkSendAuditShare(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f := storetest.MustCreateFixture(b, s)
	const senders = 64
	convs := make([]*wardline.Conversation, senders)
	for i := range convs {
		convs[i] = storetest.NewConversation(f.Org.ID, wardline.KindGroup, storetest.T0, f.Alice.ID, f.Bob.ID)
	}
	storetest.MustCreateConversations(b, s, convs...)
	send := func(conv *wardline.Conversation) error { return benchSend(ctx, s, f.Org.ID, conv.ID, f.Alice.ID) }
	round := func(n int) (cpu, wall time.Duration) {
		var next atomic.Int64
		var wg sync.WaitGroup
		c0, w0 := cpuTime(), time.Now()
		for i := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					if err := send(convs[i]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return cpuTime() - c0, time.Since(w0)
	}
	round(2000) // warm up: statements prepared, pages cached
	b.ResetTimer()
	var cpu, wall [2]time.Duration
	var count [2]int
	const rounds = 8
	for r := range rounds {
		on := r%2 == 0
		s.auditHashOff.Store(!on)
		n := max(b.N/rounds, 1)
		c, w := round(n)
		i := 0
		if !on {
			i = 1
		}
		cpu[i] += c
		wall[i] += w
		count[i] += n
	}
	s.auditHashOff.Store(false)
	onCPU := float64(cpu[0]) / float64(count[0])
	offCPU := float64(cpu[1]) / float64(count[1])
	b.ReportMetric(onCPU, "cpu-ns/msg-tree-on")
	b.ReportMetric(offCPU, "cpu-ns/msg-tree-off")
	b.ReportMetric(100*(onCPU-offCPU)/onCPU, "%-cpu-for-tree")
	b.ReportMetric(float64(count[0])/wall[0].Seconds(), "msg/s-tree-on")
	b.ReportMetric(float64(count[1])/wall[1].Seconds(), "msg/s-tree-off")
}

// benchSend is a message send's transaction in the store: duplicate check, membership check,
// next seq, insert the message (a sealed 170-character body), append its audit entry.
func benchSend(ctx context.Context, s *Store, orgID, convID, senderID string) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	m := &wardline.Message{ID: wardline.NewID(), ConversationID: convID, SenderID: senderID, ClientID: wardline.NewID(),
		Priority: wardline.PriorityRoutine, CreatedAt: now, Version: 1, BodySealed: make([]byte, 200)}
	ev := &wardline.AuditEvent{ID: wardline.NewID(), At: now, OrgID: orgID, ActorID: senderID, SessionID: wardline.NewID(),
		Addr: "10.20.30.40", Action: wardline.ActionMessageSent, TargetType: "message", TargetID: m.ID, ConversationID: convID,
		Outcome: wardline.OutcomeSuccess}
	return s.Update(ctx, func(tx wardline.Tx) error {
		if _, err := tx.MessageByClientID(ctx, convID, senderID, m.ClientID); err == nil || wardline.ErrorCode(err) != wardline.ENOTFOUND {
			return fmt.Errorf("duplicate check: %v", err)
		}
		if ok, err := tx.IsMember(ctx, convID, senderID); err != nil || !ok {
			return fmt.Errorf("membership: %v", err)
		}
		var err error
		if m.Seq, err = tx.NextSeq(ctx, convID, now); err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		ev.Detail = map[string]any{"seq": m.Seq, "priority": m.Priority}
		return tx.AppendAudit(ctx, ev)
	})
}

// BenchmarkSendWALFrames counts the WAL frames (4 KiB pages) a send writes, the writer's main
// cost at full load: 100 concurrent senders among 200 people in 100 conversations of 10, the
// shape of the load generator's throughput run, with the checkpointer stopped so that the WAL
// keeps every frame. "search-tables" is the build (audit entries filed in runs, auditsearch.go);
// "append-indexes" adds back the two indexes migration 0006 replaced, to show what they cost.
//
//	go test ./sqlite -run '^$' -bench SendWALFrames -benchtime 20000x
func BenchmarkSendWALFrames(b *testing.B) {
	for _, variant := range []string{"search-tables", "append-indexes"} {
		b.Run(variant, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if variant == "append-indexes" {
				storetest.MustUpdate(b, s, func(tx wardline.Tx) error {
					for _, q := range []string{
						`CREATE INDEX audit_org_actor ON audit_events(org_id, actor_id, seq)`,
						`CREATE INDEX audit_org_conversation ON audit_events(org_id, conversation_id, seq) WHERE conversation_id != ''`,
					} {
						if _, err := tx.(*txn).db.exec(ctx, q); err != nil {
							return err
						}
					}
					return nil
				})
			}
			org := storetest.MustCreateOrg(b, s, "Bench Trust")
			users := make([]*wardline.User, 200)
			for i := range users {
				users[i] = storetest.NewUser(org.ID, fmt.Sprint("User ", i))
			}
			storetest.MustCreateUsers(b, s, users...)
			type conv struct {
				id      string
				members []string
			}
			convs := make([]conv, 100)
			var all []*wardline.Conversation
			for i := range convs {
				ids := make([]string, 10)
				for j := range ids {
					ids[j] = users[(i*7+j*13)%len(users)].ID
				}
				c := storetest.NewConversation(org.ID, wardline.KindGroup, storetest.T0, ids[0], ids[1:]...)
				convs[i], all = conv{c.ID, ids}, append(all, c)
			}
			storetest.MustCreateConversations(b, s, all...)
			var batches, writes atomic.Int64
			s.BatchObserver = func(n int) { batches.Add(1); writes.Add(int64(n)) }
			round := func(n int) {
				var next atomic.Int64
				var wg sync.WaitGroup
				for g := range 100 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := g; next.Add(1) <= int64(n); i += 7 {
							c := convs[i%len(convs)]
							if err := benchSend(ctx, s, org.ID, c.id, c.members[i%len(c.members)]); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			}
			round(5000) // history to land in, statements prepared
			s.ckOff.Store(true)
			defer s.ckOff.Store(false)
			f0 := s.walFrames(b)
			batches.Store(0)
			writes.Store(0)
			b.ResetTimer()
			round(b.N)
			b.StopTimer()
			b.ReportMetric(float64(s.walFrames(b)-f0)/float64(b.N), "frames/send")
			b.ReportMetric(float64(writes.Load())/float64(max(batches.Load(), 1)), "writes/batch")
		})
	}
}

// walFrames answers how many frames the WAL holds.
func (s *Store) walFrames(tb testing.TB) int64 {
	var busy, frames, copied int64
	if err := s.ckdb.QueryRow("PRAGMA wal_checkpoint(NOOP)").Scan(&busy, &frames, &copied); err != nil {
		tb.Fatal(err)
	}
	return frames
}
