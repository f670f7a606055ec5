package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"wardline"
)

// plainKeyring "seals" by copying: the baseline that shows what encryption costs per message.
type plainKeyring struct{ wardline.Keyring }

func (p plainKeyring) Seal(_ context.Context, _ string, _, plaintext []byte) ([]byte, error) {
	return append([]byte(nil), plaintext...), nil
}

func (p plainKeyring) Open(_ context.Context, _ string, _, sealed []byte) ([]byte, error) {
	return append([]byte(nil), sealed...), nil
}

// BenchmarkSend measures a durable, audited send through the service and the SQLite group-commit
// writer, from many concurrent senders (b.SetParallelism), with real AES-256-GCM sealing and with
// a copying stand-in: the difference is encryption's share of the cost of a message.
func BenchmarkSend(b *testing.B) {
	for _, mode := range []string{"sealed", "plain"} {
		b.Run(mode, func(b *testing.B) {
			e := MustOpenEnv(b)
			if mode == "plain" {
				e = reopenWithKeyring(b, e, plainKeyring{e.Keys})
			}
			members := make([]*wardline.User, 10)
			for i := range members {
				members[i], _ = e.MustCreateUser(b, fmt.Sprint("member ", i))
			}
			convs := make([]*wardline.Conversation, 20)
			for i := range convs {
				convs[i] = e.MustGroup(b, members[0], members[1:]...)
			}
			var batches, writes atomic.Int64
			e.Store.BatchObserver = func(n int) { batches.Add(1); writes.Add(int64(n)) }
			body := "Bed 12: NEWS2 6, BP 92/60, HR 118. Please review before the ward round; family aware."
			b.SetParallelism(50) // 100 senders on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					c := convs[i%len(convs)]
					if _, err := e.App.Messages.Send(As(members[i%10]), c.ID, wardline.NewMessage{ClientID: uuid.NewString(), Body: body}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if n := batches.Load(); n > 0 {
				b.ReportMetric(float64(writes.Load())/float64(n), "writes/commit")
			}
		})
	}
}

// reopenWithKeyring rebuilds the services of e around another keyring (same store and org).
func reopenWithKeyring(tb testing.TB, e *Env, keys wardline.Keyring) *Env {
	tb.Helper()
	return rebuild(tb, e, keys)
}
