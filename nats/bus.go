// Package nats is the event bus of a cluster: events committed on one node reach the others over
// NATS (core NATS, at most once). The bus only wakes nodes up; what a node misses while NATS is
// away its clients recover by resume, and the node by a catch-up from the store (OnGap).
//
// Events travel on subjects under a prefix (Options.Subject, default "wardline.events"), so that
// a node receives only what the streams it holds need:
//
//	<prefix>.c.<conversation>  a conversation's messages, edits and receipts: one publish,
//	                           whatever the number of members
//	<prefix>.u.<user>          a person's own events (sessions revoked or locked, alerts,
//	                           escalations), one copy per recipient
//	<prefix>.all               what every node needs: conversation changes (the send path
//	                           caches memberships), key shredding, duty changes
//
// A conversation or user is named in its subject by an HMAC of its id under a key derived from
// the master key (Sealer.Name), so NATS and anyone watching it see which subjects are busy but
// not whose or which conversation's they are.
//
// A node subscribes to .all at once, and to a user's and their conversations' subjects while it
// holds a stream of theirs (wardline.BusInterest; the hub keeps them in step with streams and
// memberships). Message traffic therefore grows with the nodes that hold a member of each
// conversation, not with every node, and a conversation nobody on a node belongs to costs that
// node nothing. Every subscription delivers into one channel read by one goroutine: a node with
// tens of thousands of subscriptions holds no goroutine per subscription.
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
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"wardline"
)

// DefaultSubject is the prefix of the subjects events travel on.
const DefaultSubject = "wardline.events"

// The subjects under the prefix.
const (
	conversationSubject = ".c."
	userSubject         = ".u."
	allSubject          = ".all"
)

// inbox is how many received messages wait for the reader; NATS drops what overflows it and
// reports a slow consumer, which is a gap (OnGap).
const inbox = 1 << 16

// Sealer seals and opens events in transit, and names subjects (keyring.Transport).
type Sealer interface {
	Seal(aad, plaintext []byte) []byte
	Open(aad, sealed []byte) ([]byte, error)
	// Name maps an id to an opaque subject token, the same on every node.
	Name(data []byte) string
}

// Options configure a Bus.
type Options struct {
	Subject string // the subjects' prefix; DefaultSubject when empty
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
	msgs   chan *natsgo.Msg // every subscription's messages, for the one reader
	quit   chan struct{}
	done   chan struct{}
	opts   Options
	nodeID string

	mu     sync.RWMutex
	subs   map[int]func(*wardline.Event)
	nextID int

	wmu    sync.Mutex
	wanted map[string]*want // by subject
}

// want is one subject this node subscribes to, and how many asked for it.
type want struct {
	sub *natsgo.Subscription
	n   int
}

var (
	_ wardline.EventBus    = (*Bus)(nil)
	_ wardline.BusInterest = (*Bus)(nil)
)

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
	b := &Bus{opts: opts, nodeID: wardline.NewID(), subs: map[int]func(*wardline.Event){}, wanted: map[string]*want{},
		msgs: make(chan *natsgo.Msg, inbox), quit: make(chan struct{}), done: make(chan struct{})}
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
	if _, err = nc.ChanSubscribe(opts.Subject+allSubject, b.msgs); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: subscribe: %w", err)
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	go b.read()
	return b, nil
}

// read hands every received message to receive, one at a time, in arrival order.
func (b *Bus) read() {
	defer close(b.done)
	for {
		select {
		case msg := <-b.msgs:
			b.receive(msg)
		case <-b.quit:
			return
		}
	}
}

// token reports whether id can be one token of a subject (ids are UUIDs; this guards the rest).
func token(id string) bool {
	return id != "" && !strings.ContainsAny(id, ".*> \t\r\n")
}

// conversationOf is the conversation whose subject carries e, or "" if e is not a
// conversation's message, edit or receipt.
func conversationOf(e *wardline.Event) string {
	id := ""
	switch e.Type {
	case wardline.EventMessageCreated, wardline.EventMessageUpdated:
		if e.Message != nil {
			id = e.Message.ConversationID
		}
	case wardline.EventReceipt:
		if e.Receipt != nil {
			id = e.Receipt.ConversationID
		}
	case wardline.EventReceipts:
		if len(e.Receipts) > 0 {
			id = e.Receipts[0].ConversationID
		}
	}
	if !token(id) {
		return ""
	}
	return id
}

// personal reports whether e goes to its recipients' own subjects, one copy each.
func personal(e *wardline.Event) bool {
	switch e.Type {
	case wardline.EventSessionRevoked, wardline.EventSessionLocked, wardline.EventSessionUnlocked,
		wardline.EventAlert, wardline.EventEscalation:
		for _, id := range e.Recipients {
			if !token(id) {
				return false
			}
		}
		return len(e.Recipients) > 0
	}
	return false
}

// WantConversation subscribes this node to a conversation's subject until release.
func (b *Bus) WantConversation(id string) (release func(), fresh bool) {
	if !token(id) {
		return func() {}, false
	}
	return b.want(b.ConversationSubject(id))
}

// ConversationSubject is the subject a conversation's events travel on: its id is named
// (Sealer.Name), so that NATS sees no ids.
func (b *Bus) ConversationSubject(id string) string {
	return b.opts.Subject + conversationSubject + b.opts.Sealer.Name([]byte("conversation:"+id))
}

// UserSubject is the subject of a person's own events.
func (b *Bus) UserSubject(id string) string {
	return b.opts.Subject + userSubject + b.opts.Sealer.Name([]byte("user:"+id))
}

// WantUser subscribes this node to a person's subject until release.
func (b *Bus) WantUser(id string) (release func()) {
	if !token(id) {
		return func() {}
	}
	release, _ = b.want(b.UserSubject(id))
	return release
}

// Synced returns once the NATS server has every subscription made so far (a round trip).
func (b *Bus) Synced(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	return b.nc.FlushWithContext(ctx)
}

func (b *Bus) want(subj string) (release func(), fresh bool) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	w := b.wanted[subj]
	if w == nil {
		sub, err := b.nc.ChanSubscribe(subj, b.msgs)
		if err != nil { // closed: nothing more will arrive anyway
			b.fail(fmt.Errorf("nats: subscribe: %w", err))
			return func() {}, true
		}
		w, fresh = &want{sub: sub}, true
		b.wanted[subj] = w
	}
	w.n++
	var once sync.Once
	return func() { once.Do(func() { b.unwant(subj) }) }, fresh
}

func (b *Bus) unwant(subj string) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	w := b.wanted[subj]
	if w == nil {
		return
	}
	if w.n--; w.n == 0 {
		delete(b.wanted, subj)
		_ = w.sub.Unsubscribe()
	}
}

// Subscriptions returns how many user and conversation subjects this node subscribes to.
func (b *Bus) Subscriptions() int {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return len(b.wanted)
}

func (b *Bus) fail(err error) {
	if b.opts.OnError != nil {
		b.opts.OnError(err)
	}
}

// Publish delivers e to this node's subscribers at once, then sends it, sealed, to the nodes
// that want it: on its conversation's subject, on each recipient's, or to every node.
// Called from commit hooks in commit order, so this node's events leave in that order.
func (b *Bus) Publish(ctx context.Context, e *wardline.Event) error {
	now := time.Now().UTC()
	if e.PublishedAt.IsZero() {
		e.PublishedAt = now
	}
	b.deliver(e)
	if conv := conversationOf(e); conv != "" {
		return b.send(b.ConversationSubject(conv), now, e)
	}
	if !personal(e) {
		return b.send(b.opts.Subject+allSubject, now, e)
	}
	var first error
	for _, uid := range e.Recipients {
		own := *e
		own.Recipients = []string{uid}
		own.Silent = nil
		if e.SilentFor(uid) {
			own.Silent = []string{uid}
		}
		if err := b.send(b.UserSubject(uid), now, &own); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (b *Bus) send(subj string, now time.Time, e *wardline.Event) error {
	plain, err := json.Marshal(envelope{SentAt: now, Event: e})
	if err != nil {
		b.fail(err)
		return err
	}
	msg := natsgo.NewMsg(subj)
	msg.Header.Set(hdrOrigin, b.nodeID)
	// The subject is the associated data: an event cannot be replayed onto another's subject.
	msg.Data = b.opts.Sealer.Seal([]byte(subj), plain)
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
	plain, err := b.opts.Sealer.Open([]byte(msg.Subject), msg.Data)
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
	defer func() {
		select {
		case <-b.quit:
		default:
			close(b.quit)
			<-b.done
		}
	}()
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
