package http

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// corkConn is an event stream's network connection. While corked, what the WebSocket library
// writes (each frame it flushes) collects in a buffer, and uncork sends it in one write: a burst
// of events to one client — a delivery flush's receipts, a replay, messages arriving together —
// costs one system call (and, with TLS, as few records as fit) instead of one per frame.
// Uncorked it passes writes straight through (the handshake's hello, pongs, pings, close).
type corkConn struct {
	net.Conn
	mu     sync.Mutex // held across a write to the connection, so bytes never interleave
	corked bool
	buf    *[]byte
}

var corkBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledCork is the largest buffer returned to the pool: a rare huge replay's is let go.
const maxPooledCork = 256 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// cork starts collecting writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	if c.buf == nil {
		c.buf = corkBuffers.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// uncork sends what was collected, within timeout, and lets writes through again. An idle
// connection keeps no buffer.
func (c *corkConn) uncork(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	defer func() {
		if cap(*b) <= maxPooledCork {
			*b = (*b)[:0]
			corkBuffers.Put(b)
		}
	}()
	if len(*b) == 0 {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Conn.Write(*b)
	if derr := c.Conn.SetWriteDeadline(time.Time{}); err == nil {
		err = derr
	}
	return err
}

// corkingWriter hands the WebSocket upgrade a corkConn in place of the hijacked connection.
type corkingWriter struct {
	http.ResponseWriter
	conn *corkConn
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // the 101 answer, should any of it wait there
		nc.Close()
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc}
	// Small buffers in place of the server's 4 KiB ones: an idle stream keeps them for hours, a
	// busy one writes through the cork buffer anyway, and clients send only small frames. The
	// server's reader is kept if the client sent anything after its request.
	r := brw.Reader
	if r.Buffered() == 0 {
		r = bufio.NewReaderSize(w.conn, streamReadBuffer)
	}
	return w.conn, bufio.NewReadWriter(r, bufio.NewWriterSize(w.conn, streamWriteBuffer)), nil
}

// The buffers of an event stream's connection (see Hijack).
const (
	streamReadBuffer  = 1 << 10
	streamWriteBuffer = 512
)

func (w *corkingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
