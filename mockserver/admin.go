package mockserver

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/mockserver/journal"
	"github.com/tokenmock/tokenmock/mockserver/problem"
	"github.com/tokenmock/tokenmock/mockserver/scenario"
)

// AdminPrefix is where the admin API lives (admin.yaml documents it).
const AdminPrefix = "/__mock"

// adminRoutes installs the control plane. Its handlers only call the
// engine and the journal; they never touch the mocked routes.
func (s *Server) adminRoutes(g *echo.Group) {
	started := time.Now()
	g.GET("/health", func(c echo.Context) error {
		ops := make([]string, len(s.Contract.Operations))
		for i, o := range s.Contract.Operations {
			ops[i] = o.ID
		}
		return c.JSON(http.StatusOK, map[string]any{
			"status": "ok", "operations": ops, "scenarios": len(s.Engine.Set().Names),
			"seed": s.Engine.Seed(), "uptimeSeconds": time.Since(started).Seconds(), "validation": s.cfg.Validation,
		})
	})
	g.GET("/scenarios", s.listScenarios)
	g.POST("/scenarios/:name/activate", s.activate)
	g.GET("/scenarios/active", func(c echo.Context) error { return s.activeList(c, http.StatusOK) })
	g.DELETE("/scenarios/active", func(c echo.Context) error {
		s.Engine.Clear()
		return c.NoContent(http.StatusNoContent)
	})
	g.GET("/requests", s.listRequests)
	g.DELETE("/requests", func(c echo.Context) error {
		s.Journal.Clear()
		return c.NoContent(http.StatusNoContent)
	})
}

// adminAuth requires Authorization: Bearer -admin-token, when one is set.
func (s *Server) adminAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.AdminToken == "" {
			return next(c)
		}
		scheme, got, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.AdminToken)) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="tokenmock admin"`)
			return adminProblem(c, problem.New(http.StatusUnauthorized, "the admin API needs Authorization: Bearer <the -admin-token>"))
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
	set := s.Engine.Set()
	out := struct {
		Seed      int64          `json:"seed"`
		Scenarios []scenarioView `json:"scenarios"`
		Rules     []ruleView     `json:"rules"`
	}{Seed: s.Engine.Seed(), Scenarios: []scenarioView{}, Rules: []ruleView{}}
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
	for _, r := range set.Rules {
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
	if s.Engine.Set().Scenarios[name] == nil {
		return adminProblem(c, problem.Newf(http.StatusNotFound, "unknown scenario %q; known scenarios: %s", name, strings.Join(s.Engine.Set().Names, ", ")))
	}
	var req struct {
		Operation string `json:"operation"`
		Times     *int64 `json:"times"`
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return adminProblem(c, problem.Newf(http.StatusBadRequest, "read body: %v", err))
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, `the body must be {"operation": "...", "times": N}, both optional: %v`, err))
		}
	}
	times := int64(-1)
	if req.Times != nil {
		if *req.Times < 1 {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "times %d: must be 1 or more (leave it out for until cleared)", *req.Times))
		}
		times = *req.Times
	}
	if err := s.Engine.Activate(name, req.Operation, times); err != nil {
		return adminProblem(c, problem.New(http.StatusBadRequest, err.Error()))
	}
	return s.activeList(c, http.StatusOK)
}

func (s *Server) activeList(c echo.Context, status int) error {
	active := s.Engine.Active()
	if active == nil {
		active = []scenario.Activation{}
	}
	return c.JSON(status, map[string]any{"active": active})
}

func (s *Server) listRequests(c echo.Context) error {
	var since time.Time
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return adminProblem(c, problem.Newf(http.StatusBadRequest, "since %q: want an RFC 3339 time such as 2026-11-27T10:00:00Z", v))
		}
		since = t
	}
	entries := s.Journal.List(c.QueryParam("operation"), since)
	if entries == nil {
		entries = []journal.Entry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"size": s.Journal.Size(), "requests": entries})
}

// adminProblem answers an admin call with a JSON problem.
func adminProblem(c echo.Context, p *problem.Problem) error {
	return c.Blob(p.Status, "application/json; charset=utf-8", p.JSON())
}
