package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
)

// With --procs P the connections are split over P processes (each process may hold only so many
// open files): this one holds connections c with c%P == 0 and sends; P-1 worker copies of this
// program hold the rest and only receive. They talk over stdin/stdout in lines:
//
//	worker → parent: "ready N" once its N connections are open (or "error TEXT")
//	parent → worker: "window START END" (Unix ns), later "stop"
//	worker → parent: one line of JSON, its workerResult, then it exits

// plan is what the parent hands its workers beside the state file.
type plan struct {
	Run     string  `json:"run"`
	LastSeq []int64 `json:"last_seq"`
}

type workerResult struct {
	FromIntended [][2]int64       `json:"from_intended"`
	FromSent     [][2]int64       `json:"from_sent"`
	Counters     map[string]int64 `json:"counters"`
	DropReasons  map[string]int   `json:"drop_reasons"`
	Arrivals     [][3]int64       `json:"arrivals"` // msgno, connections reached, last arrival
}

func (r *Receivers) counters() map[string]*atomic.Int64 {
	return map[string]*atomic.Int64{
		"frames": &r.Frames, "created": &r.Created, "receipts": &r.Receipts, "conv_updates": &r.ConvUpdates,
		"other": &r.Other, "duplicates": &r.Duplicates, "gaps": &r.Gaps, "late": &r.Late, "foreign": &r.Foreign,
		"replayed": &r.Replayed, "open": &r.Open, "dropped": &r.Dropped, "reconnects": &r.Reconnects,
		"dial_errors": &r.DialErrors,
	}
}

func (r *Receivers) export() workerResult {
	out := workerResult{FromIntended: r.FromIntended.Export(), FromSent: r.FromSent.Export(), Counters: map[string]int64{}}
	for k, v := range r.counters() {
		out.Counters[k] = v.Load()
	}
	r.mu.Lock()
	out.DropReasons = r.DropReasons
	r.mu.Unlock()
	for s := range r.arrivals.chunks {
		p := r.arrivals.chunks[s].Load()
		if p == nil {
			continue
		}
		for i := range p {
			if n := p[i].count.Load(); n > 0 {
				out.Arrivals = append(out.Arrivals, [3]int64{int64(s*chunkLen + i), int64(n), p[i].last.Load()})
			}
		}
	}
	return out
}

func (r *Receivers) merge(w workerResult) {
	r.FromIntended.Import(w.FromIntended)
	r.FromSent.Import(w.FromSent)
	c := r.counters()
	for k, v := range w.Counters {
		if p := c[k]; p != nil {
			p.Add(v)
		}
	}
	r.mu.Lock()
	for k, v := range w.DropReasons {
		r.DropReasons[k] += v
	}
	r.mu.Unlock()
	for _, a := range w.Arrivals {
		if x := r.arrivals.At(a[0]); x != nil {
			x.count.Add(int32(a[1]))
			for cur := x.last.Load(); a[2] > cur && !x.last.CompareAndSwap(cur, a[2]); cur = x.last.Load() {
			}
		}
	}
}

// runWorker is a worker process: it opens its share of connections and receives until told to stop.
func runWorker(ctx context.Context, cfg *Config) error {
	var idx, procs int
	if _, err := fmt.Sscanf(cfg.Worker, "%d/%d", &idx, &procs); err != nil || procs < 2 || idx < 1 || idx >= procs {
		return fmt.Errorf("--worker wants i/P with 1 <= i < P")
	}
	b, err := newBench(cfg)
	if err != nil {
		return err
	}
	pb, err := os.ReadFile(cfg.WorkerPlan)
	if err != nil {
		return err
	}
	var p plan
	if err := json.Unmarshal(pb, &p); err != nil {
		return err
	}
	if len(b.state.Users) < cfg.allUsers() {
		return fmt.Errorf("the state holds %d users, not %d", len(b.state.Users), cfg.allUsers())
	}
	b.layout = b.buildLayout()
	copy(b.layout.lastSeq, p.LastSeq)
	b.recv = newReceivers(p.Run)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, err := b.openConnections(cctx, func(c int) bool { return c%procs == idx })
	if err != nil {
		fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
		return err
	}
	fmt.Println("ready", n)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 3 && f[0] == "window" {
			s, _ := strconv.ParseInt(f[1], 10, 64)
			e, _ := strconv.ParseInt(f[2], 10, 64)
			b.recv.start.Store(s)
			b.recv.end.Store(e)
		}
		if len(f) == 1 && f[0] == "stop" {
			break
		}
	}
	res := b.recv.export()
	cancel()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// worker is the parent's handle on one worker process.
type worker struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	ready chan error
}

// startWorkers launches P-1 copies of this program with the same flags.
func (b *Bench) startWorkers(planPath string) ([]*worker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var ws []*worker
	for i := 1; i < b.cfg.Procs; i++ {
		args := append(append([]string{}, os.Args[1:]...), "--state", b.cfg.State, "--worker", fmt.Sprintf("%d/%d", i, b.cfg.Procs), "--worker-plan", planPath)
		cmd := exec.Command(exe, args...)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return ws, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return ws, err
		}
		if err := cmd.Start(); err != nil {
			return ws, err
		}
		w := &worker{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), ready: make(chan error, 1)}
		go func() {
			line, err := w.out.ReadString('\n')
			if err == nil && !strings.HasPrefix(line, "ready ") {
				err = fmt.Errorf("worker %d: %s", i, strings.TrimSpace(line))
			}
			w.ready <- err
		}()
		ws = append(ws, w)
	}
	return ws, nil
}

// stop asks a worker for its results and waits for it to exit.
func (w *worker) stop() (workerResult, error) {
	var res workerResult
	fmt.Fprintln(w.in, "stop")
	line, err := w.out.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &res)
	}
	w.in.Close()
	if werr := w.cmd.Wait(); err == nil {
		err = werr
	}
	return res, err
}

// workersCPU is the CPU time (ticks) the worker processes have used so far.
func workersCPU(ws []*worker) int64 {
	var n int64
	for _, w := range ws {
		if s, err := readProc(w.cmd.Process.Pid); err == nil {
			n += s.CPUTicks
		}
	}
	return n
}
