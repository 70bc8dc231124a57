package mockserver_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

// BenchmarkServe measures the whole hot path of one validated request, as
// the server runs by default: routing, validation, scenario choice,
// answer rendering, one log line and one journal entry.
func BenchmarkServe(b *testing.B) {
	s, err := mockserver.New(mockserver.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	cases := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"RenewLoginToken-JSON", http.MethodPost, renewPath, "application/json", seedRenewJSON, 200},
		{"ValidateToken-JSON", http.MethodPut, validatePath, "application/json", seedValidateJSON, 200},
		{"ValidateToken-XML", http.MethodPut, validatePath, "application/xml", seedValidateXML, 200},
		{"ValidateToken-XML-invalid", http.MethodPut, validatePath, "application/xml", `<TokenRequest xmlns="` + nsToken + `"><Authentication/></TokenRequest>`, 400},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			serveLoop(b, h, c.method, c.path, withAuthtoken(c.ctype), c.body, c.want)
		})
	}
}

// BenchmarkServeLifecycle is ValidateToken's hot path with the token
// lifecycle off and in adopt mode (a touch of a known token per request):
// the lifecycle's cost is the ratio of the two.
func BenchmarkServeLifecycle(b *testing.B) {
	for _, mode := range []string{"off", "adopt"} {
		cfg := mockserver.DefaultConfig()
		cfg.Lifecycle = mode
		s, err := mockserver.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		h := s.Handler()
		for _, c := range []struct{ name, ctype, body string }{
			{"JSON", "application/json", seedValidateJSON},
			{"XML", "application/xml", seedValidateXML},
		} {
			b.Run(mode+"/"+c.name, func(b *testing.B) {
				serveLoop(b, h, http.MethodPut, validatePath, map[string]string{"Content-Type": c.ctype}, c.body, 200)
			})
		}
	}
}

// BenchmarkServeStream is BenchmarkServe's hot path with nobody watching
// the journal's live stream, then with one stream open (a real
// Server-Sent Events connection, read as fast as it comes): the stream's
// cost to the hot path is the ratio of the two, measured in the same run.
func BenchmarkServeStream(b *testing.B) {
	cases := []struct{ name, method, path, ctype, body string }{
		{"RenewLoginToken-JSON", http.MethodPost, renewPath, "application/json", seedRenewJSON},
		{"ValidateToken-XML", http.MethodPut, validatePath, "application/xml", seedValidateXML},
	}
	for _, streams := range []int{0, 1} {
		s, err := mockserver.New(mockserver.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		h := s.Handler()
		ts := httptest.NewServer(h)
		if streams == 1 {
			resp, err := http.Get(ts.URL + "/__mock/requests/stream?backlog=0")
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("open the stream: %v", err)
			}
			go func() { _, _ = io.Copy(io.Discard, resp.Body) }()
			for s.Journal().Watchers() != 1 {
				time.Sleep(time.Millisecond)
			}
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("streams=%d/%s", streams, c.name), func(b *testing.B) {
				serveLoop(b, h, c.method, c.path, withAuthtoken(c.ctype), c.body, 200)
			})
		}
		ts.CloseClientConnections()
		ts.Close()
	}
}

// withAuthtoken is the header of a benchmark request: its Content-Type and
// an Authtoken, which RenewLoginToken asks for.
func withAuthtoken(ctype string) map[string]string {
	return map[string]string{"Content-Type": ctype, "Authtoken": "QSDK 3f9a1c47e2b85d60"}
}

// serveLoop sends the same request through h once per iteration, checking
// its status: the loop of every handler benchmark.
func serveLoop(b *testing.B, h http.Handler, method, path string, header map[string]string, body string, want int) {
	b.Helper()
	data := []byte(body)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(method, path, bytes.NewReader(data))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("got %d %s, want %d", rec.Code, rec.Body, want)
		}
	}
}
