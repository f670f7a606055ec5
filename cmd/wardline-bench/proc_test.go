package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestServerPIDMustBeRunning: a run against a server that exited (one that could not bind its
// port, say, while an older one still answers --url) is refused before it starts.
func TestServerPIDMustBeRunning(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	b := &Bench{cfg: &Config{ServerPID: cmd.Process.Pid}}
	if _, err := b.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "--server-pid") {
		t.Errorf("Run with an exited server's pid: %v, want it refused", err)
	}
	if err := checkServerPID(os.Getpid()); err != nil {
		t.Errorf("a running process: %v", err)
	}
}
