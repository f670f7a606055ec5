package http

import (
	"context"
	"slices"
	"time"

	"wardline"
)

// Interest: a bus that carries to each node only what it asks for (NATS, a subject per
// conversation and per user; wardline.BusInterest) needs the hub to ask. The hub wants a user's
// subject while it holds a stream of theirs, and the subjects of their conversations: read from
// the store when their first stream opens, added when a conversation.updated says they joined
// one (those reach every node), dropped when it says they left, and topped up by every catch-up
// sweep. A subscription is in force only once the NATS server has it, so whenever one is new the
// streams it serves are caught up from the store after it is (catchUpSoon): nothing published
// between the read and the subscription is missed.

// userInterest is what the hub asked the bus for on behalf of one user's streams.
type userInterest struct {
	release func()
	convs   map[string]func() // conversation → release
}

// busInterest finds the interest side of the bus, through any wrappers.
func busInterest(b wardline.EventBus) wardline.BusInterest {
	for {
		if i, ok := b.(wardline.BusInterest); ok {
			return i
		}
		u, ok := b.(interface{ Unwrap() wardline.EventBus })
		if !ok {
			return nil
		}
		b = u.Unwrap()
	}
}

// wantUser starts a user's interest when their first stream here opens. Called under h.mu.
func (h *Hub) wantUser(uid string) {
	h.imu.Lock()
	defer h.imu.Unlock()
	if h.interests[uid] == nil {
		h.interests[uid] = &userInterest{release: h.want.WantUser(uid), convs: map[string]func(){}}
	}
}

// dropUser ends it when their last stream here closes. Called under h.mu.
func (h *Hub) dropUser(uid string) {
	h.imu.Lock()
	ui := h.interests[uid]
	delete(h.interests, uid)
	h.imu.Unlock()
	if ui == nil {
		return
	}
	ui.release()
	for _, release := range ui.convs {
		release()
	}
}

// wantConversations adds conversations to a user's interest and reports whether any
// subscription is new (so that events published before it is in force may have been missed).
func (h *Hub) wantConversations(uid string, convs map[string]int64) (fresh bool) {
	h.imu.Lock()
	defer h.imu.Unlock()
	ui := h.interests[uid]
	if ui == nil {
		return false // their streams closed meanwhile
	}
	for id := range convs {
		if _, ok := ui.convs[id]; ok {
			continue
		}
		release, f := h.want.WantConversation(id)
		ui.convs[id] = release
		fresh = fresh || f
	}
	return fresh
}

// membershipChanged keeps the interest of the users named by a conversation.updated in step:
// a member here wants the conversation, someone who left it does not. It must not block (it
// runs in dispatch): catching up a newly wanted conversation is left to a goroutine.
func (h *Hub) membershipChanged(e *wardline.Event) {
	conv := e.Conversation
	h.imu.Lock()
	defer h.imu.Unlock()
	for _, uid := range e.Recipients {
		ui := h.interests[uid]
		if ui == nil {
			continue
		}
		member := slices.ContainsFunc(conv.Members, func(m *wardline.Member) bool { return m.UserID == uid })
		release, wanted := ui.convs[conv.ID]
		switch {
		case member && !wanted:
			release, fresh := h.want.WantConversation(conv.ID)
			ui.convs[conv.ID] = release
			if fresh {
				go h.joined(uid, conv.ID, conv.LastSeq)
			}
		case !member && wanted:
			delete(ui.convs, conv.ID)
			release()
		}
	}
}

// joined catches up a user's streams here on a conversation they joined, from the seq it stood
// at when they joined, once this node's subscription to it is in force.
func (h *Hub) joined(uid, conv string, joinedAt int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := h.want.Synced(ctx)
	cancel()
	if err != nil {
		return // NATS is away: its reconnect reports a gap, and the sweep catches up
	}
	h.mu.RLock()
	conns := make([]*wsConn, 0, len(h.byUser[uid]))
	for c := range h.byUser[uid] {
		conns = append(conns, c)
	}
	h.mu.RUnlock()
	for _, c := range conns {
		c.mu.Lock()
		if c.base != nil {
			if _, ok := c.base[conv]; !ok {
				c.base[conv] = joinedAt
			}
		}
		c.mu.Unlock()
		go h.catchUpSoon(c)
	}
}

// catchUpSoon catches c up from the store as soon as it is not replaying or writing: a few
// tries a tenth of a second apart, then it is the periodic sweep's.
func (h *Hub) catchUpSoon(c *wsConn) {
	var seqs map[string]int64
	var err error
	for try := range 20 {
		if try > 0 {
			select {
			case <-c.ctx.Done():
				return
			case <-h.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		if seqs == nil { // read once, after the subscription took effect; a retry reuses it
			if seqs, err = h.s.store.Memberships(ctx, c.actor.User.ID); err != nil {
				seqs = nil
			}
		}
		done := seqs != nil && h.catchUpConn(ctx, c, seqs)
		cancel()
		if done {
			return
		}
	}
}
