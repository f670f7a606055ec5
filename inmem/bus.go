// Package inmem is the event bus of a single node: events published after commit go straight to
// this process's subscribers.
package inmem

import (
	"context"
	"sync"

	"wardline"
)

// Bus is an in-process wardline.EventBus.
type Bus struct {
	mu     sync.RWMutex
	subs   map[int]func(*wardline.Event)
	nextID int
}

var _ wardline.EventBus = (*Bus)(nil)

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[int]func(*wardline.Event){}} }

// Publish calls every subscriber with e, in the caller's goroutine. Subscribers must not block:
// the hub only queues frames for its connections' writers.
func (b *Bus) Publish(_ context.Context, e *wardline.Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(e)
	}
	return nil
}

// Subscribe registers fn until the returned function is called.
func (b *Bus) Subscribe(fn func(*wardline.Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextID
	b.nextID++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// Ping always answers: the bus is this process.
func (b *Bus) Ping(context.Context) error { return nil }

// Close drops every subscriber.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = map[int]func(*wardline.Event){}
	return nil
}
