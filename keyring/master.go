package keyring

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The master key file holds one line per term: "wardline-kek v1 <term> <base64 of 32 bytes>".
// Blank lines and lines starting with # are ignored.
const (
	masterMagic   = "wardline-kek"
	masterVersion = "v1"
	masterHeader  = "# Wardline master key file. Keep it secret, and back it up apart from the database:\n" +
		"# whoever holds both can read everything; whoever loses this file loses everything.\n"
	maxMasterFile = 1 << 20
)

// MasterKeys is the master key (KEK) file: its terms, oldest first. The newest term wraps new
// organisation keys; older terms only unwrap, until RotateMasterKey moves everything off them.
type MasterKeys struct {
	path  string
	mu    sync.RWMutex
	terms []*masterTerm // ascending term
}

type masterTerm struct {
	term int
	key  []byte // kept only to rewrite the file when a term is added or retired
	aead cipher.AEAD
}

// kekID names a master key term the way KeyRecord.WrappedBy does.
func kekID(term int) string { return "kek:" + strconv.Itoa(term) }

func parseKEKID(id string) (int, bool) {
	s, ok := strings.CutPrefix(id, "kek:")
	if !ok {
		return 0, false
	}
	t, err := strconv.Atoi(s)
	return t, err == nil && t > 0
}

// CreateMasterKeyFile writes a new master key file holding one fresh term, readable by its owner
// only. It refuses to touch an existing file: overwriting a master key destroys every secret.
func CreateMasterKeyFile(path string) (*MasterKeys, error) {
	t, err := newMasterTerm(1, newRawKey())
	if err != nil {
		return nil, err
	}
	m := &MasterKeys{path: path, terms: []*masterTerm{t}}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keyring: creating master key file: %w", err)
	}
	_, err = f.Write(encodeMaster(m.terms))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("keyring: writing master key file %s: %w", path, err)
	}
	return m, nil
}

// LoadMasterKeys reads a master key file. It refuses a file that group or others may read or
// write, and any line it does not fully understand.
func LoadMasterKeys(path string) (*MasterKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: opening master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: master key file %s is not a regular file", path)
	}
	// Windows has no Unix modes to check; its ACLs are the operator's job.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("keyring: master key file %s has mode %04o, so group or others may read or change it; run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMasterFile+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: reading master key file %s: %w", path, err)
	}
	if len(data) > maxMasterFile {
		return nil, fmt.Errorf("keyring: master key file %s is larger than %d bytes", path, maxMasterFile)
	}
	terms, err := parseMaster(data)
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file %s: %w", path, err)
	}
	return &MasterKeys{path: path, terms: terms}, nil
}

// parseMaster never puts a line's text in its errors: the line may hold a key.
func parseMaster(data []byte) ([]*masterTerm, error) {
	var terms []*masterTerm
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != masterMagic {
			return nil, fmt.Errorf("line %d: want %q", n, masterMagic+" "+masterVersion+" <term> <base64 key>")
		}
		if f[1] != masterVersion {
			return nil, fmt.Errorf("line %d: unknown format version (want %s)", n, masterVersion)
		}
		term, err := strconv.Atoi(f[2])
		if err != nil || term < 1 {
			return nil, fmt.Errorf("line %d: term must be a positive integer", n)
		}
		if len(terms) > 0 && term <= terms[len(terms)-1].term {
			return nil, fmt.Errorf("line %d: term %d is not greater than the term before it", n, term)
		}
		key, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil {
			return nil, fmt.Errorf("line %d: key of term %d is not valid base64", n, term)
		}
		if len(key) != keySize {
			return nil, fmt.Errorf("line %d: key of term %d is %d bytes, want %d", n, term, len(key), keySize)
		}
		if subtle.ConstantTimeCompare(key, make([]byte, keySize)) == 1 {
			return nil, fmt.Errorf("line %d: key of term %d is all zeros, a placeholder rather than a key", n, term)
		}
		t, err := newMasterTerm(term, key)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(terms) == 0 {
		return nil, errors.New("it holds no key")
	}
	return terms, nil
}

func newMasterTerm(term int, key []byte) (*masterTerm, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &masterTerm{term: term, key: key, aead: aead}, nil
}

func encodeMaster(terms []*masterTerm) []byte {
	var b bytes.Buffer
	b.WriteString(masterHeader)
	for _, t := range terms {
		fmt.Fprintf(&b, "%s %s %d %s\n", masterMagic, masterVersion, t.term, base64.StdEncoding.EncodeToString(t.key))
	}
	return b.Bytes()
}

// Path is the file the keys came from.
func (m *MasterKeys) Path() string { return m.path }

// Terms lists the terms held, oldest first.
func (m *MasterKeys) Terms() []int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]int, len(m.terms))
	for i, t := range m.terms {
		out[i] = t.term
	}
	return out
}

// String names the file and its terms, never the keys, so that logging a MasterKeys is harmless.
func (m *MasterKeys) String() string {
	return fmt.Sprintf("MasterKeys{%s, terms %v}", m.path, m.Terms())
}

// GoString keeps %#v from printing the keys.
func (m *MasterKeys) GoString() string { return m.String() }

func (m *MasterKeys) newest() *masterTerm {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.terms[len(m.terms)-1]
}

func (m *MasterKeys) lookup(term int) *masterTerm {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, t := range m.terms {
		if t.term == term {
			return t
		}
	}
	return nil
}

// AddTerm appends a fresh term to the file and returns it. From now on it wraps new organisation
// keys; RotateMasterKey then re-wraps the existing ones under it.
func (m *MasterKeys) AddTerm() (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := newMasterTerm(m.terms[len(m.terms)-1].term+1, newRawKey())
	if err != nil {
		return 0, err
	}
	terms := append(slices.Clip(m.terms), t)
	if err := m.replaceFile(terms); err != nil {
		return 0, err
	}
	m.terms = terms
	return t.term, nil
}

// RetireTerm removes an old term from the file. It does not look at what the term still wraps:
// use Keyring.RetireMasterTerm, which checks that nothing does. The newest term cannot be retired.
func (m *MasterKeys) RetireTerm(term int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if term == m.terms[len(m.terms)-1].term {
		return fmt.Errorf("keyring: %s is the newest master key term and cannot be retired", kekID(term))
	}
	i := slices.IndexFunc(m.terms, func(t *masterTerm) bool { return t.term == term })
	if i < 0 {
		return fmt.Errorf("keyring: master key file %s holds no term %s", m.path, kekID(term))
	}
	terms := slices.Delete(slices.Clone(m.terms), i, i+1)
	if err := m.replaceFile(terms); err != nil {
		return err
	}
	m.terms = terms
	return nil
}

// replaceFile writes the file anew beside the old one and renames it into place, so that a crash
// leaves either the old file or the new one, never a torn key.
func (m *MasterKeys) replaceFile(terms []*masterTerm) (err error) {
	dir := filepath.Dir(m.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(m.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("keyring: rewriting master key file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("keyring: rewriting master key file %s: %w", m.path, err)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := tmp.Write(encodeMaster(terms)); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), m.path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a file's creation or renaming durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
