package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"wardline"
	"wardline/app"
	whttp "wardline/http"
	"wardline/keyring"
	"wardline/web"
)

// Main is one running server: what serve starts and stops. Tests run it on port 0 against a
// temporary data directory, exactly as the binary does.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer

	// AppConfig tunes the services (tests lower the password cost).
	AppConfig app.Config
	// WS tunes the event stream.
	WS whttp.WSOptions
	// Clock is the services' clock.
	Clock wardline.Clock
	// ACMEHTTPClient, when set, is what the ACME client talks to the CA with (tests trust their
	// own CA's certificate with it).
	ACMEHTTPClient *http.Client

	Log    *slog.Logger
	Store  wardline.Store
	Bus    wardline.EventBus
	Keys   *keyring.Keyring
	App    *app.App
	Server *whttp.Server
	// Metrics are served at /metrics.
	Metrics *whttp.Metrics

	httpServer *http.Server
	listener   net.Listener
	stopTLS    func()
	served     chan struct{}
	// DebugURL is where the runtime profiles are served, with --debug-addr.
	DebugURL string
	// debugHTTP serves runtime profiles on --debug-addr.
	debugHTTP *http.Server
	// acmeHTTP answers HTTP-01 challenges on --acme-http-addr.
	acmeHTTP     *http.Server
	acmeHTTPAddr net.Addr
	// URL is where the server listens, once Run has returned.
	URL string
	// unlock releases the data directory's lock (SQLite only), after the store has closed.
	unlock func()
	// stopHeapFloor puts the garbage collector's setting back.
	stopHeapFloor func()
}

// NewMain returns a Main with its defaults.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, AppConfig: app.DefaultConfig, Clock: wardline.SystemClock{}}
}

// ParseFlags reads serve's flags.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("wardline serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.Config.serveFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return m.Config.validate()
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Run opens the data, starts serving and prints where; it returns once the server accepts
// connections.
func (m *Main) Run(ctx context.Context) error {
	started := time.Now()
	if m.Log == nil {
		m.Log = newLogger(m.Stderr, m.Config.LogLevel)
	}
	if err := m.Config.validate(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(m.Config.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", m.Config.Addr, err)
	}
	if m.Config.HTTP && !isLoopback(host) {
		return fmt.Errorf("--http serves without TLS and is refused on %q: use a loopback address (127.0.0.1, ::1, localhost) or drop --http", host)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	floor := m.Config.heapFloor()
	var floorOn bool
	if m.stopHeapFloor, floorOn = startHeapFloor(floor); floorOn {
		m.Log.Info("garbage collector: heap floor", "mib", floor>>20)
	}

	if m.Config.DatabaseURL == "" {
		if m.unlock, err = lockDataDir(m.Config.DataDir); err != nil {
			return err
		}
	}
	d, err := openData(ctx, &m.Config, m.Log, m.Clock, true)
	if err != nil {
		return err
	}
	m.Store, m.Keys = d.store, d.keys
	if c, ok := m.Store.(interface{ CheckAuditLog(context.Context) error }); ok {
		if err := c.CheckAuditLog(ctx); err != nil {
			return err
		}
	}
	if m.Metrics == nil {
		m.Metrics = whttp.NewMetrics()
	}
	observeBatches(m.Store, m.Metrics.ObserveBatch, m.Metrics.ObserveWrite, func(op string, err error) {
		m.Metrics.StoreError(op)
		if op != "commit" { // a failed commit is answered to its callers, who log it
			m.Log.Warn("store", "op", op, "err", err)
		}
	}, m.Metrics.WALRestarts, m.Metrics.ObserveCommit)
	// The hub exists only later; a gap the bus reports before then needs no catch-up.
	var hub atomic.Pointer[whttp.Hub]
	if m.Bus, err = openBus(ctx, &m.Config, d.master, m.Log, busHooks{
		onGap: func() {
			// A key-shredded event may have been lost with the rest: drop every cached key.
			m.Keys.ForgetAll()
			if h := hub.Load(); h != nil {
				h.CatchUp()
			}
		},
		onError:   func(error) { m.Metrics.BusError("nats") },
		onReceive: m.Metrics.ObserveBusTransit,
	}); err != nil {
		return err
	}
	if m.Config.NATSURL != "" && m.WS.CatchUpInterval == 0 {
		// Several nodes: a stream that stayed open while its node lost bus events is caught up
		// from the store at once on a reported gap, and every so often in any case.
		m.WS.CatchUpInterval = 15 * time.Second
	}
	if m.Config.DatabaseURL != "" {
		// Other nodes may write to the same audit log: the alerts count all of it.
		m.AppConfig.SharedAuditLog = true
	}
	if b, ok := m.Bus.(interface{ Subscriptions() int }); ok {
		m.Metrics.BusSubscriptions(b.Subscriptions)
	}
	m.Store = whttp.InstrumentStore(m.Store, m.Metrics)
	m.Bus = whttp.InstrumentBus(m.Bus, m.Metrics)
	if w := m.Config.witnessPath(); w != "" {
		m.AppConfig.Witnesses = append(m.AppConfig.Witnesses, &app.FileWitness{Path: w})
	}
	if m.Config.AuditSyslog {
		sw, err := newSyslogWitness()
		if err != nil {
			return fmt.Errorf("--audit-syslog: %w", err)
		}
		m.AppConfig.Witnesses = append(m.AppConfig.Witnesses, sw)
	}

	// Listen before the services start: passkeys are bound to the origin, whose port may be 0
	// until now.
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return err
	}
	m.listener = ln
	if m.AppConfig.WebAuthn.RPID == "" {
		m.AppConfig.WebAuthn.RPID, m.AppConfig.WebAuthn.Origins = m.Config.webAuthn(ln.Addr())
		if m.AppConfig.WebAuthn.RPID == "" {
			m.Log.Warn("passkeys are off: they need a domain name; set --public-url")
		}
	}
	m.App = app.New(m.Store, m.Bus, m.Keys, m.Clock, m.Log, m.AppConfig)
	// The alerts rebuild their counts from the last hour of the log; the checkpointer signs the
	// log every minute while it grows, and once more in Close.
	if err := m.App.Start(ctx); err != nil {
		return fmt.Errorf("start the audit log's alerts: %w", err)
	}

	if m.Config.Demo {
		if err := m.seedDemo(ctx); err != nil {
			return err
		}
	}

	webFS, ok := web.Assets()
	if !ok {
		webFS = nil
	}
	var tlsConfig *tls.Config
	switch {
	case m.Config.ACMEDomain != "":
		if tlsConfig, m.stopTLS, err = m.acmeTLS(); err != nil {
			return err
		}
	case !m.Config.HTTP:
		cert, err := m.certificate(host)
		if err != nil {
			return err
		}
		tlsConfig, m.stopTLS = whttp.TLSConfig(cert)
	}
	m.Server = whttp.NewServer(m.App, m.Store, m.Bus, m.Log, whttp.Options{TLS: tlsConfig != nil, Web: webOrNil(webFS), WS: m.WS, Metrics: m.Metrics})
	hub.Store(m.Server.Hub())

	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	m.listener = ln
	m.httpServer = &http.Server{
		Handler:           m.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	m.served = make(chan struct{})
	go func() {
		defer close(m.served)
		if err := m.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("serve", "err", err)
		}
	}()
	if m.Config.DebugAddr != "" {
		if err := m.startDebug(); err != nil {
			return err
		}
	}
	m.URL = scheme + "://" + displayAddr(host, ln.Addr())
	m.Log.Info("ready", "url", m.URL, "startup", time.Since(started).String())
	fmt.Fprintf(m.Stdout, "listening on %s\n", m.URL)
	return nil
}

func webOrNil(f fs.FS) fs.FS { return f }

// certificate is the operator's certificate, or a self-signed one for localhost kept in the data
// directory, whose fingerprint is printed so a person can check what their browser shows.
func (m *Main) certificate(host string) (tls.Certificate, error) {
	if m.Config.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(m.Config.TLSCert, m.Config.TLSKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("load TLS certificate: %w", err)
		}
		return cert, nil
	}
	cert, created, err := whttp.SelfSignedCert(m.Config.DataDir, []string{host})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signed certificate: %w", err)
	}
	verb := "using"
	if created {
		verb = "created"
	}
	fmt.Fprintf(m.Stdout, "%s a self-signed TLS certificate for localhost in %s\n", verb, m.Config.DataDir)
	fmt.Fprintf(m.Stdout, "its SHA-256 fingerprint: %s\n", whttp.CertFingerprint(cert))
	return cert, nil
}

// Close stops accepting, finishes in-flight requests, closes the event streams, flushes receipts
// and closes the database, in that order.
func (m *Main) Close() error {
	var errs []error
	if m.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		errs = append(errs, m.httpServer.Shutdown(ctx))
		cancel()
		<-m.served
	} else if m.listener != nil {
		m.listener.Close() // Run failed after listening
	}
	if m.acmeHTTP != nil {
		errs = append(errs, m.acmeHTTP.Close())
	}
	if m.debugHTTP != nil {
		errs = append(errs, m.debugHTTP.Close())
	}
	if m.Server != nil {
		m.Server.Close()
	}
	if m.stopTLS != nil {
		m.stopTLS()
	}
	if m.App != nil {
		m.App.Close()
	}
	if m.Bus != nil {
		errs = append(errs, m.Bus.Close())
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	if m.unlock != nil {
		m.unlock()
		m.unlock = nil
	}
	if m.stopHeapFloor != nil {
		m.stopHeapFloor()
		m.stopHeapFloor = nil
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// displayAddr names the listening address the way the operator wrote the host, with the real port.
func displayAddr(host string, addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}

// seedDemo fills an empty data directory with the demo organisation and prints how to sign in.
// The password is random per data directory and kept beside the data, so that later starts can
// print it again.
func (m *Main) seedDemo(ctx context.Context) error {
	credPath := filepath.Join(m.Config.DataDir, "demo-credentials.txt")
	n, err := m.Store.CountOrgs(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if b, err := os.ReadFile(credPath); err == nil {
			fmt.Fprintf(m.Stdout, "\n%s\n", b)
		} else {
			fmt.Fprintln(m.Stdout, "--demo: the data directory already holds an organisation; nothing seeded")
		}
		return nil
	}
	password := demoPassword()
	users, err := m.App.SeedDemo(ctx, password)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Demo organisation \"Demo NHS Trust\" (Ward 7). Sign in as any of these, password: %s\n", password)
	fmt.Fprintf(&b, "A second factor is required: add the user's TOTP secret to an authenticator app\n")
	fmt.Fprintf(&b, "(or: oathtool --totp -b SECRET). Passkeys can be added after signing in.\n")
	for _, u := range users {
		fmt.Fprintf(&b, "  %-38s %-32s %-8s TOTP secret %s\n", u.Email, u.Name+", "+u.JobTitle, u.Role, u.TOTPSecret)
	}
	if err := os.WriteFile(credPath, []byte(b.String()), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\n%s\n", b.String())
	return nil
}

func demoPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "ward-" + string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
}
