package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProbeDisk(t *testing.T) {
	dir := t.TempDir()
	d, err := probeDisk(dir, 50)
	if err != nil {
		t.Fatal(err)
	}
	if d.Dir != dir || d.Syncs != 50 || d.WrittenKiB != 4 {
		t.Errorf("probe %+v: want 50 syncs of 4 KiB in %s", d, dir)
	}
	if !(d.SyncsPerS > 0 && d.P50Ms > 0 && d.P50Ms <= d.P99Ms && d.P99Ms <= d.MaxMs) {
		t.Errorf("probe %+v: want 0 < p50 ≤ p99 ≤ max and a rate", d)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the probe left %d files in the data directory", len(left))
	}
	if _, err := probeDisk(filepath.Join(dir, "missing"), 10); err == nil {
		t.Error("a directory that does not exist: no error")
	}
}

func TestDataDirOf(t *testing.T) {
	for _, c := range []struct {
		name      string
		args, env []string
		want      string
	}{
		{"flag", []string{"wardline", "serve", "--data-dir", "d1"}, nil, "/srv/d1"},
		{"flag=", []string{"wardline", "serve", "--data-dir=/abs/d2/"}, nil, "/abs/d2"},
		{"one dash", []string{"wardline", "serve", "-data-dir", "d3"}, []string{"WARDLINE_DATA_DIR=/e"}, "/srv/d3"},
		{"environment", []string{"wardline", "serve"}, []string{"HOME=/root", "WARDLINE_DATA_DIR=/e"}, "/e"},
		{"default", []string{"wardline", "serve", "--http"}, []string{"HOME=/root"}, "/srv/data"},
	} {
		if got := dataDirOf(c.args, c.env, "/srv"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// This process, through /proc: no flag, so its environment's or the default.
	cwd, _ := os.Getwd()
	want := filepath.Join(cwd, "data")
	if v, ok := os.LookupEnv("WARDLINE_DATA_DIR"); ok && v != "" {
		want = v
		if !filepath.IsAbs(v) {
			want = filepath.Join(cwd, v)
		}
	}
	if got := serverDataDir(os.Getpid()); got != want && got != filepath.Clean(want) {
		t.Errorf("serverDataDir(self) = %q, want %q", got, want)
	}
}
