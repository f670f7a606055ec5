package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// requireTool returns the path of an outside program, skipping the test when it is missing unless
// WARDLINE_TEST_REQUIRE_ALL=1 (CI), where a missing tool fails.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("WARDLINE_TEST_REQUIRE_ALL") == "1" {
			t.Fatalf("%s is required (WARDLINE_TEST_REQUIRE_ALL=1) but not installed", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

func runTLSServer(t *testing.T) (*Main, string) {
	t.Helper()
	var out bytes.Buffer
	m := NewMain(&out, io.Discard)
	m.Config = Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", LogLevel: "warn"}
	m.AppConfig.PasswordParams = testPasswordParams
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.HasPrefix(m.URL, "https://") || !strings.Contains(out.String(), "SHA-256 fingerprint") {
		t.Fatalf("serve without a certificate should serve HTTPS with a printed fingerprint: %s %s", m.URL, out.String())
	}
	u, _ := url.Parse(m.URL)
	return m, u.Host
}

func TestTLSPolicy(t *testing.T) {
	m, host := runTLSServer(t)
	dial := func(cfg *tls.Config) (*tls.ConnectionState, error) {
		cfg.InsecureSkipVerify = true // the self-signed certificate; its fingerprint is what a person checks
		c, err := tls.Dial("tcp", host, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		st := c.ConnectionState()
		return &st, nil
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := dial(&tls.Config{MinVersion: v, MaxVersion: v}); err == nil {
			t.Errorf("%s accepted", tls.VersionName(v))
		}
	}
	if st, err := dial(&tls.Config{}); err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("default handshake: %v %v, want TLS 1.3", st, err)
	}
	if st, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12}); err != nil || st.Version != tls.VersionTLS12 {
		t.Fatalf("TLS 1.2: %v", err)
	} else if name := tls.CipherSuiteName(st.CipherSuite); !strings.Contains(name, "GCM") && !strings.Contains(name, "CHACHA20") {
		t.Fatalf("TLS 1.2 suite %s is not AEAD", name)
	}
	// A TLS 1.2 client offering only CBC suites (LUCKY13-prone) is refused.
	if _, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA}}); err == nil {
		t.Error("CBC-only client accepted")
	}

	// HSTS and the security headers, and a Secure, HttpOnly, SameSite=Strict session cookie.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	res, err := client.Get(m.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for h, want := range map[string]string{
		"Strict-Transport-Security": "max-age=",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Content-Security-Policy":   "frame-ancestors 'none'",
	} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("%s: got %q, want it to contain %q", h, res.Header.Get(h), want)
		}
	}
	ctx := context.Background()
	_, _, pw, err := m.App.Users.CreateOrg(ctx, "TLS Trust", wardlineAdmin("tls.admin@test.nhs.uk"), true)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", m.URL+"/api/v1/auth/login", strings.NewReader(`{"email":"tls.admin@test.nhs.uk","password":"`+pw+`"}`))
	req.Header.Set("X-Wardline-CSRF", "1")
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"wardline_session=", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(string(body), `"token"`) {
		t.Errorf("a browser login answered the token: %s", body)
	}
}

func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		m := NewMain(io.Discard, io.Discard)
		m.Config = Config{DataDir: t.TempDir(), Addr: addr, HTTP: true}
		err := m.Run(context.Background())
		m.Close()
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("--http on %s: got %v, want a refusal", addr, err)
		}
	}
}

// TestSSLScan checks the TLS policy from outside with Debian's sslscan.
func TestSSLScan(t *testing.T) {
	bin := requireTool(t, "sslscan")
	_, host := runTLSServer(t)
	out, err := exec.Command(bin, "--no-colour", "--xml=-", host).Output()
	if err != nil {
		t.Fatalf("sslscan: %v\n%s", err, out)
	}
	var doc struct {
		Tests []struct {
			Protocols []struct {
				Type    string `xml:"type,attr"`
				Version string `xml:"version,attr"`
				Enabled string `xml:"enabled,attr"`
			} `xml:"protocol"`
			Ciphers []struct {
				SSLVersion string `xml:"sslversion,attr"`
				Cipher     string `xml:"cipher,attr"`
			} `xml:"cipher"`
		} `xml:"ssltest"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil || len(doc.Tests) == 0 {
		t.Fatalf("parse sslscan output: %v\n%s", err, out)
	}
	enabled := map[string]bool{}
	for _, p := range doc.Tests[0].Protocols {
		enabled[p.Type+p.Version] = p.Enabled == "1"
	}
	for _, off := range []string{"ssl2", "ssl3", "tls1.0", "tls1.1"} {
		if enabled[off] {
			t.Errorf("%s enabled", off)
		}
	}
	for _, on := range []string{"tls1.2", "tls1.3"} {
		if !enabled[on] {
			t.Errorf("%s not enabled (protocols: %v)", on, enabled)
		}
	}
	if len(doc.Tests[0].Ciphers) == 0 {
		t.Fatal("sslscan found no ciphers")
	}
	for _, c := range doc.Tests[0].Ciphers {
		if strings.Contains(c.Cipher, "CBC") || strings.HasSuffix(c.Cipher, "-SHA") || strings.Contains(c.Cipher, "RC4") || strings.Contains(c.Cipher, "3DES") {
			t.Errorf("weak cipher offered: %s %s", c.SSLVersion, c.Cipher)
		}
	}
}
