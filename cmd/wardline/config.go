package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"wardline"
)

// Config is everything the command line and environment can set. Every flag also reads an
// environment variable named after it: --data-dir ↔ WARDLINE_DATA_DIR.
type Config struct {
	DataDir       string
	DatabaseURL   string
	NATSURL       string
	NATSSubject   string
	MasterKeyFile string

	Addr      string
	PublicURL string
	TLSCert   string
	TLSKey    string
	HTTP      bool
	Demo      bool

	// ACME (optional): a certificate for a public host name from an ACME CA, obtained and
	// renewed while serving, kept in DATA_DIR/acme. Answered by TLS-ALPN-01 on the TLS port, and
	// also by HTTP-01 on ACMEHTTPAddr when it is set.
	ACMEDomain    string
	ACMEEmail     string
	ACMEDirectory string // "" for Let's Encrypt
	ACMEHTTPAddr  string // e.g. ":80"; "" for no HTTP-01 listener

	LogLevel string

	// DebugAddr, when set, serves Go's runtime profiles (net/http/pprof) on a loopback address
	// of its own, for the platform team profiling a node under load. Never on the public listener.
	DebugAddr string

	// HeapFloor is the heap size below which the garbage collector does not start ("64MiB";
	// "off" for the runtime's default behaviour). See gc.go.
	HeapFloor string

	// CommitGather is how long the store's writer may hold a small batch for more writes under
	// steady load ("2ms"; "0" never). See wardline.CommitGatherer.
	CommitGather string

	// The audit log's witnesses: a file that receives every signed checkpoint (default
	// DATA_DIR/audit-checkpoints.log; "off" for none) and, with AuditSyslog, the system log.
	AuditWitnessFile string
	AuditSyslog      bool
}

// envName is the environment variable that backs a flag.
func envName(flagName string) string {
	return "WARDLINE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// stringFlag registers a flag whose default comes from its environment variable. A *_FILE
// variant is not needed here: the secrets (master key, TLS key) are files already.
func stringFlag(fs *flag.FlagSet, p *string, name, def, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	fs.StringVar(p, name, def, usage+" (env "+envName(name)+")")
}

func boolFlag(fs *flag.FlagSet, p *bool, name string, usage string) {
	def := false
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
	}
	fs.BoolVar(p, name, def, usage+" (env "+envName(name)+")")
}

// storageFlags are shared by every subcommand that opens the data.
func (c *Config) storageFlags(fs *flag.FlagSet) {
	stringFlag(fs, &c.DataDir, "data-dir", "./data", "data directory")
	stringFlag(fs, &c.DatabaseURL, "database-url", "", "PostgreSQL URL (default: SQLite in the data directory)")
	stringFlag(fs, &c.MasterKeyFile, "master-key-file", "", "master key file (default: DATA_DIR/master.key)")
	stringFlag(fs, &c.LogLevel, "log-level", "info", "debug, info, warn or error")
}

// auditFlags are shared by serve and audit verify.
func (c *Config) auditFlags(fs *flag.FlagSet) {
	stringFlag(fs, &c.AuditWitnessFile, "audit-witness-file", "", `file that keeps a copy of every signed audit checkpoint (default DATA_DIR/audit-checkpoints.log; "off" for none); put it where the database's administrators cannot rewrite it`)
}

// witnessPath is the audit witness file, or "" when it is off.
func (c *Config) witnessPath() string {
	switch c.AuditWitnessFile {
	case "off":
		return ""
	case "":
		return filepath.Join(c.DataDir, "audit-checkpoints.log")
	}
	return c.AuditWitnessFile
}

func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.storageFlags(fs)
	c.auditFlags(fs)
	boolFlag(fs, &c.AuditSyslog, "audit-syslog", "also send every signed audit checkpoint to the system log")
	stringFlag(fs, &c.Addr, "addr", "localhost:8443", "address to listen on")
	stringFlag(fs, &c.PublicURL, "public-url", "", "the URL people open, e.g. https://wardline.example.nhs.uk; passkeys are bound to its host (default: made from --addr, with localhost for a loopback or unspecified address)")
	stringFlag(fs, &c.TLSCert, "tls-cert", "", "TLS certificate (PEM); without it a self-signed one is made")
	stringFlag(fs, &c.TLSKey, "tls-key", "", "TLS private key (PEM)")
	boolFlag(fs, &c.HTTP, "http", "serve plain HTTP (loopback addresses only)")
	boolFlag(fs, &c.Demo, "demo", "seed a demo organisation into an empty data directory")
	stringFlag(fs, &c.NATSURL, "nats-url", "", "NATS URL(s), comma-separated, for the event bus between nodes (default: in process, one node)")
	stringFlag(fs, &c.NATSSubject, "nats-subject", "wardline.events", "prefix of the event bus's NATS subjects (<prefix>.c.<conversation>, .u.<user>, .all): one per deployment sharing a NATS server")
	stringFlag(fs, &c.ACMEDomain, "acme-domain", "", "obtain and renew the TLS certificate for this public host name from an ACME CA (Let's Encrypt by default), accepting its terms; the CA must reach this server on port 443 (TLS-ALPN-01) or, with --acme-http-addr, on port 80 (HTTP-01)")
	stringFlag(fs, &c.ACMEEmail, "acme-email", "", "contact address given to the ACME CA (expiry notices)")
	stringFlag(fs, &c.ACMEDirectory, "acme-directory", "", "the ACME CA's directory URL (default: Let's Encrypt's, "+autocert.DefaultACMEDirectory+")")
	stringFlag(fs, &c.DebugAddr, "debug-addr", "", `serve Go's runtime profiles (/debug/pprof/) on this loopback address, e.g. "127.0.0.1:6060" (off by default)`)
	stringFlag(fs, &c.HeapFloor, "heap-floor", "64MiB", `let the Go heap grow to this size before collecting garbage, however little of it is live ("off" for Go's default; ignored when GOGC is set; GOMEMLIMIT still bounds it)`)
	stringFlag(fs, &c.CommitGather, "commit-gather", wardline.DefaultCommitGather.String(), `under a steady stream of writes, let a batch wait this long from its first write for more to share its commit (fewer commits, syncs and round trips, less CPU a message, at most this much more latency; "0" to commit every batch at once). Writes are answered only once durable either way`)
	stringFlag(fs, &c.ACMEHTTPAddr, "acme-http-addr", "", `also answer HTTP-01 challenges on this address, e.g. ":80" (it serves nothing else: other requests are redirected to HTTPS)`)
}

// masterKeyPath is where the master key is: the flag, or DATA_DIR/master.key.
func (c *Config) masterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// heapFloor is --heap-floor in bytes (the default when unset).
func (c *Config) heapFloor() uint64 {
	if c.HeapFloor == "" {
		return defaultHeapFloor
	}
	n, _ := parseSize(c.HeapFloor) // validated
	return n
}

// commitGather is --commit-gather (the default when unset).
func (c *Config) commitGather() (time.Duration, error) {
	if c.CommitGather == "" {
		return wardline.DefaultCommitGather, nil
	}
	d, err := time.ParseDuration(c.CommitGather)
	if err != nil || d < 0 || d > maxCommitGather {
		return 0, fmt.Errorf("--commit-gather %q: want a duration from 0 to %v, e.g. 2ms", c.CommitGather, maxCommitGather)
	}
	return d, nil
}

// maxCommitGather bounds --commit-gather: it is added to a write's latency under load.
const maxCommitGather = 50 * time.Millisecond

func (c *Config) databasePath() string { return filepath.Join(c.DataDir, "wardline.db") }

func (c *Config) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if c.HTTP && (c.TLSCert != "") {
		return fmt.Errorf("--http and --tls-cert exclude each other")
	}
	if err := c.validateACME(); err != nil {
		return err
	}
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		if err != nil || !isLoopback(host) {
			return fmt.Errorf("--debug-addr %q: the profiles reveal memory contents and are served only on a loopback address, e.g. 127.0.0.1:6060", c.DebugAddr)
		}
	}
	if c.HeapFloor != "" {
		if _, err := parseSize(c.HeapFloor); err != nil {
			return fmt.Errorf("--heap-floor: %w", err)
		}
	}
	if _, err := c.commitGather(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("--public-url %q: want a URL like https://wardline.example.nhs.uk (scheme, host and optional port only)", c.PublicURL)
		}
	}
	return nil
}

// webAuthn works out where passkeys are bound: the host of --public-url, or one made from the
// address served (scheme from --http, the real port). A relying party must be a domain name,
// never an IP address: a loopback or unspecified address becomes localhost (browsers treat
// http://localhost as secure), and any other IP address without --public-url disables passkeys.
func (c *Config) webAuthn(listenAddr net.Addr) (rpID string, origins []string) {
	if c.PublicURL != "" {
		u, _ := url.Parse(c.PublicURL)
		if net.ParseIP(u.Hostname()) != nil {
			return "", nil
		}
		return u.Hostname(), []string{u.Scheme + "://" + u.Host}
	}
	host, _, _ := net.SplitHostPort(c.Addr)
	_, port, _ := net.SplitHostPort(listenAddr.String())
	if c.ACMEDomain != "" {
		host = c.ACMEDomain // the name the certificate is for is the name people open
	} else if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		host = "localhost"
	} else if ip != nil {
		return "", nil
	}
	scheme := "https"
	if c.HTTP {
		scheme = "http"
	}
	origin := scheme + "://" + host
	if !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		origin += ":" + port
	}
	return host, []string{origin}
}
