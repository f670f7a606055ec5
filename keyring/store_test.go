package keyring_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"wardline"
	"wardline/keyring"
)

// memStore is an in-memory keyring.Storage: a table of key records with the uniqueness rules of
// the real keys table, and transactions that apply all of fn's writes or none.
type memStore struct {
	mu       sync.Mutex
	keys     keyTable
	updates  int            // committed or not
	keyReads map[string]int // Keys calls per scope, outside transactions
	gate     chan struct{}  // when set, Keys waits for it to close
	arrived  chan string    // when set, Keys reports the scope it is about to read
	dataOnly bool           // DestroyKeys erases data keys only (a store that breaks the contract)
	audit    []*wardline.AuditEvent
}

func newMemStore() *memStore {
	return &memStore{keys: keyTable{}, keyReads: map[string]int{}}
}

func (s *memStore) Keys(ctx context.Context, scope string) ([]*wardline.KeyRecord, error) {
	s.mu.Lock()
	s.keyReads[scope]++
	gate, arrived := s.gate, s.arrived
	s.mu.Unlock()
	if arrived != nil {
		select {
		case arrived <- scope:
		default:
		}
	}
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.byScope(scope), nil
}

func (s *memStore) KeysWrappedBy(ctx context.Context, wrappedBy, afterID string, limit int) ([]*wardline.KeyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.wrappedBy(wrappedBy, afterID, limit), nil
}

func (s *memStore) Update(ctx context.Context, fn func(tx wardline.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	work := make(keyTable, len(s.keys))
	for id, r := range s.keys {
		work[id] = copyRecord(r)
	}
	tx := &memTx{t: work, dataOnly: s.dataOnly}
	if err := fn(tx); err != nil {
		return err
	}
	s.keys = work
	s.audit = append(s.audit, tx.audit...)
	return nil
}

func (s *memStore) updateCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

func (s *memStore) reads(scope string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyReads[scope]
}

// all returns copies of every record of scope (both kinds), as Keys would.
func (s *memStore) all(scope string) []*wardline.KeyRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.byScope(scope)
}

// edit changes a stored record in place, as someone with write access to the database could.
func (s *memStore) edit(id string, fn func(r *wardline.KeyRecord)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.keys[id])
}

// memTx gives fn the key methods of a transaction; the keyring calls no others, and the nil
// embedded Tx makes any other call fail loudly.
type memTx struct {
	wardline.Tx
	t        keyTable
	dataOnly bool
	audit    []*wardline.AuditEvent
}

func (tx *memTx) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	tx.audit = append(tx.audit, e)
	return nil
}

func (tx *memTx) Keys(ctx context.Context, scope string) ([]*wardline.KeyRecord, error) {
	return tx.t.byScope(scope), nil
}

func (tx *memTx) KeysWrappedBy(ctx context.Context, wrappedBy, afterID string, limit int) ([]*wardline.KeyRecord, error) {
	return tx.t.wrappedBy(wrappedBy, afterID, limit), nil
}

func (tx *memTx) InsertKey(ctx context.Context, k *wardline.KeyRecord) error { return tx.t.insert(k) }

func (tx *memTx) RewrapKey(ctx context.Context, id, wrappedBy string, wrapped []byte) error {
	r, ok := tx.t[id]
	if !ok || r.DestroyedAt != nil {
		// As the SQLite store: a shredded key is never written again.
		return fmt.Errorf("no live key %s", id)
	}
	r.WrappedBy, r.Wrapped = wrappedBy, slices.Clone(wrapped)
	return nil
}

func (tx *memTx) DestroyKeys(ctx context.Context, scope string, at time.Time) error {
	for _, r := range tx.t {
		if r.Scope == scope && (!tx.dataOnly || r.Kind == wardline.KeyKindData) {
			r.Wrapped, r.DestroyedAt = nil, &at
		}
	}
	return nil
}

type keyTable map[string]*wardline.KeyRecord

func copyRecord(r *wardline.KeyRecord) *wardline.KeyRecord {
	c := *r
	c.Wrapped = slices.Clone(r.Wrapped)
	if r.DestroyedAt != nil {
		at := *r.DestroyedAt
		c.DestroyedAt = &at
	}
	return &c
}

func (t keyTable) byScope(scope string) []*wardline.KeyRecord {
	var out []*wardline.KeyRecord
	for _, r := range t {
		if r.Scope == scope {
			out = append(out, copyRecord(r))
		}
	}
	slices.SortFunc(out, func(a, b *wardline.KeyRecord) int {
		return cmp.Or(cmp.Compare(a.Term, b.Term), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

func (t keyTable) wrappedBy(wrappedBy, afterID string, limit int) []*wardline.KeyRecord {
	var out []*wardline.KeyRecord
	for _, r := range t {
		if r.WrappedBy == wrappedBy && r.ID > afterID {
			out = append(out, copyRecord(r))
		}
	}
	slices.SortFunc(out, func(a, b *wardline.KeyRecord) int { return cmp.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (t keyTable) insert(k *wardline.KeyRecord) error {
	if _, ok := t[k.ID]; ok {
		return fmt.Errorf("duplicate key id %s", k.ID)
	}
	for _, r := range t {
		if r.Scope == k.Scope && r.Kind == k.Kind && r.Term == k.Term {
			// What both stores answer (storetest's InsertKey): a keyring that lost a race to make
			// a key reads the winner's instead.
			return wardline.Errorf(wardline.ECONFLICT, "key term exists")
		}
	}
	t[k.ID] = copyRecord(k)
	return nil
}

type testClock struct{ now time.Time }

func (c testClock) Now() time.Time { return c.now }

// fixture is one node: a master key file, a store and a keyring over them.
type fixture struct {
	master *keyring.MasterKeys
	store  *memStore
	kr     *keyring.Keyring
	clock  testClock
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	m, err := keyring.CreateMasterKeyFile(filepath.Join(tb.TempDir(), "master.key"))
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{master: m, store: newMemStore(), clock: testClock{time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}}
	f.kr = keyring.New(m, f.store, f.clock)
	return f
}

// restart is a new process on the same database and master key file: nothing cached.
func (f *fixture) restart(tb testing.TB) *keyring.Keyring {
	tb.Helper()
	m, err := keyring.LoadMasterKeys(f.master.Path())
	if err != nil {
		tb.Fatal(err)
	}
	return keyring.New(m, f.store, f.clock)
}

func (f *fixture) insert(tb testing.TB, rec *wardline.KeyRecord) {
	tb.Helper()
	err := f.store.Update(context.Background(), func(tx wardline.Tx) error { return tx.InsertKey(context.Background(), rec) })
	if err != nil {
		tb.Fatal(err)
	}
}

// newOrg creates an organisation's key as the app would: made by the keyring, stored by the caller.
func (f *fixture) newOrg(tb testing.TB) string {
	tb.Helper()
	org := wardline.NewID()
	rec, err := f.kr.NewOrgKey(context.Background(), org)
	if err != nil {
		tb.Fatal(err)
	}
	f.insert(tb, rec)
	return org
}

func (f *fixture) newScope(tb testing.TB, org string) string {
	tb.Helper()
	scope := wardline.NewID()
	rec, err := f.kr.NewDataKey(context.Background(), org, scope)
	if err != nil {
		tb.Fatal(err)
	}
	f.insert(tb, rec)
	return scope
}

func mustSeal(tb testing.TB, kr *keyring.Keyring, scope string, aad []byte, plaintext string) []byte {
	tb.Helper()
	sealed, err := kr.Seal(context.Background(), scope, aad, []byte(plaintext))
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return sealed
}

func mustOpen(tb testing.TB, kr *keyring.Keyring, scope string, aad, sealed []byte, want string) {
	tb.Helper()
	got, err := kr.Open(context.Background(), scope, aad, sealed)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	if string(got) != want {
		tb.Fatalf("Open: got %q, want %q", got, want)
	}
}

// dataRecords returns the data-key records of scope, oldest term first.
func dataRecords(s *memStore, scope string) []*wardline.KeyRecord {
	return slices.DeleteFunc(s.all(scope), func(r *wardline.KeyRecord) bool { return r.Kind != wardline.KeyKindData })
}

func orgRecords(s *memStore, org string) []*wardline.KeyRecord {
	return slices.DeleteFunc(s.all(org), func(r *wardline.KeyRecord) bool { return r.Kind != wardline.KeyKindOrg })
}
