package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestExactQuantile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"Empty", nil, .5, 0},
		{"One", ms(7), .99, 7 * time.Millisecond},
		{"MedianOdd", ms(1, 2, 3, 4, 5), .5, 3 * time.Millisecond},
		{"MedianEven", ms(1, 2, 3, 4), .5, 2 * time.Millisecond}, // nearest rank: ceil(0.5*4) = 2nd
		{"P99Of100", ms(slices.Collect(func(yield func(int) bool) {
			for i := 1; i <= 100; i++ {
				yield(i)
			}
		})...), .99, 99 * time.Millisecond},
		{"Max", ms(1, 9, 5), 1, 9 * time.Millisecond},
		{"Zero", ms(1, 9, 5), 0, 1 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			slices.Sort(in)
			if got := exactQuantile(in, tc.q); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBuckets(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<22; v += 1 + v/300 {
		b := bucketOf(v)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d, below the previous bucket %d", v, b, prev)
		}
		prev = b
		hi := bucketHigh(b)
		if hi < v {
			t.Fatalf("bucketHigh(bucketOf(%d)) = %d, below the value", v, hi)
		}
		if v >= subCount && float64(hi-v) > float64(v)/float64(subCount/2) {
			t.Fatalf("bucket of %d reaches %d: wider than the promised precision", v, hi)
		}
		if bucketOf(hi) != b || bucketOf(hi+1) != b+1 {
			t.Fatalf("bucket %d does not end at %d", b, hi)
		}
	}
	if got := bucketOf(1 << 62); got != histBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last, %d", got, histBuckets-1)
	}
}

// The histogram must agree with exact nearest-rank percentiles within its precision, and never
// report less than the truth.
func TestHistogramMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dist := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"Uniform", func() time.Duration { return time.Duration(r.Int64N(int64(50 * time.Millisecond))) }},
		{"LongTail", func() time.Duration { return time.Duration(r.ExpFloat64() * float64(3*time.Millisecond)) }},
		{"Sub-ms", func() time.Duration { return time.Duration(r.Int64N(int64(900 * time.Microsecond))) }},
	} {
		t.Run(dist.name, func(t *testing.T) {
			var h Histogram
			var all []time.Duration
			for range 100000 {
				d := dist.gen().Truncate(time.Microsecond)
				h.Record(d)
				all = append(all, d)
			}
			slices.Sort(all)
			for _, q := range []float64{.5, .9, .99, .999, 1} {
				want, got := exactQuantile(all, q), h.Quantile(q)
				if got < want || float64(got-want) > float64(want)*0.002+float64(time.Microsecond) {
					t.Errorf("q%.3f: got %v, want %v (within 0.2%%, never below)", q, got, want)
				}
			}
			if got, want := h.Count(), int64(len(all)); got != want {
				t.Errorf("count %d, want %d", got, want)
			}
			if s := h.Summary(); s.Max != ms(all[len(all)-1]) {
				t.Errorf("max %v, want %v", s.Max, ms(all[len(all)-1]))
			}
		})
	}
}

func TestHistogramNegativeAndEmpty(t *testing.T) {
	var h Histogram
	if got := h.Quantile(.99); got != 0 {
		t.Errorf("empty histogram: got %v, want 0", got)
	}
	h.Record(-5 * time.Millisecond)
	if got := h.Quantile(1); got != 0 {
		t.Errorf("negative duration: got %v, want 0", got)
	}
}

func TestHistogramExportImport(t *testing.T) {
	var a, b, merged Histogram
	for i := range 1000 {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(i) * 2 * time.Millisecond)
	}
	merged.Import(a.Export())
	merged.Import(b.Export())
	var direct Histogram
	direct.Merge(&a)
	direct.Merge(&b)
	if got, want := merged.Summary(), direct.Summary(); got != want {
		t.Errorf("imported %+v, merged %+v", got, want)
	}
	if got, want := merged.Summary().Max, 1998.0; got != want {
		t.Errorf("max %v, want %v", got, want)
	}
	if got, want := merged.Count(), int64(2000); got != want {
		t.Errorf("count %d, want %d", got, want)
	}
}

func TestWindowRate(t *testing.T) {
	w := Window{Start: 1_000_000_000, End: 3_000_000_000} // 2 s
	for _, tc := range []struct {
		name string
		ts   []int64
		want float64
	}{
		{"Empty", nil, 0},
		{"Inside", []int64{1_500_000_000, 2_000_000_000, 2_999_999_999, 1_000_000_000}, 2},
		{"EndExcluded", []int64{3_000_000_000}, 0},
		{"Before", []int64{999_999_999}, 0},
		{"Mixed", []int64{0, 1_200_000_000, 4_000_000_000, 2_200_000_000}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := w.Rate(tc.ts); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := (Window{Start: 5, End: 5}).Rate([]int64{5}); got != 0 {
		t.Errorf("empty window: got %v, want 0", got)
	}
}

func TestChunkedAndArrival(t *testing.T) {
	var c chunked[arrival]
	if c.Peek(5) != nil {
		t.Fatal("Peek allocated")
	}
	a := c.At(chunkLen + 3)
	a.add(50)
	a.add(20)
	if got := c.Peek(chunkLen + 3); got.count.Load() != 2 || got.last.Load() != 50 {
		t.Errorf("got count %d last %d, want 2 and 50", got.count.Load(), got.last.Load())
	}
	if c.At(-1) != nil || c.At(chunkLen*chunkSlots) != nil {
		t.Error("out-of-range index answered")
	}
}

func TestReceiversMerge(t *testing.T) {
	parent, worker := newReceivers("run"), newReceivers("run")
	parent.arrivals.At(7).add(100)
	worker.arrivals.At(7).add(300)
	worker.arrivals.At(7).add(200)
	worker.Created.Add(2)
	worker.FromIntended.Record(4 * time.Millisecond)
	parent.merge(worker.export())
	a := parent.arrivals.Peek(7)
	if a.count.Load() != 3 || a.last.Load() != 300 {
		t.Errorf("merged arrival: count %d last %d, want 3 and 300", a.count.Load(), a.last.Load())
	}
	if parent.Created.Load() != 2 || parent.FromIntended.Count() != 1 {
		t.Errorf("merged counters: created %d, histogram %d", parent.Created.Load(), parent.FromIntended.Count())
	}
}
