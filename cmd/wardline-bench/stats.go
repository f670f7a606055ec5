package main

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"
)

// Histogram records durations in microseconds with HDR-style log-linear buckets: exact below
// 2^subBits µs, and within 1/2^(subBits-1) (about 0.2%) above. Record is safe for concurrent use
// and never allocates, so thousands of receiving connections can share one.
type Histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64
	sum    atomic.Int64
}

const (
	subBits     = 10
	subCount    = 1 << subBits
	histMaxExp  = 40 - subBits // values up to 2^40 µs (12 days) are kept; larger ones are clamped
	histBuckets = subCount + histMaxExp*subCount/2
)

// bucketOf returns the bucket index of v (µs, v >= 0).
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := min(bits.Len64(uint64(v))-subBits, histMaxExp) // >= 1
	idx := subCount + (e-1)*subCount/2 + int(v>>uint(e)) - subCount/2
	return min(idx, histBuckets-1)
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	e := (i-subCount)/(subCount/2) + 1
	m := int64((i-subCount)%(subCount/2) + subCount/2)
	return (m+1)<<uint(e) - 1
}

// Record adds one duration. Negative durations (clock steps) count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(d.Microseconds(), 0)
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		cur := h.max.Load()
		if v <= cur || h.max.CompareAndSwap(cur, v) {
			break
		}
	}
}

// Count returns how many values were recorded.
func (h *Histogram) Count() int64 { return h.n.Load() }

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// Quantile returns the value at quantile q (0..1) by the nearest-rank method: the smallest
// recorded value with at least q of all values at or below it. It reports the bucket's upper
// bound, capped at the true maximum, so it never understates a latency.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(q*float64(n))), 1)
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max.Load())) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

// Summary returns the usual percentiles.
func (h *Histogram) Summary() Latency {
	l := Latency{Count: h.n.Load()}
	if l.Count == 0 {
		return l
	}
	l.Mean = ms(time.Duration(h.sum.Load()/l.Count) * time.Microsecond)
	l.P50, l.P90, l.P99, l.P999 = ms(h.Quantile(.5)), ms(h.Quantile(.9)), ms(h.Quantile(.99)), ms(h.Quantile(.999))
	l.Max = ms(time.Duration(h.max.Load()) * time.Microsecond)
	return l
}

// Export returns the non-empty buckets as index/count pairs, for a worker process to hand its
// histogram to the parent; Import adds such pairs.
func (h *Histogram) Export() [][2]int64 {
	var out [][2]int64
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			out = append(out, [2]int64{int64(i), c})
		}
	}
	return append(out, [2]int64{-1, h.max.Load()}, [2]int64{-2, h.sum.Load()})
}

func (h *Histogram) Import(pairs [][2]int64) {
	for _, p := range pairs {
		switch {
		case p[0] == -1:
			if p[1] > h.max.Load() {
				h.max.Store(p[1])
			}
		case p[0] == -2:
			h.sum.Add(p[1])
		case p[0] >= 0 && p[0] < histBuckets:
			h.counts[p[0]].Add(p[1])
			h.n.Add(p[1])
		}
	}
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// exactQuantile returns the nearest-rank quantile of sorted (ascending) values.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

// exactSummary sorts ds in place and summarises it exactly.
func exactSummary(ds []time.Duration) Latency {
	l := Latency{Count: int64(len(ds))}
	if len(ds) == 0 {
		return l
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	l.Mean = ms(sum / time.Duration(len(ds)))
	l.P50, l.P90, l.P99 = ms(exactQuantile(ds, .5)), ms(exactQuantile(ds, .9)), ms(exactQuantile(ds, .99))
	l.P999, l.Max = ms(exactQuantile(ds, .999)), ms(ds[len(ds)-1])
	return l
}

// Window is the measured interval [Start, End) in Unix nanoseconds.
type Window struct{ Start, End int64 }

// Contains reports whether the instant t falls in the window.
func (w Window) Contains(t int64) bool { return t >= w.Start && t < w.End }

// Seconds is the window's length.
func (w Window) Seconds() float64 { return float64(w.End-w.Start) / 1e9 }

// Rate returns how many of the instants ts fall in w, per second of w.
func (w Window) Rate(ts []int64) float64 {
	if w.End <= w.Start {
		return 0
	}
	n := 0
	for _, t := range ts {
		if w.Contains(t) {
			n++
		}
	}
	return float64(n) / w.Seconds()
}

// chunked is a growable array indexed by message number whose elements never move, so that
// senders and receivers can update them with atomics while it grows.
type chunked[T any] struct {
	chunks [chunkSlots]atomic.Pointer[[chunkLen]T]
}

const (
	chunkLen   = 1 << 14
	chunkSlots = 1 << 12 // 67 million messages per run
)

// At returns element i, allocating its chunk on first use; nil when i is out of range.
func (c *chunked[T]) At(i int64) *T {
	s := i / chunkLen
	if i < 0 || s >= chunkSlots {
		return nil
	}
	p := c.chunks[s].Load()
	if p == nil {
		c.chunks[s].CompareAndSwap(nil, new([chunkLen]T))
		p = c.chunks[s].Load()
	}
	return &p[i%chunkLen]
}

// Peek returns element i if its chunk exists, without allocating.
func (c *chunked[T]) Peek(i int64) *T {
	s := i / chunkLen
	if i < 0 || s >= chunkSlots {
		return nil
	}
	if p := c.chunks[s].Load(); p != nil {
		return &p[i%chunkLen]
	}
	return nil
}

// arrival is what the receivers of one process saw of one message: on how many connections it
// arrived and when the last of them got it (Unix ns).
type arrival struct {
	count atomic.Int32
	last  atomic.Int64
}

func (a *arrival) add(at int64) {
	a.count.Add(1)
	for {
		cur := a.last.Load()
		if at <= cur || a.last.CompareAndSwap(cur, at) {
			return
		}
	}
}
