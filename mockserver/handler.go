package mockserver

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokenmock/tokenmock/mockserver/contract"
	"github.com/tokenmock/tokenmock/mockserver/fixture"
	"github.com/tokenmock/tokenmock/mockserver/problem"
)

// serve answers every request of the contract. The checks run in a fixed
// order, each with its own status, so that a client sees the first thing
// wrong the way a real server would find it: route (404, 405), body size
// (413), credentials (401), Content-Type (415), Accept (406), body (400).
func (s *Server) serve(c echo.Context) error {
	start := time.Now()
	req := c.Request()
	opID := ""
	status, p := s.answer(c, &opID)
	if p != nil {
		status = p.Status
		if err := s.writeProblem(c, p); err != nil {
			return err
		}
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.String("operation", opID),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	}
	if p != nil {
		attrs = append(attrs, slog.String("validation", "rejected"), slog.String("problem", p.Error()))
	} else {
		attrs = append(attrs, slog.String("validation", "ok"))
	}
	s.log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
	return nil
}

// answer validates the request and writes the fixture's answer; a problem
// is returned, not written, when the request breaks the contract.
func (s *Server) answer(c echo.Context, opID *string) (int, *problem.Problem) {
	req := c.Request()
	ctx := req.Context()
	op, _, p := s.Contract.Find(req)
	if p != nil {
		return 0, p
	}
	*opID = op.ID
	body, p := s.readBody(req)
	if p != nil {
		return 0, p
	}
	if p := op.CheckSecurity(ctx, req); p != nil {
		return 0, p
	}
	var reqType string
	ct := req.Header.Get("Content-Type")
	if len(op.RequestTypes) > 0 && (len(body) > 0 || ct != "") {
		if reqType, p = op.RequestMediaType(ct); p != nil {
			return 0, p
		}
	}
	ans := s.Fixtures.Operation(op.ID).Answers[fixture.DefaultAnswer]
	offers := ans.Media()
	respType, p := contract.Negotiate(req.Header.Get("Accept"), reqType, offers)
	if p != nil {
		return 0, p
	}
	var value any
	if reqType != "" {
		if value, p = op.ValidateBody(ctx, req, reqType, body); p != nil {
			return 0, p
		}
	} else if rb := op.Route.Operation.RequestBody; rb != nil && rb.Value != nil && rb.Value.Required {
		return 0, problem.New(http.StatusBadRequest, "the request body is required", problem.Violation{Rule: "required", Detail: "the request body is required; send one of " + strings.Join(op.RequestTypes, ", ")})
	}
	h := c.Response().Header()
	for k, vs := range ans.Header {
		h[k] = vs
	}
	// A write error means the client has gone: nothing more can be said.
	if respType == "" {
		_ = c.NoContent(ans.Status)
		return ans.Status, nil
	}
	out := ans.Bodies[respType].Render(fixture.Request{Body: value, Header: req.Header})
	_ = c.Blob(ans.Status, respType+"; charset=utf-8", out)
	return ans.Status, nil
}
