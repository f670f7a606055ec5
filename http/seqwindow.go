package http

// seqWindow remembers which seqs of one conversation a stream has sent: every seq up to max-256
// counts as sent, and a bitmap covers the 256 below max. Events may arrive out of seq order (from
// several nodes, or a replay overlapping live delivery); the window lets a stream skip exactly
// the ones it already sent without losing a late one.
type seqWindow struct {
	max  int64
	bits [4]uint64 // bit i: seq max-i was sent
}

const seqWindowSize = 256

// sent reports whether seq was sent.
func (w *seqWindow) sent(seq int64) bool {
	if seq > w.max {
		return false
	}
	d := w.max - seq
	if d >= seqWindowSize {
		return true
	}
	return w.bits[d/64]&(1<<(d%64)) != 0
}

// mark records seq as sent.
func (w *seqWindow) mark(seq int64) {
	if seq > w.max {
		shift := seq - w.max
		w.shiftBy(shift)
		w.max = seq
	}
	d := w.max - seq
	if d < seqWindowSize {
		w.bits[d/64] |= 1 << (d % 64)
	}
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
