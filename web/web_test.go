package web

import (
	"io/fs"
	"testing"
)

func TestAssets(t *testing.T) {
	assets, built := Assets()
	if assets == nil {
		t.Fatal("Assets returned a nil FS")
	}
	_, err := fs.Stat(assets, "index.html")
	if got, want := built, err == nil; got != want {
		t.Fatalf("built = %v, want %v (index.html stat error: %v)", got, want, err)
	}
}
