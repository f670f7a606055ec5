package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wardline"
)

// Metrics are the node's Prometheus instruments, served at GET /metrics. Labels are route
// patterns, methods, status codes and operation names: never a path, an id, a name or anything a
// user typed, so nothing about a patient or a message can reach a label (DESIGN.md rule 2).
//
// /metrics needs no authentication: what it shows is counts and timings of the node as a whole.
// A deployment that does not want even those seen from outside blocks /metrics at its proxy or
// firewall, as most do; the scraper then reaches the node directly.
type Metrics struct {
	Registry *prometheus.Registry

	requests      *prometheus.HistogramVec
	accepted      prometheus.Counter
	fanout        prometheus.Histogram
	busTransit    prometheus.Histogram
	storeErrors   *prometheus.CounterVec
	busErrors     *prometheus.CounterVec
	batchSize     prometheus.Histogram
	writeQueued   prometheus.Histogram // per write: waiting for its batch to begin
	writeBatch    prometheus.Histogram // per write: its batch's run, commit and sync
	commitSync    prometheus.Histogram // per SQLite commit: the COMMIT alone (frames and sync)
	catchUps      prometheus.Counter
	connections   prometheus.GaugeFunc
	connectionsFn func() float64
	busSubsFn     func() float64
	walRestartsFn func() float64
}

// NewMetrics makes the instruments in a registry of their own, with the Go runtime's and the
// process's (memory per open connection is read from them).
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	fast := []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "wardline_http_request_duration_seconds", Help: "HTTP requests by route pattern, method and status.", Buckets: fast,
	}, []string{"route", "method", "status"})
	m.accepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wardline_messages_accepted_total", Help: "Messages stored durably and answered 201.",
	})
	m.fanout = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wardline_fanout_seconds", Help: "From an event's publish (on any node) to its frame written to a member's stream on this node.", Buckets: fast,
	})
	m.busTransit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wardline_bus_transit_seconds", Help: "From publish on another node to arrival here over the bus.", Buckets: fast,
	})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wardline_store_errors_total", Help: "Store failures that were not a user's error (failed transactions, pings).",
	}, []string{"op"})
	m.busErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wardline_bus_errors_total", Help: "Event bus failures (publish, undecodable events, pings, slow consumer).",
	}, []string{"op"})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wardline_store_commit_batch_size", Help: "Update calls committed together in one transaction (group commit).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
	})
	m.writeQueued = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wardline_store_write_queued_seconds", Help: "Per write (a message, a receipt flush, ...): from its Update to the start of the group commit that settled it (the queue, the writer's gather, a PostgreSQL lock deferral).", Buckets: fast,
	})
	m.writeBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wardline_store_write_batch_seconds", Help: "Per write: how long the group commit that settled it took (its statements, commit and sync).", Buckets: fast,
	})
	m.commitSync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wardline_store_commit_seconds", Help: "Per SQLite group commit: its COMMIT alone, writing the WAL frames and syncing them (mostly the disk); not on PostgreSQL, whose commit is pipelined with the batch's audit entries.", Buckets: fast,
	})
	m.catchUps = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wardline_catchup_messages_total", Help: "Messages queued to streams by the catch-up from the store (bus events a node may have missed); already-sent ones are skipped at write.",
	})
	m.connections = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wardline_open_connections", Help: "Event streams open on this node.",
	}, func() float64 {
		if m.connectionsFn == nil {
			return 0
		}
		return m.connectionsFn()
	})
	busSubs := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wardline_bus_subscriptions", Help: "Conversation and user subjects this node subscribes to on the bus (for the streams it holds); 0 on one node.",
	}, func() float64 {
		if m.busSubsFn == nil {
			return 0
		}
		return m.busSubsFn()
	})
	walRestarts := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "wardline_store_wal_restarts_total",
		Help: "Times the SQLite WAL was made to start over under steady load, holding writes for a checkpoint (a pause of 20-500 ms; docs/PERFORMANCE.md); 0 on PostgreSQL.",
	}, func() float64 {
		if m.walRestartsFn == nil {
			return 0
		}
		return m.walRestartsFn()
	})
	m.Registry.MustRegister(m.requests, m.accepted, m.fanout, m.busTransit, m.storeErrors, m.busErrors, m.batchSize, m.writeQueued, m.writeBatch, m.commitSync, m.catchUps, m.connections, busSubs, walRestarts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// BusSubscriptions tells the metrics how to count the bus's subscriptions.
func (m *Metrics) BusSubscriptions(fn func() int) {
	m.busSubsFn = func() float64 { return float64(fn()) }
}

// WALRestarts tells the metrics how to count the store's WAL restarts (SQLite).
func (m *Metrics) WALRestarts(fn func() int64) {
	m.walRestartsFn = func() float64 { return float64(fn()) }
}

// ObserveBatch records a committed group's size (the stores' BatchObserver).
func (m *Metrics) ObserveBatch(n int) { m.batchSize.Observe(float64(n)) }

// ObserveWrite records where one write's time went (the stores' WriteObserver).
func (m *Metrics) ObserveWrite(queued, batch time.Duration) {
	m.writeQueued.Observe(queued.Seconds())
	m.writeBatch.Observe(batch.Seconds())
}

// ObserveCommit records how long one group commit's COMMIT took (a SQLite store's CommitObserver).
func (m *Metrics) ObserveCommit(d time.Duration) { m.commitSync.Observe(d.Seconds()) }

// StoreError counts a store failure.
func (m *Metrics) StoreError(op string) { m.storeErrors.WithLabelValues(op).Inc() }

// BusError counts a bus failure.
func (m *Metrics) BusError(op string) { m.busErrors.WithLabelValues(op).Inc() }

// ObserveBusTransit records how long an event took between nodes.
func (m *Metrics) ObserveBusTransit(d time.Duration) { m.busTransit.Observe(d.Seconds()) }

func (m *Metrics) observeRequest(r *http.Request, status int, d time.Duration) {
	route := r.Pattern // e.g. "POST /api/v1/conversations/{id}/messages"; "" when nothing matched
	if route == "" || route == "/" {
		route = "other"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Observe(d.Seconds())
	if status == http.StatusCreated && route == "POST /api/v1/conversations/{id}/messages" {
		m.accepted.Inc()
	}
}

func (m *Metrics) observeFanout(e *wardline.Event, queued time.Time) {
	from := e.PublishedAt
	if from.IsZero() {
		from = queued
	}
	m.fanout.Observe(time.Since(from).Seconds())
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// InstrumentStore counts the store's failures that are not a user's error.
func InstrumentStore(store wardline.Store, m *Metrics) wardline.Store {
	if m == nil {
		return store
	}
	return &instrumentedStore{Store: store, m: m}
}

type instrumentedStore struct {
	wardline.Store
	m *Metrics
}

func (s *instrumentedStore) Update(ctx context.Context, fn func(wardline.Tx) error) error {
	err := s.Store.Update(ctx, fn)
	if err != nil && wardline.ErrorCode(err) == wardline.EINTERNAL && ctx.Err() == nil {
		s.m.StoreError("update")
	}
	return err
}

func (s *instrumentedStore) Ping(ctx context.Context) error {
	err := s.Store.Ping(ctx)
	if err != nil {
		s.m.StoreError("ping")
	}
	return err
}

// InstrumentBus counts the bus's publish and ping failures.
func InstrumentBus(bus wardline.EventBus, m *Metrics) wardline.EventBus {
	if m == nil {
		return bus
	}
	return &instrumentedBus{EventBus: bus, m: m}
}

type instrumentedBus struct {
	wardline.EventBus
	m *Metrics
}

func (b *instrumentedBus) Publish(ctx context.Context, e *wardline.Event) error {
	err := b.EventBus.Publish(ctx, e)
	if err != nil {
		b.m.BusError("publish")
	}
	return err
}

func (b *instrumentedBus) Ping(ctx context.Context) error {
	err := b.EventBus.Ping(ctx)
	if err != nil {
		b.m.BusError("ping")
	}
	return err
}

// Unwrap returns the bus inside (for catch-up wiring).
func (b *instrumentedBus) Unwrap() wardline.EventBus { return b.EventBus }

// Checkpoint passes on to the store where it has one (SQLite flushes its WAL after shredding).
func (s *instrumentedStore) Checkpoint(ctx context.Context) error {
	if cp, ok := s.Store.(interface{ Checkpoint(context.Context) error }); ok {
		return cp.Checkpoint(ctx)
	}
	return nil
}
