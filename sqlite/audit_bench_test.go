//go:build unix

package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
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
// It also says whose pages the frames hold, per table and index ("NAME-frames/send"):
// sqlite_autoindex_messages_2 is UNIQUE (conversation_id, seq) and _3 is UNIQUE (conversation_id,
// sender_id, client_id), the two that put each send on a page of its conversation's own.
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
			f1 := s.walFrames(b)
			b.ReportMetric(float64(f1-f0)/float64(b.N), "frames/send")
			b.ReportMetric(float64(writes.Load())/float64(max(batches.Load(), 1)), "writes/batch")
			// Whose pages they are, for the b-trees with a tenth of a frame a send or more.
			for name, n := range s.walFramesByTree(b, f0, f1) {
				if per := float64(n) / float64(b.N); per >= 0.1 {
					b.ReportMetric(per, name+"-frames/send")
				}
			}
		})
	}
}

// walFramesByTree counts the WAL's frames from..to (counted from 0) by the table or index their
// page belongs to now, by SQLite's dbstat table. It reads the WAL file itself, whose frames are a
// 24-byte header (the page number first) and the page.
func (s *Store) walFramesByTree(tb testing.TB, from, to int64) map[string]int64 {
	wal, err := os.ReadFile(s.path + "-wal")
	if err != nil {
		tb.Fatal(err)
	}
	if len(wal) < 32 {
		tb.Fatalf("WAL of %d bytes", len(wal))
	}
	size := int64(binary.BigEndian.Uint32(wal[8:12]))
	owner := map[uint32]string{}
	rows, err := s.rdb.Query(`SELECT name, pageno FROM dbstat`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var page uint32
		if err := rows.Scan(&name, &page); err != nil {
			tb.Fatal(err)
		}
		owner[page] = name
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	count := map[string]int64{}
	for i := from; i < to; i++ {
		off := 32 + i*(24+size)
		if off+24 > int64(len(wal)) {
			tb.Fatalf("frame %d is past the WAL's end", i)
		}
		name := owner[binary.BigEndian.Uint32(wal[off:off+4])]
		if name == "" {
			name = "unowned" // a free page, or one past the end (names are metric units: no spaces)
		}
		count[name]++
	}
	return count
}

// walFrames answers how many frames the WAL holds.
func (s *Store) walFrames(tb testing.TB) int64 {
	var busy, frames, copied int64
	if err := s.ckdb.QueryRow("PRAGMA wal_checkpoint(NOOP)").Scan(&busy, &frames, &copied); err != nil {
		tb.Fatal(err)
	}
	return frames
}
