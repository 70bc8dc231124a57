package mockserver

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/problem"
)

// valid is a request the contract accepts (or, in -validation=report
// mode, lets through), with what the rest of the pipeline needs of it.
type valid struct {
	op       *contract.Operation
	value    any    // the decoded body
	respType string // the negotiated media type of the answer
}

// validate checks a request against the contract. The checks run in a
// fixed order, each with its own status, so that a client sees the first
// thing wrong the way a real server would find it: route (404, 405), body
// size (413), credentials (401), Content-Type (415), Accept (406), body
// (400). In -validation=report mode the violations after routing and size
// are recorded in x and the request goes on.
func (s *Server) validate(c echo.Context, w *world, x *exchange) (*valid, *problem.Problem) {
	req := c.Request()
	op, _, p := w.contract.Find(req)
	if p != nil {
		return nil, p
	}
	x.op = op.ID
	if x.body, p = s.readBody(req); p != nil {
		return nil, p
	}
	// report lets a violation through in -validation=report mode.
	report := func(p *problem.Problem) bool {
		if !s.reporting() {
			return false
		}
		x.reported = append(x.reported, violationsOf(p)...)
		return true
	}
	if p := op.CheckSecurity(req.Context(), req); p != nil && !report(p) {
		return nil, p
	}
	v := &valid{op: op}
	var reqType string
	ct := req.Header.Get("Content-Type")
	bodySent := len(x.body) > 0 || ct != ""
	if len(op.RequestTypes) > 0 && bodySent {
		if reqType, p = op.RequestMediaType(ct); p != nil && !report(p) {
			return nil, p
		}
	}
	v.respType, p = contract.Negotiate(req.Header.Get("Accept"), reqType, op.ResponseTypes)
	if p != nil {
		if !report(p) {
			return nil, p
		}
		v.respType = op.ResponseTypes[0]
	}
	if reqType != "" {
		if v.value, p = op.ValidateBody(reqType, x.body); p != nil && !report(p) {
			return nil, p
		}
	} else if rb := op.Route.Operation.RequestBody; rb != nil && rb.Value != nil && rb.Value.Required && !bodySent {
		p := problem.New(http.StatusBadRequest, "the request body is required", problem.Violation{Rule: "required", Detail: "the request body is required; send one of " + strings.Join(op.RequestTypes, ", ")})
		if !report(p) {
			return nil, p
		}
	}
	return v, nil
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

// reporting tells whether violations are let through: -validation report,
// or a proxy in -upstream-mode report.
func (s *Server) reporting() bool {
	return s.cfg.Validation == "report" || (s.upstream != nil && s.cfg.UpstreamMode == "report")
}
