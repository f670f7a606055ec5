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
	// Far behind the newest counts as sent.
	w.mark(1000)
	if !w.sent(4) || w.sent(999) || !w.sent(1000) {
		t.Fatal("window after a jump")
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
		q := max - int64(r.IntN(seqWindowSize))
		if q >= 1 && w.sent(q) != set[q] {
			t.Fatalf("step %d: seq %d sent=%v, set says %v (max %d)", i, q, w.sent(q), set[q], max)
		}
	}
}
