// Package redact keeps credentials out of what the mock writes down about a
// request: its journal entry, its log line and the errors it answers with.
//
// What is a credential is decided by meaning, not by spelling. The body
// members the contract marks `x-secret: true`, the headers and query
// parameters its security schemes name, and the usual credential headers,
// parameters and member names are secret places; names are compared with
// case and punctuation ignored (sessionId, SESSIONID, session_id and
// "session\u0049d" are one name). The values found in those places are
// collected, decoded (JSON escapes, XML entities, CDATA), and then masked
// wherever else they appear: elsewhere in the body, in other headers, in
// the path, in the violations of a 400.
package redact

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tokenmock/tokenmock/internal/problem"
)

// Extension marks a schema property as secret in the contract:
// `x-secret: true`.
const Extension = "x-secret"

// Marked reports whether a schema's extensions mark it secret.
func Marked(ext map[string]any) bool {
	v, _ := ext[Extension].(bool)
	return v
}

// builtinNames are member names that hold credentials in any API, kept
// secret whether or not a contract marks them (normalised: see norm).
var builtinNames = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "secret": true, "clientsecret": true,
	"apikey": true, "accesstoken": true, "refreshtoken": true, "idtoken": true, "authtoken": true,
	"sessionid": true, "sessiontoken": true, "securitytoken": true, "token": true,
	"credential": true, "credentials": true, "privatekey": true, "authorization": true,
}

// nameParts make a header or query parameter secret when its normalised
// name contains one of them (X-Auth-Token, Proxy-Authorization, api_key).
var nameParts = [][]byte{[]byte("auth"), []byte("token"), []byte("secret"), []byte("passw"), []byte("session"), []byte("apikey"), []byte("credential"), []byte("cookie"), []byte("signature")}

// exactParams are query parameter names too short to match by part.
var exactParams = map[string]bool{"key": true, "sig": true, "pwd": true, "pass": true}

// norm reduces a name to its lower-case letters and digits, so that case,
// dashes, underscores and escapes do not change what it means.
func norm(name string) string { return string(normTo(nil, name)) }

// normTo appends the normalised form of name to dst (see norm).
func normTo[S ~string | ~[]byte](dst []byte, name S) []byte {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			dst = append(dst, c)
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		}
	}
	return dst
}

// SecretName reports whether a member name is one credentials usually go
// by, whatever its case or punctuation.
func SecretName(name string) bool {
	var buf [64]byte
	return builtinNames[string(normTo(buf[:0], name))]
}

// Policy says which places of a request hold credentials. It is built once
// from the contract and read concurrently.
type Policy struct {
	members map[string]bool // normalised member names
	headers map[string]bool // normalised header names named by the contract
	params  map[string]bool // normalised query parameter names named by the contract
}

// NewPolicy returns the policy for the members the contract marks secret
// and the headers and query parameters its security schemes name, on top
// of the usual ones.
func NewPolicy(members, headers, params []string) *Policy {
	p := &Policy{members: map[string]bool{}, headers: map[string]bool{}, params: map[string]bool{}}
	for n := range builtinNames {
		p.members[n] = true
	}
	for _, m := range members {
		p.members[norm(m)] = true
	}
	for _, h := range headers {
		p.headers[norm(h)] = true
	}
	for _, q := range params {
		p.params[norm(q)] = true
	}
	return p
}

// Default is the policy with only the usual names, for a server without a
// contract's own.
var Default = NewPolicy(nil, nil, nil)

// Member reports whether a body member of that name holds a secret.
func (p *Policy) Member(name string) bool { return member(p, name) }

func member[S ~string | ~[]byte](p *Policy, name S) bool {
	var buf [64]byte
	return p.members[string(normTo(buf[:0], name))]
}

// Header reports whether a header of that name carries a credential.
func (p *Policy) Header(name string) bool {
	var buf [64]byte
	n := normTo(buf[:0], name)
	return p.headers[string(n)] || hasPart(n)
}

// Param reports whether a query (or form) parameter of that name carries a
// credential.
func (p *Policy) Param(name string) bool {
	var buf [64]byte
	n := normTo(buf[:0], name)
	return p.params[string(n)] || p.members[string(n)] || exactParams[string(n)] || hasPart(n)
}

func hasPart(n []byte) bool {
	for _, part := range nameParts {
		if bytes.Contains(n, part) {
			return true
		}
	}
	return false
}

// Scrubbing by value: values shorter than minScan are masked where they
// stand but not searched for elsewhere (a 3-letter secret would star every
// word that contains it), and at most maxValues are collected per request.
const (
	minScan   = 8
	maxValues = 32
)

// Request is what one request's credentials are: the values found in its
// secret places. Its methods mask them in what the mock keeps or says.
type Request struct {
	p      *Policy
	values []string // distinct, longest first
}

// Scan collects the credentials of a request from its header, its raw
// query and its body (JSON, XML or form, told by its first bytes).
func (p *Policy) Scan(h http.Header, rawQuery string, body []byte) *Request {
	r := &Request{p: p}
	for k, vs := range h {
		if !p.Header(k) {
			continue
		}
		for _, v := range vs {
			r.add(v)
			// "Bearer T", "QSDK T", "a=T; b=U": the credential itself too.
			if _, cred, ok := strings.Cut(v, " "); ok {
				r.add(cred)
			}
			for part := range strings.SplitSeq(v, ";") {
				if _, val, ok := strings.Cut(part, "="); ok {
					r.add(strings.TrimSpace(val))
				}
			}
		}
	}
	if rawQuery != "" {
		maskPairs([]byte(rawQuery), p, r.add, false)
	}
	if len(body) > 0 {
		walkBody(body, p, r.add, false)
	}
	r.sort()
	return r
}

// AddValue collects the secrets of a decoded body (map[string]any, []any
// and scalars, as the contract's decoders give it): every value under a
// secret member.
func (r *Request) AddValue(v any) {
	r.walkValue(v, false, 0)
	r.sort()
}

func (r *Request) walkValue(v any, secret bool, depth int) {
	if depth > 64 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			r.walkValue(e, secret || r.p.Member(k), depth+1)
		}
	case []any:
		for _, e := range t {
			r.walkValue(e, secret, depth+1)
		}
	case string:
		if secret {
			r.add(t)
		}
	}
}

func (r *Request) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) < minScan || len(r.values) >= maxValues || slices.Contains(r.values, v) {
		return
	}
	r.values = append(r.values, v)
}

// sort puts longer values first, so that a value is masked before any
// shorter one it contains.
func (r *Request) sort() {
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// Values returns the credentials found, longest first.
func (r *Request) Values() []string { return slices.Clone(r.values) }

// String masks every credential of the request found in s.
func (r *Request) String(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask(v))
		}
	}
	return s
}

// Violations masks the request's credentials in each violation, in place.
func (r *Request) Violations(vs []problem.Violation) {
	if r == nil || len(r.values) == 0 {
		return
	}
	for i := range vs {
		vs[i].Location = r.String(vs[i].Location)
		vs[i].Detail = r.String(vs[i].Detail)
	}
}

// Problem masks the request's credentials in a problem, in place.
func (r *Request) Problem(p *problem.Problem) {
	if r == nil || p == nil || len(r.values) == 0 {
		return
	}
	p.Detail = r.String(p.Detail)
	r.Violations(p.Errors)
}

// Header masks, in place, the values of credential headers and any
// credential of the request found in another header.
func (r *Request) Header(h http.Header) {
	for k, vs := range h {
		for i, v := range vs {
			vs[i] = r.HeaderValue(k, v)
		}
	}
}

// HeaderValue returns a header's value masked: whole for a credential
// header, else any credential of the request found in it.
func (r *Request) HeaderValue(name, value string) string {
	if r.p.Header(name) {
		return Mask(value)
	}
	return r.String(value)
}

// Query returns a raw query string with the values of credential
// parameters, and any credential of the request, masked.
func (r *Request) Query(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	b := []byte(rawQuery)
	maskPairs(b, r.p, nil, true)
	r.bytes(b)
	return string(b)
}

// Body masks, in place, the values in the secret places of a body (a
// journal's copy, possibly cut short) and any credential of the request
// found elsewhere in it.
func (r *Request) Body(b []byte) {
	walkBody(b, r.p, nil, true)
	r.bytes(b)
}

func (r *Request) bytes(b []byte) {
	if r == nil {
		return
	}
	for _, v := range r.values {
		for from := 0; ; {
			i := bytes.Index(b[from:], []byte(v))
			if i < 0 {
				break
			}
			maskSpan(b[from+i : from+i+len(v)])
			from += i + len(v)
		}
	}
}

// maskKeepMin is the shortest secret whose first and last 4 characters
// are kept: shorter ones would give too much of themselves away.
const maskKeepMin = 16

// Mask keeps the first and last 4 characters of a secret of 16 characters
// or more, and masks a shorter one whole.
func Mask(s string) string {
	if !utf8.ValidString(s) {
		return strings.Repeat("*", len(s))
	}
	r := []rune(s)
	if len(r) < maskKeepMin {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// maskSpan keeps the first and last 4 bytes of a value of 16 bytes or
// more and stars the rest; a shorter value is starred whole.
func maskSpan(v []byte) {
	keep := 4
	if len(v) < maskKeepMin {
		keep = 0
	}
	for i := keep; i < len(v)-keep; i++ {
		v[i] = '*'
	}
}

// star masks a span whole.
func star(v []byte) {
	for i := range v {
		v[i] = '*'
	}
}
