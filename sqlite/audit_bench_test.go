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
	body := make([]byte, 200) // a sealed 170-character message
	send := func(conv *wardline.Conversation) error {
		now := time.Now().UTC().Truncate(time.Microsecond)
		m := &wardline.Message{ID: wardline.NewID(), ConversationID: conv.ID, SenderID: f.Alice.ID, ClientID: wardline.NewID(),
			Priority: wardline.PriorityRoutine, CreatedAt: now, Version: 1, BodySealed: body}
		ev := &wardline.AuditEvent{ID: wardline.NewID(), At: now, OrgID: f.Org.ID, ActorID: f.Alice.ID, SessionID: wardline.NewID(),
			Addr: "10.20.30.40", Action: wardline.ActionMessageSent, TargetType: "message", TargetID: m.ID, ConversationID: conv.ID,
			Outcome: wardline.OutcomeSuccess}
		return s.Update(ctx, func(tx wardline.Tx) error {
			if _, err := tx.MessageByClientID(ctx, conv.ID, f.Alice.ID, m.ClientID); err == nil || wardline.ErrorCode(err) != wardline.ENOTFOUND {
				return fmt.Errorf("duplicate check: %v", err)
			}
			if ok, err := tx.IsMember(ctx, conv.ID, f.Alice.ID); err != nil || !ok {
				return fmt.Errorf("membership: %v", err)
			}
			var err error
			if m.Seq, err = tx.NextSeq(ctx, conv.ID, now); err != nil {
				return err
			}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			ev.Detail = map[string]any{"seq": m.Seq, "priority": m.Priority}
			return tx.AppendAudit(ctx, ev)
		})
	}
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
