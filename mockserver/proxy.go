package mockserver

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/lifecycle"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/scenario"
	"github.com/tokenmock/tokenmock/internal/upstream"
)

// HeaderViolations tells a client of the validating proxy how many
// violations of the contract the backend's answer (and its own request)
// had.
const HeaderViolations = "X-Mock-Violations"

// proxy is answer for a validating proxy (-upstream): the request is
// checked as always, then forwarded to the backend, whose answer is
// checked against the operation's documented answers and passed back byte
// for byte, status unchanged. A scenario asked for explicitly still
// applies: its answer replaces the backend's, its drift or fault is
// applied to the backend's answer.
func (s *Server) proxy(c echo.Context, w *world, x *exchange) *problem.Problem {
	req := c.Request()
	v, p := s.validate(c, w, x)
	if p != nil && (p.Status == http.StatusNotFound || p.Status == http.StatusMethodNotAllowed) {
		// Outside the contract: forwarded untouched, journaled unchecked.
		x.unchecked = true
		if x.body, p = s.readBody(req); p != nil {
			return p
		}
		return s.forward(c, nil, x)
	}
	if p != nil {
		return p // enforce: a request that breaks the contract never reaches the backend
	}
	for i := range x.reported {
		x.reported[i].Direction = "request"
	}
	x.value = v.value
	ch, p := s.engine.Choose(v.op.ID, req.Header, v.value)
	x.choice = ch
	if p != nil {
		return p
	}
	if ch.Delay > 0 && !s.sleep(req.Context(), ch.Delay) {
		return nil
	}
	if ch.Decided {
		s.respond(c, w, v, ch, x) // a fixture answer asked for: the mock answers
		return nil
	}
	return s.forward(c, v, x)
}

// forward sends the request to the backend and gives its answer, checked
// when the request is an operation's (v not nil).
func (s *Server) forward(c echo.Context, v *valid, x *exchange) *problem.Problem {
	req := c.Request()
	x.upstream = true
	ans, err := s.upstream.Forward(req.Context(), req, x.body)
	if err != nil {
		if req.Context().Err() != nil {
			return nil // the client has gone
		}
		return problem.Newf(http.StatusBadGateway, "the backend %s did not answer: %v", s.upstream.Target(), err)
	}
	if v != nil {
		x.answerViols = s.checkAnswer(v.op, ans)
		s.report.Add(v.op.ID, contract.MediaType(ans.Header), ans.Status, append(append([]problem.Violation{}, x.reported...), x.answerViols...))
		if s.recorder != nil {
			s.recordAnswer(v, ans, req.Header, x)
		}
		if len(x.answerViols) > 0 && s.cfg.UpstreamMode == upstream.ModeEnforce {
			p := problem.New(http.StatusBadGateway, fmt.Sprintf("the backend's answer (%d) breaks the contract of %s", ans.Status, v.op.ID), x.answerViols...)
			p.Header = http.Header{HeaderViolations: {strconv.Itoa(len(x.reported) + len(x.answerViols))}}
			return p
		}
	}
	h := c.Response().Header()
	for k, vs := range ans.Header {
		h[k] = vs
	}
	if v != nil {
		h.Set(HeaderViolations, strconv.Itoa(len(x.reported)+len(x.answerViols)))
	}
	// The length is the bytes given, which a drift or fault changes.
	h.Del("Content-Length")
	if applied := x.choice.Applied(); applied != "" {
		h.Set(scenario.HeaderApplied, applied)
	}
	s.deliver(c, x.choice, ans.Status, contract.MediaType(ans.Header), ans.Body, x)
	return nil
}

// checkAnswer checks a backend's answer against the operation's documented
// answers: status, headers, Content-Type, body (XML through the contract's
// own decoder).
func (s *Server) checkAnswer(op *contract.Operation, ans *upstream.Answer) []problem.Violation {
	err := op.ValidateResponse(s.stopping, ans.Status, ans.Header, ans.Body)
	if err == nil {
		return nil
	}
	var viols []problem.Violation
	if m, ok := err.(*contract.Mismatch); ok {
		viols = m.Violations
	} else {
		viols = []problem.Violation{{Rule: "response", Detail: err.Error()}}
	}
	for i := range viols {
		viols[i].Direction = "answer"
	}
	return viols
}

// recordAnswer hands the backend's answer to record mode.
func (s *Server) recordAnswer(v *valid, ans *upstream.Answer, reqHeader http.Header, x *exchange) {
	mints := false
	if b := s.gate.Config().Bindings[v.op.ID]; b != nil && b.Action == lifecycle.Renew {
		mints = true
	}
	name, err := s.recorder.Record(upstream.Exchange{
		Operation: v.op.ID, Status: ans.Status, Header: ans.Header, Body: ans.Body, Violations: x.answerViols,
		RequestBody: v.value, RequestHeader: reqHeader, Mints: mints,
	})
	if err != nil {
		s.log.Error("record mode: cannot write the recording", "err", err)
	} else if name != "" {
		s.log.Debug("record mode", "operation", v.op.ID, "answer", name)
	}
}
