package mockserver_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

// JSON log lines give durations a person and a log pipeline can read:
// duration_ms as a number on request lines, Go's form ("10s") elsewhere,
// never a count of nanoseconds.
func TestJSONLogDurations(t *testing.T) {
	var buf bytes.Buffer
	log := mockserver.NewLogger("json", &buf)
	s, err := mockserver.New(mockserver.DefaultConfig(), log)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("PUT", validatePath, strings.NewReader(seedValidateJSON)))
	log.Info("shutting down", "timeout", 10*time.Second)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), buf.String())
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &req); err != nil {
		t.Fatal(err)
	}
	if ms, ok := req["duration_ms"].(float64); !ok || ms <= 0 || ms > 10_000 {
		t.Errorf("request line: duration_ms = %v, want a number of milliseconds: %s", req["duration_ms"], lines[0])
	}
	if _, ok := req["duration"]; ok {
		t.Errorf("request line still has duration (nanoseconds): %s", lines[0])
	}
	if !strings.Contains(lines[1], `"timeout":"10s"`) {
		t.Errorf("got %s, want the timeout as \"10s\"", lines[1])
	}
}
