package mockserver

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/redact"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

// exchange is what one request led to, for the log and the journal.
type exchange struct {
	op       string
	body     []byte
	value    any                 // the body, decoded, when it was valid
	rejected *problem.Problem    // the answer was this problem
	reported []problem.Violation // -validation=report: violations let through
	choice   scenario.Choice
	fault    string
	status   int // 0 when a fault gave no answer
	// The answer as the client got it, for the journal (nil: none kept);
	// masked and cut when the entry is made.
	answer *sentAnswer
	// Validating proxy: the answer came from the backend; the request was
	// outside the contract (forwarded unchecked); the answer's violations.
	upstream    bool
	unchecked   bool
	answerViols []problem.Violation
}

// serve answers every request of the contract, in three steps that each
// live in one place:
//
//	validate  the request against the contract (validate.go)
//	choose    the answer: the scenario engine's chain of deciders, the
//	          token lifecycle among them (package scenario, lifecycle)
//	respond   render the fixture answer, apply drift and faults (here)
//
// then writes the log line and the journal entry.
func (s *Server) serve(c echo.Context) error {
	start := time.Now()
	x := &exchange{}
	answer := s.answer
	if s.upstream != nil {
		answer = s.proxy
	}
	w := s.world.Load()
	p := answer(c, w, x)
	red := s.redaction(w, c.Request(), x, p)
	if p != nil {
		red.Problem(p) // before it is answered, logged or journaled
		x.rejected, x.status = p, p.Status
		sent, err := s.sendProblem(c, p)
		if err != nil {
			return err
		}
		x.answer = sent // the journal shows the refusal as the client got it
	}
	s.record(c.Request(), x, red, time.Since(start))
	return nil
}

// sentAnswer is an answer as it went out, kept for the journal entry.
type sentAnswer struct {
	status int
	header http.Header // a copy
	body   []byte
}

// redaction collects the credentials of a request, when anything will be
// written down about it: a journal entry, or a problem (see package
// redact). nil otherwise, which masks nothing.
func (s *Server) redaction(w *world, req *http.Request, x *exchange, p *problem.Problem) *redact.Request {
	if s.journal.Size() == 0 && p == nil && len(x.reported) == 0 && len(x.answerViols) == 0 {
		return nil
	}
	if x.value != nil {
		// A body that passed validation is already decoded, its member
		// names exactly the schema's (escapes resolved): the secrets are
		// found in the value, without reading the body a second time.
		red := w.secrets.Scan(req.Header, req.URL.RawQuery, nil)
		red.AddValue(x.value)
		return red
	}
	return w.secrets.Scan(req.Header, req.URL.RawQuery, x.body)
}

// answer validates, chooses and responds; a problem is returned, not
// written, when the request breaks the contract or asks for what is not.
func (s *Server) answer(c echo.Context, w *world, x *exchange) *problem.Problem {
	v, p := s.validate(c, w, x)
	if p != nil {
		return p
	}
	x.value = v.value
	req := c.Request()
	ch, p := s.engine.Choose(v.op.ID, req.Header, v.value)
	x.choice = ch
	if p != nil {
		return p
	}
	if ch.Delay > 0 && !s.sleep(req.Context(), ch.Delay) {
		return nil // the client gave up: nothing the lifecycle accepted happens
	}
	ch.Settle()
	x.choice = ch
	s.respond(c, w, v, ch, x)
	return nil
}

// respond writes the chosen fixture answer, drifted or faulted as the
// scenario says.
func (s *Server) respond(c echo.Context, w *world, v *valid, ch scenario.Choice, x *exchange) {
	req := c.Request()
	ans := w.fixtures.Operation(v.op.ID).Answers[ch.Answer]
	if ans == nil {
		// A reload between validation and choice: the engine chose from
		// the new fixtures, the request runs on the old ones.
		if fo := s.world.Load().fixtures.Operation(v.op.ID); fo != nil && fo.Answers[ch.Answer] != nil {
			ans = fo.Answers[ch.Answer]
		} else {
			ans = w.fixtures.Operation(v.op.ID).Answers[answers.DefaultAnswer]
		}
	}
	h := c.Response().Header()
	for k, vs := range ans.Header {
		h[k] = vs
	}
	if applied := ch.Applied(); applied != "" {
		h.Set(scenario.HeaderApplied, applied)
	}
	if ch.Lifecycle != "" {
		h.Set(HeaderLifecycle, ch.Lifecycle)
	}
	respType := v.respType
	var body []byte
	ctype := ""
	if ans.Bodies[respType] == nil && len(ans.Bodies) > 0 {
		// The answer (a Prefer: code=, a scenario's) does not come in the
		// negotiated type: give it in one it has rather than empty.
		respType = ans.Media()[0]
	}
	if t := ans.Bodies[respType]; t != nil {
		r := answers.Request{Body: v.value, Header: req.Header, Token: ch.Token}
		if t.Random() {
			r.Rand = s.engine.Draws().Rand("render|"+v.op.ID, ch.Step)
		}
		body = t.Render(r)
		ctype = respType + "; charset=utf-8"
	}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	s.deliver(c, ch, ans.Status, respType, body, x)
}

// deliver writes an answer (a fixture's or the backend's) whose headers
// are set: the fired scenario's drift changes the body, its fault takes
// the place of the answer; the journal keeps what the client got.
func (s *Server) deliver(c echo.Context, ch scenario.Choice, status int, mediaType string, body []byte, x *exchange) {
	h := c.Response().Header()
	if sc := ch.Scenario; ch.Fired && sc.Drift != nil {
		body = sc.Drift.Apply(body, mediaType)
	}
	if sc := ch.Scenario; ch.Fired && sc.Fault != "" {
		x.fault = sc.Fault
		x.status = s.fault(c, sc, status, h.Get("Content-Type"), body)
		return
	}
	x.status = status
	if s.cfg.JournalSize > 0 {
		x.answer = &sentAnswer{status, h.Clone(), body}
	}
	// A write error means the client has gone: nothing more can be said.
	c.Response().WriteHeader(status)
	_, _ = c.Response().Write(body)
}

// HeaderLifecycle tells the client what the token lifecycle decided.
const HeaderLifecycle = "X-Mock-Lifecycle"

// sleep waits d; it reports false when the client gave up first. When the
// server closes, the wait ends at once and the answer goes out: a request
// in flight still gets its answer, and no delay holds the shutdown up.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.stopping.Done():
		return true
	}
}

// logViolations bounds the violations of a log line as a journal entry's.
const logViolations = journal.ViolationsKeep

// record writes the request's log line and journal entry, both bounded and
// with the credentials red found masked.
func (s *Server) record(req *http.Request, x *exchange, red *redact.Request, d time.Duration) {
	validation := "ok"
	var viols []problem.Violation
	switch {
	case x.unchecked:
		validation = "unchecked"
	case x.rejected != nil:
		validation, viols = "rejected", violationsOf(x.rejected)
	case len(x.reported) > 0 || len(x.answerViols) > 0:
		validation, viols = "reported", append(slices.Clone(x.reported), x.answerViols...)
	}
	if x.rejected != nil && x.upstream {
		viols = append(slices.Clone(viols), x.answerViols...) // enforce: the 502 lists them
	}
	if x.rejected == nil || x.upstream {
		viols = problem.Bound(viols)
		red.Violations(viols)
	}
	applied := x.choice.Applied()
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", problem.Cut(red.String(req.URL.Path), journal.PathMax)),
		slog.String("operation", x.op),
		slog.Int("status", x.status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("validation", validation),
	}
	if applied != "" {
		attrs = append(attrs, slog.String("scenario", applied), slog.String("rule", x.choice.Source), slog.Uint64("step", x.choice.Step))
	}
	if x.choice.Lifecycle != "" {
		attrs = append(attrs, slog.String("lifecycle", x.choice.Lifecycle))
	}
	if x.fault != "" {
		attrs = append(attrs, slog.String("fault", x.fault))
	}
	if x.rejected != nil {
		attrs = append(attrs, slog.String("problem", (&problem.Problem{Status: x.rejected.Status, Detail: x.rejected.Detail, Errors: problem.Within(viols, logViolations)}).Error()))
	} else if len(viols) > 0 {
		attrs = append(attrs, slog.String("problem", (&problem.Problem{Status: http.StatusBadRequest, Detail: "reported, answered anyway", Errors: problem.Within(viols, logViolations)}).Error()))
	}
	if x.upstream {
		attrs = append(attrs, slog.Bool("upstream", true))
	}
	s.log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)

	if s.journal.Size() == 0 {
		return
	}
	var answer *journal.Answer
	if a := x.answer; a != nil {
		answer = journal.NewAnswer(a.status, a.header, a.body, s.journal.BodyMax(), red)
	}
	s.journal.AddMasked(journal.Entry{
		Time:       s.clock.Now().UTC(),
		Operation:  x.op,
		Method:     req.Method,
		Path:       req.URL.RequestURI(),
		Validation: validation,
		Violations: viols,
		Scenario:   applied,
		Rule:       x.choice.Source,
		Step:       x.choice.Step,
		Fault:      x.fault,
		Lifecycle:  x.choice.Lifecycle,
		Status:     x.status,
		Answer:     answer,
		Upstream:   x.upstream,
		DurationMS: float64(d.Microseconds()) / 1000,
	}, req.Header, x.body, red)
}
