package mockserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/problem"
)

// The journal's live stream, GET /__mock/requests/stream: Server-Sent
// Events, one "request" event per journal entry (its ID as the event's id),
// a "missed" event where entries went by that the client could not be
// sent, a "cleared" event when the journal is emptied. It follows the
// journal (journal.Watcher): a reconnection with Last-Event-ID gets every
// entry after that ID that the journal still holds, and a client slower
// than the requests is told how many it missed rather than slowing
// anything down or making anything grow.
const (
	// maxStreams bounds the streams open at once (a browser tab is one).
	maxStreams = 16
	// streamBatch is the most entries written between two flushes.
	streamBatch = 64
	// defaultBacklog is how many past entries a new stream starts with.
	defaultBacklog = 100
	// streamWriteTimeout is how long a client may take to accept one
	// batch before its stream is closed (it reconnects, resuming after
	// the last ID it got).
	streamWriteTimeout = 10 * time.Second
	// streamHeartbeat keeps an idle stream alive through proxies and
	// shows a closed client within this time.
	streamHeartbeat = 15 * time.Second
	// streamCoalesce gathers the entries of a busy moment into one write:
	// a stream costs a few flushes a second, not one per request.
	streamCoalesce = 25 * time.Millisecond
)

// streamParams are the query parameters of the stream: the journal's
// filters it takes, and its own.
var streamParams = []string{"operation", "status", "validation", "scenario", "backlog", "lastEventId"}

// streamEntry is what a "request" event says of an entry: enough for a
// row of the page. The whole entry, bodies included, is at
// GET /__mock/requests and, for the page, /__mock/ui/requests/{id}.
type streamEntry struct {
	ID         uint64    `json:"id"`
	Time       time.Time `json:"time"`
	Operation  string    `json:"operation,omitempty"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	Validation string    `json:"validation"`
	Violations int       `json:"violations,omitempty"`
	Scenario   string    `json:"scenario,omitempty"`
	Rule       string    `json:"rule,omitempty"`
	Step       uint64    `json:"step,omitempty"`
	Fault      string    `json:"fault,omitempty"`
	Lifecycle  string    `json:"lifecycle,omitempty"`
	Upstream   bool      `json:"upstream,omitempty"`
	DurationMS float64   `json:"durationMs"`
}

func (s *Server) streamRequests(c echo.Context) error {
	f, p := s.journalFilter(c, streamParams)
	if p != nil {
		return adminProblem(c, p)
	}
	req := c.Request()
	// Last-Event-ID is what EventSource sends when it reconnects;
	// lastEventId is the same for clients that cannot set a header.
	last := req.Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("lastEventId")
	}
	var after uint64
	if last != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(last), 10, 64)
		if err != nil {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "Last-Event-ID %q: want the id of an event of this stream", last))
		}
		after = n
	} else {
		backlog := defaultBacklog
		if v := c.QueryParam("backlog"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > max(s.journal.Size(), defaultBacklog) {
				return adminProblem(c, problem.Newf(http.StatusBadRequest, "backlog %q: want a number of past requests from 0 to %d", v, max(s.journal.Size(), defaultBacklog)))
			}
			backlog = n
		}
		after = s.journal.Tail(backlog, f.Match)
	}
	if s.dash.streams.Add(1) > maxStreams {
		s.dash.streams.Add(-1)
		c.Response().Header().Set("Retry-After", "10")
		return adminProblem(c, problem.Newf(http.StatusServiceUnavailable, "%d streams are open, the most there can be; close a dashboard tab", maxStreams))
	}
	defer s.dash.streams.Add(-1)

	w := s.journal.Watch(after, f.Match)
	defer w.Close()
	// The stream ends with the client, and at once when the server shuts
	// down: a stream never becomes idle, so Shutdown would wait for it.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()

	res := c.Response()
	h := res.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	res.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(res)
	bw := bufio.NewWriterSize(res, 16<<10)
	_, _ = bw.WriteString("retry: 2000\n\n")
	send := func() bool {
		// Each batch gets its own deadline: the server's write timeout is
		// for answers, and a stream lasts as long as the page is open.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		return bw.Flush() == nil && rc.Flush() == nil
	}
	if !send() {
		return nil
	}
	// One encoder, one timer and one batch for the stream's life: what a
	// stream allocates per entry is its JSON.
	enc := json.NewEncoder(bw)
	var num []byte
	timer := time.NewTimer(streamHeartbeat)
	defer timer.Stop()
	for {
		b, more := w.Read(streamBatch)
		if b.Empty() && !more {
			timer.Reset(streamHeartbeat)
			select {
			case <-w.Ready():
				continue
			case <-timer.C:
				_, _ = bw.WriteString(": keep-alive\n\n")
			case <-ctx.Done():
				return nil
			}
		}
		if b.Cleared {
			_, _ = bw.WriteString("event: cleared\ndata: {}\n\n")
		}
		if b.Missed > 0 {
			fmt.Fprintf(bw, "event: missed\ndata: {\"missed\":%d,\"exact\":%t}\n\n", b.Missed, !b.MissedInexact)
		}
		for i := range b.Entries {
			e := &b.Entries[i]
			num = strconv.AppendUint(num[:0], e.ID, 10)
			_, _ = bw.WriteString("id: ")
			_, _ = bw.Write(num)
			_, _ = bw.WriteString("\nevent: request\ndata: ")
			// Encode ends the JSON with a newline: the data line's own.
			_ = enc.Encode(streamEntry{
				ID: e.ID, Time: e.Time, Operation: e.Operation, Method: e.Method, Path: e.Path, Status: e.Status,
				Validation: e.Validation, Violations: len(e.Violations), Scenario: e.Scenario, Rule: e.Rule,
				Step: e.Step, Fault: e.Fault, Lifecycle: e.Lifecycle, Upstream: e.Upstream, DurationMS: e.DurationMS,
			})
			_ = bw.WriteByte('\n')
		}
		if !send() {
			return nil // the client is gone, or too slow: it reconnects
		}
		if len(b.Entries) < streamBatch && !more {
			timer.Reset(streamCoalesce)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
