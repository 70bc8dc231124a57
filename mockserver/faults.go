package mockserver

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/scenario"
)

// fault carries out a scenario's network fault on the request's
// connection, and returns the status the client saw (0 for none).
//
//	reset      TCP RST: the client sees "connection reset by peer"
//	empty      the connection closes with nothing written: EOF
//	timeout    nothing until the client gives up or -timeout-max passes, then close
//	malformed  the answer with half its body: it does not parse
//	truncated  Content-Length of the whole body, half of it sent, then close
//	slow-body  the answer dribbled over the scenario's duration
func (s *Server) fault(c echo.Context, sc *scenario.Scenario, status int, ctype string, body []byte) int {
	ctx := c.Request().Context()
	switch sc.Fault {
	case "reset", "empty":
		s.closeConn(c, sc.Fault == "reset")
		return 0
	case "timeout":
		// Until the client gives up, -timeout-max passes, or the server
		// shuts down: a timeout has no answer to finish.
		t := time.NewTimer(s.cfg.TimeoutMax)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-s.stopping.Done():
		}
		t.Stop()
		s.closeConn(c, false)
		return 0
	case "malformed":
		_ = c.Blob(status, ctype, body[:len(body)/2])
		return status
	case "truncated":
		conn, rw, err := c.Response().Hijack()
		if err != nil {
			return 0
		}
		defer conn.Close()
		writeHead(rw.Writer, status, c.Response().Header(), ctype, len(body))
		_, _ = rw.Write(body[:len(body)/2])
		_ = rw.Flush()
		return status
	case "slow-body":
		w := c.Response()
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Flush()
		if len(body) == 0 {
			return status
		}
		const pieces = 10
		step := max(1, (len(body)+pieces-1)/pieces)
		pause := sc.Duration / time.Duration((len(body)+step-1)/step)
		for i := 0; i < len(body); i += step {
			if !s.sleep(ctx, pause) {
				return status
			}
			_, _ = w.Write(body[i:min(i+step, len(body))])
			w.Flush()
		}
		return status
	}
	return 0
}

// closeConn closes the request's connection without an answer; with rst,
// SO_LINGER 0 makes the close a TCP reset instead of a FIN.
func (s *Server) closeConn(c echo.Context, rst bool) {
	conn, _, err := c.Response().Hijack()
	if err != nil {
		s.log.Warn("fault: cannot take over the connection", "err", err)
		return
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeHead writes an HTTP/1.1 status line and headers by hand, for the
// faults that must lie about the body.
func writeHead(w *bufio.Writer, status int, h http.Header, ctype string, length int) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h = h.Clone()
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	h.Set("Content-Length", strconv.Itoa(length))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = h.Write(w)
	_, _ = w.WriteString("\r\n")
}
