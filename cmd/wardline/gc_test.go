package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, roots, floor uint64
		base, want         int
	}{
		{8 * mib, 0, 64 * mib, 100, 700},          // goal 8 + 8×7 = 64
		{8 * mib, 8 * mib, 64 * mib, 100, 350},    // stacks count toward the goal: 8 + 16×3.5 = 64
		{40 * mib, 0, 64 * mib, 100, 100},         // 80 by itself
		{100 * mib, 20 * mib, 64 * mib, 100, 100}, // above the floor already
		{20 * mib, 0, 64 * mib, 200, 220},         // GOGC=200 falls short (20 + 40 = 60): 20 + 20×2.2 = 64
		{0, 0, 64 * mib, 100, 1600},               // nothing live: the runtime's minimum goal, 4 MiB × 16
		{2 * mib, 0, 64 * mib, 100, 1600},         // 2 + 2×16 = 34 < 64, but the minimum is 64
		{2 * mib, 0, 2 * mib, 100, 100},           // a floor below the runtime's own minimum: nothing to do
		{8 * mib, 0, 64 * mib, -1, -1},            // collection off stays off
	} {
		if got := gcPercentFor(c.live, c.roots, c.floor, c.base); got != c.want {
			t.Errorf("gcPercentFor(live %d MiB, roots %d MiB, floor %d MiB, base %d) = %d, want %d",
				c.live/mib, c.roots/mib, c.floor/mib, c.base, got, c.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"64MiB": 64 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10, "4096": 4096, "off": 0, "0": 0, " 8 MiB ": 8 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64MB", "-1", "lots", "1.5GiB", "99999999999GiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"--heap-floor", "lots"}); err == nil || !strings.Contains(err.Error(), "--heap-floor") {
		t.Errorf("--heap-floor lots: got %v, want it refused", err)
	}
}

func readGC(t *testing.T) (percent, goal uint64) {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// A running server keeps the heap goal at its floor however small the live heap, puts GOGC back
// when it closes, and a second server in the same process (with a floor of its own) neither
// takes the setting over while the first runs nor keeps a floor after it. GOGC in the
// environment, or "off", leaves the runtime's own setting.
func TestHeapFloorHoldsTheHeapGoal(t *testing.T) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		os.Unsetenv("GOGC") // the floor steps aside for GOGC; this test wants it on
		t.Cleanup(func() { os.Setenv("GOGC", v) })
	}
	// Far above this test process's live heap, and within 32 × the runtime's 4 MiB minimum goal.
	const floor = 128 << 20
	basePercent, _ := readGC(t)
	waitForGoal := func(want func(percent, goal uint64) bool) (uint64, uint64) {
		t.Helper()
		var p, g uint64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			runtime.GC() // the floor retunes after each collection
			if p, g = readGC(t); want(p, g) {
				return p, g
			}
		}
		t.Fatalf("GOGC %d, heap goal %d MiB", p, g>>20)
		return p, g
	}

	start := func(heapFloor string) *Main {
		t.Helper()
		m := NewMain(io.Discard, io.Discard)
		m.Config = Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", HTTP: true, LogLevel: "warn", HeapFloor: heapFloor}
		if err := m.Run(context.Background()); err != nil {
			m.Close()
			t.Fatal(err)
		}
		return m
	}

	first := start("128MiB")
	p, g := waitForGoal(func(p, g uint64) bool { return g >= floor*95/100 })
	if p <= basePercent || g > floor*3/2 {
		t.Fatalf("with a floor of 128 MiB: GOGC %d (base %d), heap goal %d MiB", p, basePercent, g>>20)
	}

	second := start("96MiB")
	for range 3 {
		runtime.GC()
	}
	if p, g := readGC(t); g < floor*95/100 {
		t.Fatalf("a second server's floor took over: GOGC %d, heap goal %d MiB", p, g>>20)
	}

	first.Close()
	waitForGoal(func(p, g uint64) bool { return p == basePercent })
	for range 3 {
		runtime.GC()
	}
	if p, g := readGC(t); p != basePercent || g >= floor/2 {
		t.Fatalf("after the first server closed: GOGC %d, heap goal still %d MiB", p, g>>20)
	}
	second.Close()

	// Off: the runtime's own setting throughout.
	for _, c := range []struct{ gogc, floor string }{{"", "off"}, {"100", "128MiB"}} {
		if c.gogc != "" {
			os.Setenv("GOGC", c.gogc) // read at start, by the runtime and by the floor
		}
		m := start(c.floor)
		runtime.GC()
		runtime.GC()
		p, g := readGC(t)
		m.Close()
		os.Unsetenv("GOGC")
		if p != basePercent || g >= floor/2 {
			t.Fatalf("GOGC=%q --heap-floor %s: GOGC %d, heap goal %d MiB", c.gogc, c.floor, p, g>>20)
		}
	}
}
