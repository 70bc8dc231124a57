package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // expected in stdout+stderr
	}{
		{"version", []string{"-version"}, 0, "mockserver dev"},
		{"help", []string{"-help"}, 0, "Usage: mockserver"},
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined"},
		{"bad value", []string{"-log-format", "yaml"}, 2, `-log-format "yaml"`},
		{"missing fixtures dir", []string{"-fixtures", "/does/not/exist"}, 2, "-fixtures /does/not/exist: not a readable directory"},
		{"missing spec", []string{"-spec", "/does/not/exist.yaml"}, 2, "/does/not/exist.yaml"},
		{"port in use", []string{"-addr", "256.0.0.1:1"}, 1, "listen on 256.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, func(string) string { return "" }, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.output) {
				t.Errorf("got %d and %q, want %d and %q", code, out.String(), tc.code, tc.output)
			}
		})
	}
}

// The real binary: it starts, answers, and exits 0 on SIGTERM.
func TestBinarySignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "mockserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	var addr string
	for lines.Scan() {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "listening" {
			addr = entry.Addr
			break
		}
	}
	if addr == "" {
		t.Fatal("no listening line in the log")
	}
	go func() {
		for lines.Scan() {
		}
	}()
	resp, err := http.Post("http://"+addr+"/commandcenter/api/RenewLoginToken", "application/json", strings.NewReader(`{"deviceId":"d","sessionId":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("got %d, want 401 (no Authtoken)", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
	_ = os.Remove(bin)
}
