package mockserver

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/jsoncodec"
	"github.com/tokenmock/tokenmock/internal/lifecycle"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

// AdminPrefix is where the admin API lives (admin.yaml documents it).
const AdminPrefix = "/__mock"

// adminRoute is one call of the control plane.
type adminRoute struct {
	method, path string
	h            echo.HandlerFunc
}

// adminRoutes installs the control plane. Its handlers only call the
// engine, the lifecycle, the clock and the journal; they never touch the
// mocked routes. Every call that changes state writes a log line, so that
// a CI failure can be reconstructed from the log alone.
func (s *Server) adminRoutes(g *echo.Group) {
	started := time.Now()
	routes := []adminRoute{
		{http.MethodGet, "/health", func(c echo.Context) error {
			w := s.world.Load()
			ops := make([]string, len(w.contract.Operations))
			for i, o := range w.contract.Operations {
				ops[i] = o.ID
			}
			return c.JSON(http.StatusOK, map[string]any{
				"status": "ok", "operations": ops, "scenarios": len(w.scenarios.Names),
				"seed": s.cfg.Seed, "uptimeSeconds": time.Since(started).Seconds(), "validation": s.cfg.Validation,
				"lifecycle": s.gate.Mode(), "realms": w.lifecycle.Names, "now": s.clock.Now().UTC(), "clockOffset": s.clock.Offset().String(),
				"upstream": s.upstreamTarget(),
			})
		}},
		{http.MethodGet, "/scenarios", s.listScenarios},
		{http.MethodPost, "/scenarios/:name/activate", s.activate},
		{http.MethodGet, "/scenarios/active", s.activeList},
		{http.MethodDelete, "/scenarios/active", func(c echo.Context) error {
			s.engine.Clear()
			s.adminLog(c, "scenarios cleared")
			return c.NoContent(http.StatusNoContent)
		}},
		{http.MethodGet, "/requests", s.listRequests},
		{http.MethodGet, "/requests/count", s.countRequests},
		{http.MethodGet, "/violations", s.violations},
		{http.MethodDelete, "/requests", func(c echo.Context) error {
			s.journal.Clear()
			s.adminLog(c, "journal cleared")
			return c.NoContent(http.StatusNoContent)
		}},
		{http.MethodGet, "/clock", s.clockView},
		{http.MethodPost, "/clock", s.moveClock},
		{http.MethodDelete, "/clock", func(c echo.Context) error {
			s.clock.Reset()
			s.adminLog(c, "clock reset", "now", s.clock.Now().UTC())
			return s.clockView(c)
		}},
		{http.MethodGet, "/tokens", s.listTokens},
		{http.MethodPost, "/tokens", s.seedToken},
		{http.MethodDelete, "/tokens", func(c echo.Context) error {
			s.gate.Clear()
			s.adminLog(c, "tokens cleared")
			return c.NoContent(http.StatusNoContent)
		}},
		{http.MethodPost, "/tokens/expire", func(c echo.Context) error { return s.changeToken(c, "expired", s.gate.Expire) }},
		{http.MethodPost, "/tokens/revoke", func(c echo.Context) error { return s.changeToken(c, "revoked", s.gate.Revoke) }},
		{http.MethodGet, "/requests/stream", s.streamRequests},
		{http.MethodGet, "/reload", func(c echo.Context) error { return c.JSON(http.StatusOK, s.ReloadStatus()) }},
		{http.MethodPost, "/reload", func(c echo.Context) error {
			if err := s.Reload("admin API"); err != nil {
				st := s.ReloadStatus()
				p := problem.Newf(http.StatusUnprocessableEntity, "the fixtures did not load; the previous ones are still served: %s", st.Errors[0])
				return adminProblem(c, p)
			}
			return c.JSON(http.StatusOK, s.ReloadStatus())
		}},
	}
	routes = append(routes, s.dashboardRoutes()...)
	allow := map[string][]string{}
	for _, r := range routes {
		g.Add(r.method, r.path, r.h)
		allow[r.path] = append(allow[r.path], r.method)
	}
	// A known admin path with another method gets 405 and Allow, an
	// unknown one a 404 problem, as the mocked paths do.
	notFound := func(c echo.Context) error {
		path := strings.TrimPrefix(c.Request().URL.Path, AdminPrefix)
		for p, methods := range allow {
			if adminPathMatches(p, path) {
				slices.Sort(methods)
				c.Response().Header().Set("Allow", strings.Join(methods, ", "))
				return adminProblem(c, problem.Newf(http.StatusMethodNotAllowed, "%s is not allowed on %s%s; allowed: %s", c.Request().Method, AdminPrefix, p, strings.Join(methods, ", ")))
			}
		}
		return adminProblem(c, problem.Newf(http.StatusNotFound, "no admin call has the path %s; admin.yaml lists them", c.Request().URL.Path))
	}
	g.Any("/*", notFound)
	g.RouteNotFound("/*", notFound)
}

// adminPathMatches matches a request path against a route with :params.
func adminPathMatches(route, path string) bool {
	rs, ps := strings.Split(route, "/"), strings.Split(strings.TrimSuffix(path, "/"), "/")
	if len(rs) != len(ps) {
		return false
	}
	for i := range rs {
		if !strings.HasPrefix(rs[i], ":") && rs[i] != ps[i] {
			return false
		}
	}
	return true
}

// adminLog writes the log line of an admin call that changed state.
func (s *Server) adminLog(c echo.Context, msg string, args ...any) {
	req := c.Request()
	s.log.Info("admin: "+msg, append([]any{"method", req.Method, "path", req.URL.Path}, args...)...)
}

// readAdminJSON decodes an admin call's JSON body into v, strictly: one
// value, no unknown or repeated members, nothing after it. An empty body
// leaves v as it is when optional.
func readAdminJSON(c echo.Context, v any, optional bool, shape string) *problem.Problem {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10+1))
	if err != nil {
		return problem.Newf(http.StatusBadRequest, "read body: %v", err)
	}
	if len(body) > 64<<10 {
		return problem.Newf(http.StatusRequestEntityTooLarge, "an admin call's body is at most 64KiB")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return problem.Newf(http.StatusBadRequest, "the body must be %s", shape)
	}
	if err := jsoncodec.DecodeStrict(body, v); err != nil {
		return problem.Newf(http.StatusBadRequest, "the body must be %s: %v", shape, err)
	}
	return nil
}

// adminAuth requires Authorization: Bearer -admin-token, when one is set,
// or the dashboard's session cookie (set by its login form). The
// dashboard's login form and its script and style sheet are open; its
// page answers the login form instead of a problem.
func (s *Server) adminAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if s.cfg.AdminToken == "" || s.dash.openPath(req.URL.Path) || s.dash.hasSession(req) {
			return next(c)
		}
		scheme, got, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.AdminToken)) != 1 {
			if req.Method == http.MethodGet && req.URL.Path == AdminPrefix+"/ui" {
				return s.uiLoginPage(c, http.StatusUnauthorized, false)
			}
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="tokenmock admin"`)
			return adminProblem(c, problem.New(http.StatusUnauthorized, "the admin API needs Authorization: Bearer <the -admin-token> (or, in a browser, the dashboard's login at "+AdminPrefix+"/ui)"))
		}
		return next(c)
	}
}

type scenarioView struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Operations  []string        `json:"operations"`
	Answer      string          `json:"answer,omitempty"`
	Delay       string          `json:"delay,omitempty"`
	Fault       string          `json:"fault,omitempty"`
	Duration    string          `json:"duration,omitempty"`
	Drift       *scenario.Drift `json:"drift,omitempty"`
	Schedule    string          `json:"schedule,omitempty"`
}

type ruleView struct {
	Name        string  `json:"name"`
	Operation   string  `json:"operation,omitempty"`
	Header      string  `json:"header,omitempty"`
	Body        string  `json:"body,omitempty"`
	Equals      *string `json:"equals,omitempty"`
	Matches     string  `json:"matches,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Scenario    string  `json:"scenario"`
}

func (s *Server) listScenarios(c echo.Context) error {
	set := s.engine.Set()
	out := struct {
		Seed      int64          `json:"seed"`
		Scenarios []scenarioView `json:"scenarios"`
		Rules     []ruleView     `json:"rules"`
	}{Seed: s.cfg.Seed, Scenarios: []scenarioView{}, Rules: []ruleView{}}
	for _, name := range set.Names {
		sc := set.Scenarios[name]
		v := scenarioView{Name: name, Description: sc.Description, Operations: sc.Operations, Answer: sc.Answer,
			Fault: sc.Fault, Drift: sc.Drift, Schedule: sc.Schedule.String()}
		if sc.Delay.Max > 0 {
			v.Delay = sc.Delay.String()
		}
		if sc.Duration > 0 {
			v.Duration = sc.Duration.String()
		}
		out.Scenarios = append(out.Scenarios, v)
	}
	for _, r := range s.engine.Rules() {
		v := ruleView{Name: r.Name, Operation: r.Operation, Header: r.Header, Body: r.PointerText, Equals: r.Equals, Probability: r.Probability, Scenario: r.Scenario}
		if r.Matches != nil {
			v.Matches = r.Matches.String()
		}
		out.Rules = append(out.Rules, v)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) activate(c echo.Context) error {
	name := c.Param("name")
	set := s.engine.Set()
	if set.Scenarios[name] == nil {
		return adminProblem(c, problem.Newf(http.StatusNotFound, "unknown scenario %q; known scenarios: %s", name, strings.Join(set.Names, ", ")))
	}
	var req struct {
		Operation string `json:"operation"`
		Times     *int64 `json:"times"`
	}
	if p := readAdminJSON(c, &req, true, `{"operation": "...", "times": N}, both optional`); p != nil {
		return adminProblem(c, p)
	}
	times := int64(-1)
	if req.Times != nil {
		if *req.Times < 1 {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "times %d: must be 1 or more (leave it out for until cleared)", *req.Times))
		}
		times = *req.Times
	}
	if err := s.engine.Activate(name, req.Operation, times); err != nil {
		return adminProblem(c, problem.New(http.StatusBadRequest, err.Error()))
	}
	s.adminLog(c, "scenario activated", "scenario", name, "operation", req.Operation, "times", times)
	return s.activeList(c)
}

func (s *Server) activeList(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"active": s.engine.Active()})
}

// requestParams are the query parameters of GET /__mock/requests/count:
// the journal's filters. GET /__mock/requests takes pageParams too.
var (
	requestParams = []string{"operation", "since", "lifecycle", "status", "scenario", "validation"}
	pageParams    = append(slices.Clone(requestParams), "limit", "cursor")
)

// statusFilter is the form of a status filter: a code (401), a class
// (4xx), or none (a fault gave no answer).
var statusFilter = regexp.MustCompile(`^([1-5]xx|[1-5][0-9][0-9]|none)$`)

// journalFilter reads the journal filters of a call that takes the query
// parameters params (the journal listing, its count, the live stream); a
// problem names an unknown parameter or a bad value.
func (s *Server) journalFilter(c echo.Context, params []string) (journal.Filter, *problem.Problem) {
	q := c.QueryParams()
	var f journal.Filter
	for k := range q {
		if !slices.Contains(params, k) {
			return f, problem.Newf(http.StatusBadRequest, "unknown parameter %q; parameters: %s", k, strings.Join(params, ", "))
		}
	}
	if v := q.Get("operation"); v != "" {
		if s.world.Load().contract.Operation(v) == nil {
			return f, problem.Newf(http.StatusBadRequest, "operation %q: the contract has no such operation; operations: %s", v, strings.Join(s.world.Load().fixtures.IDs(), ", "))
		}
		f.Operation = v
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, problem.Newf(http.StatusBadRequest, "since %q: want an RFC 3339 time such as 2026-11-27T10:00:00Z", v)
		}
		f.Since = t
	}
	if v := q.Get("lifecycle"); v != "" {
		if !slices.Contains(lifecycleOutcomes, v) {
			return f, problem.Newf(http.StatusBadRequest, "lifecycle %q: want one of %s", v, strings.Join(lifecycleOutcomes, ", "))
		}
		f.Lifecycle = v
	}
	if v := q.Get("status"); v != "" {
		if !statusFilter.MatchString(v) {
			return f, problem.Newf(http.StatusBadRequest, "status %q: want a code (401), a class (4xx) or none (a fault that gave no answer)", v)
		}
		f.Status = v
	}
	f.Scenario = q.Get("scenario")
	if v := q.Get("validation"); v != "" {
		if !slices.Contains([]string{"ok", "rejected", "reported", "unchecked"}, v) {
			return f, problem.Newf(http.StatusBadRequest, "validation %q: want ok, rejected, reported or unchecked", v)
		}
		f.Validation = v
	}
	return f, nil
}

// Listing pages: DefaultPage entries unless limit says otherwise, at most
// MaxPage, so that a listing costs at most MaxPage journal entries.
const (
	DefaultPage = 100
	MaxPage     = 1000
)

func (s *Server) listRequests(c echo.Context) error {
	f, p := s.journalFilter(c, pageParams)
	if p != nil {
		return adminProblem(c, p)
	}
	limit, after := DefaultPage, uint64(0)
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "limit %q: want a whole number from 1 to %d", v, MaxPage))
		}
		limit = n
	}
	if v := c.QueryParam("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "cursor %q: want the next of a previous page", v))
		}
		after = n
	}
	page := s.journal.Page(f, after, limit)
	// Written entry by entry: a page is never rendered whole in memory.
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	res.WriteHeader(http.StatusOK)
	fmt.Fprintf(res, `{"size":%d,"maxBytes":%d,"requests":[`, s.journal.Size(), s.journal.MaxBytes())
	for i := range page.Entries {
		if i > 0 {
			_, _ = res.Write([]byte{','})
		}
		b, err := json.Marshal(&page.Entries[i])
		if err != nil {
			return err
		}
		_, _ = res.Write(b)
		page.Entries[i] = journal.Entry{} // let it go as soon as it is written
	}
	if page.Next != 0 {
		fmt.Fprintf(res, `],"next":"%d"}`, page.Next)
	} else {
		_, _ = res.Write([]byte("]}"))
	}
	return nil
}

// countRequests is the verify-style assertion: how many requests match.
func (s *Server) countRequests(c echo.Context) error {
	f, p := s.journalFilter(c, requestParams)
	if p != nil {
		return adminProblem(c, p)
	}
	return c.JSON(http.StatusOK, map[string]int{"count": s.journal.Count(f)})
}

// violations reports what the validating proxy saw, as JSON or JUnit XML.
func (s *Server) violations(c echo.Context) error {
	if s.report == nil {
		return adminProblem(c, problem.New(http.StatusNotFound, "no validating proxy: start the mock with -upstream URL"))
	}
	switch c.QueryParam("format") {
	case "", "json":
		return c.JSON(http.StatusOK, s.report.Summary())
	case "junit":
		return c.Blob(http.StatusOK, "application/xml; charset=utf-8", s.report.JUnit())
	}
	return adminProblem(c, problem.Newf(http.StatusBadRequest, "format %q: want json or junit", c.QueryParam("format")))
}

var lifecycleOutcomes = []string{lifecycle.Live, lifecycle.Adopted, lifecycle.Renewed, lifecycle.Expired, lifecycle.Unknown, lifecycle.Revoked, lifecycle.WrongOwner}

func (s *Server) clockView(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"now": s.clock.Now().UTC().Format(time.RFC3339Nano), "offset": s.clock.Offset().String()})
}

// moveClock takes {"advance": "31m"} or {"set": "2026-12-02T10:00:00Z"}.
func (s *Server) moveClock(c echo.Context) error {
	var req struct {
		Advance *string `json:"advance"`
		Set     *string `json:"set"`
	}
	const shape = `{"advance": "31m"} or {"set": "2026-12-02T10:00:00Z"}`
	if p := readAdminJSON(c, &req, false, shape); p != nil {
		return adminProblem(c, p)
	}
	switch {
	case req.Advance != nil && req.Set != nil:
		return adminProblem(c, problem.New(http.StatusBadRequest, "give advance or set, not both", problem.Violation{Location: "/advance", Rule: "oneOf", Detail: "advance and set exclude each other"}))
	case req.Advance != nil:
		d, err := time.ParseDuration(*req.Advance)
		if err != nil || d < 0 {
			return adminProblem(c, problem.New(http.StatusBadRequest, "advance: want a duration that is not negative, such as 31m or 2h", problem.Violation{Location: "/advance", Rule: "format", Detail: fmt.Sprintf("%q is not a duration of 0 or more (time only moves forward with advance; use set to go back)", *req.Advance)}))
		}
		s.clock.Advance(d)
		s.adminLog(c, "clock advanced", "by", d, "now", s.clock.Now().UTC())
	case req.Set != nil:
		t, err := time.Parse(time.RFC3339Nano, *req.Set)
		if err != nil {
			return adminProblem(c, problem.New(http.StatusBadRequest, "set: want an RFC 3339 time such as 2026-12-02T10:00:00Z", problem.Violation{Location: "/set", Rule: "format", Detail: fmt.Sprintf("%q is not an RFC 3339 time", *req.Set)}))
		}
		s.clock.Set(t)
		s.adminLog(c, "clock set", "now", s.clock.Now().UTC())
	default:
		return adminProblem(c, problem.Newf(http.StatusBadRequest, "the body must be %s", shape))
	}
	return s.clockView(c)
}

func (s *Server) listTokens(c echo.Context) error {
	q := c.QueryParams()
	for k := range q {
		if k != "realm" && k != "state" && k != "limit" {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "unknown filter %q; filters: realm, state, limit", k))
		}
	}
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100_000 {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "limit %q: want 1 to 100000", v))
		}
		limit = n
	}
	toks, err := s.gate.List(q.Get("realm"), q.Get("state"))
	if err != nil {
		return adminProblem(c, problem.New(http.StatusBadRequest, err.Error()))
	}
	// Most recently active first: a listing is bounded, and the tokens a
	// test cares about come first.
	total := len(toks)
	return c.JSON(http.StatusOK, map[string]any{"mode": s.gate.Mode(), "total": total, "tokens": toks[:min(limit, total)]})
}

func (s *Server) seedToken(c echo.Context) error {
	var req struct {
		Realm string `json:"realm"`
		Owner string `json:"owner"`
		Token string `json:"token"`
	}
	const shape = `{"realm": "appspace", "owner": "1042", "token": "..."} (token optional: minted when absent)`
	if p := readAdminJSON(c, &req, false, shape); p != nil {
		return adminProblem(c, p)
	}
	if req.Realm == "" {
		return adminProblem(c, problem.New(http.StatusBadRequest, "realm is required", problem.Violation{Location: "/realm", Rule: "required", Detail: "name the realm: " + strings.Join(s.gate.Config().Names, ", ")}))
	}
	t, err := s.gate.Seed(req.Realm, req.Token, req.Owner)
	if err != nil {
		return adminProblem(c, problem.New(http.StatusBadRequest, err.Error(), problem.Violation{Location: "/realm", Rule: "enum", Detail: err.Error()}))
	}
	s.adminLog(c, "token seeded", "realm", t.Realm, "token", journal.Mask(t.Token), "owner", t.Owner)
	if s.gate.Mode() == lifecycle.Off {
		c.Response().Header().Set("Warning", `299 tokenmock "-lifecycle is off: tokens are stored but not checked"`)
	}
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) changeToken(c echo.Context, what string, f func(realm, token string) (lifecycle.Token, error)) error {
	var req struct {
		Realm string  `json:"realm"`
		Token string  `json:"token"`
		ID    *uint64 `json:"id"`
	}
	if p := readAdminJSON(c, &req, false, `{"realm": "...", "token": "..."} or {"realm": "...", "id": N}`); p != nil {
		return adminProblem(c, p)
	}
	if req.Realm == "" || (req.Token == "") == (req.ID == nil) {
		return adminProblem(c, problem.New(http.StatusBadRequest, "realm and one of token or id are required", problem.Violation{Location: "/token", Rule: "required", Detail: "give the realm and either the token or its id (as listed)"}))
	}
	var err error
	if req.ID != nil {
		req.Token, err = s.gate.ByID(req.Realm, *req.ID)
	}
	var t lifecycle.Token
	if err == nil {
		t, err = f(req.Realm, req.Token)
	}
	switch {
	case errors.Is(err, lifecycle.ErrNoToken):
		return adminProblem(c, problem.New(http.StatusNotFound, err.Error()))
	case err != nil:
		return adminProblem(c, problem.New(http.StatusBadRequest, err.Error()))
	}
	s.adminLog(c, "token "+what, "realm", t.Realm, "token", t.Token)
	return c.JSON(http.StatusOK, t)
}

// adminProblem answers an admin call with a JSON problem.
func adminProblem(c echo.Context, p *problem.Problem) error {
	return c.Blob(p.Status, "application/json; charset=utf-8", p.JSON())
}
