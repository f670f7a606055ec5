package http

import "slices"

// seqWindow remembers which seqs of one conversation a stream has sent. A bitmap covers the 256
// seqs below max; below it, every seq counts as sent except the ones recorded as lost: those
// above origin that left the bitmap unsent (a bus message dropped while its node was cut off, say),
// kept as ranges until a catch-up sends them. origin is where the stream began to follow the
// conversation; seqs up to it are not the stream's to send, so they are never recorded as lost
// (one that turns up while still within the bitmap is sent all the same). Events may arrive out of
// seq order (from several nodes, or a replay overlapping live delivery); the window lets a stream
// skip exactly the ones it already sent without losing a late one, however late.
type seqWindow struct {
	max      int64
	bits     [4]uint64 // bit i: seq max-i was sent
	origin   int64
	lost     []seqRange // unsent seqs below the bitmap, oldest first, disjoint
	overflow bool       // more lost ranges than maxLostRanges: the stream must resume instead
}

// seqRange is the seqs from..to, both included.
type seqRange struct{ from, to int64 }

const (
	seqWindowSize = 256
	// maxLostRanges bounds the memory a stream spends on what it missed; a stream with more holes
	// than this is closed, and its client resumes.
	maxLostRanges = 256
)

// newSeqWindow starts a window for a conversation that stood at origin.
func newSeqWindow(origin int64) *seqWindow {
	return &seqWindow{max: origin, origin: origin}
}

// sent reports whether seq was sent.
func (w *seqWindow) sent(seq int64) bool {
	if seq > w.max {
		return false
	}
	d := w.max - seq
	if d < seqWindowSize {
		return w.bits[d/64]&(1<<(d%64)) != 0
	}
	return seq <= w.origin || w.lostAt(seq) < 0
}

// mark records seq as sent.
func (w *seqWindow) mark(seq int64) {
	if seq > w.max {
		w.advance(seq)
	}
	d := w.max - seq
	if d < seqWindowSize {
		w.bits[d/64] |= 1 << (d % 64)
		return
	}
	if seq <= w.origin {
		return
	}
	if i := w.lostAt(seq); i >= 0 {
		w.found(i, seq)
	}
}

// advance moves max to seq, recording as lost what leaves the bitmap unsent.
func (w *seqWindow) advance(seq int64) {
	leaving := seq - seqWindowSize // the newest seq that will be below the bitmap
	for s := max(w.max-seqWindowSize+1, w.origin+1); s <= min(leaving, w.max); s++ {
		d := w.max - s
		if w.bits[d/64]&(1<<(d%64)) == 0 {
			w.lose(s, s)
		}
	}
	if leaving > w.max { // seqs never seen, jumped over
		w.lose(max(w.max+1, w.origin+1), leaving)
	}
	w.shiftBy(seq - w.max)
	w.max = seq
}

func (w *seqWindow) lose(from, to int64) {
	if n := len(w.lost); n > 0 && w.lost[n-1].to+1 == from {
		w.lost[n-1].to = to
		return
	}
	if len(w.lost) >= maxLostRanges {
		w.overflow = true
		return
	}
	w.lost = append(w.lost, seqRange{from, to})
}

// lostAt returns the index of the lost range holding seq, or -1.
func (w *seqWindow) lostAt(seq int64) int {
	i, _ := slices.BinarySearchFunc(w.lost, seq, func(r seqRange, s int64) int {
		switch {
		case r.to < s:
			return -1
		case r.from > s:
			return 1
		}
		return 0
	})
	if i < len(w.lost) && w.lost[i].from <= seq && seq <= w.lost[i].to {
		return i
	}
	return -1
}

// found takes seq, sent at last, out of lost range i.
func (w *seqWindow) found(i int, seq int64) {
	r := w.lost[i]
	switch {
	case r.from == seq && r.to == seq:
		w.lost = slices.Delete(w.lost, i, i+1)
	case r.from == seq:
		w.lost[i].from++
	case r.to == seq:
		w.lost[i].to--
	default:
		w.lost[i].to = seq - 1
		w.lost = slices.Insert(w.lost, i+1, seqRange{seq + 1, r.to})
	}
	if len(w.lost) == 0 {
		w.lost = nil
	}
}

// firstGap returns the first seq after from, up to max, that was not sent, or 0 when there is
// none.
func (w *seqWindow) firstGap(from int64) int64 {
	for _, r := range w.lost {
		if r.to > from {
			return max(r.from, from+1)
		}
	}
	for s := max(from+1, w.max-seqWindowSize+1, w.origin+1); s <= w.max; s++ {
		if !w.sent(s) {
			return s
		}
	}
	return 0
}

// shiftBy moves the bitmap n places towards older seqs.
func (w *seqWindow) shiftBy(n int64) {
	if n >= seqWindowSize {
		w.bits = [4]uint64{}
		return
	}
	for ; n >= 64; n -= 64 {
		w.bits[3], w.bits[2], w.bits[1], w.bits[0] = w.bits[2], w.bits[1], w.bits[0], 0
	}
	if n == 0 {
		return
	}
	for i := 3; i > 0; i-- {
		w.bits[i] = w.bits[i]<<n | w.bits[i-1]>>(64-n)
	}
	w.bits[0] <<= n
}
