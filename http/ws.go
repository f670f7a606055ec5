package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"wardline"
	"wardline/app"
)

// WSOptions tune the event stream.
type WSOptions struct {
	QueueLimit    int           // frames queued for a live client before it is dropped as too slow
	WriteTimeout  time.Duration // for one frame of live events
	ReplayTimeout time.Duration // for one frame of a resume replay, where slow clients are waited for
	PingInterval  time.Duration // idle connections are pinged this often
	ResumeWait    time.Duration // live events are held this long for a resume after hello
	CheckInterval time.Duration // sessions of open streams are re-checked this often
	// CatchUpInterval, when set, makes the hub compare its streams with the store this often and
	// send what a lost bus event left out (and at once when the bus reports a gap). Off for one
	// node, whose in-process bus loses nothing.
	CatchUpInterval time.Duration
}

func (o WSOptions) withDefaults() WSOptions {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.QueueLimit <= 0 {
		o.QueueLimit = 1024
	}
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.ReplayTimeout, 60*time.Second)
	def(&o.PingInterval, 30*time.Second)
	def(&o.ResumeWait, 3*time.Second)
	def(&o.CheckInterval, time.Minute)
	return o
}

// maxClientMessage bounds what a client may send in one frame (a resume with many cursors).
const maxClientMessage = 256 << 10

// clientMessage is what a client sends on the stream.
type clientMessage struct {
	Type    string           `json:"type"`
	Cursors map[string]int64 `json:"cursors"`
	// A send: the conversation and the fields of POST /conversations/{id}/messages.
	ConversationID string `json:"conversation_id"`
	wardline.NewMessage
}

// maxPendingSends bounds the sends one stream may have waiting for their turn: each waits for a
// group commit, and a client that sends faster than that is told to slow down.
const maxPendingSends = 64

// ParseClientMessage decodes and checks one client frame: a resume (with conversation ids and
// non-negative seqs), a ping, a lock (the client locked its screen) or a send (a message for a
// conversation, which the messages service validates as it would a POST).
func ParseClientMessage(b []byte) (*clientMessage, error) {
	var m clientMessage
	if err := DecodeJSON(b, &m); err != nil {
		return nil, err
	}
	isSend := m.ConversationID != "" || m.NewMessage != (wardline.NewMessage{})
	switch m.Type {
	case "resume":
		if isSend {
			return nil, wardline.Errorf(wardline.EINVALID, "resume takes only cursors")
		}
		if len(m.Cursors) > 10000 {
			return nil, wardline.Errorf(wardline.EINVALID, "too many cursors")
		}
		for id, seq := range m.Cursors {
			if !wardline.ValidID(id) {
				return nil, wardline.Errorf(wardline.EINVALID, "cursors must be keyed by conversation id")
			}
			if seq < 0 {
				return nil, wardline.Errorf(wardline.EINVALID, "cursor seqs must not be negative")
			}
		}
	case "ping", "lock":
		if m.Cursors != nil || isSend {
			return nil, wardline.Errorf(wardline.EINVALID, "%s takes nothing else", m.Type)
		}
	case "send":
		if m.Cursors != nil {
			return nil, wardline.Errorf(wardline.EINVALID, "send takes no cursors")
		}
		if !wardline.ValidID(m.ConversationID) {
			return nil, wardline.Errorf(wardline.EINVALID, "conversation_id must be a conversation id")
		}
		if !wardline.ValidID(m.ClientID) {
			return nil, wardline.Errorf(wardline.EINVALID, "client_id must be a UUID")
		}
		m.ClientID = strings.ToLower(m.ClientID) // as it is stored, and answered in send.result

	default:
		return nil, wardline.Errorf(wardline.EINVALID, "unknown message type")
	}
	return &m, nil
}

// frame is one encoded event for a stream; ev, when set, is the message.created it carries,
// whose delivery is reported once written.
type frame struct {
	data       []byte
	ev         *wardline.Event
	recipients []string
	closeAfter bool
	queued     time.Time // when the hub queued it, for the fan-out metric
	direct     bool      // an answer to the client or a notice, never content: sent even while locked
}

// Notices to a stream whose session locked or unlocked. While locked the stream sends nothing
// else but pong, error and session.revoked; live events wait and follow the unlock.
var (
	lockedNotice   = []byte(`{"type":"session.locked"}`)
	unlockedNotice = []byte(`{"type":"session.unlocked"}`)
)

// wsConn is one open event stream.
type wsConn struct {
	hub    *Hub
	ws     *websocket.Conn
	conn   *corkConn // under ws: the writer loop corks it around each batch
	actor  *wardline.Actor
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []frame
	held    []frame // live events held until the resume replay is done, or the session unlocks
	holding bool
	locked  bool             // the session is locked: live events are held, replays wait
	pending map[string]int64 // the cursors of a resume asked for while locked
	writing bool
	closed  bool
	resumed bool

	wmu       sync.Mutex            // one writer at a time
	sent      map[string]*seqWindow // message.created seqs written per conversation, under wmu
	base      map[string]int64      // catch-up: seq each conversation stood at when the stream opened, under mu
	lastWrite atomic.Int64
	checking  atomic.Bool

	batchReceipts bool // ?receipts=batched: a flush's delivered receipts come as one `receipts` frame

	// Sends made on the stream: each is signed in afresh with the stream's credential (token),
	// as a request would be, and they run one at a time in the order they came, on a goroutine
	// that runs only while some wait (sendLoop).
	token   string
	sendMu  sync.Mutex
	sendq   []*clientMessage
	sending bool
}

func (h *Hub) handleEvents(w http.ResponseWriter, r *http.Request) {
	actor, err := h.s.authenticate(r)
	if err != nil {
		h.s.Error(w, r, err)
		return
	}
	if actor.Session.PasswordChangeRequired {
		h.s.Error(w, r, wardline.Errorf(wardline.EFORBIDDEN, "change your password first"))
		return
	}
	if actor.Session.MFAEnrollmentRequired {
		h.s.Error(w, r, wardline.Errorf(wardline.EFORBIDDEN, "set up a second factor first"))
		return
	}
	q, err := parseQuery(r, "receipts")
	if err != nil {
		h.s.Error(w, r, err)
		return
	}
	var batchReceipts bool
	switch q.str("receipts") {
	case "", "single":
	case "batched":
		batchReceipts = true
	default:
		h.s.Error(w, r, wardline.Errorf(wardline.EINVALID, `receipts must be "single" or "batched"`))
		return
	}
	cw := &corkingWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		OriginPatterns:  h.origins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept has answered (e.g. 403 for a foreign Origin)
	}
	ws.SetReadLimit(maxClientMessage)
	ctx, cancel := context.WithCancel(wardline.NewContextWithActor(context.WithoutCancel(r.Context()), actor))
	token, _ := credentials(r)
	c := &wsConn{hub: h, ws: ws, conn: cw.conn, actor: actor, ctx: ctx, cancel: cancel, holding: true, locked: actor.Session.Locked(), sent: map[string]*seqWindow{}, batchReceipts: batchReceipts, token: token}
	c.lastWrite.Store(time.Now().UnixNano())
	if !h.register(c) {
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	// The connection outlives this handler: its read loop runs on a goroutine of its own, and
	// the handler returns as soon as the stream is set up. The request, its headers and the deep
	// stack that sign-in and the database calls grew here are freed: an idle stream holds a
	// small goroutine and its buffers, nothing more.
	done := func() {
		h.unregister(c)
		c.cancel()
	}

	hello, _ := json.Marshal(map[string]any{"type": wardline.EventHello, "user_id": actor.User.ID, "server_time": time.Now().UTC()})
	c.wmu.Lock()
	err = c.write(frame{data: hello}, h.opts.WriteTimeout)
	c.wmu.Unlock()
	if err != nil {
		c.close(websocket.StatusInternalError, "")
		done()
		return
	}
	if c.locked {
		c.enqueueDirect(frame{data: lockedNotice, direct: true})
	}
	// A client that does not resume gets live events after a short wait.
	release := time.AfterFunc(h.opts.ResumeWait, func() {
		c.mu.Lock()
		resumed := c.resumed
		c.mu.Unlock()
		if !resumed {
			c.release()
		}
	})
	go func() {
		defer done()
		defer release.Stop()
		c.readLoop()
	}()
}

func (c *wsConn) readLoop() {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			c.close(websocket.StatusNormalClosure, "")
			return
		}
		if typ != websocket.MessageText {
			c.sendError(wardline.Errorf(wardline.EINVALID, "send text frames"))
			continue
		}
		m, err := ParseClientMessage(data)
		if err != nil {
			// A send is answered by its client_id, so that the client knows which one failed.
			var sent struct {
				Type     string `json:"type"`
				ClientID string `json:"client_id"`
			}
			if json.Unmarshal(data, &sent) == nil && sent.Type == "send" && wardline.ValidID(sent.ClientID) {
				c.sendFailed(strings.ToLower(sent.ClientID), err)
			} else {
				c.sendError(err)
			}
			continue
		}
		// What a person does counts for the session's idle clock; a heartbeat does not, or an app
		// left open on a ward PC would keep its session alive for ever. A send signs in afresh,
		// which records it (the stream's own copy of the session would write it a second time).
		if m.Type != "ping" && m.Type != "send" {
			if err := c.hub.s.app.Auth.Touch(c.ctx, c.actor.Session); err != nil {
				c.hub.s.log.Warn("touch session", "err", err)
			}
		}
		switch m.Type {
		case "ping":
			c.enqueueDirect(frame{data: []byte(`{"type":"pong"}`)})
		case "lock":
			// Content is held at once, before the store and the other nodes hear of it; the
			// client is told once the lock is stored, so that an unlock it sends on hearing it
			// finds the session locked (an earlier answer let a wrong PIN sent at once be counted
			// before the lock and then wiped by it).
			c.setLocked(true, false)
			if err := c.hub.s.app.Auth.Lock(c.ctx); err != nil {
				c.setLocked(false, false) // the session did not lock (no PIN or passkey): nor does the stream
				c.sendError(err)
			} else {
				c.noticeLocked()
			}
		case "send":
			c.queueSend(m)
		case "resume":
			c.mu.Lock()
			again := c.resumed
			c.resumed = true
			locked := c.locked
			if !again && locked {
				// Replay content only once unlocked.
				c.pending = m.Cursors
				if c.pending == nil {
					c.pending = map[string]int64{}
				}
			}
			c.mu.Unlock()
			if again {
				c.sendError(wardline.Errorf(wardline.EINVALID, "resume is sent once, right after hello"))
				continue
			}
			if !locked {
				go c.resume(m.Cursors)
			}
		}
	}
}

// queueSend queues a send made on the stream, and starts sendLoop when it is not running.
func (c *wsConn) queueSend(m *clientMessage) {
	c.sendMu.Lock()
	if len(c.sendq) >= maxPendingSends {
		c.sendMu.Unlock()
		c.sendFailed(m.ClientID, wardline.Errorf(wardline.ERATELIMITED, "too many sends waiting on this stream; wait for their answers"))
		return
	}
	c.sendq = append(c.sendq, m)
	start := !c.sending
	c.sending = true
	c.sendMu.Unlock()
	if start {
		go c.sendLoop()
	}
}

// sendLoop runs the queued sends in order until none is left.
func (c *wsConn) sendLoop() {
	for {
		c.sendMu.Lock()
		if len(c.sendq) == 0 {
			c.sending, c.sendq = false, nil
			c.sendMu.Unlock()
			return
		}
		m := c.sendq[0]
		c.sendq = c.sendq[1:]
		c.sendMu.Unlock()
		c.send(m)
	}
}

// sendResult answers a send made on the stream, as the POST's answer does: the message and the
// sender's warnings, with the client_id it answers and whether it was stored now (the POST's
// 201) or already, by an earlier send of the same client_id (200).
type sendResult struct {
	Type     string              `json:"type"`
	ClientID string              `json:"client_id"`
	Created  bool                `json:"created"`
	Message  *wardline.Message   `json:"message"`
	Warnings []*wardline.Warning `json:"warnings"`
}

// send does what POST /conversations/{id}/messages does, for the stream's session as it is
// now: a session that has ended, locked or must change its password is refused as a request
// would be. Its answer is a send.result frame, queued like a live event (it carries content: a
// locked stream holds it back), or a send.error frame.
func (c *wsConn) send(m *clientMessage) {
	app := c.hub.s.app
	actor, err := app.Auth.Authenticate(c.ctx, c.token, c.actor.Addr)
	if err != nil {
		c.sendFailed(m.ClientID, err)
		return
	}
	actor.Device = c.actor.Device
	res, err := app.Messages.Send(wardline.NewContextWithActor(c.ctx, actor), m.ConversationID, m.NewMessage)
	if err != nil {
		c.sendFailed(m.ClientID, err)
		return
	}
	b, err := json.Marshal(sendResult{Type: "send.result", ClientID: m.ClientID, Created: res.Created,
		Message: res.Message, Warnings: res.Warnings})
	if err != nil {
		c.sendFailed(m.ClientID, err)
		return
	}
	c.enqueue(frame{data: b})
}

// sendFailed answers a send that was refused or failed, naming its client_id.
func (c *wsConn) sendFailed(clientID string, err error) {
	if wardline.ErrorCode(err) == wardline.EINTERNAL {
		c.hub.s.log.Error("send on the event stream", "err", err)
	}
	b, _ := json.Marshal(struct {
		Type     string `json:"type"`
		ClientID string `json:"client_id"`
		Code     string `json:"code"`
		Message  string `json:"message"`
	}{"send.error", clientID, wardline.ErrorCode(err), wardline.ErrorMessage(err)})
	c.enqueueDirect(frame{data: b, direct: true})
}

func (c *wsConn) sendError(err error) {
	b, _ := json.Marshal(map[string]string{"type": "error", "code": wardline.ErrorCode(err), "message": wardline.ErrorMessage(err)})
	c.enqueueDirect(frame{data: b, direct: true})
}

// setLocked locks or unlocks the stream. Locking holds live events back (those queued but not
// yet written too); unlocking runs a resume that waited and lets the held events through. With
// notify, either sends its content-free notice.
func (c *wsConn) setLocked(locked, notify bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.locked == locked {
		return
	}
	c.locked = locked
	if locked {
		var direct, live []frame
		for _, f := range c.queue {
			if f.direct || f.closeAfter {
				direct = append(direct, f)
			} else {
				live = append(live, f)
			}
		}
		c.held = append(live, c.held...)
		c.queue = direct
		if notify {
			c.queue = append(c.queue, frame{data: lockedNotice, direct: true})
		}
		c.kickLocked()
		return
	}
	if notify {
		c.queue = append(c.queue, frame{data: unlockedNotice, direct: true})
	}
	if c.pending != nil {
		cursors := c.pending
		c.pending = nil
		go c.resume(cursors) // it releases the held events when done
	} else if !c.holding {
		c.queue = append(c.queue, c.held...)
		c.held = nil
	}
	c.kickLocked()
}

// noticeLocked tells the client that its session is locked, if the stream still is (an unlock
// from elsewhere may have come first: then its notice stands).
func (c *wsConn) noticeLocked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.locked {
		return
	}
	c.queue = append(c.queue, frame{data: lockedNotice, direct: true})
	c.kickLocked()
}

func (c *wsConn) isLocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.locked
}

// errStreamLocked stops a replay when the session locks during it.
var errStreamLocked = errors.New("the session locked during the replay")

// resume replays what the client missed, waiting for it however slow it is, then lets the held
// live events through (minus any message the replay already sent).
func (c *wsConn) resume(cursors map[string]int64) {
	timeout := c.hub.opts.ReplayTimeout
	c.wmu.Lock()
	err := c.hub.s.app.Messages.Replay(c.ctx, cursors, func(p *app.ReplayPage) error {
		// A page goes out in one write, and counts as delivered once it is on the wire.
		written := make([]frame, 0, len(p.Messages))
		c.conn.cork()
		err := func() error {
			for _, m := range p.Messages {
				if c.isLocked() {
					return errStreamLocked
				}
				ev := &wardline.Event{Type: wardline.EventMessageCreated, Message: m}
				data, err := ev.ClientFrame()
				if err != nil {
					return err
				}
				f := frame{data: data, ev: ev, recipients: p.Recipients}
				if sent, err := c.writeFrame(context.Background(), f); err != nil {
					return err
				} else if sent {
					written = append(written, f)
				}
			}
			if p.Truncated {
				data, _ := json.Marshal(map[string]any{"type": wardline.EventResumeTruncated, "conversation_id": p.ConversationID, "from_seq": p.FromSeq})
				if _, err := c.writeFrame(context.Background(), frame{data: data}); err != nil {
					return err
				}
			}
			return nil
		}()
		if ferr := c.flush(timeout, written); ferr != nil {
			return ferr
		}
		return err // what was written counts as delivered even if the page stopped early
	})
	if err == nil {
		err = c.write(frame{data: []byte(`{"type":"resume.done"}`)}, timeout)
	}
	c.wmu.Unlock()
	if err != nil {
		if errors.Is(err, errStreamLocked) {
			c.close(websocket.StatusTryAgainLater, "locked during resume; reconnect and resume after unlocking")
			return
		}
		if c.ctx.Err() == nil {
			c.hub.s.log.Warn("resume replay", "err", err)
		}
		c.close(websocket.StatusInternalError, "resume failed; reconnect")
		return
	}
	c.release()
}

// release ends the hold: held live events join the queue.
func (c *wsConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holding || c.closed {
		return
	}
	c.holding = false
	if c.locked {
		return // the held events wait for the unlock
	}
	c.queue = append(c.queue, c.held...)
	c.held = nil
	c.kickLocked()
}

// enqueue queues a live event. A client whose queue is full is dropped rather than allowed to hold
// anyone up; it recovers what it missed with resume.
func (c *wsConn) enqueue(f frame) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	limit := c.hub.opts.QueueLimit
	if c.holding || c.locked {
		if len(c.held) >= 4*limit {
			c.mu.Unlock()
			c.drop()
			return
		}
		c.held = append(c.held, f)
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= limit {
		c.mu.Unlock()
		c.drop()
		return
	}
	c.queue = append(c.queue, f)
	c.kickLocked()
	c.mu.Unlock()
}

// enqueueDirect queues a frame that is not held back by a replay (answers to the client).
func (c *wsConn) enqueueDirect(f frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	f.direct = true
	c.queue = append(c.queue, f)
	c.kickLocked()
}

// revoke tells the client its session ended, then closes. Nothing else is sent after it.
func (c *wsConn) revoke() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.holding = false
	c.held = nil
	c.queue = append(c.queue[:0], frame{data: []byte(`{"type":"session.revoked"}`), closeAfter: true})
	c.kickLocked()
}

// kickLocked starts a writer goroutine if none runs: idle connections have none.
func (c *wsConn) kickLocked() {
	if !c.writing && len(c.queue) > 0 {
		c.writing = true
		go c.writeLoop()
	}
}

func (c *wsConn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()

		c.wmu.Lock()
		var deferred []frame // live frames of the batch that met a lock: they wait for the unlock
		var written []frame  // frames to account for once they are on the wire
		closeAfter := false
		c.conn.cork()
		var err error
		for _, f := range batch {
			if !f.direct && !f.closeAfter && (len(deferred) > 0 || c.isLocked()) {
				deferred = append(deferred, f)
				continue
			}
			var sent bool
			if sent, err = c.writeFrame(context.Background(), f); err != nil {
				break
			}
			if sent {
				written = append(written, f)
			}
			if closeAfter = f.closeAfter; closeAfter {
				break
			}
		}
		if ferr := c.flush(c.hub.opts.WriteTimeout, written); err == nil {
			err = ferr
		}
		if err != nil || closeAfter {
			c.wmu.Unlock()
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			if err != nil {
				c.drop()
			} else {
				c.close(websocket.StatusPolicyViolation, "session ended")
			}
			return
		}
		c.wmu.Unlock()
		if len(deferred) > 0 {
			c.mu.Lock()
			if c.locked {
				c.held = append(deferred, c.held...)
			} else {
				c.queue = append(deferred, c.queue...) // unlocked meanwhile: send them next
			}
			c.mu.Unlock()
		}
	}
}

// write sends one frame now; the caller holds wmu.
func (c *wsConn) write(f frame, timeout time.Duration) error {
	c.conn.cork()
	sent, err := c.writeFrame(context.Background(), f)
	var written []frame
	if sent {
		written = []frame{f}
	}
	if ferr := c.flush(timeout, written); err == nil {
		err = ferr
	}
	return err
}

// flush sends what was framed since cork, within timeout, and accounts for the frames of it that
// are now on the wire; the caller holds wmu.
func (c *wsConn) flush(timeout time.Duration, written []frame) error {
	if err := c.conn.uncork(timeout); err != nil {
		return err
	}
	c.lastWrite.Store(time.Now().UnixNano())
	for _, f := range written {
		c.delivered(f)
	}
	return nil
}

// writeFrame hands one frame to the WebSocket; the caller holds wmu. A message.created already
// sent on this stream is skipped (sent is false), so that a replay and live delivery never send
// one twice; one that arrives late (out of seq order) is still sent.
func (c *wsConn) writeFrame(ctx context.Context, f frame) (sent bool, err error) {
	var win *seqWindow
	if f.ev != nil && f.ev.Type == wardline.EventMessageCreated {
		m := f.ev.Message
		if win = c.sent[m.ConversationID]; win == nil {
			win = newSeqWindow(c.origin(m.ConversationID, m.Seq))
			c.sent[m.ConversationID] = win
		}
		if win.sent(m.Seq) {
			return false, nil
		}
	}
	if err := c.ws.Write(ctx, websocket.MessageText, f.data); err != nil {
		return false, err
	}
	if win != nil {
		win.mark(f.ev.Message.Seq)
	}
	return true, nil
}

// origin is where the stream starts to follow a conversation whose first message it writes is
// seq: where the conversation stood when the stream opened, or just before seq if that is
// earlier (a resume replaying from the client's cursor) or unknown (joined since).
func (c *wsConn) origin(conv string, seq int64) int64 {
	c.mu.Lock()
	base, ok := c.base[conv]
	c.mu.Unlock()
	if ok {
		return min(base, seq-1)
	}
	return seq - 1
}

// delivered accounts for an event now on the wire: the fan-out metric and, for a message to
// someone other than its sender, the delivered watermark.
func (c *wsConn) delivered(f frame) {
	if f.ev == nil || f.ev.Type != wardline.EventMessageCreated {
		return
	}
	m := f.ev.Message
	if !f.queued.IsZero() {
		c.hub.s.metrics.observeFanout(f.ev, f.queued)
	}
	if m.SenderID == c.actor.User.ID {
		return // a sender's own copy is not a delivery anyone waits for
	}
	c.hub.s.app.Deliveries.Delivered(m.ConversationID, c.actor.User.ID, m.Seq, m.ID, f.recipients)
}

// drop closes a connection that cannot keep up.
func (c *wsConn) drop() {
	c.close(websocket.StatusTryAgainLater, "too slow; reconnect and resume")
}

func (c *wsConn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue, c.held = nil, nil
	c.mu.Unlock()
	go func() {
		_ = c.ws.Close(code, reason)
		c.cancel()
	}()
}

// ping checks an idle connection is still there; a dead one is closed.
func (c *wsConn) ping(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	if err := c.ws.Ping(ctx); err != nil && !errors.Is(err, context.Canceled) {
		c.close(websocket.StatusGoingAway, "no answer to ping")
	}
}
