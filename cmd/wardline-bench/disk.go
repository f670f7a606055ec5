package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DiskProbe is how quickly the disk under the server's data directory makes a small write
// durable: what a commit waits for, and what differs most between machines of one kind (one host's
// disk synced 4 KiB in 75 µs, another's in 600 µs with stalls of tens of ms). It is measured before
// the load starts, so that a report says what disk its figures were made on.
type DiskProbe struct {
	Dir        string  `json:"dir"`
	Syncs      int     `json:"syncs"`
	SyncsPerS  float64 `json:"syncs_per_s"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	WrittenKiB int     `json:"block_kib"`
}

// probeDisk writes a 4 KiB block n times in a new file in dir, each time followed by fsync (the
// file is preallocated first, as a WAL is reused, so only the data's sync is timed), and removes
// the file.
func probeDisk(dir string, n int) (*DiskProbe, error) {
	f, err := os.CreateTemp(dir, ".wardline-bench-disk-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	const block, blocks = 4096, 64
	buf := make([]byte, block)
	for i := range blocks {
		if _, err := f.WriteAt(buf, int64(i)*block); err != nil {
			return nil, err
		}
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	took := make([]time.Duration, 0, n)
	start := time.Now()
	for i := range n {
		buf[0] = byte(i)
		t := time.Now()
		if _, err := f.WriteAt(buf, int64(i%blocks)*block); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
		took = append(took, time.Since(t))
	}
	all := time.Since(start)
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return &DiskProbe{Dir: dir, Syncs: n, SyncsPerS: float64(n) / all.Seconds(), WrittenKiB: block / 1024,
		P50Ms: ms(took[n/2]), P99Ms: ms(took[n*99/100]), MaxMs: ms(took[n-1])}, nil
}

// serverDataDir is the data directory of the wardline server process pid, read from /proc
// (dataDirOf); "" when /proc cannot say.
func serverDataDir(pid int) string {
	nulSplit := func(name string) []string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
		if err != nil {
			return nil
		}
		return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	}
	args := nulSplit("cmdline")
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if args == nil || err != nil {
		return ""
	}
	return dataDirOf(args, nulSplit("environ"), cwd)
}

// dataDirOf is the data directory of a wardline process with these arguments, environment and
// working directory: its --data-dir (or -data-dir), else WARDLINE_DATA_DIR, else wardline's
// default ./data, made absolute against cwd.
func dataDirOf(args, env []string, cwd string) string {
	dir := ""
	for i, a := range args {
		for _, flag := range []string{"--data-dir", "-data-dir"} {
			if v, ok := strings.CutPrefix(a, flag+"="); ok {
				dir = v
			} else if a == flag && i+1 < len(args) {
				dir = args[i+1]
			}
		}
	}
	if dir == "" {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "WARDLINE_DATA_DIR="); ok {
				dir = v
			}
		}
	}
	if dir == "" {
		dir = "./data"
	}
	if filepath.IsAbs(dir) {
		return filepath.Clean(dir)
	}
	return filepath.Join(cwd, dir)
}
