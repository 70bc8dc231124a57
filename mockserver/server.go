// Package mockserver is the HTTP side of tokenmock: an Echo server that
// routes every request of openapi.yaml through the contract, rejects the
// ones that break it, and answers the others from fixtures. It is the only
// package that knows Echo; the contract, XML mapping, fixtures, scenarios,
// token lifecycle and journal live under internal/, out of users' reach:
// Server, Config and package tokenmocktest are the public surface.
package mockserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/clock"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/lifecycle"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/scenario"
	"github.com/tokenmock/tokenmock/internal/upstream"
)

// Server serves the contract. Build it with New, then either mount Handler
// (tests; package tokenmocktest does it for users' tests) or Open a
// listener; Close shuts it down gracefully and ends every fault and delay
// however the server was started.
//
// Where things live: the loaded world (spec, fixtures, scenarios, token
// realms) is immutable and swapped whole by Reload; what changes while
// the server runs is the scenario engine's activations, the token store,
// the journal and the clock, each one per server. Nothing is shared with
// another Server in the same process.
type Server struct {
	cfg     Config
	log     *slog.Logger
	clock   *clock.Clock
	world   atomic.Pointer[world]
	engine  *scenario.Engine
	gate    *lifecycle.Gate
	journal *journal.Journal
	reloads reloadState
	src     Source
	// The validating proxy, when -upstream is set.
	upstream *upstream.Client
	report   *upstream.Report
	recorder *upstream.Recorder
	dash     dashState // the page at /__mock/ui and its live stream

	echo  *echo.Echo
	http  *http.Server
	ln    net.Listener
	conns *connLimiter
	done  chan error
	// stopping ends when shutdown begins: timeout faults and delays then
	// end at once instead of holding the shutdown up.
	stopping context.Context
	stop     context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// Options are what New takes beyond Config, for servers built in Go.
type Options struct {
	// Source gives the spec and fixtures from memory instead of files.
	Source Source
	// Loaded is a spec and fixtures loaded already (by Load), shared
	// read-only between servers: a test suite with hundreds of servers
	// parses the contract once. It must have been loaded with the same
	// Config limits; Source is then used only by Reload.
	Loaded *Loaded
	// Now is the base of the server's clock; time.Now when nil.
	Now func() time.Time
}

// Loaded is a checked spec and fixture directory, immutable: any number
// of servers can serve it at once.
type Loaded struct{ w *world }

// Load reads and checks the spec and fixtures that cfg and src name, for
// Options.Loaded.
func Load(cfg Config, src Source) (*Loaded, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w, err := loadWorld(cfg, src, nil)
	if err != nil {
		return nil, err
	}
	return &Loaded{w}, nil
}

// New loads the spec and fixtures named by cfg (the embedded ones by
// default) and checks them; any mistake stops here with a message that
// names the file.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	return NewWith(cfg, log, Options{})
}

// NewWith is New with options.
func NewWith(cfg Config, log *slog.Logger, opts Options) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var w *world
	if opts.Loaded != nil {
		w = opts.Loaded.w
	} else if w, err = loadWorld(cfg, opts.Source, log); err != nil {
		return nil, err
	}
	if !cfg.SeedSet {
		cfg.Seed = rand.Int64()
	}
	clk := clock.New(opts.Now)
	gate, err := lifecycle.New(w.lifecycle, lifecycle.Options{Mode: cfg.Lifecycle, MaxTokens: cfg.MaxTokens, Clock: clk, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	eopts := scenario.Options{
		Seed: cfg.Seed, Clock: clk, Latency: cfg.Latency, Gate: gate,
		StartScenario: cfg.Scenario, FailRate: cfg.FailRate, FailScenario: cfg.FailScenario,
	}
	s := &Server{cfg: cfg, log: log, clock: clk, gate: gate, src: opts.Source,
		journal: journal.NewWith(journal.Options{Size: cfg.JournalSize, Bytes: cfg.JournalBytes, Policy: w.secrets})}
	if cfg.Upstream != "" {
		// Answers come from the backend: only what is asked for explicitly
		// (a scenario header, Prefer, an activation) is injected.
		eopts.Gate, eopts.ExplicitOnly = nil, true
		if s.upstream, err = upstream.NewClient(cfg.Upstream, cfg.UpstreamTimeout, cfg.UpstreamCA); err != nil {
			return nil, err
		}
		s.report = upstream.NewReport()
		if cfg.UpstreamJUnit != "" {
			// Found out now, not at shutdown when the report would be lost.
			if err := writableFile(cfg.UpstreamJUnit); err != nil {
				return nil, fmt.Errorf("-upstream-junit %s: %w", cfg.UpstreamJUnit, err)
			}
		}
		if cfg.Record != "" {
			if s.recorder, err = upstream.NewRecorder(cfg.Record, cfg.Upstream, w.fixtures, w.realms, w.scenRaw); err != nil {
				return nil, err
			}
		}
	}
	if s.engine, err = scenario.NewEngine(w.scenarios, w.fixtures, eopts); err != nil {
		return nil, err
	}
	s.world.Store(w)
	s.dash.init(cfg)
	s.reloads.loaded = clk.Now()
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.echo = s.newEcho()
	return s, nil
}

// upstreamTarget is the backend of the validating proxy, "" for none.
func (s *Server) upstreamTarget() string {
	if s.upstream == nil {
		return ""
	}
	return s.upstream.Target()
}

// Violations is what the validating proxy saw; nil without -upstream.
func (s *Server) Violations() *upstream.Summary {
	if s.report == nil {
		return nil
	}
	sum := s.report.Summary()
	return &sum
}

// Engine is the server's scenario engine: activations, scenarios, rules.
func (s *Server) Engine() *scenario.Engine { return s.engine }

// Lifecycle is the server's token lifecycle: its realms and tokens.
func (s *Server) Lifecycle() *lifecycle.Gate { return s.gate }

// Journal is the server's journal of requests.
func (s *Server) Journal() *journal.Journal { return s.journal }

// Clock is the server's clock, which tests move.
func (s *Server) Clock() *clock.Clock { return s.clock }

// Contract is the contract in force (it changes on reload).
func (s *Server) Contract() *contract.Contract { return s.world.Load().contract }

// Fixtures are the answers in force (they change on reload).
func (s *Server) Fixtures() *answers.Set { return s.world.Load().fixtures }

// Seed is the seed of every random draw of the server.
func (s *Server) Seed() int64 { return s.cfg.Seed }

// writeTimeout bounds the writing of one answer: long enough for the
// slowest scenario (its delay, a slow body, a timeout fault, -latency),
// so that no scenario is cut short by the server itself.
func (s *Server) writeTimeout() time.Duration {
	longest := s.cfg.TimeoutMax
	for _, sc := range s.engine.Set().Scenarios {
		d := sc.Delay.Max + sc.Duration + sc.Schedule.To
		longest = max(longest, d)
	}
	return longest + s.cfg.Latency.Max + 30*time.Second
}

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.echoError
	e.Use(s.recoverPanics, s.limitHeaders)
	if s.cfg.Admin {
		s.adminRoutes(e.Group(AdminPrefix, s.sameOrigin, s.adminAuth))
	}
	e.Any("/*", s.serve)
	// Methods Echo does not route itself (PROPFIND, FOO) reach the
	// contract too, for its 404 or 405 with the right Allow.
	e.RouteNotFound("/*", s.serve)
	return e
}

// Handler is the server's http.Handler, for httptest.
func (s *Server) Handler() http.Handler { return s.echo }

// Open starts listening on cfg.Addr and serving in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	limiter := newConnLimiter(ln, s.maxConns(), s.log)
	s.ln, s.conns = limiter, limiter
	s.http = &http.Server{
		Handler:           s.echo,
		ConnState:         limiter.track,
		ConnContext:       connContext,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		WriteTimeout:      s.writeTimeout(),
		// Room above -max-header, so that the mock answers an oversized
		// header with its own documented 431 rather than net/http's text.
		MaxHeaderBytes: int(max(4*s.cfg.MaxHeader, 2<<20)),
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.http.RegisterOnShutdown(s.stop)
	// Called once the listener is closed: from this line on, a CI log
	// shows that new connections were refused.
	s.http.RegisterOnShutdown(func() { s.log.Info("stopped accepting connections; finishing the requests in flight") })
	if s.cfg.Watch {
		if err := s.watch(); err != nil {
			_ = ln.Close()
			s.http, s.ln = nil, nil // nothing is served: Close has nothing to wait for
			return fmt.Errorf("-watch: %w", err)
		}
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.http.Serve(limiter) }()
	if s.cfg.Admin && s.cfg.AdminToken == "" && !isLoopback(ln.Addr()) {
		s.log.Warn("the admin API is open to anyone who can reach "+ln.Addr().String()+": set -admin-token (or MOCKSERVER_ADMIN_TOKEN), or -admin=false", "addr", ln.Addr().String())
	}
	w := s.world.Load()
	s.log.Info("listening", "addr", ln.Addr().String(), "maxConns", limiter.max, "operations", len(w.contract.Operations),
		"scenarios", len(w.scenarios.Names), "seed", s.cfg.Seed, "admin", s.cfg.Admin, "validation", s.cfg.Validation,
		"lifecycle", s.gate.Mode(), "realms", len(w.lifecycle.Names), "watch", s.cfg.Watch, "upstream", s.upstreamTarget(), "record", s.cfg.Record)
	return nil
}

// maxConns is -max-conns, or, when 0, the file-descriptor limit less a
// headroom for the files the process opens itself (a tenth, at least 64).
func (s *Server) maxConns() int {
	fds := fdLimit()
	if s.cfg.MaxConns > 0 {
		if fds > 0 && s.cfg.MaxConns > fds-16 {
			s.log.Warn("-max-conns is above the file-descriptor limit: connections beyond it will be refused (raise ulimit -n)", "maxConns", s.cfg.MaxConns, "fdLimit", fds)
		}
		return s.cfg.MaxConns
	}
	if fds <= 0 {
		return 10000
	}
	return max(fds-max(64, fds/10), 16)
}

// framingProblem is the answer to a request that carried both
// Content-Length and Transfer-Encoding: refused, and its connection
// closed, as RFC 9112 §6.3 asks of a server, since such a request may be
// an attempt at request smuggling. (net/http reads the body by
// Transfer-Encoding, drops the Content-Length and would keep the
// connection open.)
func framingProblem(c echo.Context) *problem.Problem {
	c.Response().Header().Set("Connection", "close")
	return problem.New(http.StatusBadRequest, "the request has both Content-Length and Transfer-Encoding: refused, and the connection closed (RFC 9112, section 6.3)",
		problem.Violation{Location: "Content-Length", Rule: "framing", Detail: "a request carries Content-Length or Transfer-Encoding, not both"})
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// limitHeaders answers 431 when the request line and headers are larger
// than -max-header, and 400 when they frame the body twice (see
// framingProblem).
func (s *Server) limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if bothLengths(req) {
			return s.reject(c, framingProblem(c))
		}
		n := int64(len(req.Method) + len(req.RequestURI) + 12)
		for k, vs := range req.Header {
			for _, v := range vs {
				n += int64(len(k) + len(v) + 4)
			}
		}
		if n > s.cfg.MaxHeader {
			return s.reject(c, problem.Newf(http.StatusRequestHeaderFieldsTooLarge, "the request line and headers take %d bytes; the limit is %d", n, s.cfg.MaxHeader))
		}
		return next(c)
	}
}

// Addr is the address the server listens on, once open.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting connections and waits for requests in flight,
// up to ctx's deadline; requests still running then are cut off. Calling
// it again returns the first call's result.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		// Faults and delays end first, however the server was started:
		// behind httptest too, a timeout fault must not hold Close up.
		s.stop()
		s.stopWatching()
		s.writeJUnit()
		if s.http == nil {
			return
		}
		err := s.http.Shutdown(ctx)
		if err != nil {
			s.log.Warn("requests still running at the shutdown deadline were cut off", "err", err)
			_ = s.http.Close()
		}
		if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		s.closeErr = err
	})
	return s.closeErr
}

// recoverPanics turns a panic into a 500 with the stack in the log, and
// keeps the server running.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic while serving", "method", c.Request().Method, "path", c.Request().URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = s.writeProblem(c, problem.New(http.StatusInternalServerError, "internal error"))
			}
		}()
		return next(c)
	}
}

// echoError renders errors Echo raises itself (its router's 404 and 405
// for methods it does not route) as problems.
func (s *Server) echoError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	detail := "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		detail = fmt.Sprint(he.Message)
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	_ = s.writeProblem(c, problem.New(status, detail))
}

// reject answers a request that a check before routing refused, and logs
// and journals it as any other.
func (s *Server) reject(c echo.Context, p *problem.Problem) error {
	start := time.Now()
	x := &exchange{}
	red := s.redaction(s.world.Load(), c.Request(), x, p)
	red.Problem(p)
	x.rejected, x.status = p, p.Status
	err := s.writeProblem(c, p)
	s.record(c.Request(), x, red, time.Since(start))
	return err
}

func (s *Server) writeProblem(c echo.Context, p *problem.Problem) error {
	_, err := s.sendProblem(c, p)
	return err
}

// sendProblem writes a problem and returns the answer sent, for the
// journal.
func (s *Server) sendProblem(c echo.Context, p *problem.Problem) (*sentAnswer, error) {
	req := c.Request()
	body, ct := p.Render(contract.WantsXML(req.Header.Get("Accept"), req.Header.Get("Content-Type")))
	for k, vs := range p.Header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	h := c.Response().Header().Clone()
	h.Set("Content-Type", ct)
	return &sentAnswer{p.Status, h, body}, c.Blob(p.Status, ct, body)
}

// bodyChunk is the most readBody allocates before the bytes have come: a
// client may announce a Content-Length it never sends.
const bodyChunk = 64 << 10

// readBody reads the request body up to the configured limit: 413 beyond.
// It reads as the bytes come, in a buffer that grows with them; the
// announced Content-Length only sizes the first chunk.
func (s *Server) readBody(req *http.Request) ([]byte, *problem.Problem) {
	if req.ContentLength > s.cfg.MaxBody {
		return nil, problem.Newf(http.StatusRequestEntityTooLarge, "the body has %d bytes; the limit is %d", req.ContentLength, s.cfg.MaxBody)
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	size := 512
	if req.ContentLength > 0 {
		size = int(min(req.ContentLength, bodyChunk))
	}
	body := make([]byte, 0, size)
	r := io.LimitReader(req.Body, s.cfg.MaxBody+1)
	for {
		if len(body) == cap(body) {
			if int64(len(body)) == req.ContentLength {
				// All that was announced has come: a body of known
				// length ends here, without a buffer to grow for the EOF.
				var one [1]byte
				if n, err := r.Read(one[:]); n == 0 && err == io.EOF {
					break
				}
				return nil, problem.Newf(http.StatusBadRequest, "the body is longer than its Content-Length")
			}
			body = slices.Grow(body, min(max(len(body), 512), bodyChunk*16))
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, problem.Newf(http.StatusBadRequest, "the body could not be read: %v", err)
		}
	}
	if int64(len(body)) > s.cfg.MaxBody {
		return nil, problem.Newf(http.StatusRequestEntityTooLarge, "the body is larger than the limit of %d bytes", s.cfg.MaxBody)
	}
	return body, nil
}

// writeJUnit writes the validating proxy's JUnit report on shutdown, when
// -upstream-junit asks for it.
func (s *Server) writeJUnit() {
	if s.report == nil || s.cfg.UpstreamJUnit == "" {
		return
	}
	if err := os.WriteFile(s.cfg.UpstreamJUnit, s.report.JUnit(), 0o644); err != nil {
		s.log.Error("write the JUnit report", "file", s.cfg.UpstreamJUnit, "err", err)
		return
	}
	s.log.Info("JUnit report written", "file", s.cfg.UpstreamJUnit)
}

// writableFile makes sure a file can be written later: its directory is
// created and the file opened for writing once.
func writableFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
