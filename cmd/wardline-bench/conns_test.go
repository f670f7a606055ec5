package main

import "testing"

// Events from several nodes may arrive out of seq order: a late one fills its gap and counts as
// delivered; only a seq seen before is a duplicate.
func TestOutOfOrderArrivalIsLateNotDuplicate(t *testing.T) {
	b := &Bench{cfg: &Config{}, layout: &Layout{convIndex: map[string]int32{"c": 0}}, recv: newReceivers("run")}
	c := &Conn{b: b, lastSeq: map[int32]int64{}}
	for _, seq := range []int64{1, 2, 5, 3, 4, 4, 6} {
		c.handle(&frameInfo{typ: "message.created", conv: "c", seq: seq, run: "other"}, false)
	}
	r := b.recv
	if r.Gaps.Load() != 1 || r.Late.Load() != 2 || r.Duplicates.Load() != 1 || r.Created.Load() != 7 {
		t.Fatalf("gaps %d, late %d, duplicates %d, created %d; want 1, 2, 1, 7",
			r.Gaps.Load(), r.Late.Load(), r.Duplicates.Load(), r.Created.Load())
	}
	if len(c.missing[0]) != 0 || c.lastSeq[0] != 6 {
		t.Fatalf("still missing %v, last %d", c.missing[0], c.lastSeq[0])
	}
}

// --idle-connections adds connections held by users of their own, after the layout's, who are in
// no conversation: no conversation expects a delivery to them.
func TestIdleConnectionsLayout(t *testing.T) {
	cfg, err := parseFlags([]string{"--users", "20", "--conversations", "2", "--conversation-size", "10",
		"--connections", "40", "--idle-connections", "7", "--idle-users", "3"})
	if err != nil {
		t.Fatal(err)
	}
	st := &State{Conversations: map[string]string{convKey(20, 10, 0): "c0", convKey(20, 10, 1): "c1"}}
	b := &Bench{cfg: cfg, state: st}
	l := b.buildLayout()
	if cfg.allUsers() != 23 || len(l.connUser) != 47 {
		t.Fatalf("%d users, %d connections; want 23, 47", cfg.allUsers(), len(l.connUser))
	}
	for c, want := range map[int]int{0: 0, 19: 19, 20: 0, 39: 19, 40: 20, 41: 21, 42: 22, 43: 20, 46: 20} {
		if got := l.connUser[c]; got != want {
			t.Errorf("connection %d held by user %d, want %d", c, got, want)
		}
	}
	if got := l.connsOf[20:]; got[0] != 3 || got[1] != 2 || got[2] != 2 {
		t.Errorf("idle users hold %v connections, want [3 2 2]", got)
	}
	for u := 20; u < 23; u++ {
		if len(l.convsOf[u]) != 0 {
			t.Errorf("idle user %d is in conversations %v", u, l.convsOf[u])
		}
	}
	// Each conversation's ten members hold two connections each; the idle ones count for none.
	if l.expected[0] != 20 || l.expected[1] != 20 {
		t.Errorf("expected deliveries per message %v, want [20 20]", l.expected)
	}
	if _, err := parseFlags([]string{"--idle-connections", "5", "--idle-users", "0"}); err == nil {
		t.Error("--idle-connections without idle users accepted")
	}
	lat, err := parseFlags([]string{"--scenario", "latency"})
	if err != nil {
		t.Fatal(err)
	}
	if lat.allConnections() != 10000 {
		t.Errorf("the latency scenario opens %d connections, want DESIGN.md's 10,000", lat.allConnections())
	}
}
