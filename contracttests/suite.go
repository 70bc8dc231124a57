// Package contracttests checks that a server honours openapi.yaml, in JSON
// and in XML: the mock (started in-process by default) or any server named
// by CONTRACT_BASE_URL. The checks are derived from the spec and the
// fixtures' sample requests, not written per endpoint, and answers are
// validated with the same machinery the mock uses (kin-openapi, and the
// schema-guided XML decoder for namespaces, member order, i:nil, enums).
// XML answers are judged a second time by an oracle of the suite's own
// (dotnetxml), learnt from bodies the real .NET serializer wrote: a bug
// of the mock's decoder, or of the spec, is not shared by that judge.
//
// The checks are plain functions over a Reporter, so that the package's
// own tests can run them against a deliberately broken server and see
// them fail.
package contracttests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/contracttests/dotnetxml"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/contract"
)

// Environment variables that point the suite elsewhere.
const (
	EnvBaseURL    = "CONTRACT_BASE_URL"    // the server to check; unset: the mock, in-process
	EnvAuthtoken  = "CONTRACT_AUTHTOKEN"   // Authtoken sent where the spec asks for one
	EnvSpec       = "CONTRACT_SPEC"        // another openapi.yaml
	EnvCompareURL = "CONTRACT_COMPARE_URL" // a second server, for the drift comparison
)

// Reporter is what a check reports to: *testing.T, *rapid.T, or a collector.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// Suite is the contract and the samples to check a target with.
type Suite struct {
	Contract  *contract.Contract
	Samples   []Sample
	BaseURL   string
	Client    *http.Client
	Authtoken string
	// Mock is true when the target is tokenmock: checks of mock-only
	// features (scenarios) run only then.
	Mock bool
	// Oracle judges XML answers by what .NET writes (the goldens).
	Oracle *dotnetxml.Oracle
}

// Sample is a valid request body of an operation.
type Sample struct {
	Op        *contract.Operation
	Name      string // examples.seed, fixture:dotnet-client, ...
	MediaType string
	Body      []byte
}

// LoadContract loads the spec named by CONTRACT_SPEC, or the embedded one.
func LoadContract() (*contract.Contract, error) {
	if p := os.Getenv(EnvSpec); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvSpec, err)
		}
		return contract.Load(data, p)
	}
	return contract.Load(tokenmock.Spec, tokenmock.SpecName)
}

// New returns a suite for the contract and the target at baseURL. The
// samples are the spec's request examples and the embedded fixtures'
// sample requests (when they match the spec in use).
func New(c *contract.Contract, baseURL string, mock bool) (*Suite, error) {
	s := &Suite{
		Contract:  c,
		BaseURL:   strings.TrimRight(baseURL, "/"),
		Client:    &http.Client{Timeout: 30 * time.Second},
		Authtoken: os.Getenv(EnvAuthtoken),
		Mock:      mock,
	}
	if s.Authtoken == "" {
		s.Authtoken = "QSDK 3f9a1c47e2b85d60c3a91f7e4b28d05a"
	}
	var err error
	if s.Oracle, err = loadOracle(); err != nil {
		return nil, err
	}
	for _, op := range c.Operations {
		rb := op.Route.Operation.RequestBody
		if rb == nil || rb.Value == nil {
			s.Samples = append(s.Samples, Sample{Op: op, Name: "no body"})
			continue
		}
		for mt, media := range rb.Value.Content {
			mt = strings.ToLower(mt)
			for name, ex := range media.Examples {
				if ex == nil || ex.Value == nil {
					continue
				}
				body, err := exampleBytes(ex.Value.Value, mt)
				if err != nil {
					return nil, fmt.Errorf("%s example %s: %w", op.ID, name, err)
				}
				s.Samples = append(s.Samples, Sample{Op: op, Name: "examples." + name, MediaType: mt, Body: body})
			}
		}
	}
	if fx, err := answers.Load(fixtures.FS, "fixtures", c); err == nil {
		for _, op := range c.Operations {
			fo := fx.Operation(op.ID)
			if fo == nil {
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(fo.Requests)) {
				for _, mt := range slices.Sorted(maps.Keys(fo.Requests[name])) {
					s.Samples = append(s.Samples, Sample{Op: op, Name: "fixture:" + name, MediaType: strings.ToLower(mt), Body: []byte(fo.Requests[name][mt])})
				}
			}
		}
	}
	golden, err := goldenSamples(c)
	if err != nil {
		return nil, fmt.Errorf("the .NET goldens: %w", err)
	}
	s.Samples = append(s.Samples, golden...)
	slices.SortStableFunc(s.Samples, func(a, b Sample) int {
		return strings.Compare(a.Op.ID+a.MediaType+a.Name, b.Op.ID+b.MediaType+b.Name)
	})
	return s, nil
}

// Probe tells whether anything answers HTTP at baseURL: any status will
// do. Its error is the network's, cut to its cause, for one line.
func Probe(baseURL string, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(strings.TrimRight(baseURL, "/") + "/")
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	resp.Body.Close()
	return nil
}

// Request is one call of an operation.
type Request struct {
	Op          *contract.Operation
	ContentType string // "" for no body
	Accept      string
	Body        []byte
	Header      http.Header // extra headers
	NoAuth      bool        // leave out the credentials the operation asks for
	What        string      // what the request tries, for messages
}

// Response is what came back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends r to the target.
func (s *Suite) Do(ctx context.Context, r Request) (*Response, error) {
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	path := r.Op.Path
	req, err := http.NewRequestWithContext(ctx, r.Op.Method, s.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	if !r.NoAuth {
		for _, name := range r.Op.APIKeyHeaders() {
			req.Header.Set(name, s.Authtoken)
		}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// NeedsAuth reports whether an operation asks for credentials.
func (s *Suite) NeedsAuth(op *contract.Operation) bool { return len(op.APIKeyHeaders()) > 0 }

// Describe names a request for a failure message: operation, method,
// path, media types and the body cut to a few lines.
func Describe(r Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s %s", r.Op.ID, kindOf(r.ContentType), r.Op.Method, r.Op.Path)
	if r.ContentType != "" {
		fmt.Fprintf(&b, " Content-Type: %s", r.ContentType)
	}
	if r.Accept != "" {
		fmt.Fprintf(&b, " Accept: %s", r.Accept)
	}
	if r.NoAuth {
		b.WriteString(" (no credentials)")
	}
	if r.What != "" {
		fmt.Fprintf(&b, " [%s]", r.What)
	}
	if len(r.Body) > 0 {
		b.WriteString("\n    body: ")
		b.WriteString(cutLines(string(r.Body), 4, 300))
	}
	return b.String()
}

func cutLines(s string, lines, chars int) string {
	parts := strings.SplitN(s, "\n", lines+1)
	if len(parts) > lines {
		parts = append(parts[:lines], "…")
	}
	s = strings.Join(parts, "\n          ")
	if len(s) > chars {
		s = s[:chars] + "…"
	}
	return s
}

func kindOf(mt string) string {
	switch {
	case mt == "":
		return "(no body)"
	case contract.IsXML(mt):
		return "XML"
	case contract.IsJSON(mt):
		return "JSON"
	}
	return mt
}

// CheckAnswer reports every way an answer breaks the contract: a status
// the operation does not document, a Content-Type other than the one
// asked for, a body or required header that does not match the spec.
// wantClass, when not 0, is the status class expected (2 or 4). An XML
// body is also judged by the .NET oracle (rules [dotnet:...]).
func (s *Suite) CheckAnswer(r Reporter, req Request, resp *Response, wantClass int) {
	r.Helper()
	where := fmt.Sprintf("%s %d", kindOf(mediaOf(resp.Header)), resp.Status)
	fail := func(format string, args ...any) {
		r.Helper()
		r.Errorf("%s %s: %s\n    request: %s", req.Op.ID, where, fmt.Sprintf(format, args...), Describe(req))
	}
	if wantClass != 0 && resp.Status/100 != wantClass {
		fail("status %d, want %dxx; body: %s", resp.Status, wantClass, cutLines(string(resp.Body), 3, 300))
		return
	}
	if req.Op.Route.Operation.Responses.Status(resp.Status) == nil {
		fail("status %d is not one the spec documents for %s (it documents %s)", resp.Status, req.Op.ID, documented(req.Op))
		return
	}
	got := mediaOf(resp.Header)
	if len(resp.Body) > 0 && req.Accept != "" && !strings.Contains(req.Accept, "*") && got != req.Accept {
		fail("Content-Type %q, want the negotiated %s", resp.Header.Get("Content-Type"), req.Accept)
		return
	}
	err := req.Op.ValidateResponse(context.Background(), resp.Status, resp.Header, resp.Body)
	if m, ok := err.(*contract.Mismatch); ok {
		for _, v := range m.Violations {
			fail("%s", v.String())
		}
	} else if err != nil {
		fail("%v", err)
	}
	s.checkDotnet(r, fail, req, resp)
}

func mediaOf(h http.Header) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt
}

func documented(op *contract.Operation) string {
	var codes []string
	for code := range op.Route.Operation.Responses.Map() {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return strings.Join(codes, ", ")
}
