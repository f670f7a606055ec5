package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A server's live heap is small: about 8 MB under full load on one node, most of its memory
// being SQLite's page cache (outside the Go heap) and goroutine stacks. With the Go default
// (GOGC=100) the collector then runs whenever 8 MB more has been allocated: six or seven times
// a second at 2,700 messages a second, and each cycle's mark assists and pauses land also on the
// one goroutine that commits every write. The heap floor lets the heap grow to a fixed size before
// a cycle, however small the live heap, and changes nothing once the live heap is large enough
// for GOGC=100 to reach the floor by itself (10,000 open connections, say). GOMEMLIMIT, when
// set, still bounds the heap; GOGC, when set, turns the floor off.

// defaultHeapFloor is the heap size below which the collector is not started: what the heap of
// a busy single node reaches anyway, and small beside any machine that runs a hospital service.
const defaultHeapFloor = 64 << 20

// runtimeHeapMinimum is the runtime's smallest heap goal at GOGC=100: it scales with GOGC, so a
// GOGC of floor/runtimeHeapMinimum × 100 alone makes the goal the floor, and the floor never sets
// more than that (for a live heap of almost nothing).
const runtimeHeapMinimum = 4 << 20

// heapFloorActive is set while a heap floor runs: the setting is the process's, so the first
// server of a process (the tests run several) owns it.
var heapFloorActive atomic.Bool

// heapFloor resets GOGC after every collection so that the next one starts no sooner than at
// floor bytes of heap.
type heapFloor struct {
	floor uint64
	base  int // GOGC when the heap is large enough: the runtime's own value at start

	mu      sync.Mutex
	stopped bool
	percent int // the GOGC last set
	samples []metrics.Sample
}

// startHeapFloor starts a heap floor of floor bytes and returns the function that stops it and
// puts GOGC back. It does nothing (on is false, stop a no-op) when floor is 0, when GOGC is set
// in the environment, or when another server of this process has one running.
func startHeapFloor(floor uint64) (stop func(), on bool) {
	if _, gogc := os.LookupEnv("GOGC"); floor == 0 || gogc || !heapFloorActive.CompareAndSwap(false, true) {
		return func() {}, false
	}
	cur := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(cur)
	base := int(cur[0].Value.Uint64())
	h := &heapFloor{floor: floor, base: base, percent: base, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}}
	h.tune()
	h.arm()
	return h.stop, true
}

// arm asks to be called after the next collection: the cleanup of an object nothing refers to
// runs once a cycle has found it unreachable.
func (h *heapFloor) arm() {
	sentinel := new(gcSentinel)
	runtime.AddCleanup(sentinel, func(h *heapFloor) {
		if h.tune() {
			h.arm()
		}
	}, h)
}

// gcSentinel holds a pointer so that it is never packed with other small objects (which would
// keep it alive as long as they are).
type gcSentinel struct{ _ *byte }

// tune sets GOGC for the heap the last collection left; it reports false once stopped.
func (h *heapFloor) tune() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	metrics.Read(h.samples)
	p := gcPercentFor(h.samples[0].Value.Uint64(), h.samples[1].Value.Uint64()+h.samples[2].Value.Uint64(), h.floor, h.base)
	// Small changes are not worth the runtime's lock: the goal moves by under 5 %.
	if d := p - h.percent; d > h.percent/20 || -d > h.percent/20 {
		debug.SetGCPercent(p)
		h.percent = p
	}
	return true
}

func (h *heapFloor) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	h.stopped = true
	debug.SetGCPercent(h.base)
	heapFloorActive.Store(false)
}

// gcPercentFor is the GOGC whose heap goal, after a collection that found live bytes of heap and
// roots bytes of stacks and globals, is floor bytes; base when base already reaches it. The
// runtime's goal is live + (live + roots) × GOGC / 100, and at least runtimeHeapMinimum × GOGC /
// 100.
func gcPercentFor(live, roots, floor uint64, base int) int {
	if base < 0 {
		return base // collection off: nothing to raise
	}
	if live >= floor || live+(live+roots)*uint64(base)/100 >= floor {
		return base
	}
	p := (floor - live) * 100 / max(live+roots, 1)
	return max(base, int(min(p, floor*100/runtimeHeapMinimum)))
}

// parseSize reads a size such as "64MiB", "1GiB", "512KiB" or a number of bytes; "off" and "0"
// are 0.
func parseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "off") {
		return 0, nil
	}
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(t), 10, 64)
	if err != nil || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with KiB, MiB or GiB; off for none)", s)
	}
	return n * mult, nil
}
