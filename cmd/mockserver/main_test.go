package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/fixtures"
)

// A flag mistake is said once, on one line that names the flag and points
// to -help, without the usage; -help shows sizes as the README does.
func TestFlagMistakesOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-bogus"}, "mockserver: unknown flag -bogus (mockserver -help lists the flags)"},
		{[]string{"-fail-rate", "1.5"}, "mockserver: -fail-rate 1.5: want a fraction from 0 to 1"},
		{[]string{"-max-body", "lots"}, `mockserver: invalid value "lots" for flag -max-body: "lots" is not a size (bytes, or a number with KiB, MiB or GiB) (mockserver -help lists the flags)`},
		{[]string{"-addr"}, "mockserver: flag needs an argument: -addr (mockserver -help lists the flags)"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, func(string) string { return "" }, &stdout, &stderr)
			if got := strings.TrimSuffix(stderr.String(), "\n"); code != 2 || got != tc.want || stdout.Len() > 0 {
				t.Errorf("got %d, stderr %q, stdout %q; want 2 and the one line %q", code, stderr.String(), stdout.String(), tc.want)
			}
		})
	}
	t.Run("-help", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-help"}, func(string) string { return "" }, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
			t.Fatalf("got %d, stderr %q; want 0 and the usage on stdout", code, stderr.String())
		}
		for _, want := range []string{"-max-body size", "(default 1MiB)", "(default 64KiB)", "(default 12MiB)"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("-help does not show %q:\n%s", want, stdout.String())
			}
		}
	})
}

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // expected in stdout+stderr
	}{
		{"version", []string{"-version"}, 0, "mockserver dev"},
		{"help", []string{"-help"}, 0, "Usage: mockserver"},
		{"unknown flag", []string{"-bogus"}, 2, "unknown flag -bogus"},
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

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds mockserver once for the tests that run the real thing.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mockserver-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mockserver")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// start runs the binary and returns it with the address it listens on
// and the messages of its log lines from then on.
func start(t *testing.T, args ...string) (*exec.Cmd, string, <-chan string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"-addr", "127.0.0.1:0", "-log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
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
	msgs := make(chan string, 1024)
	go func() {
		defer close(msgs)
		for lines.Scan() {
			var entry struct{ Msg string }
			if json.Unmarshal(lines.Bytes(), &entry) == nil {
				select {
				case msgs <- entry.Msg:
				default: // nobody reads: drop rather than block the binary
				}
			}
		}
	}()
	return cmd, addr, msgs
}

// waitLog waits for a log line with the given message.
func waitLog(t *testing.T, msgs <-chan string, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("the log ended without %q", want)
			}
			if m == want {
				return
			}
		case <-timeout:
			t.Fatalf("no log line %q", want)
		}
	}
}

func wait(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("still running %s after SIGTERM", within)
		return nil
	}
}

// The real binary: it starts, answers, and exits 0 on SIGTERM.
func TestBinarySignals(t *testing.T) {
	cmd, addr, _ := start(t)
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
	if err := wait(t, cmd, 10*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}

// SIGTERM under load: requests in flight finish with their answer, new
// connections are refused, and the process exits 0.
func TestSIGTERMFinishesRequestsInFlight(t *testing.T) {
	cmd, addr, msgs := start(t, "-shutdown-timeout", "10s")
	const inflight = 16
	// Each request takes one of these when its answer is chosen: once none
	// is left, all 16 are waiting out the scenario's 2 s.
	activate, err := http.Post("http://"+addr+"/__mock/scenarios/slow/activate", "application/json", strings.NewReader(fmt.Sprintf(`{"times":%d}`, inflight)))
	if err != nil {
		t.Fatal(err)
	}
	activate.Body.Close()
	results := make(chan error, inflight)
	for range inflight {
		go func() {
			req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/v1/token/request", strings.NewReader(`{"Authentication":{"SecurityToken":"t"}}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err == nil && (resp.StatusCode != 200 || resp.Header.Get("X-Mock-Scenario-Applied") != "slow" || !strings.Contains(string(body), `"SecurityToken":"t"`)) {
				err = fmt.Errorf("got %d %s %s", resp.StatusCode, resp.Header.Get("X-Mock-Scenario-Applied"), body)
			}
			results <- err
		}()
	}
	for {
		resp, err := http.Get("http://" + addr + "/__mock/scenarios/active")
		if err != nil {
			t.Fatal(err)
		}
		var active struct{ Active []any }
		err = json.NewDecoder(resp.Body).Decode(&active)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(active.Active) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog(t, msgs, "stopped accepting connections; finishing the requests in flight")
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("a new connection was accepted after SIGTERM")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("new connection: %v, want connection refused", err)
	}
	for range inflight {
		if err := <-results; err != nil {
			t.Errorf("request in flight: %v", err)
		}
	}
	if err := wait(t, cmd, 15*time.Second); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// Configuration mistakes: exit status 2, one message per mistake naming
// the file and the place.
func TestConfigMistakesExit2(t *testing.T) {
	copyFixtures := func(t *testing.T, file, content string) string {
		dir := t.TempDir()
		entries, _ := fixtures.FS.ReadDir(".")
		for _, e := range entries {
			if b, err := fixtures.FS.ReadFile(e.Name()); err == nil && filepath.Ext(e.Name()) == ".yaml" {
				_ = os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
			}
		}
		_ = os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644)
		return dir
	}
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"scenario with an unknown field", "scenarios.yaml", "scenarios:\n  x:\n    description: d\n    falt: reset\n",
			[]string{"scenarios.yaml: line 4: scenarios.x: unknown field falt (known: description, answer, delay, fault"}},
		{"scenario with an unknown fault", "scenarios.yaml", "scenarios:\n  x:\n    description: d\n    fault: explode\n",
			[]string{"scenarios.yaml: scenarios.x: fault: unknown fault \"explode\""}},
		{"two mistakes, two messages", "scenarios.yaml", "scenarios:\n  x: {description: d, fault: explode}\n  y: {description: d, delay: soon}\n",
			[]string{"scenarios.x: fault", "scenarios.y: delay"}},
		{"fixture that breaks the spec", "RenewLoginToken.yaml", "answers:\n  default:\n    status: 200\n    body:\n      application/json: '{\"token\":7,\"error\":{}}'\n",
			[]string{"RenewLoginToken.yaml: answers.default.body.application/json does not match the spec", "/token: value must be a string"}},
		{"fixture YAML that does not parse", "RenewLoginToken.yaml", "answers: [\n",
			[]string{"RenewLoginToken.yaml", "line"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixtures(t, tc.file, tc.content)
			var out bytes.Buffer
			code := run([]string{"-fixtures", dir}, func(string) string { return "" }, &out, &out)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q\ndoes not mention %q", out.String(), w)
				}
			}
		})
	}
}
