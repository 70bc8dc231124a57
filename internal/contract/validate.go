package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-openapi/jsonpointer"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// CheckSecurity answers 401 when the request carries none of the
// credentials the operation's security requirements ask for. The mock
// checks presence, not value: it has no sessions to check against.
func (o *Operation) CheckSecurity(ctx context.Context, req *http.Request) *problem.Problem {
	if len(o.security) == 0 {
		return nil
	}
	// The common case, requirements of one API key in a header each, is
	// checked directly: a present, non-empty header satisfies it, exactly
	// as presentCredentials decides below.
	if o.onlyAPIKeys {
		for _, name := range o.apiKeyHeaders {
			if strings.TrimSpace(req.Header.Get(name)) != "" {
				return nil
			}
		}
	}
	input := &openapi3filter.RequestValidationInput{
		Request: req,
		Route:   o.Route,
		Options: &openapi3filter.Options{AuthenticationFunc: presentCredentials},
	}
	err := openapi3filter.ValidateSecurityRequirements(ctx, input, o.security)
	if err == nil {
		return nil
	}
	var viols []problem.Violation
	var sre *openapi3filter.SecurityRequirementsError
	if errors.As(err, &sre) {
		for _, e := range sre.Errors {
			var me missingCredential
			if errors.As(e, &me) {
				viols = append(viols, problem.Violation{Location: me.name, Rule: "security", Detail: me.Error()})
			}
		}
	}
	if len(viols) == 0 {
		viols = []problem.Violation{{Rule: "security", Detail: err.Error()}}
	}
	return problem.New(http.StatusUnauthorized, "the request carries no credentials the operation accepts", viols...)
}

type missingCredential struct{ name, in string }

func (m missingCredential) Error() string {
	return fmt.Sprintf("%s %s is missing or empty", m.in, m.name)
}

// presentCredentials is an openapi3filter.AuthenticationFunc that accepts
// any non-empty credential in the place its scheme names.
func presentCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	req := in.RequestValidationInput.Request
	switch s.Type {
	case "apiKey":
		var v string
		switch s.In {
		case "header":
			v = req.Header.Get(s.Name)
		case "query":
			v = req.URL.Query().Get(s.Name)
		case "cookie":
			if c, err := req.Cookie(s.Name); err == nil {
				v = c.Value
			}
		}
		if strings.TrimSpace(v) == "" {
			return missingCredential{name: s.Name, in: s.In}
		}
	case "http":
		h := req.Header.Get("Authorization")
		scheme, cred, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, s.Scheme) || strings.TrimSpace(cred) == "" {
			return missingCredential{name: "Authorization", in: "header"}
		}
	default:
		if req.Header.Get("Authorization") == "" {
			return missingCredential{name: "Authorization", in: "header"}
		}
	}
	return nil
}

// ValidateBody checks body, of the given media type (one of RequestTypes),
// against the operation's request schema and returns the decoded value. A
// 400 problem lists every violation found.
//
// It does what openapi3filter.ValidateRequestBody does, with what does not
// depend on the request found once at load time: the body decoder
// of the contract for the media type, the schema, the validation options.
// The validation is kin-openapi's: one path for JSON and XML.
func (o *Operation) ValidateBody(mediaType string, body []byte) (any, *problem.Problem) {
	bc := o.bodies[mediaType]
	if bc == nil {
		return nil, nil
	}
	if len(body) == 0 {
		if bc.required {
			return nil, problem.New(http.StatusBadRequest, "the request body is required", problem.Violation{Rule: "required", Detail: "the request body is required"})
		}
		return nil, nil
	}
	if bc.schema == nil || bc.decode == nil {
		return nil, nil // no schema, or a media type kin-openapi does not decode: nothing to check
	}
	// A bytes.Buffer: the registered decoders take its bytes without a copy.
	v, err := bc.decode(bytes.NewBuffer(body), bc.header, bc.schema, nil)
	if err == nil {
		err = bc.schema.Value.VisitJSON(v, bc.opts...)
	}
	if err != nil {
		viols := Violations(err, mediaType, bc.schema.Value)
		return nil, problem.New(http.StatusBadRequest, fmt.Sprintf("the %s body does not match the contract of %s", kind(mediaType), o.ID), viols...)
	}
	return v, nil
}

// bodyCheck is what validating one request media type needs.
type bodyCheck struct {
	required bool
	schema   *openapi3.SchemaRef
	header   http.Header // Content-Type, for decoders that look; read-only
	decode   openapi3filter.BodyDecoder
	opts     []openapi3.SchemaValidationOption
}

func (c *Contract) newBodyCheck(rb *openapi3.RequestBody, mt string, media *openapi3.MediaType) *bodyCheck {
	doc := c.Doc
	bc := &bodyCheck{required: rb.Required, header: http.Header{"Content-Type": {mt}}}
	if media != nil {
		bc.schema = media.Schema
	}
	bc.decode = c.Decoder(mt)
	bc.opts = []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors()}
	if doc.IsOpenAPI31OrLater() {
		bc.opts = append(bc.opts, openapi3.EnableJSONSchema2020())
	}
	return bc
}

func kind(mediaType string) string {
	switch {
	case IsXML(mediaType):
		return "XML"
	case IsJSON(mediaType):
		return "JSON"
	}
	return mediaType
}

// Mismatch is an answer that breaks the contract.
type Mismatch struct {
	Violations []problem.Violation
}

func (m *Mismatch) Error() string {
	parts := make([]string, len(m.Violations))
	for i, v := range m.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// ValidateResponse checks an answer of the operation: its status must be
// documented, its headers must match, and its body must match the schema
// of that status and media type, decoded by the contract's own decoders
// (XML through the same schema-guided decoder as requests).
func (o *Operation) ValidateResponse(ctx context.Context, status int, header http.Header, body []byte) error {
	req, _ := http.NewRequestWithContext(ctx, o.Method, o.Path, nil)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: o.Route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		// kin-openapi checks the status and the headers; the body is
		// decoded here, because its decoders come from a process-wide
		// registry and ours belong to the contract.
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true},
	}
	mt := MediaType(header)
	var schema *openapi3.Schema
	err := openapi3filter.ValidateResponse(ctx, input)
	if err == nil {
		schema, err = o.validateResponseBody(status, header, mt, body)
	} else if resp := o.Route.Operation.Responses.Status(status); resp != nil && resp.Value != nil {
		if media := resp.Value.Content.Get(mt); media != nil && media.Schema != nil {
			schema = media.Schema.Value
		}
	}
	if err == nil {
		return nil
	}
	return &Mismatch{Violations: Violations(err, mt, schema)}
}

// validateResponseBody does for an answer's body what ValidateBody does for
// a request's, and returns the schema it checked against.
func (o *Operation) validateResponseBody(status int, header http.Header, mt string, body []byte) (*openapi3.Schema, error) {
	resp := o.Route.Operation.Responses.Status(status)
	if resp == nil {
		resp = o.Route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil || len(resp.Value.Content) == 0 {
		return nil, nil
	}
	media := resp.Value.Content.Get(header.Get("Content-Type"))
	if media == nil {
		return nil, &openapi3filter.ResponseError{Reason: fmt.Sprintf("response header Content-Type has unexpected value: %q", header.Get("Content-Type"))}
	}
	if media.Schema == nil || media.Schema.Value == nil {
		return nil, nil
	}
	dec := o.contract.Decoder(mt)
	if dec == nil {
		return media.Schema.Value, nil // a media type the mock does not decode: nothing to check
	}
	v, err := dec(bytes.NewBuffer(body), header, media.Schema, nil)
	if err != nil {
		return media.Schema.Value, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	opts := []openapi3.SchemaValidationOption{openapi3.VisitAsResponse(), openapi3.MultiErrors()}
	if o.Route.Spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return media.Schema.Value, media.Schema.Value.VisitJSON(v, opts...)
}

// Violations flattens the errors of kin-openapi and of the XML decoder into
// violations located by JSON pointer (JSON) or XML path (XML): at most
// problem.MaxViolations, the rest counted, however many there are.
func Violations(err error, mediaType string, schema *openapi3.Schema) []problem.Violation {
	var out problem.Collector
	var walk func(error)
	walk = func(err error) {
		var list problem.List
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		var pe *openapi3filter.ParseError
		var re *openapi3filter.RequestError
		var rse *openapi3filter.ResponseError
		switch {
		case oneOf(err) != nil:
			for _, v := range closestBranch(oneOf(err), mediaType, schema) {
				out.AddViolation(v)
			}
		case errors.As(err, &list):
			for _, v := range list {
				out.AddViolation(v)
			}
		case errors.As(err, &me):
			for _, e := range me {
				walk(e)
			}
		case errors.As(err, &se):
			if out.Len() >= problem.MaxViolations {
				out.Add("", "", "") // counted, not listed: no need to build it
				return
			}
			ptr, rule := se.JSONPointer(), se.SchemaField
			// kin-openapi reports an unknown member at its parent object;
			// point at the member itself.
			var extra string
			if _, err := fmt.Sscanf(se.Reason, "property %q is unsupported", &extra); err == nil {
				ptr, rule = append(ptr, extra), "additionalProperties"
			}
			out.Add(location(ptr, mediaType, schema), rule, se.Reason)
		case errors.As(err, &pe):
			out.Add("", "syntax", "the body does not parse as "+kind(mediaType)+": "+rootCause(pe))
		case errors.As(err, &re) && errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			out.Add("", "required", "the request body is required")
		case errors.As(err, &re) && re.Err == nil:
			out.Add("", "content-type", re.Reason)
		case errors.As(err, &rse) && rse.Err == nil:
			out.Add("", "response", rse.Reason)
		default:
			out.Add("", "contract", err.Error())
		}
	}
	walk(err)
	return out.List()
}

// oneOf returns err when it is a value matching none of a oneOf's (or an
// anyOf's) schemas, looking through wrappers but not into lists.
func oneOf(err error) *openapi3.SchemaError {
	for err != nil {
		switch e := err.(type) {
		case *openapi3.SchemaError:
			if (e.SchemaField == "oneOf" || e.SchemaField == "anyOf") && !errors.Is(e, openapi3.ErrOneOfConflict) {
				return e
			}
			return nil
		case openapi3.MultiError:
			return nil
		}
		err = errors.Unwrap(err)
	}
	return nil
}

// closestBranch reports a value that matches none of a oneOf's schemas by
// the violations of the schema it comes closest to (the fewest), followed
// by one line that says so: every branch's violations would bury the real
// cause under those of the branches the author never meant.
func closestBranch(se *openapi3.SchemaError, mediaType string, schema *openapi3.Schema) []problem.Violation {
	var branches openapi3.MultiError
	if !errors.As(se.Origin, &branches) || len(branches) == 0 {
		return []problem.Violation{{Location: location(se.JSONPointer(), mediaType, schema), Rule: se.SchemaField, Detail: se.Reason}}
	}
	refs := se.Schema.OneOf
	if se.SchemaField == "anyOf" {
		refs = se.Schema.AnyOf
	}
	names := make([]string, len(branches))
	best := -1
	var bestViols []problem.Violation
	for i, b := range branches {
		names[i] = fmt.Sprintf("schema %d", i+1)
		if len(refs) == len(branches) && refs[i].Ref != "" {
			names[i] = refs[i].Ref[strings.LastIndex(refs[i].Ref, "/")+1:]
		}
		viols := Violations(b, mediaType, schema)
		if best < 0 || len(viols) < len(bestViols) {
			best, bestViols = i, viols
		}
	}
	// A branch's places are relative to the value the oneOf checks.
	if prefix := se.JSONPointer(); len(prefix) > 0 && !IsXML(mediaType) {
		for i := range bestViols {
			bestViols[i].Location = location(prefix, mediaType, schema) + bestViols[i].Location
		}
	}
	var at string // the whole body, for a oneOf at the root
	if len(se.JSONPointer()) > 0 {
		at = location(se.JSONPointer(), mediaType, schema)
	}
	return append(bestViols, problem.Violation{
		Location: at,
		Rule:     se.SchemaField,
		Detail:   fmt.Sprintf("matches none of %s; the violations listed are those of the closest, %s", strings.Join(names, ", "), names[best]),
	})
}

func rootCause(pe *openapi3filter.ParseError) string {
	var err error = pe
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// location renders a JSON pointer for a body of the given media type.
func location(ptr []string, mediaType string, schema *openapi3.Schema) string {
	if IsXML(mediaType) && schema != nil {
		return xmlcodec.Path(schema, ptr)
	}
	var b strings.Builder
	for _, p := range ptr {
		b.WriteByte('/')
		b.WriteString(jsonpointer.Escape(p))
	}
	return b.String()
}
