package http

import (
	"math/rand/v2"
	"testing"
)

func TestSeqWindow(t *testing.T) {
	var w seqWindow
	if w.sent(1) {
		t.Fatal("nothing sent yet")
	}
	for _, s := range []int64{3, 1, 2, 10, 5} {
		w.mark(s)
	}
	for s := int64(1); s <= 12; s++ {
		want := s == 1 || s == 2 || s == 3 || s == 5 || s == 10
		if got := w.sent(s); got != want {
			t.Errorf("seq %d: got %v, want %v", s, got, want)
		}
	}
	// Far behind the newest, what was sent still counts as sent, and what was not stays
	// missing: a seq lost long ago is still sent when a catch-up brings it.
	w.mark(1000)
	if !w.sent(3) || w.sent(4) || w.sent(999) || !w.sent(1000) {
		t.Fatal("window after a jump")
	}
	if g := w.firstGap(0); g != 4 {
		t.Fatalf("first gap %d, want 4", g)
	}
	w.mark(4)
	if !w.sent(4) || w.firstGap(0) != 6 {
		t.Fatalf("after the catch-up of 4: sent(4)=%v, first gap %d", w.sent(4), w.firstGap(0))
	}
}

func TestSeqWindowOrigin(t *testing.T) {
	w := newSeqWindow(100) // the conversation stood at 100 when the stream began to follow it
	if w.sent(101) || w.sent(100) {
		t.Fatal("nothing sent yet")
	}
	// One from before the origin that turns up late, while it is within the bitmap, is still sent
	// (once): the origin may be only a guess (the first seq seen, minus one).
	w.mark(99)
	if !w.sent(99) || w.sent(98) {
		t.Fatal("a late seq below the origin")
	}
	w.mark(101)
	w.mark(1000)
	if !w.sent(1) || !w.sent(100) || !w.sent(99) {
		t.Fatal("below the bitmap, seqs up to the origin count as sent")
	}
	if g := w.firstGap(100); g != 102 {
		t.Fatalf("first gap %d, want 102", g)
	}
	if w.lost[0] != (seqRange{102, 744}) {
		t.Fatalf("lost %v, want [102 744] below the bitmap", w.lost)
	}
}

// A stream that misses more scattered seqs than it can track is marked for a resume.
func TestSeqWindowOverflow(t *testing.T) {
	w := newSeqWindow(0)
	for s := int64(2); !w.overflow; s += 2 {
		w.mark(s)
		if s > 10*seqWindowSize*maxLostRanges {
			t.Fatal("never overflowed")
		}
	}
	if len(w.lost) != maxLostRanges {
		t.Fatalf("%d lost ranges kept, want %d", len(w.lost), maxLostRanges)
	}
}

func TestSeqWindowMatchesASet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var w seqWindow
	set := map[int64]bool{}
	var max int64
	for i := 0; i < 20000; i++ {
		s := max + int64(r.IntN(80)) - 60
		if s < 1 {
			s = 1
		}
		w.mark(s)
		set[s] = true
		if s > max {
			max = s
		}
		if i%20 == 0 {
			// A catch-up sends the oldest missing seqs, as the hub's sweep does.
			for n := 0; n < 100; n++ {
				g := w.firstGap(0)
				if g == 0 {
					break
				}
				w.mark(g)
				set[g] = true
			}
		}
		q := max - int64(r.IntN(4*seqWindowSize)) // inside the bitmap and below it
		if q >= 1 && w.sent(q) != set[q] {
			t.Fatalf("step %d: seq %d sent=%v, set says %v (max %d)", i, q, w.sent(q), set[q], max)
		}
	}
	if w.overflow {
		t.Fatal("overflowed")
	}
	var first int64
	for s := int64(1); s <= max && first == 0; s++ {
		if !set[s] {
			first = s
		}
	}
	if g := w.firstGap(0); g != first {
		t.Fatalf("first gap %d, the set says %d", g, first)
	}
}
