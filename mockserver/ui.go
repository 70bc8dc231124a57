package mockserver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/dashboard"
	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/lifecycle"
	"github.com/tokenmock/tokenmock/internal/problem"
)

// dashState is the state of the page at /__mock/ui.
type dashState struct {
	// session is the value of the login cookie: a MAC of the admin token,
	// so that the cookie is not the token itself and changes with it.
	session string
	streams atomic.Int32 // open streams of the journal
}

func (d *dashState) init(cfg Config) {
	if cfg.AdminToken != "" {
		mac := hmac.New(sha256.New, []byte(cfg.AdminToken))
		mac.Write([]byte("tokenmock dashboard session"))
		d.session = hex.EncodeToString(mac.Sum(nil))
	}
}

// sessionCookie is the dashboard's login, for the admin API under /__mock.
const sessionCookie = "tokenmock_admin"

func (d *dashState) hasSession(req *http.Request) bool {
	c, err := req.Cookie(sessionCookie)
	return err == nil && d.session != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(d.session)) == 1
}

// openPath is what the dashboard serves before its login: the login form
// itself and the style sheet it uses.
func (d *dashState) openPath(p string) bool {
	return p == AdminPrefix+"/ui/login" || strings.HasPrefix(p, AdminPrefix+"/ui/static/")
}

// sameOrigin refuses state-changing admin calls that a browser sends from
// another origin: a page elsewhere must not be able to activate a scenario
// or move the clock by posting a form, with or without the login cookie.
// Browsers send Origin (or Sec-Fetch-Site) with every such request; curl
// and test code send neither and are unaffected.
func (s *Server) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		why := ""
		if origin := req.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if origin == "null" || err != nil || !strings.EqualFold(u.Host, req.Host) {
				why = "Origin " + origin + " is not this server (" + req.Host + ")"
			}
		} else if site := req.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			why = "Sec-Fetch-Site is " + site
		}
		if why != "" {
			s.log.Warn("admin: cross-site call refused", "method", req.Method, "path", req.URL.Path, "origin", req.Header.Get("Origin"), "sec_fetch_site", req.Header.Get("Sec-Fetch-Site"))
			return adminProblem(c, problem.New(http.StatusForbidden, "cross-site request refused: "+why+"; the admin API changes state only for its own page and for clients that are not browsers"))
		}
		return next(c)
	}
}

func (s *Server) dashboardRoutes() []adminRoute {
	return []adminRoute{
		{http.MethodGet, "/ui", s.uiPage},
		{http.MethodGet, "/ui/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, AdminPrefix+"/ui") }},
		{http.MethodGet, "/ui/static/:file", s.uiStatic},
		{http.MethodGet, "/ui/login", func(c echo.Context) error {
			if s.cfg.AdminToken == "" || s.dash.hasSession(c.Request()) {
				return c.Redirect(http.StatusSeeOther, AdminPrefix+"/ui")
			}
			return s.uiLoginPage(c, http.StatusOK, false)
		}},
		{http.MethodPost, "/ui/login", s.uiLogin},
		{http.MethodPost, "/ui/logout", func(c echo.Context) error {
			c.SetCookie(s.cookie(c.Request(), "", -1))
			s.adminLog(c, "dashboard logout")
			return c.Redirect(http.StatusSeeOther, AdminPrefix+"/ui")
		}},
		{http.MethodGet, "/ui/panels/:name", s.uiPanel},
		{http.MethodGet, "/ui/requests/:id", s.uiDetail},
	}
}

// contentSecurityPolicy lets the page load only its own script and style
// sheet, and talk only to this server: no inline script or style, so that
// markup that slipped through would still run nothing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func uiHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Not no-referrer: Chromium then sends "Origin: null" with the page's own
	// form posts, which sameOrigin refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// render answers with a view of package dashboard, rendered whole first:
// a template error becomes a problem, not half a page.
func (s *Server) render(c echo.Context, status int, view string, data any) error {
	var b bytes.Buffer
	if err := dashboard.Render(&b, view, data); err != nil {
		s.log.Error("dashboard: render", "view", view, "err", err)
		return adminProblem(c, problem.New(http.StatusInternalServerError, "internal error"))
	}
	uiHeaders(c.Response().Header())
	return c.HTMLBlob(status, b.Bytes())
}

func (s *Server) uiLoginPage(c echo.Context, status int, failed bool) error {
	return s.render(c, status, "login", dashboard.Login{Failed: failed})
}

func (s *Server) cookie(req *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: sessionCookie, Value: value, Path: AdminPrefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: req.TLS != nil,
	}
}

func (s *Server) uiLogin(c echo.Context) error {
	if s.cfg.AdminToken == "" {
		return c.Redirect(http.StatusSeeOther, AdminPrefix+"/ui")
	}
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, 4<<10)
	if err := req.ParseForm(); err != nil {
		return adminProblem(c, problem.Newf(http.StatusBadRequest, "the login form must be a form with token, under 4KiB: %v", err))
	}
	if subtle.ConstantTimeCompare([]byte(req.PostForm.Get("token")), []byte(s.cfg.AdminToken)) != 1 {
		s.log.Warn("admin: dashboard login refused: not the admin token", "remote", req.RemoteAddr)
		return s.uiLoginPage(c, http.StatusUnauthorized, true)
	}
	c.SetCookie(s.cookie(req, s.dash.session, 0))
	s.adminLog(c, "dashboard login", "remote", req.RemoteAddr)
	return c.Redirect(http.StatusSeeOther, AdminPrefix+"/ui")
}

func (s *Server) uiStatic(c echo.Context) error {
	name := c.Param("file")
	b, err := fs.ReadFile(dashboard.Static(), name)
	if err != nil || strings.Contains(name, "/") {
		return adminProblem(c, problem.Newf(http.StatusNotFound, "the dashboard has no file %q", name))
	}
	h := c.Response().Header()
	uiHeaders(h)
	h.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, mime.TypeByExtension(path.Ext(name)), b)
}

// statusChoices are the status filter's choices: classes, then the codes
// the mock answers most.
var statusChoices = []string{"2xx", "4xx", "5xx", "200", "400", "401", "403", "404", "405", "406", "413", "415", "429", "431", "500", "503", "none"}

func (s *Server) uiPage(c echo.Context) error {
	w := s.world.Load()
	set := s.engine.Set()
	p := dashboard.Page{
		Seed: s.cfg.Seed, Validation: s.cfg.Validation, JournalSize: s.journal.Size(),
		Operations: w.fixtures.IDs(), Statuses: statusChoices, LoggedIn: s.cfg.AdminToken != "",
		Active: s.activeView(), Clock: s.clockPanel(), Upstream: s.upstreamView(),
	}
	for _, name := range set.Names {
		sc := set.Scenarios[name]
		var does []string
		if sc.Answer != "" {
			does = append(does, "answer "+sc.Answer)
		}
		if sc.Delay.Max > 0 {
			does = append(does, "delay "+sc.Delay.String())
		}
		if sc.Fault != "" {
			does = append(does, "fault "+sc.Fault)
		}
		if sc.Drift != nil {
			does = append(does, "drift "+sc.Drift.Kind)
		}
		if sch := sc.Schedule.String(); sch != "" {
			does = append(does, "schedule "+sch)
		}
		p.Scenarios = append(p.Scenarios, dashboard.Scenario{Name: name, Description: sc.Description, Does: strings.Join(does, " · "), Operations: sc.Operations})
	}
	var err error
	if p.Tokens, err = s.tokensView("", ""); err != nil {
		return adminProblem(c, problem.New(http.StatusBadRequest, err.Error()))
	}
	return s.render(c, http.StatusOK, "page", p)
}

func (s *Server) uiPanel(c echo.Context) error {
	var data any
	switch name := c.Param("name"); name {
	case "active":
		data = s.activeView()
	case "clock":
		data = s.clockPanel()
	case "tokens":
		for k := range c.QueryParams() {
			if k != "realm" && k != "state" {
				return adminProblem(c, problem.Newf(http.StatusBadRequest, "unknown filter %q; filters: realm, state", k))
			}
		}
		t, err := s.tokensView(c.QueryParam("realm"), c.QueryParam("state"))
		if err != nil {
			return adminProblem(c, problem.New(http.StatusBadRequest, err.Error()))
		}
		data = t
	case "upstream":
		up := s.upstreamView()
		if up == nil {
			return adminProblem(c, problem.New(http.StatusNotFound, "no validating proxy is configured: there is no upstream to show"))
		}
		data = up
	default:
		return adminProblem(c, problem.Newf(http.StatusNotFound, "the dashboard has no panel %q; panels: active, clock, tokens, upstream", name))
	}
	return s.render(c, http.StatusOK, c.Param("name"), data)
}

func (s *Server) activeView() dashboard.Active {
	var v dashboard.Active
	for _, a := range s.engine.Active() {
		v.Activations = append(v.Activations, dashboard.Activation{Scenario: a.Scenario, Operation: a.Operation, Source: a.Source, Remaining: a.Remaining, Since: a.Since})
	}
	return v
}

func (s *Server) clockPanel() dashboard.Clock {
	off := s.clock.Offset()
	return dashboard.Clock{Now: s.clock.Now(), Offset: off.String(), Moved: off != 0}
}

// tokensShown bounds the token rows of the page: the store may hold
// 100 000.
const tokensShown = 200

func (s *Server) tokensView(realm, state string) (dashboard.Tokens, error) {
	toks, err := s.gate.List(realm, state)
	if err != nil {
		return dashboard.Tokens{}, err
	}
	v := dashboard.Tokens{Mode: s.gate.Mode(), Realms: s.gate.Config().Names, Realm: realm, State: state, Max: tokensShown}
	for _, t := range toks[:min(len(toks), tokensShown)] {
		v.List = append(v.List, dashboardToken(t))
	}
	v.Shown = len(v.List)
	return v, nil
}

func dashboardToken(t lifecycle.Token) dashboard.Token {
	return dashboard.Token{ID: t.ID, Realm: t.Realm, Token: shortMask(t.Token), Owner: t.Owner, State: t.State, LastActivity: t.LastActivity, Expires: t.Expires}
}

// longStars is a run of mask characters longer than the page shows.
var longStars = regexp.MustCompile(`\*{9,}`)

// shortMask shows a masked token in a table cell: its run of stars (64 for
// a Commvault token) cut to 8, its kept ends as they are.
func shortMask(masked string) string {
	if len(masked) < 16 {
		return masked // masked whole
	}
	return longStars.ReplaceAllLiteralString(masked, "********")
}

// upstreamShown bounds the violation rows of the Upstream panel.
const upstreamShown = 50

// upstreamView is what the validating proxy saw (Server.Violations), nil
// without -upstream: the page then has no Upstream panel.
func (s *Server) upstreamView() *dashboard.Upstream {
	sum := s.Violations()
	if sum == nil {
		return nil
	}
	v := &dashboard.Upstream{Target: s.upstreamTarget(), Total: sum.Total}
	for _, c := range sum.Cases {
		v.Exchanges += c.Exchanges
		v.Failing += c.Failing
	}
	for _, c := range sum.Violations[:min(len(sum.Violations), upstreamShown)] {
		v.Rows = append(v.Rows, dashboard.UpstreamRow{Operation: c.Operation, Direction: c.Direction, Rule: c.Rule, Location: c.Location, Count: c.Count})
	}
	v.More = len(sum.Violations) - len(v.Rows)
	return v
}

func (s *Server) uiDetail(c echo.Context) error {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return adminProblem(c, problem.Newf(http.StatusBadRequest, "request id %q: want the number the journal gave it", c.Param("id")))
	}
	e, ok := s.journal.Get(id)
	d := dashboard.Detail{ID: id, Found: ok}
	if ok {
		d = detailView(e)
	}
	return s.render(c, http.StatusOK, "detail", d)
}

func detailView(e journal.Entry) dashboard.Detail {
	d := dashboard.Detail{
		Found: true, ID: e.ID, Time: e.Time, Operation: e.Operation, Method: e.Method, Path: e.Path,
		Status: e.Status, DurationMS: e.DurationMS, Validation: e.Validation, Scenario: e.Scenario,
		Rule: e.Rule, Fault: e.Fault, Step: e.Step, Lifecycle: e.Lifecycle, Upstream: e.Upstream,
		Body: e.Body, BodyCut: e.BodyCut,
	}
	if a := e.Answer; a != nil {
		d.HasAnswer, d.Answer, d.AnswerCut = true, a.Body, a.BodyTruncated
		for _, k := range slices.Sorted(maps.Keys(a.Header)) {
			d.AnswerHeaders = append(d.AnswerHeaders, dashboard.Header{Name: k, Value: a.Header[k]})
			if strings.EqualFold(k, "Content-Type") {
				if mt, _, err := mime.ParseMediaType(a.Header[k]); err == nil {
					d.AnswerType = mt
				}
			}
		}
	}
	for _, v := range e.Violations {
		d.Violations = append(d.Violations, dashboard.Violation{Location: v.Location, Rule: v.Rule, Detail: v.Detail})
	}
	for _, k := range slices.Sorted(maps.Keys(e.Header)) {
		d.Headers = append(d.Headers, dashboard.Header{Name: k, Value: e.Header[k]})
		if strings.EqualFold(k, "Content-Type") {
			mt, _, err := mime.ParseMediaType(e.Header[k])
			if err == nil {
				d.BodyType = mt
			}
		}
	}
	return d
}
