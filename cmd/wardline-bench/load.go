package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// sendRec is one message the senders sent (or meant to send), indexed by message number.
type sendRec struct {
	conv     int32
	status   int32 // HTTP status, 0 for a transport error
	intended int64 // when the schedule said to send it (Unix ns); the actual send time if closed loop
	sent     int64
	answered int64
}

// Senders is what the sending side saw.
type Senders struct {
	recs   chunked[sendRec]
	count  atomic.Int64 // message numbers handed out
	t0     int64        // when sending began (Unix ns)
	period float64      // ns between due times in open-loop mode; 0 in closed loop

	Lag      Histogram // actual − intended send time, in the window
	Response Histogram // POST → 201, in the window

	mu         sync.Mutex
	errSamples map[string]string // status → one error text
}

// Layout is who is in which conversation and who holds which connection.
type Layout struct {
	convIDs     []string
	convIndex   map[string]int32
	convsOf     [][]int32  // user → conversations of this layout
	cursorConvs [][]string // user → every conversation the state knows they are in
	connUser    []int      // connection → user
	connsOf     []int      // user → connections
	expected    []int32    // conversation → connections of its members (all processes)
	lastSeq     []int64    // conversation → last seq before this run
}

func (b *Bench) buildLayout() *Layout {
	cfg, st := b.cfg, b.state
	n, m, all := cfg.Users, cfg.ConvSize, cfg.allUsers()
	l := &Layout{convIndex: map[string]int32{}, convsOf: make([][]int32, all), cursorConvs: make([][]string, all),
		connUser: make([]int, cfg.allConnections()), connsOf: make([]int, all)}
	for c := range cfg.allConnections() {
		u := cfg.connUser(c)
		l.connUser[c] = u
		l.connsOf[u]++
	}
	for k := range cfg.Conversations {
		id := st.Conversations[convKey(n, m, k)]
		l.convIDs = append(l.convIDs, id)
		l.convIndex[id] = int32(k)
		var exp int32
		for j := range m {
			u := memberOf(k, j, m, n)
			l.convsOf[u] = append(l.convsOf[u], int32(k))
			exp += int32(l.connsOf[u])
		}
		l.expected = append(l.expected, exp)
	}
	for key, id := range st.Conversations {
		var kn, km, kk int
		if _, err := fmt.Sscanf(key, "%d/%d/%d", &kn, &km, &kk); err != nil {
			continue
		}
		for j := range km {
			if u := memberOf(kk, j, km, kn); u < all {
				l.cursorConvs[u] = append(l.cursorConvs[u], id)
			}
		}
	}
	l.lastSeq = make([]int64, cfg.Conversations)
	return l
}

// fetchLastSeqs reads each conversation's last seq, so that a reconnecting stream resumes from
// where this run began rather than replaying earlier runs.
func (b *Bench) fetchLastSeqs(ctx context.Context) error {
	l, n, m := b.layout, b.cfg.Users, b.cfg.ConvSize
	return parallel(ctx, len(l.convIDs), 8, func(ctx context.Context, k int) error {
		u := memberOf(k, 0, m, n)
		return retry(ctx, func() (err error) {
			l.lastSeq[k], err = b.api.LastSeq(ctx, b.cfg.URLs[u%len(b.cfg.URLs)], b.state.Users[u].Token, l.convIDs[k])
			return err
		})
	})
}

// send runs the senders from t0 until the window ends. With --rate 0 each sender sends its next
// message as soon as the last is answered (closed loop). With a rate, message i is due at
// t0 + i/rate whatever happened before (open loop): a sender that falls behind sends late, and
// latency is measured from the due time as well as from the actual send time, so that a stalled
// server is not hidden by the senders waiting for it (coordinated omission). Senders that are
// still behind --drain after the window give up; what they never sent is reported as not sent.
func (b *Bench) send(ctx context.Context, t0 int64, w Window) {
	cfg, s := b.cfg, b.senders
	s.t0 = t0
	if cfg.Rate > 0 {
		s.period = 1e9 / cfg.Rate
	}
	cutoff := time.Unix(0, w.End).Add(cfg.Drain)
	var wg sync.WaitGroup
	for range cfg.Senders {
		wg.Go(func() {
			p := newPoster(cfg.Insecure)
			for ctx.Err() == nil {
				i := s.count.Add(1) - 1
				var intended int64
				if s.period > 0 {
					intended = s.due(i)
					if intended >= w.End || time.Now().After(cutoff) {
						return // the ticket stays unused: its record keeps intended == 0
					}
					if d := time.Until(time.Unix(0, intended)); d > 0 {
						time.Sleep(d)
					}
				} else if intended = time.Now().UnixNano(); intended >= w.End {
					return
				}
				b.sendOne(ctx, p, i, intended, w)
			}
		})
	}
	wg.Wait()
}

// due is when message i is due in open-loop mode.
func (s *Senders) due(i int64) int64 { return s.t0 + int64(float64(i)*s.period) }

func (b *Bench) sendOne(ctx context.Context, p *poster, i, intended int64, w Window) {
	cfg, l, s := b.cfg, b.layout, b.senders
	k := int(i % int64(cfg.Conversations))
	user := memberOf(k, int(i/int64(cfg.Conversations))%cfg.ConvSize, cfg.ConvSize, cfg.Users)
	rec := s.recs.At(i)
	if rec == nil {
		return
	}
	rec.conv, rec.intended = int32(k), intended
	rec.sent = time.Now().UnixNano()
	clientID := uuid.NewString()
	text := benchBody(b.recv.run, i, intended, rec.sent, cfg.BodyBytes)
	var status int
	var err error
	if cfg.Send == "ws" {
		frame, _ := json.Marshal(map[string]any{"type": "send", "conversation_id": l.convIDs[k], "client_id": clientID, "body": text})
		var code string
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		status, code, err = b.userConns[user].sendOnStream(sctx, frame, clientID)
		cancel()
		if err == nil && status == 0 {
			err = fmt.Errorf("send.error %s", code)
		}
	} else {
		body, _ := json.Marshal(map[string]any{"client_id": clientID, "body": text})
		status, err = p.send(ctx, cfg.URLs[user%len(cfg.URLs)], "/api/v1/conversations/"+l.convIDs[k]+"/messages", b.state.Users[user].Token, body)
	}
	rec.answered = time.Now().UnixNano()
	atomic.StoreInt32(&rec.status, int32(status))
	if w.Contains(intended) {
		s.Lag.Record(time.Duration(rec.sent - intended))
		if status == 201 {
			s.Response.Record(time.Duration(rec.answered - rec.sent))
		}
	}
	if status != 201 {
		key := fmt.Sprint(status)
		msg := fmt.Sprintf("HTTP %d", status)
		if err != nil {
			key, msg = "transport", err.Error()
		}
		s.mu.Lock()
		if _, ok := s.errSamples[key]; !ok {
			s.errSamples[key] = msg
		}
		s.mu.Unlock()
	}
}

// localExpected is how many of this process's connections belong to conversation k's members.
func (b *Bench) localExpected(share func(int) bool) []int32 {
	l := b.layout
	per := make([]int32, len(l.connsOf))
	for c, u := range l.connUser {
		if share(c) {
			per[u]++
		}
	}
	out := make([]int32, len(l.convIDs))
	for k := range l.convIDs {
		for j := range b.cfg.ConvSize {
			out[k] += per[memberOf(k, j, b.cfg.ConvSize, b.cfg.Users)]
		}
	}
	return out
}

// drain waits until every accepted message has reached all of this process's connections of its
// conversation, or until timeout.
func (b *Bench) drain(timeout time.Duration, expected []int32) bool {
	deadline := time.Now().Add(timeout)
	from := int64(0)
	for {
		n := b.senders.count.Load()
		for ; from < n; from++ {
			rec := b.senders.recs.Peek(from)
			if rec == nil || atomic.LoadInt32(&rec.status) != 201 {
				continue
			}
			a := b.recv.arrivals.Peek(from)
			if a == nil || a.count.Load() < expected[rec.conv] {
				break
			}
		}
		if from >= n {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
