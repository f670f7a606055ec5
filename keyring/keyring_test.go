package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"wardline"
	"wardline/keyring"
)

var ctx = context.Background()

func TestSealOpen(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	scope := f.newScope(t, org)
	msgID := wardline.NewID()
	aad := wardline.AAD("messages", msgID, "body")

	t.Run("OK", func(t *testing.T) {
		for _, body := range []string{"Bed 4 obs stable, NEWS2 1", "", strings.Repeat("x", 70000)} {
			sealed := mustSeal(t, f.kr, scope, aad, body)
			if body != "" && bytes.Contains(sealed, []byte(body)) {
				t.Fatal("sealed content holds the plaintext")
			}
			if got, want := len(sealed), 1+4+12+len(body)+16; got != want {
				t.Fatalf("sealed length: got %d, want %d", got, want)
			}
			mustOpen(t, f.kr, scope, aad, sealed, body)
			mustOpen(t, f.restart(t), scope, aad, sealed, body)
		}
	})

	t.Run("NoncesDiffer", func(t *testing.T) {
		a, b := mustSeal(t, f.kr, scope, aad, "same"), mustSeal(t, f.kr, scope, aad, "same")
		if bytes.Equal(a, b) {
			t.Fatal("two seals of the same plaintext are identical")
		}
	})

	sealed := mustSeal(t, f.kr, scope, aad, "K+ 6.1, repeat bloods")
	other := f.newScope(t, org)
	for name, tc := range map[string]struct {
		scope string
		aad   []byte
	}{
		"ErrOtherRow":    {scope, wardline.AAD("messages", wardline.NewID(), "body")},
		"ErrOtherColumn": {scope, wardline.AAD("messages", msgID, "edit")},
		"ErrOtherTable":  {scope, wardline.AAD("patients", msgID, "body")},
		"ErrOtherScope":  {other, aad},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.kr.Open(ctx, tc.scope, tc.aad, sealed)
			if !errors.Is(err, keyring.ErrNotAuthentic) {
				t.Fatalf("got %v, want ErrNotAuthentic", err)
			}
		})
	}

	t.Run("ErrTampered", func(t *testing.T) {
		for i := range sealed {
			for _, bit := range []byte{0x01, 0x80} {
				bad := bytes.Clone(sealed)
				bad[i] ^= bit
				_, err := f.kr.Open(ctx, scope, aad, bad)
				if err == nil {
					t.Fatalf("byte %d bit %#x flipped: Open succeeded", i, bit)
				}
				if errors.Is(err, wardline.ErrContentDestroyed) {
					t.Fatalf("byte %d flipped: got ErrContentDestroyed", i)
				}
			}
		}
	})

	t.Run("ErrTruncated", func(t *testing.T) {
		for n := range len(sealed) {
			if _, err := f.kr.Open(ctx, scope, aad, sealed[:n]); err == nil {
				t.Fatalf("truncated to %d bytes: Open succeeded", n)
			}
		}
		if _, err := f.kr.Open(ctx, scope, aad, sealed[:10]); !errors.Is(err, keyring.ErrMalformed) {
			t.Fatalf("got %v, want ErrMalformed", err)
		}
	})

	t.Run("ErrGarbage", func(t *testing.T) {
		for range 200 {
			junk := make([]byte, 1+int(randByte())%80)
			rand.Read(junk)
			if _, err := f.kr.Open(ctx, scope, aad, junk); err == nil {
				t.Fatal("random bytes opened")
			}
		}
	})

	t.Run("ErrTermGarbled", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		binary.BigEndian.PutUint32(bad[1:5], 7)
		_, err := f.kr.Open(ctx, scope, aad, bad)
		if !errors.Is(err, keyring.ErrNotAuthentic) {
			t.Fatalf("got %v, want ErrNotAuthentic", err)
		}
	})

	t.Run("ErrNoKey", func(t *testing.T) {
		_, err := f.kr.Seal(ctx, wardline.NewID(), aad, []byte("x"))
		if !errors.Is(err, keyring.ErrNoKey) {
			t.Fatalf("got %v, want ErrNoKey", err)
		}
	})
}

func randByte() byte {
	var b [1]byte
	rand.Read(b[:])
	return b[0]
}

func TestNewKeysWriteNothing(t *testing.T) {
	f := newFixture(t)
	org := wardline.NewID()
	orgRec, err := f.kr.NewOrgKey(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	scope := wardline.NewID()
	dataRec, err := f.kr.NewDataKey(ctx, org, scope)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.store.updateCount(); got != 0 {
		t.Fatalf("NewOrgKey and NewDataKey ran %d updates, want 0", got)
	}
	// The caller may seal before its transaction commits.
	sealed := mustSeal(t, f.kr, scope, []byte("a"), "first message")
	if orgRec.Kind != wardline.KeyKindOrg || orgRec.Scope != org || orgRec.Term != 1 || orgRec.WrappedBy != "kek:1" {
		t.Fatalf("org key record: %+v", orgRec)
	}
	if dataRec.Kind != wardline.KeyKindData || dataRec.Scope != scope || dataRec.OrgID != org || dataRec.Term != 1 || dataRec.WrappedBy != orgRec.ID {
		t.Fatalf("data key record: %+v", dataRec)
	}
	f.insert(t, orgRec)
	f.insert(t, dataRec)
	mustOpen(t, f.restart(t), scope, []byte("a"), sealed, "first message")

	t.Run("ErrExists", func(t *testing.T) {
		if _, err := f.kr.NewOrgKey(ctx, org); err == nil {
			t.Fatal("NewOrgKey made a second first key")
		}
		if _, err := f.kr.NewDataKey(ctx, org, scope); err == nil {
			t.Fatal("NewDataKey made a second first key")
		}
	})
}

// A wrapped key copied onto another record must not unwrap there.
func TestMovedWrappedKey(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	a, b := f.newScope(t, org), f.newScope(t, org)
	sealedA := mustSeal(t, f.kr, a, []byte("r"), "for a")
	wrappedA := dataRecords(f.store, a)[0].Wrapped
	f.store.edit(dataRecords(f.store, b)[0].ID, func(r *wardline.KeyRecord) { r.Wrapped = wrappedA })
	_, err := f.restart(t).Open(ctx, b, []byte("r"), sealedA)
	if err == nil || errors.Is(err, wardline.ErrContentDestroyed) || !strings.Contains(err.Error(), "cannot unwrap") {
		t.Fatalf("got %v, want an unwrap failure", err)
	}

	org2 := f.newOrg(t)
	s2 := f.newScope(t, org2)
	wrappedOrg := orgRecords(f.store, org)[0].Wrapped
	f.store.edit(orgRecords(f.store, org2)[0].ID, func(r *wardline.KeyRecord) { r.Wrapped = wrappedOrg })
	_, err = f.restart(t).Seal(ctx, s2, nil, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), orgRecords(f.store, org2)[0].ID) {
		t.Fatalf("got %v, want an unwrap failure naming the organisation key", err)
	}
}

func TestShred(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	a, b := f.newScope(t, org), f.newScope(t, org)
	aad := wardline.AAD("messages", "m1", "body")
	sealedA, sealedB := mustSeal(t, f.kr, a, aad, "shred me"), mustSeal(t, f.kr, b, aad, "keep me")

	if err := f.kr.Shred(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, r := range dataRecords(f.store, a) {
		if r.Wrapped != nil || r.DestroyedAt == nil {
			t.Fatalf("shredded record still holds material: %+v", r)
		}
	}
	for name, kr := range map[string]*keyring.Keyring{"Live": f.kr, "Restarted": f.restart(t)} {
		t.Run(name, func(t *testing.T) {
			if _, err := kr.Open(ctx, a, aad, sealedA); !errors.Is(err, wardline.ErrContentDestroyed) {
				t.Fatalf("Open: got %v, want ErrContentDestroyed", err)
			}
			if _, err := kr.Seal(ctx, a, aad, []byte("more")); !errors.Is(err, wardline.ErrContentDestroyed) {
				t.Fatalf("Seal: got %v, want ErrContentDestroyed", err)
			}
			if err := kr.RotateDataKey(ctx, org, a); !errors.Is(err, wardline.ErrContentDestroyed) {
				t.Fatalf("RotateDataKey: got %v, want ErrContentDestroyed", err)
			}
			mustOpen(t, kr, b, aad, sealedB, "keep me")
		})
	}

	t.Run("Org", func(t *testing.T) {
		restarted := f.restart(t)
		mustOpen(t, restarted, b, aad, sealedB, "keep me")
		if err := f.kr.Shred(ctx, org); err != nil {
			t.Fatal(err)
		}
		restarted.Forget(org) // what the bus tells other nodes
		for _, kr := range []*keyring.Keyring{f.kr, restarted, f.restart(t)} {
			if _, err := kr.Open(ctx, b, aad, sealedB); !errors.Is(err, wardline.ErrContentDestroyed) {
				t.Fatalf("Open after shredding the organisation: got %v, want ErrContentDestroyed", err)
			}
			if _, err := kr.NewDataKey(ctx, org, wardline.NewID()); !errors.Is(err, wardline.ErrContentDestroyed) {
				t.Fatalf("NewDataKey after shredding the organisation: got %v, want ErrContentDestroyed", err)
			}
		}
	})
}

// A store that does not erase what it was asked to must not let Shred report success.
func TestShredUnerased(t *testing.T) {
	f := newFixture(t)
	f.store.dataOnly = true
	org := f.newOrg(t)
	f.newScope(t, org)
	err := f.kr.Shred(ctx, org)
	if err == nil || !strings.Contains(err.Error(), "did not erase") {
		t.Fatalf("got %v, want a failure saying the key was not erased", err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	f := newFixture(t)
	org := f.newOrg(t)
	scope := f.newScope(t, org)
	sealed := mustSeal(t, f.kr, scope, nil, "hello")
	orgKeyID := orgRecords(f.store, org)[0].ID

	wrong, err := keyring.CreateMasterKeyFile(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	kr := keyring.New(wrong, f.store, f.clock)
	before := f.store.updateCount()

	if err := f.restart(t).CheckOrgKey(ctx, org); err != nil {
		t.Fatalf("CheckOrgKey with the right master key: %v", err)
	}
	if err := kr.CheckOrgKey(ctx, org); err == nil || !strings.Contains(err.Error(), orgKeyID) || !strings.Contains(err.Error(), "kek:1") {
		t.Fatalf("CheckOrgKey: got %v, want an error naming kek:1 and organisation key %s", err, orgKeyID)
	}

	_, err = kr.Open(ctx, scope, nil, sealed)
	if err == nil || !strings.Contains(err.Error(), "kek:1") || !strings.Contains(err.Error(), orgKeyID) {
		t.Fatalf("Open: got %v, want an error naming kek:1 and organisation key %s", err, orgKeyID)
	}
	if errors.Is(err, wardline.ErrContentDestroyed) {
		t.Fatal("a wrong master key must not look like shredded content")
	}
	if _, err := kr.NewDataKey(ctx, org, wardline.NewID()); err == nil || !strings.Contains(err.Error(), orgKeyID) {
		t.Fatalf("NewDataKey: got %v, want an error naming the organisation key", err)
	}
	if _, err := kr.NewOrgKey(ctx, org); err == nil {
		t.Fatal("NewOrgKey made a new key for an organisation that has one")
	}
	if _, err := kr.Seal(ctx, scope, nil, []byte("x")); err == nil {
		t.Fatal("Seal succeeded under the wrong master key")
	}
	if got := f.store.updateCount(); got != before {
		t.Fatalf("the store was written %d times", got-before)
	}
	if got := len(orgRecords(f.store, org)); got != 1 {
		t.Fatalf("organisation has %d keys, want 1", got)
	}
}

func TestNonceLimit(t *testing.T) {
	f := newFixture(t)
	f.kr.MaxSealsPerKey = 3
	org := f.newOrg(t)
	scope := f.newScope(t, org)
	var sealed [][]byte
	for i := range 10 {
		sealed = append(sealed, mustSeal(t, f.kr, scope, []byte{byte(i)}, fmt.Sprint("msg ", i)))
	}
	for i, s := range sealed {
		if got, want := binary.BigEndian.Uint32(s[1:5]), uint32(i/3+1); got != want {
			t.Fatalf("seal %d: term %d, want %d", i, got, want)
		}
	}
	recs := dataRecords(f.store, scope)
	if len(recs) != 4 {
		t.Fatalf("scope has %d data key terms, want 4", len(recs))
	}
	for i, r := range recs {
		if r.Term != i+1 || r.OrgID != org || r.WrappedBy != orgRecords(f.store, org)[0].ID {
			t.Fatalf("term record %d: %+v", i, r)
		}
	}
	restarted := f.restart(t)
	for i, s := range sealed {
		mustOpen(t, f.kr, scope, []byte{byte(i)}, s, fmt.Sprint("msg ", i))
		mustOpen(t, restarted, scope, []byte{byte(i)}, s, fmt.Sprint("msg ", i))
	}
}
