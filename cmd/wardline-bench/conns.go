package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Receivers is what every WebSocket connection of this process saw.
type Receivers struct {
	run      string // the run id in the bodies of this run's messages
	start    atomic.Int64
	end      atomic.Int64 // the measured window; end is 0 until known
	arrivals chunked[arrival]

	FromIntended Histogram // per frame: arrival − intended send time
	FromSent     Histogram // per frame: arrival − actual send time

	Frames, Created, Receipts, ConvUpdates, Other atomic.Int64
	Duplicates, Gaps, Late, Foreign, Replayed     atomic.Int64

	Open, Dropped, Reconnects, DialErrors atomic.Int64
	mu                                    sync.Mutex
	DropReasons                           map[string]int
}

func newReceivers(run string) *Receivers {
	r := &Receivers{run: run, DropReasons: map[string]int{}}
	r.end.Store(math.MaxInt64)
	return r
}

func (r *Receivers) drop(reason string) {
	r.Dropped.Add(1)
	r.mu.Lock()
	r.DropReasons[reason]++
	r.mu.Unlock()
}

// Conn is one WebSocket connection of one bench user; it reconnects with resume when dropped.
type Conn struct {
	b       *Bench
	user    int
	url     string
	lastSeq map[int32]int64 // per conversation of the layout: the last seq seen
	// missing holds, per conversation, the seqs skipped over: events from several nodes may
	// arrive out of seq order, and one that comes late is a delivery, not a duplicate.
	missing map[int32]map[int64]struct{}
	open    bool

	// With --send ws the user's messages go out on this connection: ws while a session is
	// established, and the sends waiting for their answers by client_id.
	smu     sync.Mutex
	ws      *streamConn
	waiters map[string]chan frameInfo
}

// errNotConnected is a send on the stream of a connection that is not established.
var errNotConnected = errors.New("stream not connected")

// setStream records the established stream (or its end: nil), failing the sends still waiting
// on the one that ended.
func (c *Conn) setStream(ws *streamConn) {
	c.smu.Lock()
	defer c.smu.Unlock()
	c.ws = ws
	if ws == nil {
		for id, ch := range c.waiters {
			ch <- frameInfo{typ: "send.error", code: "stream closed"}
			delete(c.waiters, id)
		}
	}
}

// sendOnStream sends one message on the stream and waits for its answer: the status the POST
// would have given (201, 200) or 0 with the error code.
func (c *Conn) sendOnStream(ctx context.Context, frame []byte, clientID string) (int, string, error) {
	ch := make(chan frameInfo, 1)
	c.smu.Lock()
	ws := c.ws
	if ws == nil {
		c.smu.Unlock()
		return 0, "", errNotConnected
	}
	if c.waiters == nil {
		c.waiters = map[string]chan frameInfo{}
	}
	c.waiters[clientID] = ch
	c.smu.Unlock()
	if err := ws.write(frame); err != nil {
		c.smu.Lock()
		delete(c.waiters, clientID)
		c.smu.Unlock()
		return 0, "", err
	}
	select {
	case f := <-ch:
		return f.status, f.code, nil
	case <-ctx.Done():
		c.smu.Lock()
		delete(c.waiters, clientID)
		c.smu.Unlock()
		return 0, "", ctx.Err()
	}
}

// answered hands a send.result or send.error to the send waiting for it.
func (c *Conn) answered(f *frameInfo) {
	c.smu.Lock()
	ch := c.waiters[f.clientID]
	delete(c.waiters, f.clientID)
	c.smu.Unlock()
	if ch != nil {
		ch <- *f
	}
}

// dropReason names why a stream ended, for the report.
func dropReason(err error) string {
	if s := closeStatus(err); s != -1 {
		return fmt.Sprintf("close %d", int(s))
	}
	msg := err.Error()
	for _, known := range []string{"EOF", "connection reset", "i/o timeout", "broken pipe", "refused"} {
		if strings.Contains(msg, known) {
			return known
		}
	}
	return "other"
}

// run keeps the connection open until ctx ends. ready is called once: when the first session is
// established (nil) or when it could not be (the error).
func (c *Conn) run(ctx context.Context, dialSem chan struct{}, ready func(error)) {
	r := c.b.recv
	first := true
	failures := 0
	for ctx.Err() == nil {
		err := c.session(ctx, dialSem, func() {
			if first {
				ready(nil)
				first = false
			} else {
				r.Reconnects.Add(1) // resumed after a drop
			}
			failures = 0
		})
		if ctx.Err() != nil {
			break
		}
		if c.open {
			c.open = false
			r.Open.Add(-1)
			r.drop(dropReason(err))
		} else {
			r.DialErrors.Add(1)
			failures++
			if first && failures >= 5 {
				ready(err)
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(min(failures+1, 10)) * 200 * time.Millisecond):
		}
	}
	if c.open {
		r.Open.Add(-1)
	}
}

// session dials, waits for hello, resumes and reads until the stream ends.
func (c *Conn) session(ctx context.Context, dialSem chan struct{}, established func()) error {
	select {
	case dialSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	released := false
	release := func() {
		if !released {
			released = true
			<-dialSem
		}
	}
	defer release()
	b := c.b
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, err := dialStream(dctx, c.url+"/api/v1/events?receipts="+url.QueryEscape(b.cfg.Receipts), b.state.Users[c.user].Token, b.cfg.Insecure)
	if err != nil {
		return err
	}
	defer ws.Close()
	// Until resumed, dctx bounds the session too; afterwards ctx alone does.
	stopDial := context.AfterFunc(dctx, func() { ws.Close() })
	data, err := ws.read()
	if err != nil {
		return err
	}
	if f := parseFrame(data); f.typ != "hello" {
		return fmt.Errorf("first frame was %q, not hello", f.typ)
	}
	// Resume right away: nothing is replayed for conversations at their cursor, and live events
	// flow as soon as resume.done is sent instead of after the server's resume wait.
	cursors := map[string]int64{}
	for _, id := range b.layout.cursorConvs[c.user] {
		cursors[id] = math.MaxInt64
	}
	for ci, seq := range c.lastSeq {
		cursors[b.layout.convIDs[ci]] = seq
	}
	msg, _ := json.Marshal(map[string]any{"type": "resume", "cursors": cursors})
	if err := ws.write(msg); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	resumed := false
	for {
		data, err := ws.read()
		if err != nil {
			return err
		}
		f := parseFrame(data)
		c.handle(&f, !resumed)
		if f.typ == "resume.done" && !resumed {
			resumed = true
			if !stopDial() {
				return context.DeadlineExceeded // the dial's 30 s ran out before resume.done
			}
			c.setStream(ws)
			defer c.setStream(nil)
			c.open = true
			b.recv.Open.Add(1)
			release()
			established()
		}
	}
}

// handle accounts for one frame.
func (c *Conn) handle(f *frameInfo, replay bool) {
	r := c.b.recv
	r.Frames.Add(1)
	switch f.typ {
	case "message.created":
	case "receipt":
		r.Receipts.Add(1)
		return
	case "receipts":
		r.Receipts.Add(f.receipts)
		return
	case "conversation.updated":
		r.ConvUpdates.Add(1)
		return
	case "send.result", "send.error":
		r.Other.Add(1)
		c.answered(f)
		return
	default:
		r.Other.Add(1)
		return
	}
	r.Created.Add(1)
	if replay {
		r.Replayed.Add(1)
	}
	ci, ok := c.b.layout.convIndex[f.conv]
	if !ok {
		r.Foreign.Add(1) // a conversation of another layout: not measured
		return
	}
	last := c.lastSeq[ci]
	switch {
	case f.seq <= last:
		if _, late := c.missing[ci][f.seq]; !late {
			r.Duplicates.Add(1)
			return
		}
		delete(c.missing[ci], f.seq)
		r.Late.Add(1)
	case f.seq > last+1:
		r.Gaps.Add(1)
		if c.b.cfg.LogGaps {
			logf("gap: conn user %d conv %d last %d got %d msgno %d", c.user, ci, last, f.seq, f.msgno)
		}
		if c.missing == nil {
			c.missing = map[int32]map[int64]struct{}{}
		}
		if c.missing[ci] == nil {
			c.missing[ci] = map[int64]struct{}{}
		}
		for s := last + 1; s < f.seq; s++ {
			c.missing[ci][s] = struct{}{}
		}
		c.lastSeq[ci] = f.seq
	default:
		c.lastSeq[ci] = f.seq
	}
	if f.run != r.run || f.msgno < 0 {
		return
	}
	now := time.Now().UnixNano()
	if a := r.arrivals.At(f.msgno); a != nil {
		a.add(now)
	}
	if f.intended >= r.start.Load() && f.intended < r.end.Load() {
		r.FromIntended.Record(time.Duration(now - f.intended))
		r.FromSent.Record(time.Duration(now - f.sent))
	}
}

// openConnections starts this process's share of the connections and waits until each is
// established or has failed.
func (b *Bench) openConnections(ctx context.Context, share func(c int) bool) (int, error) {
	dialSem := make(chan struct{}, b.cfg.DialConcurrency)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	var done atomic.Int64
	total := 0
	for c := range b.cfg.allConnections() {
		if share(c) {
			total++
		}
	}
	stop := progress("opening connections", &done, total)
	defer stop()
	for ci := range b.cfg.allConnections() {
		if !share(ci) {
			continue
		}
		user := b.layout.connUser[ci]
		conn := &Conn{b: b, user: user, url: b.cfg.URLs[ci%len(b.cfg.URLs)], lastSeq: map[int32]int64{}}
		if b.userConns[user] == nil {
			b.userConns[user] = conn
		}
		for _, k := range b.layout.convsOf[user] {
			conn.lastSeq[k] = b.layout.lastSeq[k]
		}
		wg.Add(1)
		var once sync.Once
		go conn.run(ctx, dialSem, func(err error) {
			once.Do(func() {
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				done.Add(1)
				wg.Done()
			})
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return total, fmt.Errorf("%d of %d connections could not be opened; first error: %v", n, total, firstErr.Load())
	}
	return total, nil
}
