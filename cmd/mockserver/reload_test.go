package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyFixtures copies the shipped fixture directory into a temporary one.
func copyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("../../fixtures")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".yaml" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("../../fixtures", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rateLimitedBody is the body of the rate-limited answer, which the test
// edits.
func rateLimitedBody(t *testing.T, addr string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/v1/token/request", strings.NewReader(`{"Authentication":{"AccountId":"1042","SecurityToken":"6f1c2a9e"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Scenario", "rate-limited")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// eventually polls f until it is true or d has passed: it waits for the
// event, not for a fixed time.
func eventually(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return f()
}

func reloadStatus(t *testing.T, addr, method string) (int, []string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+"/__mock/reload", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct{ Errors []string }
	_ = json.NewDecoder(res.Body).Decode(&st)
	return res.StatusCode, st.Errors
}

// Hot reload: an edited fixture is served within a second; a broken one
// keeps the previous fixtures in force and says why; SIGHUP and the admin
// API reload too.
func TestReload(t *testing.T) {
	dir := copyFixtures(t)
	file := filepath.Join(dir, "ValidateToken.yaml")
	orig, _ := os.ReadFile(file)
	_, addr, _ := start(t, "-fixtures", dir)
	if got := rateLimitedBody(t, addr); !strings.Contains(got, "rate limit exceeded") {
		t.Fatalf("before the edit: %s", got)
	}

	edited := strings.ReplaceAll(string(orig), "rate limit exceeded; retry after 1 second", "slow down, edited")
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if !eventually(3*time.Second, func() bool { return strings.Contains(rateLimitedBody(t, addr), "slow down, edited") }) {
		t.Fatal("the edited fixture was not served within 3 s")
	}

	broken := strings.Replace(edited, "status: 429", "status: fourtwentynine", 1)
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	var errs []string
	if !eventually(3*time.Second, func() bool { _, errs = reloadStatus(t, addr, http.MethodGet); return len(errs) > 0 }) {
		t.Fatal("GET /__mock/reload shows no error for a broken fixture")
	}
	if !strings.Contains(strings.Join(errs, "\n"), "ValidateToken.yaml") {
		t.Errorf("the reload error does not name the file: %v", errs)
	}
	if got := rateLimitedBody(t, addr); !strings.Contains(got, "slow down, edited") {
		t.Errorf("after a broken edit the previous fixtures must be served; got %s", got)
	}
	if st, _ := reloadStatus(t, addr, http.MethodPost); st != http.StatusUnprocessableEntity {
		t.Errorf("POST /__mock/reload on broken fixtures: %d, want 422", st)
	}

	// Repaired: served again, and the error is gone.
	if err := os.WriteFile(file, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if !eventually(3*time.Second, func() bool { return strings.Contains(rateLimitedBody(t, addr), "rate limit exceeded") }) {
		t.Fatal("the repaired fixture was not served")
	}
	if _, errs := reloadStatus(t, addr, http.MethodGet); len(errs) != 0 {
		t.Errorf("errors remain after a good reload: %v", errs)
	}
}

// SIGHUP reloads when the watcher is off.
func TestSIGHUPReloads(t *testing.T) {
	dir := copyFixtures(t)
	file := filepath.Join(dir, "ValidateToken.yaml")
	orig, _ := os.ReadFile(file)
	cmd, addr, _ := start(t, "-fixtures", dir, "-watch=false")
	edited := strings.ReplaceAll(string(orig), "rate limit exceeded; retry after 1 second", "edited for SIGHUP")
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := rateLimitedBody(t, addr); strings.Contains(got, "edited for SIGHUP") {
		t.Fatal("reloaded with -watch=false before SIGHUP")
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !eventually(3*time.Second, func() bool { return strings.Contains(rateLimitedBody(t, addr), "edited for SIGHUP") }) {
		t.Fatal("SIGHUP did not reload")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, cmd, 10*time.Second); err != nil {
		t.Errorf("exit after SIGHUP then SIGTERM: %v", err)
	}
}
