package app

import (
	"context"
	"sync"
	"time"

	"wardline"
)

// convCacheTTL bounds how stale a conversation snapshot may be. Only the send path reads it, and
// only for what may be a little stale: the caller's right to try (checked again in the
// transaction) and the members' duty settings (who is alerted). Recipients always come from the
// transaction.
const convCacheTTL = 3 * time.Second

// convCache keeps recent snapshots of conversations with their members, so that a busy
// conversation is not read from the store on every message. Changes published as
// conversation.updated (on any node) drop the snapshot at once.
type convCache struct {
	mu      sync.RWMutex
	entries map[string]convEntry
}

type convEntry struct {
	c  *wardline.Conversation
	at time.Time
}

func newConvCache() *convCache { return &convCache{entries: map[string]convEntry{}} }

// member is deps.member through the cache. A snapshot in which the caller is not a member is
// never trusted: the store is asked, so someone just added is not refused.
func (cc *convCache) member(ctx context.Context, d *deps, a *wardline.Actor, convID string) (*wardline.Conversation, error) {
	now := d.now()
	cc.mu.RLock()
	e, ok := cc.entries[convID]
	cc.mu.RUnlock()
	if ok && now.Sub(e.at) < convCacheTTL && e.c.OrgID == a.User.OrgID && e.c.MemberRole(a.User.ID) != "" {
		return e.c, nil
	}
	c, err := d.member(ctx, d.store, a, convID)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if len(cc.entries) > 10000 {
		clear(cc.entries) // a crude bound; busy conversations come straight back
	}
	cc.entries[convID] = convEntry{c: c, at: now}
	cc.mu.Unlock()
	return c, nil
}

// forget drops a conversation's snapshot.
func (cc *convCache) forget(convID string) {
	cc.mu.Lock()
	delete(cc.entries, convID)
	cc.mu.Unlock()
}

// clear drops every snapshot.
func (cc *convCache) clear() {
	cc.mu.Lock()
	clear(cc.entries)
	cc.mu.Unlock()
}
