// Package nats is the event bus of a cluster: events committed on one node reach the others over
// NATS (core NATS, at most once). The bus only wakes nodes up; what a node misses while NATS is
// away its clients recover by resume, and the node by a catch-up from the store (OnGap).
//
// Every node publishes to and subscribes to one subject and delivers to the recipients whose
// streams it holds. That is the simplest correct layout: no per-user subscriptions to keep in
// step with connections, and an event reaches a user wherever their devices are connected. Its
// cost is that every node receives every event (traffic grows with nodes × events), which suits
// the handful of nodes a region needs; per-user or per-shard subjects are the way past that.
//
// Events carry message text (message.created), so each is sealed with AES-256-GCM under a key
// derived from the master key (keyring.Transport) before it leaves the process: NATS and anyone
// on its network see only the node id and ciphertext. Sealing costs one AEAD per publish and one
// per receiving node, far less than the alternative of sending ids and having every node load and
// decrypt the message from the database.
package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"wardline"
)

// DefaultSubject is where events travel.
const DefaultSubject = "wardline.events"

// Sealer seals and opens events in transit (keyring.Transport).
type Sealer interface {
	Seal(aad, plaintext []byte) []byte
	Open(aad, sealed []byte) ([]byte, error)
}

// Options configure a Bus.
type Options struct {
	Subject string // DefaultSubject when empty
	Name    string // the connection's name as NATS shows it
	Sealer  Sealer // required
	// MaxAge drops events sealed longer ago than this (default 5 minutes): a recorded event
	// replayed onto the bus later is ignored.
	MaxAge time.Duration
	// OnGap is called (on its own goroutine) when this node may have missed events: after a
	// reconnect, or when it fell behind and NATS dropped some.
	OnGap func()
	// OnError counts failures (publish errors, undecodable events) for metrics.
	OnError func(err error)
	// OnReceive is told how long an event took from publish on another node to arrival here.
	OnReceive func(d time.Duration)
	Log       *slog.Logger
	// ReconnectWait between attempts (default 250 ms: a restarted NATS is back within a second).
	ReconnectWait time.Duration
}

// Bus is a wardline.EventBus over NATS.
type Bus struct {
	nc     *natsgo.Conn
	sub    *natsgo.Subscription
	opts   Options
	nodeID string

	mu     sync.RWMutex
	subs   map[int]func(*wardline.Event)
	nextID int
}

var _ wardline.EventBus = (*Bus)(nil)

// header names.
const (
	hdrOrigin = "Wardline-Origin"
)

// envelope is what is sealed: the event and when it was sent.
type envelope struct {
	SentAt time.Time       `json:"sent_at"`
	Event  *wardline.Event `json:"event"`
}

// Connect connects to the NATS server(s) at url (comma-separated for a cluster) and subscribes.
// The first connection must succeed; after that the client reconnects for ever.
func Connect(url string, opts Options) (*Bus, error) {
	if opts.Sealer == nil {
		return nil, errors.New("nats: a Sealer is required: events are never sent in clear")
	}
	if opts.Subject == "" {
		opts.Subject = DefaultSubject
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.ReconnectWait <= 0 {
		opts.ReconnectWait = 250 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{opts: opts, nodeID: wardline.NewID(), subs: map[int]func(*wardline.Event){}}
	gap := func() {
		if opts.OnGap != nil {
			go opts.OnGap()
		}
	}
	nc, err := natsgo.Connect(url,
		natsgo.Name(opts.Name),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(opts.ReconnectWait),
		natsgo.ReconnectJitter(50*time.Millisecond, 250*time.Millisecond),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil { // nil: our own Close
				opts.Log.Warn("nats disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(*natsgo.Conn) {
			opts.Log.Info("nats reconnected")
			gap()
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			b.fail(fmt.Errorf("nats: %w", err))
			if errors.Is(err, natsgo.ErrSlowConsumer) {
				gap()
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("nats: connect: %w", err)
	}
	b.nc = nc
	// A generous pending limit: the hub's dispatch only queues, so falling behind means a burst.
	if b.sub, err = nc.Subscribe(opts.Subject, b.receive); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: subscribe: %w", err)
	}
	_ = b.sub.SetPendingLimits(1<<20, 256<<20)
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	return b, nil
}

func (b *Bus) fail(err error) {
	if b.opts.OnError != nil {
		b.opts.OnError(err)
	}
}

// Publish delivers e to this node's subscribers at once, then sends it, sealed, to the others.
// Called from commit hooks in commit order, so this node's events leave in that order.
func (b *Bus) Publish(ctx context.Context, e *wardline.Event) error {
	now := time.Now().UTC()
	if e.PublishedAt.IsZero() {
		e.PublishedAt = now
	}
	b.deliver(e)
	plain, err := json.Marshal(envelope{SentAt: now, Event: e})
	if err != nil {
		b.fail(err)
		return err
	}
	msg := natsgo.NewMsg(b.opts.Subject)
	msg.Header.Set(hdrOrigin, b.nodeID)
	msg.Data = b.opts.Sealer.Seal([]byte(b.opts.Subject), plain)
	// While disconnected the client buffers what is published (8 MiB) and sends it on reconnect.
	if err := b.nc.PublishMsg(msg); err != nil {
		err = fmt.Errorf("nats: publish: %w", err)
		b.fail(err)
		return err
	}
	return nil
}

func (b *Bus) receive(msg *natsgo.Msg) {
	if msg.Header.Get(hdrOrigin) == b.nodeID {
		return // delivered locally when published
	}
	plain, err := b.opts.Sealer.Open([]byte(b.opts.Subject), msg.Data)
	if err != nil {
		b.fail(fmt.Errorf("nats: open event: %w", err))
		b.opts.Log.Warn("dropped an event that does not open under this node's master key", "err", err)
		return
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil || env.Event == nil {
		b.fail(fmt.Errorf("nats: decode event: %v", err))
		return
	}
	age := time.Since(env.SentAt)
	if age > b.opts.MaxAge {
		b.fail(errors.New("nats: event too old"))
		return
	}
	if b.opts.OnReceive != nil {
		b.opts.OnReceive(age)
	}
	env.Event.PublishedAt = env.SentAt
	b.deliver(env.Event)
}

func (b *Bus) deliver(e *wardline.Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(e)
	}
}

// Subscribe registers fn for every event, from this node and the others, until the returned
// function is called. fn must not block: it runs on the NATS delivery goroutine.
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

// Ping reports whether the NATS server answers (a round trip), for /readyz.
func (b *Bus) Ping(ctx context.Context) error {
	if !b.nc.IsConnected() {
		return fmt.Errorf("nats: %s", b.nc.Status())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	return b.nc.FlushWithContext(ctx)
}

// Close sends what is buffered and disconnects.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.subs = map[int]func(*wardline.Event){}
	b.mu.Unlock()
	_ = b.nc.Drain()
	deadline := time.Now().Add(5 * time.Second)
	for !b.nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	b.nc.Close()
	return nil
}

// NodeID is this bus's random id, carried by every event it sends.
func (b *Bus) NodeID() string { return b.nodeID }
