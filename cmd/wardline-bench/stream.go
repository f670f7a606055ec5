package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6455 names SHA-1 for the handshake's accept key
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// streamConn is the load generator's own client of the event stream: RFC 6455 over one TCP (or
// TLS) connection, with nothing the benchmark does not use (no compression, no extensions, no
// per-read timer). The server's side is coder/websocket; this side is written out because the
// load generator shares the machine's two cores with the server, and a general client's per-read
// work (a context timer armed and stopped for every frame, a fresh buffer for every message)
// took about a tenth of the generator's CPU, which the server then did not get. A message read
// here is valid until the next read.
type streamConn struct {
	nc  net.Conn
	br  *bufio.Reader
	hdr [8]byte
	msg []byte // the message being read, reused
	ctl []byte // a control frame's payload, reused

	wmu  sync.Mutex
	wbuf []byte
}

// streamReadLimit bounds one message, as the coder/websocket client's read limit did.
const streamReadLimit = 4 << 20

// streamCloseError is the server closing the stream, with its status code (RFC 6455 §7.4).
type streamCloseError struct {
	Code   int
	Reason string
}

func (e *streamCloseError) Error() string {
	return fmt.Sprintf("stream closed by the server: status %d %s", e.Code, e.Reason)
}

// closeStatus is the status of a close received from the server, or -1 when err is not one.
func closeStatus(err error) int {
	var ce *streamCloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dialStream opens the stream at rawURL (http or https) with the bearer token. ctx bounds the
// dial and the handshake only.
func dialStream(ctx context.Context, rawURL, token string, insecure bool) (*streamConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	nc, err := dialURL(ctx, u, insecure)
	if err != nil {
		return nil, err
	}
	s := &streamConn{nc: nc, br: bufio.NewReaderSize(nc, 4096)}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	err = s.handshake(u, token)
	if !stop() || err != nil {
		nc.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	return s, nil
}

func (s *streamConn) handshake(u *url.URL, token string) error {
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: wardline-bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n", u.RequestURI(), u.Host, key, token)
	if _, err := io.WriteString(s.nc, b.String()); err != nil {
		return err
	}
	res, err := http.ReadResponse(s.br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		return fmt.Errorf("stream handshake: HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(body)))
	}
	sum := sha1.Sum([]byte(key + websocketGUID)) //nolint:gosec // RFC 6455
	if !strings.EqualFold(res.Header.Get("Upgrade"), "websocket") ||
		res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return errors.New("stream handshake: the server's upgrade answer is not a WebSocket's")
	}
	if ext := res.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		return fmt.Errorf("stream handshake: extension %q was not offered", ext)
	}
	return nil
}

// read returns the next text or binary message, answering pings and closes on the way. The
// message is valid until the next read.
func (s *streamConn) read() ([]byte, error) {
	s.msg = s.msg[:0]
	inMessage := false // a fragmented message has begun
	for {
		if _, err := io.ReadFull(s.br, s.hdr[:2]); err != nil {
			return nil, err
		}
		fin, op := s.hdr[0]&0x80 != 0, s.hdr[0]&0x0f
		if s.hdr[0]&0x70 != 0 {
			return nil, errors.New("stream: reserved bits set (no extension was agreed)")
		}
		if s.hdr[1]&0x80 != 0 {
			return nil, errors.New("stream: the server masked a frame")
		}
		n := uint64(s.hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(s.br, s.hdr[:2]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(s.hdr[:2]))
		case 127:
			if _, err := io.ReadFull(s.br, s.hdr[:8]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(s.hdr[:8])
		}
		if op >= 8 { // control: ping, pong, close
			if n > 125 || !fin {
				return nil, errors.New("stream: malformed control frame")
			}
			s.ctl = append(s.ctl[:0], make([]byte, n)...)
			if _, err := io.ReadFull(s.br, s.ctl); err != nil {
				return nil, err
			}
			switch op {
			case 0x9:
				if err := s.writeFrame(0xA, s.ctl); err != nil {
					return nil, err
				}
			case 0x8:
				ce := &streamCloseError{Code: 1005}
				if len(s.ctl) >= 2 {
					ce.Code = int(binary.BigEndian.Uint16(s.ctl))
					ce.Reason = string(s.ctl[2:])
				}
				_ = s.writeFrame(0x8, s.ctl[:min(len(s.ctl), 2)])
				return nil, ce
			}
			continue
		}
		if (op == 0) != inMessage || op > 2 {
			return nil, fmt.Errorf("stream: unexpected frame opcode %d", op)
		}
		if n > streamReadLimit || uint64(len(s.msg))+n > streamReadLimit {
			return nil, fmt.Errorf("stream: message over %d bytes", streamReadLimit)
		}
		start := len(s.msg)
		s.msg = append(s.msg, make([]byte, n)...)
		if _, err := io.ReadFull(s.br, s.msg[start:]); err != nil {
			return nil, err
		}
		if fin {
			return s.msg, nil
		}
		inMessage = true
	}
}

// write sends one text message.
func (s *streamConn) write(p []byte) error { return s.writeFrame(0x1, p) }

// writeFrame sends one frame, masked as a client's must be.
func (s *streamConn) writeFrame(op byte, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b := append(s.wbuf[:0], 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := mrand.Uint32()
	b = binary.LittleEndian.AppendUint32(b, key)
	off := len(b)
	b = append(b, p...)
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], key)
	for i := range p {
		b[off+i] ^= mask[i&3]
	}
	s.wbuf = b
	if err := s.nc.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	_, err := s.nc.Write(b)
	return err
}

// dialURL opens a TCP connection to u's host, with TLS when u is https.
func dialURL(ctx context.Context, u *url.URL, insecure bool) (net.Conn, error) {
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || u.Scheme != "https" {
		return nc, err
	}
	tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: insecure}) //nolint:gosec // --insecure, for self-signed test servers
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// Close ends the connection without a closing handshake.
func (s *streamConn) Close() error { return s.nc.Close() }
