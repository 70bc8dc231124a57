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
			body := []byte(c.body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(c.method, c.path, bytes.NewReader(body))
				req.Header.Set("Content-Type", c.ctype)
				req.Header.Set("Authtoken", "QSDK 3f9a1c47e2b85d60")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != c.want {
					b.Fatalf("got %d %s, want %d", rec.Code, rec.Body, c.want)
				}
			}
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
				body := []byte(c.body)
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPut, validatePath, bytes.NewReader(body))
					req.Header.Set("Content-Type", c.ctype)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("got %d %s", rec.Code, rec.Body)
					}
				}
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
				body := []byte(c.body)
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(c.method, c.path, bytes.NewReader(body))
					req.Header.Set("Content-Type", c.ctype)
					req.Header.Set("Authtoken", "QSDK 3f9a1c47e2b85d60")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("got %d %s", rec.Code, rec.Body)
					}
				}
			})
		}
		ts.CloseClientConnections()
		ts.Close()
	}
}
