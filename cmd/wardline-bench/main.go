// Command wardline-bench is Wardline's load generator. It creates users and group conversations
// through the API, opens WebSocket event streams, sends messages from concurrent senders at a
// chosen rate, and reports durable msgs/s, send→deliver latency measured at the receiving
// connections, errors, and the server's memory and CPU (read from /proc). See docs/PERFORMANCE.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Config is the command line.
type Config struct {
	URLs                                        []string
	AdminEmail, AdminPassword, AdminTOTP        string
	DataDir, Wardline                           string
	State, Scenario, Receipts, Send             string
	Users, ConvSize, Conversations, Connections int
	IdleConnections, IdleUsers                  int // connections of users in no conversation
	Senders, BodyBytes, ServerPID, Procs        int
	SetupWorkers, DialConcurrency               int
	Rate                                        float64
	Duration, Warmup, Drain, Settle             time.Duration
	JSON, Insecure, SetupOnly, LogGaps          bool
	Worker, WorkerPlan                          string // internal: this process is worker i/P
	CPUProfile                                  string // profile this process over the window
	DiskProbe                                   string // "auto", "off" or a directory (disk.go)
}

// scenarios are the presets for DESIGN.md's targets; flags given explicitly win.
var scenarios = map[string]map[string]string{
	// ≥ 5,000 durable msgs/s from 100 concurrent senders, fan-out to 10; CPU per message.
	"max-throughput": {"users": "100", "conversations": "100", "conversation-size": "10", "connections": "100",
		"senders": "100", "rate": "0", "duration": "30s", "warmup": "5s"},
	// p99 < 20 ms send→deliver at 1,000 msgs/s into conversations of 10, with 10,000 open
	// connections (DESIGN.md): 2,000 of the conversations' members and 8,000 idle ones.
	"latency": {"users": "2000", "conversations": "200", "conversation-size": "10", "connections": "2000",
		"idle-connections": "8000", "idle-users": "100", "senders": "100", "rate": "1000", "duration": "60s", "warmup": "10s"},
	// ≤ 20 KiB of server memory per idle connection: open them, wait, send nothing.
	"idle-connections": {"users": "2000", "conversations": "0", "connections": "10000", "senders": "0",
		"duration": "30s", "warmup": "5s"},
}

func parseFlags(args []string) (*Config, error) {
	cfg := &Config{}
	fs := flag.NewFlagSet("wardline-bench", flag.ContinueOnError)
	var urls string
	fs.StringVar(&urls, "url", "http://127.0.0.1:8080", "server base URL; several comma-separated URLs (a cluster) get clients round-robin")
	fs.StringVar(&cfg.AdminEmail, "admin-email", "", "an admin of the organisation (password already changed)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", "", "that admin's password")
	fs.StringVar(&cfg.AdminTOTP, "admin-totp-secret", "", "that admin's TOTP secret (base32), when the account has one")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "instead of an admin: bootstrap one (wardline admin bootstrap) in this data directory")
	fs.StringVar(&cfg.Wardline, "wardline", "", "path of the wardline binary, for bootstrapping with --data-dir")
	fs.StringVar(&cfg.State, "state", "", "file caching the admin, users, tokens and conversations, so a later run skips setup")
	fs.StringVar(&cfg.Scenario, "scenario", "", "preset: max-throughput, latency or idle-connections (explicit flags override it)")
	fs.IntVar(&cfg.Users, "users", 100, "bench users")
	fs.IntVar(&cfg.ConvSize, "conversation-size", 10, "members per group conversation")
	fs.IntVar(&cfg.Conversations, "conversations", 10, "group conversations (conversation k holds users k*M .. k*M+M-1, mod users)")
	fs.IntVar(&cfg.Connections, "connections", 100, "WebSocket connections; connection c belongs to user c mod users")
	fs.IntVar(&cfg.IdleConnections, "idle-connections", 0, "more WebSocket connections, held by --idle-users users of their own who are in no conversation: they receive nothing but pings (DESIGN.md's latency target counts 10,000 open connections)")
	fs.IntVar(&cfg.IdleUsers, "idle-users", 100, "users holding the --idle-connections (users --users .. --users+N-1 of the state)")
	fs.IntVar(&cfg.Senders, "senders", 10, "concurrent sending goroutines (0: send nothing)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per second in total, open loop; 0 = closed loop, as fast as answers come")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured window")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "load before the window, not measured")
	fs.DurationVar(&cfg.Drain, "drain", 15*time.Second, "after the window: how long to wait for deliveries still under way")
	fs.DurationVar(&cfg.Settle, "settle", 30*time.Second, "before sampling the server's memory (before and after opening connections): wait at most this long for its RSS to hold steady")
	fs.IntVar(&cfg.BodyBytes, "body-bytes", 200, "message body size (it carries the send timestamps)")
	fs.StringVar(&cfg.DiskProbe, "disk-probe", "auto", "before the load, time 500 synced 4 KiB writes in this directory and report them; auto: the --server-pid's data directory; off: none")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server process id: RSS and CPU time are read from /proc/PID around the window")
	fs.StringVar(&cfg.Receipts, "receipts", "batched", "how streams ask for delivered receipts: batched (one frame per conversation and flush, as the web app does) or single (one frame per receipt)")
	fs.StringVar(&cfg.Send, "send", "http", "how messages are sent: http (POST /conversations/{id}/messages) or ws (a send frame on the sending user's own event stream, which must be one of this process's connections)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the result as JSON")
	fs.BoolVar(&cfg.SetupOnly, "setup-only", false, "create users and conversations (and fill --state), then stop")
	fs.BoolVar(&cfg.LogGaps, "log-gaps", false, "log every seq gap a connection sees (a message the server skipped)")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "accept a self-signed TLS certificate")
	fs.IntVar(&cfg.Procs, "procs", 1, "split the connections over this many processes (each may hold only so many open files)")
	fs.IntVar(&cfg.SetupWorkers, "setup-workers", 4, "concurrent user creations and sign-ins during setup")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 64, "WebSocket handshakes under way at once")
	fs.StringVar(&cfg.Worker, "worker", "", "internal: run as worker i/P of --procs P")
	fs.StringVar(&cfg.WorkerPlan, "worker-plan", "", "internal: the plan file of a worker")
	fs.StringVar(&cfg.CPUProfile, "cpu-profile", "", "write a CPU profile of this process over the measured window to this file (go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: wardline-bench [flags]\n\nLoad generator for Wardline (see docs/PERFORMANCE.md). Flags:\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.Scenario != "" {
		preset, ok := scenarios[cfg.Scenario]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q", cfg.Scenario)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for k, v := range preset {
			if !set[k] {
				if err := fs.Set(k, v); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			cfg.URLs = append(cfg.URLs, u)
		}
	}
	switch {
	case len(cfg.URLs) == 0:
		return nil, errors.New("--url is required")
	case cfg.Users < 1 || cfg.ConvSize < 1 || cfg.ConvSize > cfg.Users:
		return nil, errors.New("need --users >= 1 and 1 <= --conversation-size <= --users")
	case cfg.Senders > 0 && cfg.Conversations < 1:
		return nil, errors.New("senders need --conversations >= 1")
	case cfg.Procs < 1 || cfg.Connections < 0 || cfg.Rate < 0 || cfg.Duration <= 0:
		return nil, errors.New("--procs, --connections, --rate and --duration must be positive")
	case cfg.IdleConnections < 0 || (cfg.IdleConnections > 0 && cfg.IdleUsers < 1):
		return nil, errors.New("--idle-connections must not be negative, and needs --idle-users >= 1")
	case cfg.Receipts != "batched" && cfg.Receipts != "single":
		return nil, errors.New(`--receipts is "batched" or "single"`)
	case cfg.Send != "http" && cfg.Send != "ws":
		return nil, errors.New(`--send is "http" or "ws"`)
	case cfg.Send == "ws" && cfg.Senders > 0 && (cfg.Procs > 1 || cfg.Connections < cfg.Users):
		return nil, errors.New("--send ws sends on each user's own stream: it needs --procs 1 and a connection for every user (--connections >= --users)")
	}
	return cfg, nil
}

// Bench is one run of the load generator.
type Bench struct {
	cfg     *Config
	api     *API
	state   *State
	layout  *Layout
	senders *Senders
	recv    *Receivers
	// userConns is each user's first connection in this process, for --send ws.
	userConns []*Conn
}

func newBench(cfg *Config) (*Bench, error) {
	st, err := loadState(cfg.State)
	if err != nil {
		return nil, err
	}
	return &Bench{cfg: cfg, api: newAPI(cfg.Insecure, max(cfg.Senders, cfg.SetupWorkers, 16)), state: st,
		senders: &Senders{errSamples: map[string]string{}}, userConns: make([]*Conn, cfg.allUsers())}, nil
}

// allUsers is how many users the run needs: the layout's, then the idle connections' own.
func (cfg *Config) allUsers() int {
	if cfg.IdleConnections > 0 {
		return cfg.Users + cfg.IdleUsers
	}
	return cfg.Users
}

// allConnections is how many connections the run opens: the members', then the idle ones.
func (cfg *Config) allConnections() int { return cfg.Connections + cfg.IdleConnections }

// connUser is the user who holds connection c: c mod --users for the members' connections, an
// idle user in turn for the others.
func (cfg *Config) connUser(c int) int {
	if c < cfg.Connections {
		return c % cfg.Users
	}
	return cfg.Users + (c-cfg.Connections)%cfg.IdleUsers
}

// settle waits (at most --settle) until the server's RSS has changed by less than 1% over three
// seconds, so that memory freed by setup (argon2id takes 19 MiB a hash) is not counted against
// the connections. Without --server-pid it waits a moment for the server to catch up.
func (b *Bench) settle() {
	if b.cfg.ServerPID == 0 {
		time.Sleep(min(b.cfg.Settle, 2*time.Second))
		return
	}
	deadline := time.Now().Add(b.cfg.Settle)
	var hist []int64
	for time.Now().Before(deadline) {
		s, err := readProc(b.cfg.ServerPID)
		if err != nil {
			return
		}
		hist = append(hist, s.RSSKiB)
		if n := len(hist); n >= 4 {
			lo, hi := slices.Min(hist[n-4:]), slices.Max(hist[n-4:])
			if float64(hi-lo) < 0.01*float64(hi) {
				return
			}
		}
		time.Sleep(time.Second)
	}
	logf("server RSS still moving after %s: %v KiB", b.cfg.Settle, hist[max(len(hist)-4, 0):])
}

// checkServerPID refuses a --server-pid that is not a running process. A server that failed to
// start (on a port still held by an earlier one, say) leaves --url answered by another process:
// without this the run would measure that one and print no server figures, with only a line on
// stderr to say why.
func checkServerPID(pid int) error {
	if pid <= 0 {
		return nil
	}
	if _, err := readProc(pid); err != nil {
		return fmt.Errorf("--server-pid %d is not a running process (did the server fail to start?): %w", pid, err)
	}
	return nil
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "wardline-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	limit, err := raiseFileLimit()
	if err != nil {
		logf("raise open-file limit: %v", err)
	}
	if cfg.Worker != "" {
		if err := runWorker(ctx, cfg); err != nil {
			fmt.Fprintln(os.Stderr, "wardline-bench worker:", err)
			os.Exit(1)
		}
		return
	}
	if need := uint64(cfg.allConnections()/cfg.Procs + cfg.Senders + 256); limit > 0 && need > limit {
		fmt.Fprintf(os.Stderr, "wardline-bench: %d connections need about %d open files per process; the limit is %d: use --procs\n", cfg.allConnections(), need, limit)
		os.Exit(2)
	}
	b, err := newBench(cfg)
	if err == nil {
		var res *Result
		if res, err = b.Run(ctx); err == nil && res != nil {
			if cfg.JSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				err = enc.Encode(res)
			} else {
				res.printText(os.Stdout)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wardline-bench:", err)
		os.Exit(1)
	}
}

// diskProbe runs the probe --disk-probe asks for (nil when it is off, or fails).
func (b *Bench) diskProbe() *DiskProbe {
	dir := b.cfg.DiskProbe
	switch {
	case dir == "off":
		return nil
	case dir == "auto" && b.cfg.ServerPID == 0:
		return nil
	case dir == "auto":
		if dir = serverDataDir(b.cfg.ServerPID); dir == "" {
			return nil
		}
	}
	d, err := probeDisk(dir, 500)
	if err != nil {
		logf("disk probe: %v", err)
		return nil
	}
	return d
}

// Run sets up (or reuses) users and conversations, opens the connections, runs the load and
// gathers the result.
func (b *Bench) Run(ctx context.Context) (*Result, error) {
	cfg := b.cfg
	if err := checkServerPID(cfg.ServerPID); err != nil {
		return nil, err
	}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	if cfg.SetupOnly {
		return nil, nil
	}
	b.layout = b.buildLayout()
	if err := b.fetchLastSeqs(ctx); err != nil {
		return nil, err
	}
	b.recv = newReceivers(randomSecret()[:8])
	smp := &samples{pid: cfg.ServerPID, tick: clockTick()}
	sample := func(p *ProcSample) {
		if cfg.ServerPID > 0 {
			s, err := readProc(cfg.ServerPID)
			if err != nil {
				logf("read /proc/%d: %v", cfg.ServerPID, err)
				return
			}
			*p, smp.ok = s, true
		}
	}
	disk := b.diskProbe()
	b.settle()
	sample(&smp.idle)

	var workers []*worker
	if cfg.Procs > 1 {
		if cfg.State == "" {
			return nil, errors.New("--procs needs --state: the workers read the users from it")
		}
		pb, _ := json.Marshal(plan{Run: b.recv.run, LastSeq: b.layout.lastSeq})
		planPath := cfg.State + ".plan"
		if err := os.WriteFile(planPath, pb, 0o600); err != nil {
			return nil, err
		}
		defer os.Remove(planPath)
		var err error
		workers, err = b.startWorkers(planPath)
		defer func() {
			for _, w := range workers {
				_ = w.cmd.Process.Kill() // only if still running after stop
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	cctx, cancelConns := context.WithCancel(ctx)
	defer cancelConns()
	share := func(c int) bool { return c%cfg.Procs == 0 }
	if _, err := b.openConnections(cctx, share); err != nil {
		return nil, err
	}
	for i, w := range workers {
		if err := <-w.ready; err != nil {
			return nil, fmt.Errorf("worker %d: %w", i+1, err)
		}
	}
	logf("%d connections open (%d idle)", cfg.allConnections(), cfg.IdleConnections)
	b.settle()
	sample(&smp.connected)

	t0 := time.Now().Add(100 * time.Millisecond).UnixNano()
	w := Window{Start: t0 + int64(cfg.Warmup), End: t0 + int64(cfg.Warmup) + int64(cfg.Duration)}
	b.recv.start.Store(w.Start)
	b.recv.end.Store(w.End)
	for _, wk := range workers {
		fmt.Fprintf(wk.in, "window %d %d\n", w.Start, w.End)
	}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		time.Sleep(time.Until(time.Unix(0, w.Start)))
		sample(&smp.start)
		smp.store0, smp.metrics = b.commitStats()
		smp.selfStart, _ = readProc(os.Getpid())
		smp.workersStart = workersCPU(workers)
		smp.busyStart, smp.totalStart = machineBusy()
		stopProfile := startCPUProfile(cfg.CPUProfile)
		time.Sleep(time.Until(time.Unix(0, w.End)))
		stopProfile()
		sample(&smp.end)
		smp.store1, _ = b.commitStats()
		smp.selfEnd, _ = readProc(os.Getpid())
		smp.workersEnd = workersCPU(workers)
		smp.busyEnd, smp.totalEnd = machineBusy()
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			smp.loadavg = strings.Join(strings.Fields(string(b))[:3], " ")
		}
	}()
	logf("sending: warmup %s, window %s", cfg.Warmup, cfg.Duration)
	if cfg.Senders > 0 {
		b.send(ctx, t0, w)
	}
	<-sampled
	drained := b.drain(cfg.Drain, b.localExpected(share))
	if len(workers) > 0 {
		time.Sleep(time.Second) // the workers' connections may trail this process's by a little
	}
	for i, wk := range workers {
		res, err := wk.stop()
		if err != nil {
			return nil, fmt.Errorf("worker %d: %w", i+1, err)
		}
		b.recv.merge(res)
	}
	workers = nil
	res := b.result(w, smp, drained)
	res.Disk = disk
	cancelConns()
	if err := b.state.save(cfg.State); err != nil {
		logf("save state: %v", err)
	}
	return res, ctx.Err()
}
