package mockserver

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/mockserver/contract"
	"github.com/tokenmock/tokenmock/mockserver/fixture"
	"github.com/tokenmock/tokenmock/mockserver/journal"
	"github.com/tokenmock/tokenmock/mockserver/problem"
	"github.com/tokenmock/tokenmock/mockserver/scenario"
)

// exchange is what one request led to, for the log and the journal.
type exchange struct {
	op       string
	body     []byte
	rejected *problem.Problem    // the answer was this problem
	reported []problem.Violation // -validation=report: violations let through
	choice   scenario.Choice
	fault    string
	status   int // 0 when a fault gave no answer
}

// serve answers every request of the contract. The checks run in a fixed
// order, each with its own status, so that a client sees the first thing
// wrong the way a real server would find it: route (404, 405), body size
// (413), credentials (401), Content-Type (415), Accept (406), body (400).
// Only a valid request reaches the scenario engine.
func (s *Server) serve(c echo.Context) error {
	start := time.Now()
	x := &exchange{}
	if p := s.answer(c, x); p != nil {
		x.rejected, x.status = p, p.Status
		if err := s.writeProblem(c, p); err != nil {
			return err
		}
	}
	s.record(c.Request(), x, time.Since(start))
	return nil
}

// answer validates the request and answers it; a problem is returned, not
// written, when the request breaks the contract or asks for what is not.
func (s *Server) answer(c echo.Context, x *exchange) *problem.Problem {
	req := c.Request()
	ctx := req.Context()
	op, _, p := s.Contract.Find(req)
	if p != nil {
		return p
	}
	x.op = op.ID
	if x.body, p = s.readBody(req); p != nil {
		return p
	}
	// report lets a violation through in -validation=report mode.
	report := func(p *problem.Problem) bool {
		if s.cfg.Validation != "report" {
			return false
		}
		x.reported = append(x.reported, violationsOf(p)...)
		return true
	}
	if p := op.CheckSecurity(ctx, req); p != nil && !report(p) {
		return p
	}
	var reqType string
	ct := req.Header.Get("Content-Type")
	bodySent := len(x.body) > 0 || ct != ""
	if len(op.RequestTypes) > 0 && bodySent {
		if reqType, p = op.RequestMediaType(ct); p != nil && !report(p) {
			return p
		}
	}
	respType, p := contract.Negotiate(req.Header.Get("Accept"), reqType, op.ResponseTypes)
	if p != nil {
		if !report(p) {
			return p
		}
		respType = op.ResponseTypes[0]
	}
	var value any
	if reqType != "" {
		if value, p = op.ValidateBody(reqType, x.body); p != nil && !report(p) {
			return p
		}
	} else if rb := op.Route.Operation.RequestBody; rb != nil && rb.Value != nil && rb.Value.Required && !bodySent {
		p := problem.New(http.StatusBadRequest, "the request body is required", problem.Violation{Rule: "required", Detail: "the request body is required; send one of " + strings.Join(op.RequestTypes, ", ")})
		if !report(p) {
			return p
		}
	}

	ch, p := s.Engine.Choose(op.ID, req.Header, value)
	if p != nil {
		return p
	}
	x.choice = ch
	if ch.Delay > 0 && !sleep(ctx, ch.Delay) {
		return nil // the client gave up
	}
	ans := s.Fixtures.Operation(op.ID).Answers[ch.Answer]
	h := c.Response().Header()
	for k, vs := range ans.Header {
		h[k] = vs
	}
	if applied := ch.Applied(); applied != "" {
		h.Set(scenario.HeaderApplied, applied)
	}
	var body []byte
	ctype := ""
	if ans.Bodies[respType] == nil && len(ans.Bodies) > 0 {
		// The answer (a Prefer: code=, a scenario's) does not come in the
		// negotiated type: give it in one it has rather than empty.
		respType = ans.Media()[0]
	}
	if t := ans.Bodies[respType]; t != nil {
		body = t.Render(fixture.Request{Body: value, Header: req.Header})
		ctype = respType + "; charset=utf-8"
	}
	if sc := ch.Scenario; ch.Fired && sc.Drift != nil {
		body = sc.Drift.Apply(body, respType)
	}
	if sc := ch.Scenario; ch.Fired && sc.Fault != "" {
		x.fault = sc.Fault
		x.status = s.fault(c, sc, ans.Status, ctype, body)
		return nil
	}
	x.status = ans.Status
	// A write error means the client has gone: nothing more can be said.
	if ctype == "" {
		_ = c.NoContent(ans.Status)
		return nil
	}
	_ = c.Blob(ans.Status, ctype, body)
	return nil
}

// sleep waits d, or less if ctx ends; it reports whether it waited it all.
func sleep(ctx interface{ Done() <-chan struct{} }, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// violationsOf lists what a problem found, naming the rule from its status
// when it lists no violation of its own.
func violationsOf(p *problem.Problem) []problem.Violation {
	if len(p.Errors) > 0 {
		return p.Errors
	}
	return []problem.Violation{{Rule: ruleOf(p.Status), Detail: p.Detail}}
}

// ruleOf names the rule a problem without listed violations broke.
func ruleOf(status int) string {
	switch status {
	case http.StatusNotFound:
		return "path"
	case http.StatusMethodNotAllowed:
		return "method"
	case http.StatusNotAcceptable:
		return "accept"
	case http.StatusRequestEntityTooLarge, http.StatusRequestHeaderFieldsTooLarge:
		return "size"
	case http.StatusUnsupportedMediaType:
		return "content-type"
	case http.StatusUnauthorized:
		return "security"
	case http.StatusBadRequest:
		return "request"
	}
	return "contract"
}

// record writes the request's log line and journal entry.
func (s *Server) record(req *http.Request, x *exchange, d time.Duration) {
	validation := "ok"
	var viols []problem.Violation
	switch {
	case x.rejected != nil:
		validation, viols = "rejected", violationsOf(x.rejected)
	case len(x.reported) > 0:
		validation, viols = "reported", x.reported
	}
	applied := x.choice.Applied()
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.String("operation", x.op),
		slog.Int("status", x.status),
		slog.Duration("duration", d),
		slog.String("validation", validation),
	}
	if applied != "" {
		attrs = append(attrs, slog.String("scenario", applied), slog.String("rule", x.choice.Source), slog.Uint64("step", x.choice.Step))
	}
	if x.fault != "" {
		attrs = append(attrs, slog.String("fault", x.fault))
	}
	if x.rejected != nil {
		attrs = append(attrs, slog.String("problem", x.rejected.Error()))
	} else if len(x.reported) > 0 {
		attrs = append(attrs, slog.String("problem", (&problem.Problem{Status: http.StatusBadRequest, Detail: "reported, answered anyway", Errors: x.reported}).Error()))
	}
	s.log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)

	s.Journal.Add(journal.Entry{
		Time:       time.Now().UTC(),
		Operation:  x.op,
		Method:     req.Method,
		Path:       req.URL.RequestURI(),
		Validation: validation,
		Violations: viols,
		Scenario:   applied,
		Rule:       x.choice.Source,
		Step:       x.choice.Step,
		Fault:      x.fault,
		Status:     x.status,
		DurationMS: float64(d.Microseconds()) / 1000,
	}, req.Header, x.body)
}
