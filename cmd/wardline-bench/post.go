package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// poster sends the measured message POSTs of one sending goroutine, each over a keep-alive
// HTTP/1.1 connection of its own per server URL. net/http's client hands every request to two
// goroutines of the connection (one writes, one reads) and back, and on a machine whose two
// cores the server shares, those hand-offs took about a quarter of the load generator's CPU.
// Here the sender writes the request and reads the answer itself. Setup and everything else
// still use net/http (API).
type poster struct {
	insecure bool
	conns    map[string]*postConn // by base URL
}

type postConn struct {
	nc   net.Conn
	br   *bufio.Reader
	host string
	buf  []byte
	stop func() bool
}

// postTimeout bounds one request and its answer, as API's client timeout does.
const postTimeout = 60 * time.Second

func newPoster(insecure bool) *poster {
	return &poster{insecure: insecure, conns: map[string]*postConn{}}
}

// send posts body to path (which begins with /) on base with the bearer token, and returns the
// answer's status; its body is read and dropped. A connection that fails is closed, and the next
// send dials afresh.
func (p *poster) send(ctx context.Context, base, path, token string, body []byte) (int, error) {
	c := p.conns[base]
	if c == nil {
		var err error
		if c, err = p.dial(ctx, base); err != nil {
			return 0, err
		}
		p.conns[base] = c
	}
	status, keep, err := c.roundTrip(path, token, body)
	if err != nil || !keep {
		c.close()
		delete(p.conns, base)
	}
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return status, err
}

func (p *poster) dial(ctx context.Context, base string) (*postConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	nc, err := dialURL(ctx, u, p.insecure)
	if err != nil {
		return nil, err
	}
	c := &postConn{nc: nc, br: bufio.NewReaderSize(nc, 4096), host: u.Host}
	c.stop = context.AfterFunc(ctx, func() { nc.Close() }) // a send under way ends with the run
	return c, nil
}

func (c *postConn) close() {
	c.stop()
	c.nc.Close()
}

// roundTrip writes one request and reads its answer. keep is false when the server will close
// the connection.
func (c *postConn) roundTrip(path, token string, body []byte) (status int, keep bool, err error) {
	b := append(c.buf[:0], "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\nUser-Agent: wardline-bench\r\nContent-Type: application/json\r\nAuthorization: Bearer "...)
	b = append(b, token...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.buf = b
	if err := c.nc.SetDeadline(time.Now().Add(postTimeout)); err != nil {
		return 0, false, err
	}
	if _, err := c.nc.Write(b); err != nil {
		return 0, false, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		return res.StatusCode, false, err
	}
	if res.StatusCode == 0 {
		return 0, false, errors.New("no status in the answer")
	}
	return res.StatusCode, !res.Close, nil
}
