package http

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"wardline"
)

// Catch-up: on several nodes the bus is at most once (NATS drops what a disconnected node misses),
// so each hub compares the conversations of the users it holds with what their streams were sent,
// and sends what is missing from the store. A client that reconnects is covered by resume anyway;
// this is for the streams that stayed open while their node lost bus messages.

// CatchUp asks for a catch-up sweep now (the bus reported a gap); it never blocks.
func (h *Hub) CatchUp() {
	if h.catchUpKick == nil {
		return
	}
	select {
	case h.catchUpKick <- struct{}{}:
	default:
	}
}

func (h *Hub) catchUpLoop() {
	t := time.NewTicker(h.opts.CatchUpInterval)
	defer t.Stop()
	// After a gap the sweep runs at once and again a little later, for events that other nodes
	// buffered while they too were cut off and sent on their own reconnect.
	again := time.NewTimer(time.Hour)
	again.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		case <-again.C:
		case <-h.catchUpKick:
			again.Reset(2 * time.Second)
		}
		h.sweep()
	}
}

// baseline records where each of the user's conversations stood when c opened: messages after
// that are c's to receive, live or by catch-up. With a bus that routes by subject it also asks
// for those conversations, and if that took a new subscription, catches c up once it is in force.
func (h *Hub) baseline(c *wsConn) {
	seqs, err := h.s.store.Memberships(c.ctx, c.actor.User.ID)
	if err != nil {
		return // the first sweep sets it instead
	}
	fresh := h.want != nil && h.wantConversations(c.actor.User.ID, seqs)
	if fresh {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		err := h.want.Synced(ctx)
		cancel()
		if err != nil {
			fresh = false // NATS is away: its reconnect reports a gap, and the sweep catches up
		}
	}
	c.mu.Lock()
	if c.base == nil {
		c.base = seqs
	}
	c.mu.Unlock()
	if fresh {
		h.catchUpSoon(c)
	}
}

func (h *Hub) sweep() {
	byUser := map[string][]*wsConn{}
	for _, c := range h.snapshot() {
		byUser[c.actor.User.ID] = append(byUser[c.actor.User.ID], c)
	}
	for user, conns := range byUser {
		select {
		case <-h.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(conns[0].ctx, 10*time.Second)
		seqs, err := h.s.store.Memberships(ctx, user)
		if err == nil && h.want != nil && h.wantConversations(user, seqs) {
			// A conversation joined while its conversation.updated was lost: read again once the
			// new subscription is in force.
			if err = h.want.Synced(ctx); err == nil {
				seqs, err = h.s.store.Memberships(ctx, user)
			}
		}
		if err == nil {
			for _, c := range conns {
				h.catchUpConn(ctx, c, seqs)
			}
		}
		cancel()
	}
}

// catchUpConn sends c what it should have had of each conversation up to seqs, and reports
// whether it could. A stream that is replaying (resume) or writing is skipped this time (false):
// the replay covers it, or the next try does.
func (h *Hub) catchUpConn(ctx context.Context, c *wsConn, seqs map[string]int64) bool {
	c.mu.Lock()
	if c.closed || c.holding {
		closed := c.closed
		c.mu.Unlock()
		return closed
	}
	if c.base == nil {
		c.base = seqs // opened before its baseline was read: from now on
		c.mu.Unlock()
		return true
	}
	base := make(map[string]int64, len(c.base))
	for k, v := range c.base {
		base[k] = v
	}
	c.mu.Unlock()
	if !c.wmu.TryLock() {
		return false
	}
	behind := map[string]int64{}
	var joined map[string]int64
	for conv, last := range seqs {
		hw, known := base[conv]
		if w := c.sent[conv]; w != nil && w.overflow {
			// Too many holes to track: the client recovers them with resume.
			c.wmu.Unlock()
			c.close(websocket.StatusTryAgainLater, "missed too many events; reconnect and resume")
			return true
		} else if w != nil {
			// A hole below the newest seq sent is an event lost while later ones arrived.
			if gap := w.firstGap(hw); gap > 0 {
				hw = gap - 1
			} else {
				hw = max(hw, w.max)
			}
			known = true
		}
		if !known {
			// Joined since the stream opened: its history is not pushed, only what comes next.
			if joined == nil {
				joined = map[string]int64{}
			}
			joined[conv] = last
			continue
		}
		if last > hw {
			behind[conv] = hw
		}
	}
	c.wmu.Unlock()
	if joined != nil {
		c.mu.Lock()
		for conv, last := range joined {
			if _, ok := c.base[conv]; !ok {
				c.base[conv] = last
			}
		}
		c.mu.Unlock()
	}
	for conv, after := range behind {
		msgs, recipients, err := h.s.app.Messages.CatchUp(ctx, conv, after, 0)
		if err != nil {
			continue
		}
		for _, m := range msgs {
			ev := &wardline.Event{Type: wardline.EventMessageCreated, Message: m, Recipients: recipients}
			data, err := ev.ClientFrame()
			if err != nil {
				continue
			}
			h.s.metrics.catchUps.Inc()
			c.enqueue(frame{data: data, ev: ev, recipients: recipients})
		}
	}
	return true
}
