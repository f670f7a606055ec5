package http

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// countingConn records each Write that reaches the network.
type countingConn struct {
	net.Conn
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}
func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

func TestCorkSendsABatchInOneWrite(t *testing.T) {
	under := &countingConn{}
	c := &corkConn{Conn: under}
	if _, err := c.Write([]byte("hello")); err != nil || len(under.writes) != 1 {
		t.Fatalf("uncorked: %d writes, %v", len(under.writes), err)
	}
	c.cork()
	for _, p := range []string{"one", "two", "three"} {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if len(under.writes) != 1 {
		t.Fatalf("corked writes reached the network: %q", under.writes)
	}
	if err := c.uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(under.writes) != 2 || string(under.writes[1]) != "onetwothree" {
		t.Fatalf("after uncork: %q, want one write of the batch", under.writes)
	}
	if c.buf != nil {
		t.Fatal("an idle connection keeps its cork buffer")
	}
	if err := c.uncork(time.Second); err != nil || len(under.writes) != 2 {
		t.Fatalf("an empty uncork wrote: %q %v", under.writes, err)
	}
}
