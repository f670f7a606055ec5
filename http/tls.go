package http

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TLSConfig is the server's TLS policy: TLS 1.2 at least, 1.3 preferred, and on 1.2 only
// forward-secret AEAD suites (Go's defaults still allow CBC-SHA1 suites, flagged as LUCKY13-prone).
// Session-ticket keys rotate hourly and only two are kept, so a ticket lives at most two hours;
// stop ends the rotation.
func TLSConfig(cert tls.Certificate) (cfg *tls.Config, stop func()) {
	cfg = tlsPolicy()
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, rotateTicketKeys(cfg)
}

// TLSConfigFor is TLSConfig with the certificate of each handshake chosen by getCertificate
// (autocert.Manager's, for ACME), and protos offered after h2 and http/1.1 (acme-tls/1, so that
// the CA's TLS-ALPN-01 handshake reaches getCertificate). The policy is the same.
func TLSConfigFor(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error), protos ...string) (cfg *tls.Config, stop func()) {
	cfg = tlsPolicy()
	cfg.GetCertificate = getCertificate
	cfg.NextProtos = append(cfg.NextProtos, protos...)
	return cfg, rotateTicketKeys(cfg)
}

// tlsPolicy is the configuration every listener starts from, without certificates.
func tlsPolicy() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256},
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// rotateTicketKeys installs fresh session-ticket keys now and every hour, keeping the newest two.
func rotateTicketKeys(cfg *tls.Config) (stop func()) {
	newKey := func() [32]byte {
		var k [32]byte
		_, _ = rand.Read(k[:])
		return k
	}
	keys := [][32]byte{newKey()}
	cfg.SetSessionTicketKeys(keys)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				keys = [][32]byte{newKey(), keys[0]}
				cfg.SetSessionTicketKeys(keys)
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// CertFingerprint is the SHA-256 fingerprint of a certificate's DER bytes, as browsers show it.
func CertFingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{b}))
	}
	return strings.Join(parts, ":")
}

// SelfSignedCert loads the certificate in dir, or creates one for localhost (ECDSA P-256, valid
// for a year) when there is none or it expires within a week.
func SelfSignedCert(dir string, hosts []string) (tls.Certificate, bool, error) {
	certPath, keyPath := filepath.Join(dir, "tls-cert.pem"), filepath.Join(dir, "tls-key.pem")
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil && time.Until(leaf.NotAfter) > 7*24*time.Hour {
			return cert, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, false, fmt.Errorf("load %s: %w", certPath, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, false, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Wardline (self-signed)", Organization: []string{"Wardline"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" && h != "localhost" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	return cert, true, err
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
