// Package tokenmocktest runs the tokenmock server inside a Go test, in the
// spirit of net/http/httptest: one server per test, on its own port,
// closed when the test ends, with its scenarios, tokens, clock and journal
// at hand from Go. Servers share nothing: any number can run in parallel
// with different specs, fixtures, seeds and clocks, and none sees another's
// activations, journal or tokens.
//
//	srv := tokenmocktest.New(t, tokenmocktest.WithLifecycle("strict"))
//	srv.SeedToken("appspace", "tok-1", "1042")
//	srv.Advance(31 * time.Minute)
//	res, _ := srv.Client().Post(srv.URL+"/...", ...)
//	for _, r := range srv.Requests() { ... }
package tokenmocktest

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/mockserver"
)

// Server is a running mock. URL is its base URL, such as
// http://127.0.0.1:41234, with no trailing slash.
type Server struct {
	URL string

	tb        testing.TB
	srv       *mockserver.Server
	ts        *httptest.Server // nil in memory
	closeOnce sync.Once

	// In memory (WithInMemory): the server, its listener, the client.
	mem    *pipeListener
	hs     *http.Server
	client *http.Client
}

// Option configures New.
type Option func(*settings)

type settings struct {
	memory bool
	cfg    mockserver.Config
	src    mockserver.Source
	now    func() time.Time
	log    *slog.Logger
	errs   []error
}

// WithSpec serves the OpenAPI file at path instead of the embedded
// openapi.yaml.
func WithSpec(path string) Option {
	return func(s *settings) { s.cfg.SpecFile = path }
}

// WithSpecBytes serves a spec held in memory; name appears in messages.
func WithSpecBytes(name string, spec []byte) Option {
	return func(s *settings) { s.src.Spec, s.src.SpecName = spec, name }
}

// WithFixtures answers from the fixture directory dir.
func WithFixtures(dir string) Option {
	return func(s *settings) { s.cfg.FixturesDir = dir }
}

// WithFixturesFS answers from a fixture directory held in an fs.FS (an
// embed.FS, fstest.MapFS, os.DirFS); name appears in messages.
func WithFixturesFS(name string, fsys fs.FS) Option {
	return func(s *settings) { s.src.Fixtures, s.src.FixturesName = fsys, name }
}

// WithSeed fixes the seed of every random draw: the same seed gives the
// same failures, delays and tokens, request by request.
func WithSeed(seed int64) Option {
	return func(s *settings) { s.cfg.Seed, s.cfg.SeedSet = seed, true }
}

// WithLifecycle sets the token lifecycle's mode: "off" (the default: any
// token is valid), "adopt" or "strict".
func WithLifecycle(mode string) Option {
	return func(s *settings) { s.cfg.Lifecycle = mode }
}

// WithScenario activates a scenario from the start, until cleared.
func WithScenario(name string) Option {
	return func(s *settings) { s.cfg.Scenario = name }
}

// WithConfig changes any field of the server's configuration (limits,
// validation mode, journal size...). Addr is ignored: the server listens
// on a free port of 127.0.0.1.
func WithConfig(f func(*mockserver.Config)) Option {
	return func(s *settings) { f(&s.cfg) }
}

// WithClock bases the server's clock on now instead of time.Now; Advance
// and SetTime still move it.
func WithClock(now func() time.Time) Option {
	return func(s *settings) { s.now = now }
}

// WithInMemory serves over in-memory pipes instead of a TCP port: URL is
// http://tokenmock.test and only Client() reaches it. Use it inside a
// testing/synctest bubble, where a server on a real socket would keep the
// bubble's fake clock from moving; the server's clock is then the
// bubble's.
func WithInMemory() Option {
	return func(s *settings) { s.memory = true }
}

// WithLogger sends the server's log lines (one per request) to log;
// by default they are discarded.
func WithLogger(log *slog.Logger) Option {
	return func(s *settings) { s.log = log }
}

// New starts a server for the test and closes it when the test ends. A
// mistake in the options (a fixture that does not match the spec, an
// unknown lifecycle mode) fails the test at once, with the message that
// names the file and the place.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	st := settings{cfg: mockserver.DefaultConfig()}
	st.cfg.Addr = "127.0.0.1:0"
	for _, o := range opts {
		o(&st)
	}
	srv, err := start(st)
	if err != nil {
		tb.Fatalf("tokenmocktest.New: %v", err)
	}
	s := &Server{tb: tb, srv: srv}
	if st.memory {
		s.mem = newPipeListener()
		s.hs = &http.Server{Handler: srv.Handler()}
		go func() { _ = s.hs.Serve(s.mem) }()
		s.client = &http.Client{Transport: &http.Transport{DialContext: s.mem.dial}}
		s.URL = "http://" + s.mem.Addr().String()
	} else {
		s.ts = httptest.NewServer(srv.Handler())
		s.URL = s.ts.URL
	}
	tb.Cleanup(s.Close)
	return s
}

func start(st settings) (*mockserver.Server, error) {
	if err := errors.Join(st.errs...); err != nil {
		return nil, err
	}
	mo := mockserver.Options{Source: st.src, Now: st.now}
	if st.cfg.SpecFile == "" && st.cfg.FixturesDir == "" && st.src.Spec == nil && st.src.Fixtures == nil {
		// The embedded contract and fixtures are parsed once for the
		// process and shared read-only: a suite of hundreds of servers
		// stays fast. Other limits need a contract of their own.
		if l, err := embedded(st.cfg); l != nil || err != nil {
			if err != nil {
				return nil, err
			}
			mo.Loaded = l
		}
	}
	return mockserver.NewWith(st.cfg, st.log, mo)
}

var (
	sharedOnce sync.Once
	shared     *mockserver.Loaded
	sharedErr  error
)

// embedded returns the shared parse of the embedded contract when cfg's
// limits are the defaults, nil otherwise.
func embedded(cfg mockserver.Config) (*mockserver.Loaded, error) {
	def := mockserver.DefaultConfig()
	if cfg.MaxDepth != def.MaxDepth || cfg.MaxXMLNodes != def.MaxXMLNodes {
		return nil, nil
	}
	sharedOnce.Do(func() { shared, sharedErr = mockserver.Load(def, mockserver.Source{}) })
	return shared, sharedErr
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client {
	if s.client != nil {
		return s.client
	}
	return s.ts.Client()
}

// Server is the mockserver behind the test server, for what this package
// does not wrap.
func (s *Server) Server() *mockserver.Server { return s.srv }

// Close shuts the server down: faults and delays in progress end at once.
// It is registered with the test's Cleanup; calling it earlier is fine.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Close(ctx)
		if s.ts != nil {
			s.ts.Close()
			return
		}
		_ = s.hs.Close()
		s.client.CloseIdleConnections()
	})
}

// Activate gives a scenario to the next times requests (times < 0: until
// cleared), of the operation op when one is given.
func (s *Server) Activate(scenario string, times int, op ...string) {
	s.tb.Helper()
	operation := ""
	if len(op) > 0 {
		operation = op[0]
	}
	if err := s.srv.Engine().Activate(scenario, operation, int64(times)); err != nil {
		s.tb.Fatalf("Activate(%q, %d): %v", scenario, times, err)
	}
}

// ClearScenarios removes every activation.
func (s *Server) ClearScenarios() { s.srv.Engine().Clear() }

// SeedToken registers a live token of a realm ("commvault", "appspace"),
// owned by owner; an empty token is minted in the realm's form. It
// returns the token.
func (s *Server) SeedToken(realm, token, owner string) string {
	s.tb.Helper()
	t, err := s.srv.Lifecycle().Seed(realm, token, owner)
	if err != nil {
		s.tb.Fatalf("SeedToken(%q): %v", realm, err)
	}
	return t.Token
}

// ExpireToken makes a token expired now (it may still renew within its
// realm's renewal window).
func (s *Server) ExpireToken(realm, token string) {
	s.tb.Helper()
	if _, err := s.srv.Lifecycle().Expire(realm, token); err != nil {
		s.tb.Fatalf("ExpireToken: %v", err)
	}
}

// RevokeToken revokes a token.
func (s *Server) RevokeToken(realm, token string) {
	s.tb.Helper()
	if _, err := s.srv.Lifecycle().Revoke(realm, token); err != nil {
		s.tb.Fatalf("RevokeToken: %v", err)
	}
}

// Advance moves the server's clock forward: tokens expire, schedules move.
func (s *Server) Advance(d time.Duration) { s.srv.Clock().Advance(d) }

// SetTime sets the server's clock.
func (s *Server) SetTime(t time.Time) { s.srv.Clock().Set(t) }

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.srv.Clock().Now() }

// Request is one request the server answered, as its journal keeps it.
type Request struct {
	Time       time.Time
	Operation  string // "" for a path outside the contract
	Method     string
	Path       string
	Status     int    // 0 when a fault gave no answer
	Validation string // ok, rejected, reported
	Violations []Violation
	Scenario   string // the scenario applied, "" for the default answer
	Rule       string // what chose it: header, prefer, admin, cli, lifecycle, rule NAME, default
	Step       uint64 // the request's number for its operation
	Fault      string
	Lifecycle  string // live, adopted, renewed, expired, unknown, revoked, wrong-owner; "" when not governed
	Header     map[string]string
	Body       string // masked, cut at 4 KiB
}

// Violation is one broken rule of the contract, at one place.
type Violation struct {
	Direction string // with a validating proxy: request or answer
	Location  string // JSON pointer, XML path or header name; "" for the whole body
	Rule      string // required, type, enum, namespace, order, unknown, ...
	Detail    string
}

// Requests returns the journal, oldest first; with an operation, only its
// requests.
func (s *Server) Requests(op ...string) []Request {
	f := journal.Filter{}
	if len(op) > 0 {
		f.Operation = op[0]
	}
	entries := s.srv.Journal().List(f)
	out := make([]Request, len(entries))
	for i, e := range entries {
		viols := make([]Violation, len(e.Violations))
		for j, v := range e.Violations {
			viols[j] = Violation{Direction: v.Direction, Location: v.Location, Rule: v.Rule, Detail: v.Detail}
		}
		out[i] = Request{Time: e.Time, Operation: e.Operation, Method: e.Method, Path: e.Path, Status: e.Status,
			Validation: e.Validation, Violations: viols, Scenario: e.Scenario, Rule: e.Rule, Step: e.Step,
			Fault: e.Fault, Lifecycle: e.Lifecycle, Header: e.Header, Body: e.Body}
	}
	return out
}

// Reload loads the spec and fixtures again (for WithFixtures and WithSpec:
// after the test edits them).
func (s *Server) Reload() error { return s.srv.Reload("tokenmocktest") }
