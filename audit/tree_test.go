package audit

import (
	"bytes"
	"testing"
)

func TestTree_RootMatchesRFC6962(t *testing.T) {
	leaves := leafHashes(70)
	var tree Tree // the zero Tree is an empty tree
	for n := 0; n <= len(leaves); n++ {
		if got, want := tree.Size(), uint64(n); got != want {
			t.Fatalf("Size() = %d, want %d", got, want)
		}
		if got, want := tree.Root(), naiveRoot(leaves[:n]); !bytes.Equal(got, want) {
			t.Fatalf("size %d: Root() = %x, want %x", n, got, want)
		}
		if n < len(leaves) {
			if err := tree.Append(leaves[n]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTree_MarshalRestore(t *testing.T) {
	leaves := leafHashes(70)
	tree := NewTree()
	for n := 0; n <= len(leaves); n++ {
		state, err := tree.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var restored Tree
		if err := restored.UnmarshalBinary(state); err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if restored.Size() != tree.Size() || !bytes.Equal(restored.Root(), tree.Root()) {
			t.Fatalf("size %d: restored tree differs", n)
		}
		// The restored tree carries on as the original would.
		for _, l := range leaves[n:] {
			if err := restored.Append(l); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := restored.Root(), naiveRoot(leaves); !bytes.Equal(got, want) {
			t.Fatalf("restored at size %d then completed: root %x, want %x", n, got, want)
		}
		if n < len(leaves) {
			if err := tree.Append(leaves[n]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTree_UnmarshalRejectsDamage(t *testing.T) {
	tree := NewTree()
	for _, l := range leafHashes(13) { // 3 hashes in the compact range
		if err := tree.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	state, _ := tree.MarshalBinary()
	tests := map[string][]byte{
		"empty":               nil,
		"short header":        state[:5],
		"version":             append([]byte{2}, state[1:]...),
		"missing hash":        state[:len(state)-HashSize],
		"extra byte":          append(append([]byte(nil), state...), 0),
		"size needs 4 hashes": append(append([]byte(nil), state[:8]...), append([]byte{15}, state[9:]...)...),
	}
	for name, b := range tests {
		var got Tree
		if err := got.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: UnmarshalBinary succeeded, want an error", name)
		}
	}
}

func TestTree_Clone(t *testing.T) {
	leaves := leafHashes(10)
	tree := NewTree()
	for _, l := range leaves[:5] {
		_ = tree.Append(l)
	}
	c := tree.Clone()
	for _, l := range leaves[5:] {
		_ = c.Append(l)
	}
	if got, want := tree.Root(), naiveRoot(leaves[:5]); tree.Size() != 5 || !bytes.Equal(got, want) {
		t.Fatal("appending to a clone changed the original")
	}
	if got, want := c.Root(), naiveRoot(leaves); !bytes.Equal(got, want) {
		t.Fatalf("clone root = %x, want %x", got, want)
	}
}

func TestTree_AppendKeepsNoAlias(t *testing.T) {
	leaves := leafHashes(4)
	tree := NewTree()
	buf := append([]byte(nil), leaves[0]...)
	_ = tree.Append(buf)
	buf[0] ^= 0xff // a caller reusing its buffer must not change the tree
	if got, want := tree.Root(), naiveRoot(leaves[:1]); !bytes.Equal(got, want) {
		t.Fatal("tree kept the caller's buffer")
	}
	if err := tree.Append(make([]byte, 31)); err == nil {
		t.Fatal("Append of a 31-byte hash succeeded")
	}
}
