// Package mockserver is the HTTP side of tokenmock: an Echo server that
// routes every request of openapi.yaml through the contract, rejects the
// ones that break it, and answers the others from fixtures. It is the only
// package that knows Echo; the contract, XML mapping and fixtures live in
// its subpackages.
package mockserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/mockserver/contract"
	"github.com/tokenmock/tokenmock/mockserver/fixture"
	"github.com/tokenmock/tokenmock/mockserver/journal"
	"github.com/tokenmock/tokenmock/mockserver/problem"
	"github.com/tokenmock/tokenmock/mockserver/scenario"
)

// Server serves the contract. Build it with New, then either mount Handler
// (tests) or Open a listener; Close shuts it down gracefully.
type Server struct {
	cfg      Config
	log      *slog.Logger
	Contract *contract.Contract
	Fixtures *fixture.Set
	Engine   *scenario.Engine
	Journal  *journal.Journal
	echo     *echo.Echo
	http     *http.Server
	ln       net.Listener
	done     chan error
	// stopping ends when shutdown begins: timeout faults then close their
	// connections at once instead of holding the shutdown up.
	stopping context.Context
	stop     context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// New loads the spec and fixtures named by cfg (the embedded ones by
// default) and checks them; any mistake stops here with a message that
// names the file.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	specData, specName := tokenmock.Spec, tokenmock.SpecName
	if cfg.SpecFile != "" {
		b, err := os.ReadFile(cfg.SpecFile)
		if err != nil {
			return nil, fmt.Errorf("read spec: %w", err)
		}
		specData, specName = b, cfg.SpecFile
	}
	c, err := contract.LoadWith(specData, specName, contract.Limits{MaxDepth: cfg.MaxDepth, MaxXMLNodes: cfg.MaxXMLNodes})
	if err != nil {
		return nil, err
	}
	var fsys fs.FS = fixtures.FS
	fixName := "fixtures (embedded)"
	if cfg.FixturesDir != "" {
		if st, err := os.Stat(cfg.FixturesDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("-fixtures %s: not a readable directory", cfg.FixturesDir)
		}
		fsys, fixName = os.DirFS(cfg.FixturesDir), filepath.Clean(cfg.FixturesDir)
	}
	set, err := fixture.Load(fsys, fixName, c)
	if err != nil {
		return nil, fmt.Errorf("fixtures do not match %s:\n%w", specName, err)
	}
	scen, err := loadScenarios(fsys, fixName, set)
	if err != nil {
		return nil, err
	}
	if !cfg.SeedSet {
		cfg.Seed = rand.Int64()
	}
	eng, err := scenario.NewEngine(scen, set, scenario.Options{
		Seed: cfg.Seed, Latency: cfg.Latency,
		StartScenario: cfg.Scenario, FailRate: cfg.FailRate, FailScenario: cfg.FailScenario,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, Contract: c, Fixtures: set, Engine: eng, Journal: journal.New(cfg.JournalSize, 4096)}
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.echo = s.newEcho()
	return s, nil
}

// loadScenarios reads scenarios.yaml of the fixture directory; a directory
// without one has no scenarios.
func loadScenarios(fsys fs.FS, dir string, set *fixture.Set) (*scenario.Set, error) {
	data, err := fs.ReadFile(fsys, fixture.ScenariosFile)
	if errors.Is(err, fs.ErrNotExist) {
		data = nil
	} else if err != nil {
		return nil, fmt.Errorf("load scenarios: %w", err)
	}
	return scenario.Load(data, filepath.Join(dir, fixture.ScenariosFile), set)
}

// writeTimeout bounds the writing of one answer: long enough for the
// slowest scenario (its delay, a slow body, a timeout fault, -latency),
// so that no scenario is cut short by the server itself.
func (s *Server) writeTimeout() time.Duration {
	longest := s.cfg.TimeoutMax
	for _, sc := range s.Engine.Set().Scenarios {
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
		s.adminRoutes(e.Group(AdminPrefix, s.adminAuth))
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
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.echo,
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
	s.done = make(chan error, 1)
	go func() { s.done <- s.http.Serve(ln) }()
	if s.cfg.Admin && s.cfg.AdminToken == "" && !isLoopback(ln.Addr()) {
		s.log.Warn("the admin API is open to anyone who can reach "+ln.Addr().String()+": set -admin-token, or -admin=false", "addr", ln.Addr().String())
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "operations", len(s.Contract.Operations),
		"scenarios", len(s.Engine.Set().Names), "seed", s.cfg.Seed, "admin", s.cfg.Admin, "validation", s.cfg.Validation)
	return nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// limitHeaders answers 431 when the request line and headers are larger
// than -max-header.
func (s *Server) limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		n := int64(len(req.Method) + len(req.RequestURI) + 12)
		for k, vs := range req.Header {
			for _, v := range vs {
				n += int64(len(k) + len(v) + 4)
			}
		}
		if n > s.cfg.MaxHeader {
			return s.writeProblem(c, problem.Newf(http.StatusRequestHeaderFieldsTooLarge, "the request line and headers take %d bytes; the limit is %d", n, s.cfg.MaxHeader))
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
	if s.http == nil {
		return nil
	}
	s.closeOnce.Do(func() {
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

func (s *Server) writeProblem(c echo.Context, p *problem.Problem) error {
	req := c.Request()
	body, ct := p.Render(contract.WantsXML(req.Header.Get("Accept"), req.Header.Get("Content-Type")))
	for k, vs := range p.Header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	return c.Blob(p.Status, ct, body)
}

// readBody reads the request body up to the configured limit: 413 beyond.
func (s *Server) readBody(req *http.Request) ([]byte, *problem.Problem) {
	if req.ContentLength > s.cfg.MaxBody {
		return nil, problem.Newf(http.StatusRequestEntityTooLarge, "the body has %d bytes; the limit is %d", req.ContentLength, s.cfg.MaxBody)
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.ContentLength > 0 {
		// The size is known: one buffer of that size, no growing.
		body := make([]byte, req.ContentLength)
		if _, err := io.ReadFull(req.Body, body); err != nil {
			return nil, problem.Newf(http.StatusBadRequest, "the body could not be read: %v", err)
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, s.cfg.MaxBody+1))
	if err != nil {
		return nil, problem.Newf(http.StatusBadRequest, "the body could not be read: %v", err)
	}
	if int64(len(body)) > s.cfg.MaxBody {
		return nil, problem.Newf(http.StatusRequestEntityTooLarge, "the body is larger than the limit of %d bytes", s.cfg.MaxBody)
	}
	return body, nil
}
