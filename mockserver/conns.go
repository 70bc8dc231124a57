package mockserver

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// connLimiter is the server's listener: it keeps at most max connections
// open. When a new one comes at the limit, the one idle the longest (a
// keep-alive connection between requests, or one that has sent nothing
// for newGrace) is closed to make room; when none is idle, the new one
// waits until a connection closes. A client holding thousands of idle
// connections thus cannot lock others out, nor run the process out of
// file descriptors.
type connLimiter struct {
	net.Listener
	max int
	log *slog.Logger

	mu       sync.Mutex
	freed    *sync.Cond
	conns    map[*conn]struct{}
	closed   bool
	warned   time.Time
	evicted  uint64
	accepted uint64
}

// newGrace is how long a new connection may stay silent before it counts
// as idle: long enough for a client to send the request it opened it for.
const newGrace = time.Second

func newConnLimiter(ln net.Listener, max int, log *slog.Logger) *connLimiter {
	l := &connLimiter{Listener: ln, max: max, log: log, conns: make(map[*conn]struct{})}
	l.freed = sync.NewCond(&l.mu)
	return l
}

// Accept returns the next connection, making room for it first.
func (l *connLimiter) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.conns) >= l.max && !l.closed {
		if victim := l.idlest(time.Now()); victim != nil {
			delete(l.conns, victim)
			l.evicted++
			l.warn("the connection limit is reached: closing the connection idle the longest")
			// Its goroutine in net/http sees the read fail and ends.
			_ = victim.Conn.Close()
			continue
		}
		l.warn("the connection limit is reached and no connection is idle: new connections wait")
		l.freed.Wait()
	}
	if l.closed {
		_ = nc.Close()
		return nil, net.ErrClosed
	}
	c := &conn{Conn: nc, l: l, state: http.StateNew, since: time.Now()}
	c.sniffing.Store(true)
	l.conns[c] = struct{}{}
	l.accepted++
	return c, nil
}

// warn logs at most once every 10 s; l.mu is held.
func (l *connLimiter) warn(msg string) {
	if time.Since(l.warned) < 10*time.Second {
		return
	}
	l.warned = time.Now()
	l.log.Warn(msg, "maxConns", l.max, "open", len(l.conns), "closedIdle", l.evicted)
}

// idlest returns the connection idle the longest, or nil; l.mu is held.
func (l *connLimiter) idlest(now time.Time) *conn {
	var best *conn
	for c := range l.conns {
		idle := c.state == http.StateIdle || (c.state == http.StateNew && now.Sub(c.since) >= newGrace)
		if idle && (best == nil || c.since.Before(best.since)) {
			best = c
		}
	}
	return best
}

// Close stops accepting; a connection waiting for room is closed.
func (l *connLimiter) Close() error {
	l.mu.Lock()
	l.closed = true
	l.freed.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// track follows each connection's state (http.Server.ConnState).
func (l *connLimiter) track(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	if st == http.StateIdle {
		// The next bytes are the next request's: read its header.
		c.framing.Store(0)
		c.sniffing.Store(true)
	}
	l.mu.Lock()
	c.state, c.since = st, time.Now()
	l.mu.Unlock()
	if st == http.StateClosed {
		l.remove(c)
	}
}

func (l *connLimiter) remove(c *conn) {
	l.mu.Lock()
	if _, ok := l.conns[c]; ok {
		delete(l.conns, c)
		l.freed.Signal()
	}
	l.mu.Unlock()
}

// open is the number of connections open.
func (l *connLimiter) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// conn is a connection of a connLimiter. It also notes, from the bytes of
// each request's header block, whether the request carries both a
// Content-Length and a Transfer-Encoding: net/http drops the
// Content-Length before the handler sees the request, and RFC 9112 asks
// a server to close such a connection (see framingProblem).
type conn struct {
	net.Conn
	l         *connLimiter
	state     http.ConnState // guarded by l.mu
	since     time.Time      // guarded by l.mu
	closeOnce sync.Once

	sniffing atomic.Bool   // in a request's header block
	framing  atomic.Uint32 // framingCL | framingTE seen in the last header block
	line     [20]byte      // the start of the current header line, lower-cased
	lineLen  int
	lastCR   bool
	lines    int
}

const (
	framingCL = 1 << iota
	framingTE
)

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.sniffing.Load() {
		c.sniff(p[:n])
	}
	return n, err
}

// sniff reads header lines until the blank line that ends the block.
func (c *conn) sniff(p []byte) {
	for i, b := range p {
		if b != '\n' {
			if c.lineLen < len(c.line) {
				if b >= 'A' && b <= 'Z' {
					b += 'a' - 'A'
				}
				c.line[c.lineLen] = b
			}
			c.lineLen++
			c.lastCR = p[i] == '\r'
			continue
		}
		n := c.lineLen
		if c.lastCR {
			n--
		}
		c.lineLen, c.lastCR = 0, false
		if n == 0 {
			if c.lines > 0 { // the blank line after the headers
				c.lines = 0
				c.sniffing.Store(false)
				return
			}
			continue // blank lines before a request line are allowed
		}
		c.lines++
		line := string(c.line[:min(n, len(c.line))])
		switch {
		case strings.HasPrefix(line, "content-length:"):
			c.framing.Or(framingCL)
		case strings.HasPrefix(line, "transfer-encoding:"):
			c.framing.Or(framingTE)
		}
	}
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.l.remove(c) })
	return err
}

type connKey struct{}

// connContext puts the connection in each request's context, for
// limitHeaders.
func connContext(ctx context.Context, nc net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, nc)
}

// bothLengths reports whether the request's header block carried both a
// Content-Length and a Transfer-Encoding.
func bothLengths(req *http.Request) bool {
	c, ok := req.Context().Value(connKey{}).(*conn)
	return ok && c.framing.Load() == framingCL|framingTE
}

// SetLinger passes through to a TCP connection, for the reset fault.
func (c *conn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.SetLinger(sec)
	}
	return nil
}
