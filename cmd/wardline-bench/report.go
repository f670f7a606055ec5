package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// Result is one run's report (printed as text, or as JSON with --json).
type Result struct {
	Scenario      string   `json:"scenario"`
	URLs          []string `json:"urls"`
	Users         int      `json:"users"`
	ConvSize      int      `json:"conversation_size"`
	Conversations int      `json:"conversations"`
	Connections   int      `json:"connections"`
	Idle          int      `json:"idle_connections"` // more, of users in no conversation
	Procs         int      `json:"procs"`
	Senders       int      `json:"senders"`
	Rate          float64  `json:"rate"`
	BodyBytes     int      `json:"body_bytes"`
	WarmupS       float64  `json:"warmup_s"`
	WindowS       float64  `json:"window_s"`

	Sent            int64             `json:"sent"`     // messages due in the window
	Accepted        int64             `json:"accepted"` // of which answered 201
	AcceptedPerSec  float64           `json:"accepted_per_s"`
	DeliveredPerSec float64           `json:"fully_delivered_per_s"`
	NotDelivered    int64             `json:"not_fully_delivered"` // accepted in the window, missing somewhere at the end
	NotSent         int64             `json:"not_sent"`            // due in the window, never sent: the senders fell too far behind
	NoOnline        int64             `json:"no_online_members"`
	Errors          map[string]int64  `json:"errors"`
	ErrorSamples    map[string]string `json:"error_samples,omitempty"`
	Drained         bool              `json:"drained"`

	SendLag       Latency `json:"send_lag"`    // actual − intended send time
	Response      Latency `json:"post_to_201"` // POST → 201
	FrameIntended Latency `json:"frame_from_intended"`
	FrameSent     Latency `json:"frame_from_sent"`
	AllIntended   Latency `json:"all_delivered_from_intended"`
	AllSent       Latency `json:"all_delivered_from_sent"`

	Conn struct {
		Open, Dropped, Reconnects, DialErrors int64
		DropReasons                           map[string]int
	} `json:"connections_state"`
	Frames map[string]int64 `json:"frames"`

	Server *ServerReport `json:"server,omitempty"`
	Bench  struct {
		CPUSeconds float64 `json:"cpu_s"` // the bench processes during the window
		RSSMiB     float64 `json:"rss_mib"`
	} `json:"bench"`
	// MachineBusyCores is how many CPUs were busy on average in the window, everything included;
	// OtherCores is what is left after the server and the bench: other work on a shared machine.
	MachineBusyCores float64 `json:"machine_busy_cores"`
	OtherCores       float64 `json:"other_cores"`
	LoadAvg          string  `json:"loadavg_at_end"`
	// From the server's /metrics, when it has one: group commits in the window.
	CommitsPerSec   float64 `json:"commits_per_s,omitempty"`
	WritesPerCommit float64 `json:"writes_per_commit,omitempty"`
	// WAL restarts in the window (SQLite): each held every write for a checkpoint.
	WALRestarts int `json:"wal_restarts"`
	// The server's own view, in the window (percent; absent when it saw none): message POSTs
	// answered within 20 ms, and frames written within 10 ms of their event's publish. What the
	// receiving clients see beyond that is the network and the clients' own scheduling.
	ServerSendsIn20ms  float64 `json:"server_sends_within_20ms_pct,omitempty"`
	ServerFramesIn10ms float64 `json:"server_frames_within_10ms_pct,omitempty"`
	// And of every write the store made in the window (messages, receipt flushes, ...): those
	// that waited under 5 ms for their group commit to begin, and those whose group commit took
	// under 10 ms. A send slow in the server but quick in its commit waited for the writer.
	ServerWritesQueuedIn5ms float64 `json:"server_writes_queued_within_5ms_pct,omitempty"`
	ServerWritesBatchIn10ms float64 `json:"server_writes_batch_within_10ms_pct,omitempty"`
	// And of a SQLite server's commits in the window: how many of their COMMITs (the WAL frames
	// written and synced) took over 20 ms: the disk's stalls.
	ServerCommits         int `json:"server_commits,omitempty"`
	ServerCommitsOver20ms int `json:"server_commits_over_20ms,omitempty"`
	// The disk under the server's data directory, probed before the load (--disk-probe).
	Disk *DiskProbe `json:"disk,omitempty"`
}

// ServerReport is what /proc said about the server process.
type ServerReport struct {
	PID           int     `json:"pid"`
	RSSIdleKiB    int64   `json:"rss_before_connections_kib"`
	RSSConnKiB    int64   `json:"rss_connected_kib"`
	RSSStartKiB   int64   `json:"rss_window_start_kib"`
	RSSEndKiB     int64   `json:"rss_window_end_kib"`
	HWMKiB        int64   `json:"rss_peak_kib"`
	PerConnKiB    float64 `json:"rss_per_connection_kib"`     // (connected − before connections) / connections
	PerConnEndKiB float64 `json:"rss_per_connection_end_kib"` // (window end − before connections) / connections
	CPUSeconds    float64 `json:"cpu_s"`
	CPUCores      float64 `json:"cpu_cores"`
	CPUMsPerMsg   float64 `json:"cpu_ms_per_message"`
	Threads       int64   `json:"threads"`
	FDs           int     `json:"fds"`
}

// samples are the server's /proc readings at the points of the run.
type samples struct {
	pid                         int
	tick                        int64
	idle, connected, start, end ProcSample
	ok                          bool
	selfStart, selfEnd          ProcSample
	workersStart, workersEnd    int64 // CPU ticks of the worker processes
	busyStart, busyEnd          int64
	totalStart, totalEnd        int64
	loadavg                     string
	store0, store1              storeStats // from /metrics at the window's start and end
	metrics                     bool
}

// result turns what senders and receivers recorded into the report. expected is, per
// conversation, how many connections (of all processes) a message must reach.
func (b *Bench) result(w Window, smp *samples, drained bool) *Result {
	cfg, l, s, r := b.cfg, b.layout, b.senders, b.recv
	res := &Result{Scenario: cfg.Scenario, URLs: cfg.URLs, Users: cfg.Users, ConvSize: cfg.ConvSize, Conversations: cfg.Conversations,
		Connections: cfg.Connections, Idle: cfg.IdleConnections, Procs: cfg.Procs, Senders: cfg.Senders, Rate: cfg.Rate, BodyBytes: cfg.BodyBytes,
		WarmupS: cfg.Warmup.Seconds(), WindowS: w.Seconds(), Errors: map[string]int64{}, Drained: drained}
	var answered, delivered []int64
	var allI, allS []time.Duration
	n := s.count.Load()
	if s.period > 0 {
		n = max(n, int64(math.Ceil(float64(w.End-s.t0)/s.period)))
	}
	for i := range n {
		rec := s.recs.Peek(i)
		if rec == nil || rec.intended == 0 {
			if s.period > 0 && w.Contains(s.due(i)) {
				res.Sent++
				res.NotSent++
			}
			continue
		}
		in := w.Contains(rec.intended)
		status := atomic.LoadInt32(&rec.status)
		if in {
			res.Sent++
			if status != 201 {
				key := fmt.Sprint(status)
				if status == 0 {
					key = "transport"
				}
				res.Errors[key]++
			}
		}
		if status != 201 {
			continue
		}
		answered = append(answered, rec.answered)
		if in {
			res.Accepted++
		}
		exp := l.expected[rec.conv]
		if exp == 0 {
			res.NoOnline++
			continue
		}
		a := r.arrivals.Peek(i)
		if a == nil || a.count.Load() < exp {
			if in {
				res.NotDelivered++
			}
			continue
		}
		last := a.last.Load()
		delivered = append(delivered, last)
		if in {
			allI = append(allI, time.Duration(last-rec.intended))
			allS = append(allS, time.Duration(last-rec.sent))
		}
	}
	res.AcceptedPerSec, res.DeliveredPerSec = w.Rate(answered), w.Rate(delivered)
	s.mu.Lock()
	res.ErrorSamples = maps.Clone(s.errSamples)
	s.mu.Unlock()
	res.SendLag, res.Response = s.Lag.Summary(), s.Response.Summary()
	res.FrameIntended, res.FrameSent = r.FromIntended.Summary(), r.FromSent.Summary()
	res.AllIntended, res.AllSent = exactSummary(allI), exactSummary(allS)
	res.Conn.Open, res.Conn.Dropped, res.Conn.Reconnects, res.Conn.DialErrors = r.Open.Load(), r.Dropped.Load(), r.Reconnects.Load(), r.DialErrors.Load()
	r.mu.Lock()
	res.Conn.DropReasons = maps.Clone(r.DropReasons)
	r.mu.Unlock()
	res.Frames = map[string]int64{}
	for k, v := range r.counters() {
		if !slices.Contains([]string{"open", "dropped", "reconnects", "dial_errors"}, k) {
			res.Frames[k] = v.Load()
		}
	}
	tick := float64(smp.tick)
	res.Bench.CPUSeconds = float64(smp.selfEnd.CPUTicks-smp.selfStart.CPUTicks+smp.workersEnd-smp.workersStart) / tick
	res.Bench.RSSMiB = float64(smp.selfEnd.RSSKiB) / 1024
	res.LoadAvg = smp.loadavg
	if c := smp.store1.commits - smp.store0.commits; smp.metrics && c > 0 {
		res.CommitsPerSec = c / w.Seconds()
		res.WritesPerCommit = (smp.store1.calls - smp.store0.calls) / c
		res.WALRestarts = int(smp.store1.walRestarts - smp.store0.walRestarts)
		if n := smp.store1.sends - smp.store0.sends; n > 0 {
			res.ServerSendsIn20ms = 100 * (smp.store1.sendsIn20ms - smp.store0.sendsIn20ms) / n
		}
		if n := smp.store1.frames - smp.store0.frames; n > 0 {
			res.ServerFramesIn10ms = 100 * (smp.store1.framesIn10ms - smp.store0.framesIn10ms) / n
		}
		if n := smp.store1.writes - smp.store0.writes; n > 0 {
			res.ServerWritesQueuedIn5ms = 100 * (smp.store1.writesQueuedIn5ms - smp.store0.writesQueuedIn5ms) / n
			res.ServerWritesBatchIn10ms = 100 * (smp.store1.writesBatchIn10ms - smp.store0.writesBatchIn10ms) / n
		}
		if n := smp.store1.syncs - smp.store0.syncs; n > 0 {
			res.ServerCommits = int(n)
			res.ServerCommitsOver20ms = int(n - (smp.store1.syncsIn20ms - smp.store0.syncsIn20ms))
		}
	}
	if dt := smp.totalEnd - smp.totalStart; dt > 0 {
		cpus := float64(runtime.NumCPU())
		res.MachineBusyCores = float64(smp.busyEnd-smp.busyStart) / float64(dt) * cpus
		res.OtherCores = res.MachineBusyCores - res.Bench.CPUSeconds/w.Seconds()
	}
	if smp.ok {
		sr := &ServerReport{PID: smp.pid, RSSIdleKiB: smp.idle.RSSKiB, RSSConnKiB: smp.connected.RSSKiB,
			RSSStartKiB: smp.start.RSSKiB, RSSEndKiB: smp.end.RSSKiB, HWMKiB: smp.end.HWMKiB, Threads: smp.end.Threads, FDs: smp.end.FDs}
		if n := cfg.allConnections(); n > 0 {
			sr.PerConnKiB = float64(smp.connected.RSSKiB-smp.idle.RSSKiB) / float64(n)
			sr.PerConnEndKiB = float64(smp.end.RSSKiB-smp.idle.RSSKiB) / float64(n)
		}
		sr.CPUSeconds = float64(smp.end.CPUTicks-smp.start.CPUTicks) / tick
		sr.CPUCores = sr.CPUSeconds / w.Seconds()
		res.OtherCores -= sr.CPUCores
		if msgs := res.AcceptedPerSec * w.Seconds(); msgs > 0 {
			sr.CPUMsPerMsg = sr.CPUSeconds * 1000 / msgs
		}
		res.Server = sr
	}
	return res
}

func (res *Result) printText(out io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	mode := "closed loop"
	if res.Rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f msgs/s", res.Rate)
	}
	p("scenario %q: %d users, %d conversations of %d, %d connections + %d idle (%d procs), %d senders, %s, body %d B",
		res.Scenario, res.Users, res.Conversations, res.ConvSize, res.Connections, res.Idle, res.Procs, res.Senders, mode, res.BodyBytes)
	p("window %.1fs after %.1fs warmup", res.WindowS, res.WarmupS)
	p("")
	p("messages due in window   %d (accepted 201: %d; never sent: %d; not fully delivered at end: %d; drained: %v)",
		res.Sent, res.Accepted, res.NotSent, res.NotDelivered, res.Drained)
	if miss := res.Sent - res.Accepted + res.NotDelivered; miss > 0 && res.Sent > 0 {
		p("NOTE: %d of %d due messages (%.2f%%) were not sent, refused or not fully delivered: the latency percentiles below cover only the others; any percentile above %.2f%% is unbounded",
			miss, res.Sent, 100*float64(miss)/float64(res.Sent), 100*(1-float64(miss)/float64(res.Sent)))
	}
	p("accepted                 %.1f msgs/s", res.AcceptedPerSec)
	p("fully delivered          %.1f msgs/s", res.DeliveredPerSec)
	p("errors                   %v %v", res.Errors, res.ErrorSamples)
	p("")
	p("%-32s %8s %8s %8s %8s %8s %9s", "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "count")
	row := func(name string, l Latency) {
		p("%-32s %8.2f %8.2f %8.2f %8.2f %8.2f %9d", name, l.P50, l.P90, l.P99, l.P999, l.Max, l.Count)
	}
	row("per frame, from intended send", res.FrameIntended)
	row("per frame, from actual send", res.FrameSent)
	row("all delivered, from intended", res.AllIntended)
	row("all delivered, from actual", res.AllSent)
	row("POST → 201", res.Response)
	row("send lag (actual − intended)", res.SendLag)
	p("")
	p("connections: open %d, dropped %d %v, reconnects %d, dial errors %d",
		res.Conn.Open, res.Conn.Dropped, res.Conn.DropReasons, res.Conn.Reconnects, res.Conn.DialErrors)
	keys := slices.Sorted(maps.Keys(res.Frames))
	var fs []string
	for _, k := range keys {
		fs = append(fs, fmt.Sprintf("%s=%d", k, res.Frames[k]))
	}
	p("frames: %v", fs)
	if sr := res.Server; sr != nil {
		p("")
		p("server pid %d: RSS %.1f MiB before connections, %.1f connected, %.1f at window start, %.1f at end (peak %.1f)",
			sr.PID, mib(sr.RSSIdleKiB), mib(sr.RSSConnKiB), mib(sr.RSSStartKiB), mib(sr.RSSEndKiB), mib(sr.HWMKiB))
		p("server RSS per connection: %.1f KiB when connected, %.1f KiB at window end; %d threads, %d fds",
			sr.PerConnKiB, sr.PerConnEndKiB, sr.Threads, sr.FDs)
		p("server CPU: %.2f s in window (%.2f cores), %.3f ms per accepted message", sr.CPUSeconds, sr.CPUCores, sr.CPUMsPerMsg)
	}
	p("bench CPU in window: %.2f s (%.2f cores), RSS %.0f MiB (this process)", res.Bench.CPUSeconds, res.Bench.CPUSeconds/res.WindowS, res.Bench.RSSMiB)
	if res.CommitsPerSec > 0 {
		p("server group commit: %.0f transactions/s, %.1f writes (messages, watermark flushes, ...) per transaction; WAL restarts in the window: %d", res.CommitsPerSec, res.WritesPerCommit, res.WALRestarts)
	}
	if res.ServerSendsIn20ms > 0 || res.ServerFramesIn10ms > 0 {
		p("server's own view: %.2f%% of message POSTs answered within 20 ms, %.2f%% of frames written within 10 ms of their publish",
			res.ServerSendsIn20ms, res.ServerFramesIn10ms)
	}
	if res.ServerWritesQueuedIn5ms > 0 || res.ServerWritesBatchIn10ms > 0 {
		p("server's writes: %.2f%% waited under 5 ms for their group commit to begin, %.2f%% were in one that took under 10 ms",
			res.ServerWritesQueuedIn5ms, res.ServerWritesBatchIn10ms)
	}
	if res.ServerCommits > 0 {
		p("server's commits: %d of %d took over 20 ms to write and sync their WAL frames (the disk's stalls)",
			res.ServerCommitsOver20ms, res.ServerCommits)
	}
	p("machine: %.2f of %d cores busy in the window, %.2f of them neither server nor bench; load average at end %s",
		res.MachineBusyCores, runtime.NumCPU(), res.OtherCores, res.LoadAvg)
	if d := res.Disk; d != nil {
		p("disk (%s, before the load): %.0f synced %d KiB writes a second; p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d)",
			d.Dir, d.SyncsPerS, d.WrittenKiB, d.P50Ms, d.P99Ms, d.MaxMs, d.Syncs)
	}
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
