package mockserver

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/mockserver/answers"
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
	// The answer as the client got it, for the journal (nil: none kept).
	answer *journal.Answer
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
	if p := answer(c, s.world.Load(), x); p != nil {
		x.rejected, x.status = p, p.Status
		if err := s.writeProblem(c, p); err != nil {
			return err
		}
	}
	s.record(c.Request(), x, time.Since(start))
	return nil
}

// answer validates, chooses and responds; a problem is returned, not
// written, when the request breaks the contract or asks for what is not.
func (s *Server) answer(c echo.Context, w *world, x *exchange) *problem.Problem {
	v, p := s.validate(c, w, x)
	if p != nil {
		return p
	}
	req := c.Request()
	ch, p := s.engine.Choose(v.op.ID, req.Header, v.value)
	x.choice = ch
	if p != nil {
		return p
	}
	if ch.Delay > 0 && !s.sleep(req.Context(), ch.Delay) {
		return nil // the client gave up
	}
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
	if sc := ch.Scenario; ch.Fired && sc.Drift != nil {
		body = sc.Drift.Apply(body, respType)
	}
	if sc := ch.Scenario; ch.Fired && sc.Fault != "" {
		x.fault = sc.Fault
		x.status = s.fault(c, sc, ans.Status, ctype, body)
		return
	}
	x.status = ans.Status
	if s.cfg.JournalSize > 0 {
		ah := h.Clone()
		if ctype != "" {
			ah.Set("Content-Type", ctype)
		}
		x.answer = journal.NewAnswer(ans.Status, ah, body, 4096)
	}
	// A write error means the client has gone: nothing more can be said.
	if ctype == "" {
		_ = c.NoContent(ans.Status)
		return
	}
	_ = c.Blob(ans.Status, ctype, body)
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

// record writes the request's log line and journal entry.
func (s *Server) record(req *http.Request, x *exchange, d time.Duration) {
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
		viols = append(viols, x.answerViols...) // enforce: the 502 lists them
	}
	applied := x.choice.Applied()
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
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
		attrs = append(attrs, slog.String("problem", x.rejected.Error()))
	} else if len(viols) > 0 {
		attrs = append(attrs, slog.String("problem", (&problem.Problem{Status: http.StatusBadRequest, Detail: "reported, answered anyway", Errors: viols}).Error()))
	}
	if x.upstream {
		attrs = append(attrs, slog.Bool("upstream", true))
	}
	s.log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)

	s.journal.Add(journal.Entry{
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
		Answer:     x.answer,
		Upstream:   x.upstream,
		DurationMS: float64(d.Microseconds()) / 1000,
	}, req.Header, x.body)
}
