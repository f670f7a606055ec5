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
