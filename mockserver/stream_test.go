package mockserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

// event is one Server-Sent Event.
type event struct{ id, name, data string }

// readEvents parses a stream into events, until it ends.
func readEvents(r io.Reader, out chan<- event) {
	defer close(out)
	sc := bufio.NewScanner(r)
	var e event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if e.name != "" || e.data != "" {
				out <- e
			}
			e = event{}
		case strings.HasPrefix(line, "id: "):
			e.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.data = line[6:]
		}
	}
}

type stream struct {
	events chan event
	cancel context.CancelFunc
}

// openStream opens GET /__mock/requests/stream with the query and headers.
func openStream(t *testing.T, base string, query string, h map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__mock/requests/stream"+query, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("stream: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	st := &stream{events: make(chan event, 10000), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		readEvents(resp.Body, st.events)
	}()
	t.Cleanup(cancel)
	return st
}

// next returns the next event, failing after 10 s.
func (st *stream) next(t *testing.T) event {
	t.Helper()
	select {
	case e, ok := <-st.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return event{}
}

// entries reads request events until n have come, and returns their IDs.
func (st *stream) entries(t *testing.T, n int) []uint64 {
	t.Helper()
	var ids []uint64
	for len(ids) < n {
		e := st.next(t)
		if e.name != "request" {
			t.Fatalf("got a %s event %s, want request events", e.name, e.data)
		}
		var se struct{ ID uint64 }
		if err := json.Unmarshal([]byte(e.data), &se); err != nil || strconv.FormatUint(se.ID, 10) != e.id {
			t.Fatalf("event id %s, data %s", e.id, e.data)
		}
		ids = append(ids, se.ID)
	}
	return ids
}

func sendValid(t *testing.T, ts *httptest.Server, n int) {
	t.Helper()
	for range n {
		if got := do(t, ts, validate(seedValidateJSON, ctJSON)); got.status != 200 {
			t.Fatalf("got %d", got.status)
		}
	}
}

// A client that reconnects with Last-Event-ID gets exactly the entries
// after it: none lost, none twice.
func TestStreamResumesWithLastEventID(t *testing.T) {
	_, ts := newServer(t)
	sendValid(t, ts, 3)
	st := openStream(t, ts.URL, "", nil)
	if got := st.entries(t, 3); got[0] != 1 || got[2] != 3 {
		t.Fatalf("backlog %v, want 1 2 3", got)
	}
	sendValid(t, ts, 1)
	if got := st.entries(t, 1); got[0] != 4 {
		t.Fatalf("live %v, want 4", got)
	}
	st.cancel()
	sendValid(t, ts, 2) // while disconnected
	st = openStream(t, ts.URL, "", map[string]string{"Last-Event-ID": "4"})
	sendValid(t, ts, 1)
	if got := st.entries(t, 3); got[0] != 5 || got[1] != 6 || got[2] != 7 {
		t.Errorf("after reconnecting: %v, want 5 6 7", got)
	}
	// The same with the query parameter, for clients that cannot set the
	// header.
	st = openStream(t, ts.URL, "?lastEventId=6", nil)
	if got := st.entries(t, 1); got[0] != 7 {
		t.Errorf("lastEventId=6: %v, want 7", got)
	}
}

func TestStreamFilters(t *testing.T) {
	_, ts := newServer(t)
	do(t, ts, validate(`{"Authentication": null}`, ctJSON)) // 1: 400
	sendValid(t, ts, 1)                                     // 2: 200
	do(t, ts, renew(seedRenewJSON, nil))                    // 3: 200
	tests := []struct {
		query string
		want  uint64
	}{
		{"?status=4xx", 1},
		{"?status=400", 1},
		{"?validation=rejected", 1},
		{"?operation=RenewLoginToken", 3},
		{"?operation=ValidateToken&status=200", 2},
		{"?scenario=none&status=2xx&backlog=1", 3},
	}
	for _, tc := range tests {
		st := openStream(t, ts.URL, tc.query, nil)
		if got := st.entries(t, 1); got[0] != tc.want {
			t.Errorf("%s: first entry %d, want %d", tc.query, got[0], tc.want)
		}
		st.cancel()
	}
	for _, q := range []string{"?colour=red", "?status=4x", "?validation=fine", "?operation=Nope", "?backlog=-1"} {
		got := do(t, ts, request{http.MethodGet, "/__mock/requests/stream" + q, "", nil})
		if got.status != 400 || !strings.Contains(got.body, strings.SplitN(q[1:], "=", 2)[0]) {
			t.Errorf("%s: got %d %s, want a 400 naming the parameter", q, got.status, got.body)
		}
	}
}

// blockedWriter is a client that accepts nothing until it is released: a
// browser tab that stopped reading.
type blockedWriter struct {
	header  http.Header
	release chan struct{}
	mu      sync.Mutex
	buf     strings.Builder
	wrote   chan struct{} // the first write is blocked
	once    sync.Once
}

func newBlockedWriter() *blockedWriter {
	return &blockedWriter{header: http.Header{}, release: make(chan struct{}), wrote: make(chan struct{})}
}

func (w *blockedWriter) Header() http.Header { return w.header }
func (w *blockedWriter) WriteHeader(int)     {}
func (w *blockedWriter) Flush()              {}
func (w *blockedWriter) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "event: request") {
		w.once.Do(func() { close(w.wrote) })
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// A client that stops reading blocks neither the server nor its memory:
// requests go on being answered, and once the client reads again it gets
// every entry the journal still holds, told exactly how many it missed.
func TestStreamSlowClientMissesAndIsTold(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.JournalSize = 50
	s, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	serve := func() {
		req := httptest.NewRequest(http.MethodPut, validatePath, strings.NewReader(seedValidateJSON))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("got %d", rec.Code)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newBlockedWriter()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/__mock/requests/stream", nil)
		h.ServeHTTP(w, req)
	}()
	waitFor(t, "the stream to watch the journal", func() bool { return s.Journal().Watchers() == 1 })
	serve() // the stream takes it, and blocks writing it
	<-w.wrote

	const total = 20000
	var before, after runtime.MemStats
	for i := range total - 1 {
		if i == 2000 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		serve()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 2<<20 {
		t.Errorf("the heap grew %d bytes over 18000 requests with a stream blocked", grew)
	}
	close(w.release)
	var got []uint64
	missed := 0
	waitFor(t, "the stream to catch up", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return strings.Contains(w.buf.String(), "id: "+strconv.Itoa(total)+"\n")
	})
	cancel()
	<-done
	events := make(chan event, total)
	readEvents(strings.NewReader(w.buf.String()), events)
	for e := range events {
		switch e.name {
		case "request":
			id, _ := strconv.ParseUint(e.id, 10, 64)
			if len(got) > 0 && id <= got[len(got)-1] {
				t.Fatalf("entry %d after %d", id, got[len(got)-1])
			}
			got = append(got, id)
		case "missed":
			var m struct {
				Missed int
				Exact  bool
			}
			_ = json.Unmarshal([]byte(e.data), &m)
			if !m.Exact {
				t.Errorf("missed %s, want exact", e.data)
			}
			missed += m.Missed
		}
	}
	if len(got)+missed != total || missed < total-2*cfg.JournalSize-64 {
		t.Errorf("%d entries and %d missed, want %d in all, most of them missed", len(got), missed, total)
	}
	if s.Journal().Watchers() != 0 {
		t.Errorf("%d watchers after the stream ended", s.Journal().Watchers())
	}
}

// Nobody watching, nothing to do: a stream that ends leaves no watcher
// behind, and the server shuts down with a stream open.
func TestStreamEndsCleanly(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := mockserver.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr()
	st := openStream(t, base, "", nil)
	waitFor(t, "a watcher", func() bool { return s.Journal().Watchers() == 1 })
	st.cancel()
	waitFor(t, "the watcher to go with its client", func() bool { return s.Journal().Watchers() == 0 })

	openStream(t, base, "", nil)
	waitFor(t, "a watcher", func() bool { return s.Journal().Watchers() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close with a stream open: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s with a stream open", d)
	}
	if s.Journal().Watchers() != 0 {
		t.Errorf("%d watchers after Close", s.Journal().Watchers())
	}
}

func TestStreamsAreBounded(t *testing.T) {
	_, ts := newServer(t)
	for range 16 {
		openStream(t, ts.URL, "", nil)
	}
	got := do(t, ts, request{http.MethodGet, "/__mock/requests/stream", "", nil})
	if got.status != 503 || got.header.Get("Retry-After") == "" {
		t.Errorf("the 17th stream: got %d %s, want 503 with Retry-After", got.status, got.body)
	}
}

// The journal being emptied is told to the stream.
func TestStreamTellsOfClear(t *testing.T) {
	_, ts := newServer(t)
	sendValid(t, ts, 1)
	st := openStream(t, ts.URL, "", nil)
	st.entries(t, 1)
	do(t, ts, request{http.MethodDelete, "/__mock/requests", "", nil})
	if e := st.next(t); e.name != "cleared" {
		t.Errorf("got %s, want cleared", e.name)
	}
	sendValid(t, ts, 1)
	if got := st.entries(t, 1); got[0] != 2 {
		t.Errorf("after clear: %v, want 2", got)
	}
}
