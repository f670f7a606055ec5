package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

func TestACMEFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // a part of the error; "" for none
	}{
		{"domain alone", []string{"--acme-domain", "Wardline.Example.NHS.uk"}, ""},
		{"every flag", []string{"--acme-domain", "wardline.example.nhs.uk", "--acme-email", "it@example.nhs.uk",
			"--acme-directory", "https://acme-staging-v02.api.letsencrypt.org/directory", "--acme-http-addr", ":80"}, ""},
		{"with --tls-cert", []string{"--acme-domain", "wardline.example.nhs.uk", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "--tls-cert"},
		{"with --http", []string{"--acme-domain", "wardline.example.nhs.uk", "--http"}, "--http"},
		{"email without domain", []string{"--acme-email", "it@example.nhs.uk"}, "go with --acme-domain"},
		{"directory without domain", []string{"--acme-directory", "https://ca.example/dir"}, "go with --acme-domain"},
		{"HTTP-01 without domain", []string{"--acme-http-addr", ":80"}, "go with --acme-domain"},
		{"an IP address", []string{"--acme-domain", "192.0.2.10"}, "--acme-domain"},
		{"one label", []string{"--acme-domain", "wardline"}, "--acme-domain"},
		{"a URL", []string{"--acme-domain", "https://wardline.example.nhs.uk"}, "--acme-domain"},
		{"a port", []string{"--acme-domain", "wardline.example.nhs.uk:443"}, "--acme-domain"},
		{"a wildcard", []string{"--acme-domain", "*.example.nhs.uk"}, "--acme-domain"},
		{"a bad email", []string{"--acme-domain", "wardline.example.nhs.uk", "--acme-email", "it at example"}, "--acme-email"},
		{"a plain-HTTP directory", []string{"--acme-domain", "wardline.example.nhs.uk", "--acme-directory", "http://ca.example/dir"}, "--acme-directory"},
		{"a bad HTTP-01 address", []string{"--acme-domain", "wardline.example.nhs.uk", "--acme-http-addr", "80"}, "--acme-http-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(io.Discard, io.Discard)
			err := m.ParseFlags(tc.args)
			if tc.want == "" && err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("ParseFlags: got %v, want an error about %s", err, tc.want)
			}
		})
	}
	m := NewMain(io.Discard, io.Discard)
	t.Setenv("WARDLINE_ACME_DOMAIN", "wardline.example.nhs.uk")
	if err := m.ParseFlags(nil); err != nil || m.Config.ACMEDomain != "wardline.example.nhs.uk" {
		t.Fatalf("from the environment: %v, domain %q", err, m.Config.ACMEDomain)
	}
	if rp, origins := m.Config.webAuthn(&net.TCPAddr{IP: net.IPv4zero, Port: 443}); rp != "wardline.example.nhs.uk" || len(origins) != 1 || origins[0] != "https://wardline.example.nhs.uk" {
		t.Fatalf("passkeys bound to %q %v, want the ACME domain", rp, origins)
	}
}

// testCA is Pebble, Let's Encrypt's ACME test server, run in this process: a directory over
// HTTPS, a CA that issues from a root of its own, and a validation authority that checks the
// challenges against the server under test, finding every name at 127.0.0.1 through a DNS server
// of the test's own.
type testCA struct {
	t         *testing.T
	URL       string       // the directory
	Client    *http.Client // trusts the directory's HTTPS certificate
	log       *log.Logger  //
	db        *db.MemoryStore
	ca        *ca.CAImpl
	dns       string // the DNS server's address
	handler   atomic.Pointer[http.Handler]
	server    *httptest.Server
	validated atomic.Int32 // challenge validations begun
}

func startTestCA(t *testing.T) *testCA {
	t.Helper()
	// No random pauses before validating, no nonces refused at random, no authorization reused.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")
	var logs bytes.Buffer
	c := &testCA{log: log.New(&logs, "pebble ", log.Lmicroseconds), db: db.NewMemoryStore()}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the test CA's log:\n%s", logs.String())
		}
	})
	c.ca = ca.New(c.log, c.db, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})

	// DNS: every A question answers 127.0.0.1, AAAA nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(127, 0, 0, 1)})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	c.dns = ln.Addr().String()

	c.server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := c.handler.Load()
		if h == nil {
			http.Error(w, "the test CA is not ready", http.StatusServiceUnavailable)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/chalZ/") && r.Method == http.MethodPost {
			c.validated.Add(1)
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(c.server.Close)
	c.URL = c.server.URL + wfe.DirectoryPath
	c.Client = c.server.Client()
	return c
}

// validateOn starts the validation authority, checking HTTP-01 on httpPort and TLS-ALPN-01 on
// tlsPort of 127.0.0.1 (the ports of the server under test are known only once it listens).
func (c *testCA) validateOn(httpPort, tlsPort int) {
	v := va.New(c.log, httpPort, tlsPort, false, c.dns, c.db)
	fe := wfe.New(c.log, c.db, v, c.ca, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	h := fe.Handler()
	c.handler.Store(&h)
}

// roots is the CA's root: certificates it issued verify against it.
func (c *testCA) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.ca.GetRootCert(0).Cert)
	return p
}

// runACMEServer runs wardline serve with --acme-domain against the test CA.
func runACMEServer(t *testing.T, c *testCA, dataDir, domain string, tweak func(*Config)) (*Main, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	m := NewMain(&out, io.Discard)
	m.Config = Config{DataDir: dataDir, Addr: "127.0.0.1:0", LogLevel: "error", ACMEDomain: domain, ACMEDirectory: c.URL}
	if tweak != nil {
		tweak(&m.Config)
	}
	m.AppConfig.PasswordParams = testPasswordParams
	m.ACMEHTTPClient = c.Client
	if err := m.Config.validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, &out
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// handshake connects to the server as a browser would to the given name, verifying the
// certificate against roots.
func handshake(addr, name string, roots *x509.CertPool, cfg *tls.Config) (*tls.ConnectionState, error) {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.ServerName, cfg.RootCAs = name, roots
	d := &net.Dialer{Timeout: 60 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return &st, nil
}

// TestACMECertificate obtains a certificate by TLS-ALPN-01 from the test CA at the first
// connection, serves it under the server's own TLS policy, keeps it in DATA_DIR/acme (0700),
// and serves it again after a restart without asking the CA.
func TestACMECertificate(t *testing.T) {
	c := startTestCA(t)
	const domain = "wardline.test"
	dataDir := t.TempDir()
	m, out := runACMEServer(t, c, dataDir, domain, nil)
	addr := strings.TrimPrefix(m.URL, "https://")
	c.validateOn(1, portOf(t, addr)) // HTTP-01 would fail: nothing listens on port 1
	if !strings.HasPrefix(m.URL, "https://") || !strings.Contains(out.String(), "TLS certificate for "+domain) || strings.Contains(out.String(), "self-signed") {
		t.Fatalf("serve with --acme-domain: %s\n%s", m.URL, out.String())
	}
	if m.acmeHTTP != nil {
		t.Fatal("an HTTP-01 listener was started without --acme-http-addr")
	}

	// The first connection obtains the certificate; the connection verifies against the CA's root.
	st, err := handshake(addr, domain, c.roots(), nil)
	if err != nil {
		t.Fatalf("handshake with %s: %v", domain, err)
	}
	leaf := st.PeerCertificates[0]
	if err := leaf.VerifyHostname(domain); err != nil || leaf.Issuer.CommonName == leaf.Subject.CommonName {
		t.Fatalf("certificate: %v, issuer %q, subject %q", err, leaf.Issuer, leaf.Subject)
	}
	if st.Version != tls.VersionTLS13 {
		t.Errorf("default handshake: %s, want TLS 1.3", tls.VersionName(st.Version))
	}
	if n := c.validated.Load(); n != 1 {
		t.Errorf("challenges answered: %d, want 1 (TLS-ALPN-01)", n)
	}

	// The TLS policy of http/tls.go holds for the ACME certificate too.
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := handshake(addr, domain, c.roots(), &tls.Config{MinVersion: v, MaxVersion: v}); err == nil {
			t.Errorf("%s accepted", tls.VersionName(v))
		}
	}
	if st, err := handshake(addr, domain, c.roots(), &tls.Config{MaxVersion: tls.VersionTLS12}); err != nil {
		t.Errorf("TLS 1.2: %v", err)
	} else if name := tls.CipherSuiteName(st.CipherSuite); !strings.Contains(name, "GCM") && !strings.Contains(name, "CHACHA20") {
		t.Errorf("TLS 1.2 suite %s is not AEAD", name)
	}
	if _, err := handshake(addr, domain, c.roots(), &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}); err == nil {
		t.Error("CBC-only client accepted")
	}
	// Another name gets no certificate, and the CA is not asked for one.
	if _, err := handshake(addr, "other.test", c.roots(), nil); err == nil {
		t.Error("a certificate was served for a name other than --acme-domain")
	}
	if n := c.validated.Load(); n != 1 {
		t.Errorf("challenges answered after another name: %d, want still 1", n)
	}
	// HTTPS answers, with HSTS.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.roots()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	res, err := client.Get("https://" + domain + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("GET /healthz: %d, HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
	client.CloseIdleConnections()

	// The cache: private keys, readable by the server's user alone.
	dir := filepath.Join(dataDir, "acme")
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("DATA_DIR/acme: %v, mode %v, want 0700", err, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	names := []string{}
	for _, e := range entries {
		info, _ := e.Info()
		names = append(names, e.Name())
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want none for group and others", e.Name(), info.Mode().Perm())
		}
	}
	if !strings.Contains(strings.Join(names, " "), domain) {
		t.Errorf("DATA_DIR/acme holds %v: no certificate for %s", names, domain)
	}
	m.Close()

	// A restart serves the kept certificate without the CA (which now refuses everything).
	var refuse http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) })
	c.handler.Store(&refuse)
	m2, _ := runACMEServer(t, c, dataDir, domain, nil)
	if st, err := handshake(strings.TrimPrefix(m2.URL, "https://"), domain, c.roots(), nil); err != nil {
		t.Fatalf("after a restart: %v", err)
	} else if !st.PeerCertificates[0].Equal(leaf) {
		t.Error("after a restart: another certificate was served, not the one kept")
	}
}

// TestACMEHTTP01 obtains the certificate by HTTP-01 on --acme-http-addr when TLS-ALPN-01 cannot
// reach the server; the listener answers nothing but challenges, redirecting the rest to HTTPS,
// and stops with the server.
func TestACMEHTTP01(t *testing.T) {
	c := startTestCA(t)
	const domain = "ward.wardline.test"
	// A cache directory made before with looser permissions is made private.
	dataDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dataDir, "acme"), 0o755); err != nil {
		t.Fatal(err)
	}
	m, out := runACMEServer(t, c, dataDir, domain, func(c *Config) { c.ACMEHTTPAddr = "127.0.0.1:0" })
	if m.acmeHTTPAddr == nil || !strings.Contains(out.String(), "HTTP-01 on "+m.acmeHTTPAddr.String()) {
		t.Fatalf("no HTTP-01 listener: %s", out.String())
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "acme")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("DATA_DIR/acme made 0755 before: %v %v, want 0700 now", err, fi.Mode().Perm())
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := portOf(t, closed.Addr().String())
	closed.Close() // TLS-ALPN-01 finds nothing there
	c.validateOn(portOf(t, m.acmeHTTPAddr.String()), closedPort)

	addr := strings.TrimPrefix(m.URL, "https://")
	st, err := handshake(addr, domain, c.roots(), nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if err := st.PeerCertificates[0].VerifyHostname(domain); err != nil {
		t.Fatal(err)
	}
	if n := c.validated.Load(); n != 2 {
		t.Errorf("challenges answered: %d, want 2 (TLS-ALPN-01 failed, then HTTP-01)", n)
	}

	// Anything but a challenge is sent to HTTPS; the API is not served in plain HTTP.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := plain.Get("http://" + m.acmeHTTPAddr.String() + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "https://") {
		t.Errorf("GET /api/v1/me over plain HTTP: %d to %q, want a redirect to HTTPS", res.StatusCode, res.Header.Get("Location"))
	}
	plain.CloseIdleConnections()
	m.Close()
	if c, err := net.DialTimeout("tcp", m.acmeHTTPAddr.String(), time.Second); err == nil {
		c.Close()
		t.Error("the HTTP-01 listener still accepts after Close")
	}
}
