// Package problem is the one error type of the mock's own answers: a status
// code, what went wrong, and every violation found, rendered as JSON or XML
// with the member names of RFC 7807 (the `Problem` schema of openapi.yaml).
package problem

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Violation is one broken rule of the contract, at one place.
type Violation struct {
	// Direction is "request" or "answer" for the exchanges of a validating
	// proxy, "" otherwise (the request's).
	Direction string `json:"direction,omitempty"`
	Location  string `json:"location"` // JSON pointer, XML path or header name; "" for the whole body
	Rule      string `json:"rule"`
	Detail    string `json:"detail"`

	more int // of a RuleMore summary: how many it stands for
}

// Problem is an error answered by the mock itself.
type Problem struct {
	Status int
	Detail string
	Errors []Violation
	// Header is sent with the answer (Allow on a 405, for example).
	Header http.Header
}

var _ error = (*Problem)(nil)

// New returns a Problem with the given status and detail, its violations
// bounded (see Bound) and its detail cut to twice MaxField.
func New(status int, detail string, errs ...Violation) *Problem {
	return &Problem{Status: status, Detail: Cut(detail, 2*MaxField), Errors: Bound(errs)}
}

// Newf is New with a formatted detail.
func Newf(status int, format string, args ...any) *Problem {
	return New(status, fmt.Sprintf(format, args...))
}

func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s: %s", p.Status, http.StatusText(p.Status), p.Detail)
	for _, v := range p.Errors {
		b.WriteString("; ")
		b.WriteString(v.String())
	}
	return b.String()
}

func (v Violation) String() string {
	loc := v.Location
	if loc == "" {
		loc = "(body)"
	}
	return fmt.Sprintf("%s: %s [%s]", loc, v.Detail, v.Rule)
}

// List is every violation found in one document. The body decoders return
// it as their error, so that each violation keeps its place and rule.
type List []Violation

var _ error = List(nil)

func (l List) Error() string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// NS is the namespace RFC 7807 gives the XML form of a problem.
const NS = "urn:ietf:rfc:7807"

type jsonProblem struct {
	Title  string      `json:"title"`
	Status int         `json:"status"`
	Detail string      `json:"detail,omitempty"`
	Errors []Violation `json:"errors,omitempty"`
}

// JSON renders p as application/json.
func (p *Problem) JSON() []byte {
	b, err := json.Marshal(jsonProblem{Title: http.StatusText(p.Status), Status: p.Status, Detail: p.Detail, Errors: p.Errors})
	if err != nil {
		// Only strings and ints: Marshal cannot fail.
		panic(err)
	}
	return b
}

// XML renders p as application/xml in RFC 7807's XML form, members in the
// order openapi.yaml lists for Problem.
func (p *Problem) XML() []byte {
	var b strings.Builder
	b.WriteString(`<problem xmlns="` + NS + `">`)
	elem(&b, "title", http.StatusText(p.Status))
	elem(&b, "status", strconv.Itoa(p.Status))
	if p.Detail != "" {
		elem(&b, "detail", p.Detail)
	}
	if len(p.Errors) > 0 {
		b.WriteString("<errors>")
		for _, v := range p.Errors {
			b.WriteString("<error>")
			if v.Direction != "" {
				elem(&b, "direction", v.Direction)
			}
			elem(&b, "location", v.Location)
			elem(&b, "rule", v.Rule)
			elem(&b, "detail", v.Detail)
			b.WriteString("</error>")
		}
		b.WriteString("</errors>")
	}
	b.WriteString("</problem>")
	return []byte(b.String())
}

func elem(b *strings.Builder, name, text string) {
	b.WriteString("<" + name + ">")
	// Writing to a strings.Builder cannot fail.
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">")
}

// Render returns p's body and content type in the given format: XML when
// xmlWanted, JSON otherwise.
func (p *Problem) Render(xmlWanted bool) (body []byte, contentType string) {
	if xmlWanted {
		return p.XML(), "application/xml; charset=utf-8"
	}
	return p.JSON(), "application/json; charset=utf-8"
}
