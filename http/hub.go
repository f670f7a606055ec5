package http

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"wardline"
)

// Hub holds this node's event streams by user and delivers bus events to them. Each event is
// encoded once, however many streams receive it.
type Hub struct {
	s       *Server
	opts    WSOptions
	origins []string

	mu     sync.RWMutex
	byUser map[string]map[*wsConn]struct{}
	closed bool
	count  atomic.Int64

	// want is the bus's interest side when it routes by subject (NATS), else nil; imu guards
	// interests, what was asked for per user with streams here (interest.go). Lock order: mu, imu.
	want      wardline.BusInterest
	imu       sync.Mutex
	interests map[string]*userInterest

	unsubscribe func()
	stop        chan struct{}
	done        chan struct{}
	catchUpKick chan struct{} // nil when catch-up is off (one node)
}

func newHub(s *Server, opts WSOptions, origins []string) *Hub {
	h := &Hub{s: s, opts: opts.withDefaults(), origins: origins, byUser: map[string]map[*wsConn]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{}), want: busInterest(s.bus), interests: map[string]*userInterest{}}
	h.unsubscribe = s.bus.Subscribe(h.dispatch)
	go h.maintain()
	if h.opts.CatchUpInterval > 0 {
		h.catchUpKick = make(chan struct{}, 1)
		go h.catchUpLoop()
	}
	return h
}

// Connections returns how many streams are open on this node.
func (h *Hub) Connections() int64 { return h.count.Load() }

func (h *Hub) register(c *wsConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	set := h.byUser[c.actor.User.ID]
	if set == nil {
		set = map[*wsConn]struct{}{}
		h.byUser[c.actor.User.ID] = set
		if h.want != nil {
			h.wantUser(c.actor.User.ID)
		}
	}
	set[c] = struct{}{}
	h.count.Add(1)
	if h.catchUpKick != nil || h.want != nil {
		go h.baseline(c)
	}
	return true
}

func (h *Hub) unregister(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.byUser[c.actor.User.ID]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(h.byUser, c.actor.User.ID)
		if h.want != nil {
			h.dropUser(c.actor.User.ID)
		}
	}
	h.count.Add(-1)
}

// dispatch is the bus subscriber: it must not block, so it only queues frames.
func (h *Hub) dispatch(e *wardline.Event) {
	switch e.Type {
	case wardline.EventSessionRevoked:
		h.revoke(e)
		return
	case wardline.EventSessionLocked, wardline.EventSessionUnlocked:
		h.lock(e, e.Type == wardline.EventSessionLocked)
		return
	case wardline.EventConversationUpdated:
		if h.want != nil && e.Conversation != nil {
			h.membershipChanged(e)
		}
	case wardline.EventReceipts:
		h.dispatchReceipts(e)
		return
	}
	now := time.Now()
	// Off-duty recipients get the same frame marked "silent" (their clients show it without an
	// alert); each variant is encoded once, and only if someone here receives it.
	var data, quiet []byte
	var silentSet map[string]bool
	if len(e.Silent) > 8 {
		silentSet = make(map[string]bool, len(e.Silent))
		for _, id := range e.Silent {
			silentSet[id] = true
		}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, uid := range e.Recipients {
		silent := silentSet[uid] || (silentSet == nil && len(e.Silent) > 0 && e.SilentFor(uid))
		for c := range h.byUser[uid] {
			var err error
			if silent && quiet == nil {
				quiet, err = e.SilentClientFrame()
			} else if !silent && data == nil {
				data, err = e.ClientFrame()
			}
			if err != nil {
				h.s.log.Error("encode event", "type", e.Type, "err", err)
				return
			}
			f := frame{data: data, queued: now}
			if silent {
				f.data = quiet
			}
			if e.Type == wardline.EventMessageCreated {
				f.ev, f.recipients = e, e.Recipients
			}
			c.enqueue(f)
		}
	}
}

// dispatchReceipts queues one flush's delivered receipts of a conversation: one frame to the
// streams that asked for them batched, one `receipt` frame per receipt to the others.
func (h *Hub) dispatchReceipts(e *wardline.Event) {
	now := time.Now()
	var batched []byte
	var single [][]byte
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, uid := range e.Recipients {
		for c := range h.byUser[uid] {
			var err error
			switch {
			case c.batchReceipts && batched == nil:
				batched, err = e.ClientFrame()
			case !c.batchReceipts && single == nil:
				single, err = e.ReceiptFrames()
			}
			if err != nil {
				h.s.log.Error("encode event", "type", e.Type, "err", err)
				return
			}
			if c.batchReceipts {
				c.enqueue(frame{data: batched, queued: now})
				continue
			}
			for _, data := range single {
				c.enqueue(frame{data: data, queued: now})
			}
		}
	}
}

func (h *Hub) revoke(e *wardline.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, uid := range e.Recipients {
		for c := range h.byUser[uid] {
			if len(e.SessionIDs) == 0 || contains(e.SessionIDs, c.actor.Session.ID) {
				c.revoke()
			}
		}
	}
}

// lock tells the streams of the sessions named that they locked or unlocked.
func (h *Hub) lock(e *wardline.Event, locked bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, uid := range e.Recipients {
		for c := range h.byUser[uid] {
			if contains(e.SessionIDs, c.actor.Session.ID) {
				c.setLocked(locked, true)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// maintain pings idle connections and re-checks sessions, so that a stream ends when its session
// expires even if nobody revoked it.
func (h *Hub) maintain() {
	defer close(h.done)
	tick := min(h.opts.PingInterval, h.opts.CheckInterval) / 2
	t := time.NewTicker(tick)
	defer t.Stop()
	lastCheck := time.Now()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			check := now.Sub(lastCheck) >= h.opts.CheckInterval
			if check {
				lastCheck = now
			}
			for _, c := range h.snapshot() {
				if now.Sub(time.Unix(0, c.lastWrite.Load())) >= h.opts.PingInterval {
					c.lastWrite.Store(now.UnixNano())
					go c.ping(h.opts.WriteTimeout)
				}
				if check && c.checking.CompareAndSwap(false, true) {
					go h.checkSession(c)
				}
			}
		}
	}
}

func (h *Hub) checkSession(c *wsConn) {
	defer c.checking.Store(false)
	live, locked, err := h.s.app.Auth.SessionState(c.ctx, c.actor.Session.ID)
	if err != nil {
		return // the store is unavailable: try again next time rather than cut everyone off
	}
	if !live {
		c.revoke()
		return
	}
	c.setLocked(locked, true) // in case a lock or unlock event was missed

}

func (h *Hub) snapshot() []*wsConn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*wsConn, 0, h.count.Load())
	for _, set := range h.byUser {
		for c := range set {
			out = append(out, c)
		}
	}
	return out
}

// Close closes every stream with "going away" (clients reconnect, to another node if there is one)
// and stops listening to the bus.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	h.unsubscribe()
	close(h.stop)
	<-h.done
	// Each stream gets a close frame; a client that does not answer within half a second is
	// left to the library's own timeout rather than holding up the shutdown.
	var wg sync.WaitGroup
	for _, c := range h.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
			done := make(chan struct{})
			go func() {
				_ = c.ws.Close(websocket.StatusGoingAway, "server shutting down")
				c.cancel()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(500 * time.Millisecond):
			}
		}()
	}
	wg.Wait()
}
