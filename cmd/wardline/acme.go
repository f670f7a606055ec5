package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"wardline"
	whttp "wardline/http"
)

// Certificates from an ACME CA (Let's Encrypt unless --acme-directory names another) for a
// public host name, obtained at the first connection that needs one and renewed before they
// expire, by golang.org/x/crypto/acme/autocert. The TLS policy stays ours (http/tls.go): autocert
// only chooses the certificate of each handshake and answers the CA's TLS-ALPN-01 challenge.

// validateACME checks the ACME flags: they need --acme-domain, which excludes an operator's own
// certificate and plain HTTP.
func (c *Config) validateACME() error {
	if c.ACMEDomain == "" {
		if c.ACMEEmail != "" || c.ACMEDirectory != "" || c.ACMEHTTPAddr != "" {
			return errors.New("--acme-email, --acme-directory and --acme-http-addr go with --acme-domain")
		}
		return nil
	}
	if c.TLSCert != "" {
		return errors.New("--acme-domain and --tls-cert exclude each other: the certificate comes from the ACME CA")
	}
	if c.HTTP {
		return errors.New("--acme-domain and --http exclude each other: ACME is for serving HTTPS")
	}
	c.ACMEDomain = strings.ToLower(c.ACMEDomain)
	if !validHostName(c.ACMEDomain) {
		return fmt.Errorf("--acme-domain %q: want the public host name people open, e.g. wardline.example.nhs.uk (no scheme, port, path or IP address)", c.ACMEDomain)
	}
	if c.ACMEEmail != "" {
		if a, err := mail.ParseAddress(c.ACMEEmail); err != nil || a.Address != c.ACMEEmail {
			return fmt.Errorf("--acme-email %q: want an email address", c.ACMEEmail)
		}
	}
	if c.ACMEDirectory != "" {
		if u, err := url.Parse(c.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("--acme-directory %q: want the https URL of an ACME directory", c.ACMEDirectory)
		}
	}
	if c.ACMEHTTPAddr != "" {
		_, port, err := net.SplitHostPort(c.ACMEHTTPAddr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return fmt.Errorf("--acme-http-addr %q: want HOST:PORT, e.g. :80", c.ACMEHTTPAddr)
		}
	}
	return nil
}

// validHostName reports whether s is a DNS name of at least two labels (ASCII: IDNs in their
// xn-- form), which is what a CA issues for; an IP address is not.
func validHostName(s string) bool {
	if len(s) > 253 || net.ParseIP(s) != nil {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// hostPolicy allows certificates for domain alone. The host an HTTP-01 request names may carry
// a port (Let's Encrypt validates on port 80 and sends none, but other CAs and test servers may
// use another port); the name alone decides, as it does for TLS, where SNI has no port.
func hostPolicy(domain string) autocert.HostPolicy {
	allow := autocert.HostWhitelist(domain)
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return allow(ctx, host)
	}
}

// acmeDir is where autocert keeps the ACME account key and the certificates with their keys.
func (c *Config) acmeDir() string { return filepath.Join(c.DataDir, "acme") }

// acmeTLS returns the TLS configuration for --acme-domain and starts the HTTP-01 listener when
// --acme-http-addr asks for one (Close stops it).
func (m *Main) acmeTLS() (*tls.Config, func(), error) {
	dir := m.Config.acmeDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("ACME certificate cache: %w", err)
	}
	// Private keys live here: nobody else may list or read them, whatever made the directory.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("ACME certificate cache: %w", err)
	}
	client := &acme.Client{DirectoryURL: m.Config.ACMEDirectory, HTTPClient: m.ACMEHTTPClient, UserAgent: "wardline/" + wardline.Version}
	if client.DirectoryURL == "" {
		client.DirectoryURL = autocert.DefaultACMEDirectory
	}
	mgr := &autocert.Manager{
		Prompt:     autocert.AcceptTOS, // giving --acme-domain is the operator's acceptance
		Cache:      autocert.DirCache(dir),
		HostPolicy: hostPolicy(m.Config.ACMEDomain),
		Email:      m.Config.ACMEEmail,
		Client:     client,
	}
	if addr := m.Config.ACMEHTTPAddr; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("--acme-http-addr: %w", err)
		}
		// Challenges and a redirect to HTTPS, nothing else: plain HTTP never carries the API.
		m.acmeHTTP = &http.Server{Handler: mgr.HTTPHandler(nil), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
		m.acmeHTTPAddr = ln.Addr()
		go func() {
			if err := m.acmeHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Log.Error("ACME HTTP-01 listener", "err", err)
			}
		}()
	}
	cfg, stop := whttp.TLSConfigFor(mgr.GetCertificate, acme.ALPNProto)
	challenges := "TLS-ALPN-01 on this port"
	if m.acmeHTTPAddr != nil {
		challenges += ", HTTP-01 on " + m.acmeHTTPAddr.String()
	}
	fmt.Fprintf(m.Stdout, "TLS certificate for %s from the ACME CA at %s (%s), kept in %s; the first connection obtains it\n",
		m.Config.ACMEDomain, client.DirectoryURL, challenges, dir)
	return cfg, stop, nil
}
