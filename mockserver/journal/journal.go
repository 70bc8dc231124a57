// Package journal keeps the last requests the mock answered, in a ring of
// fixed size: memory stays flat however long the server runs. Credentials
// are masked before an entry is stored.
package journal

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenmock/tokenmock/mockserver/problem"
)

// Entry is one request and how it was answered.
type Entry struct {
	ID         uint64              `json:"id"`
	Time       time.Time           `json:"time"`
	Operation  string              `json:"operation,omitempty"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Header     map[string]string   `json:"headers"`
	Body       string              `json:"body,omitempty"`
	BodyCut    bool                `json:"bodyTruncated,omitempty"`
	Validation string              `json:"validation"` // ok, rejected, reported
	Violations []problem.Violation `json:"violations,omitempty"`
	Scenario   string              `json:"scenario,omitempty"` // applied scenario
	Rule       string              `json:"rule,omitempty"`     // what chose it: header, prefer, admin, cli, rule NAME, default; absent when rejected
	Step       uint64              `json:"step,omitempty"`     // the request's number for its operation
	Fault      string              `json:"fault,omitempty"`
	Lifecycle  string              `json:"lifecycle,omitempty"` // what the token lifecycle decided: live, adopted, renewed, expired, unknown, revoked, wrong-owner
	Status     int                 `json:"status"`              // 0 when a fault gave no answer
	Answer     *Answer             `json:"answer,omitempty"`    // what the client got: masked, cut
	Upstream   bool                `json:"upstream,omitempty"`  // the answer came from the backend (-upstream)
	DurationMS float64             `json:"durationMs"`

	// What is stored, already masked; Header and Body are made from them
	// when the journal is read, so that writing an entry costs little.
	header http.Header
	body   []byte
}

// Answer is what an entry keeps of the answer a client got.
type Answer struct {
	Status        int               `json:"status"`
	Header        map[string]string `json:"headers,omitempty"`
	Body          string            `json:"body,omitempty"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
}

// NewAnswer makes what the journal keeps of an answer: credentials
// masked, the body cut at max bytes, header values at 256 bytes.
func NewAnswer(status int, header http.Header, body []byte, max int) *Answer {
	a := &Answer{Status: status, Header: map[string]string{}}
	for k, vs := range header {
		v := strings.Join(vs, ", ")
		if secretHeader(k) || strings.EqualFold(k, "Set-Cookie") {
			v = Mask(v)
		}
		if len(v) > 256 {
			v = v[:256] + "…"
		}
		a.Header[k] = v
	}
	if len(body) > max {
		body, a.BodyTruncated = body[:max], true
	}
	b := bytes.Clone(body)
	MaskBodyInPlace(b)
	a.Body = string(b)
	return a
}

// Journal is a bounded ring of entries, safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	ring    []Entry // grows up to size, then wraps
	size    int
	next    int
	full    bool
	seq     uint64
	bodyMax int

	// Followers of the journal (see Watch): with none, adding an entry
	// does no work for them.
	watchers       []*Watcher
	clearedThrough uint64 // the last ID emptied by Clear
}

// New returns a journal of size entries (0 keeps none) that keeps at most
// bodyMax bytes of each body.
func New(size, bodyMax int) *Journal {
	// The ring grows as entries come: a server that answers few requests
	// (a test's) costs little, one that answers many stays at size.
	return &Journal{ring: make([]Entry, 0, min(size, 16)), size: size, bodyMax: bodyMax}
}

// Size is the number of entries the journal holds at most.
func (j *Journal) Size() int { return j.size }

// Add stores e with the request's header and body, masking credentials
// and cutting the body. It takes ownership of header and body: the caller
// must not use them afterwards (a served request's never are).
func (j *Journal) Add(e Entry, header http.Header, body []byte) {
	if j.size == 0 {
		return
	}
	header = keepHeader(header)
	// A copy of at most bodyMax bytes: a cut slice would keep the whole
	// request body alive as long as the entry.
	if len(body) > j.bodyMax {
		body, e.BodyCut = body[:j.bodyMax], true
	}
	body = bytes.Clone(body)
	MaskBodyInPlace(body)
	e.header, e.body = header, body
	j.mu.Lock()
	j.seq++
	e.ID = j.seq
	if len(j.ring) < j.size {
		j.ring = append(j.ring, e)
	} else {
		if len(j.watchers) > 0 {
			j.leaving(&j.ring[j.next])
		}
		j.ring[j.next] = e
	}
	j.next++
	if j.next == j.size {
		j.next, j.full = 0, true
	}
	if len(j.watchers) > 0 {
		j.wakeWatchers()
	}
	j.mu.Unlock()
}

// headerKeep bounds what an entry keeps of a request's header.
const headerKeep = 8 << 10

// keepHeader returns what the journal keeps of a request's header:
// credentials masked, in place (the journal owns the header now), and,
// when the header is large, a copy with each value cut to 256 bytes.
func keepHeader(h http.Header) http.Header {
	size := 0
	for k, vs := range h {
		for i, v := range vs {
			if secretHeader(k) {
				vs[i] = Mask(v)
			}
			size += len(k) + len(v)
		}
	}
	if size <= headerKeep {
		return h
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		cut := make([]string, len(vs))
		for i, v := range vs {
			if len(v) > 256 {
				v = v[:256] + "…"
			}
			cut[i] = v
		}
		out[k] = cut
	}
	return out
}

// Filter selects journal entries; zero fields select all.
type Filter struct {
	Operation  string
	Since      time.Time
	Lifecycle  string
	Status     int    // 0: any
	Scenario   string // the applied scenario; "none" for the default answer
	Validation string // ok, rejected, reported, unchecked
}

func (f Filter) match(e *Entry) bool {
	return (f.Operation == "" || e.Operation == f.Operation) && !e.Time.Before(f.Since) &&
		(f.Lifecycle == "" || e.Lifecycle == f.Lifecycle) &&
		(f.Status == 0 || e.Status == f.Status) &&
		(f.Scenario == "" || e.Scenario == f.Scenario || (f.Scenario == "none" && e.Scenario == "")) &&
		(f.Validation == "" || e.Validation == f.Validation)
}

// Count is the number of entries that match f.
func (j *Journal) Count(f Filter) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for i := range j.ring {
		if j.ring[i].ID != 0 && f.match(&j.ring[i]) {
			n++
		}
	}
	return n
}

// List returns the entries that match f, oldest first.
func (j *Journal) List(f Filter) []Entry {
	j.mu.Lock()
	var all []Entry
	if j.full {
		all = append(slices.Clone(j.ring[j.next:]), j.ring[:j.next]...)
	} else {
		all = slices.Clone(j.ring[:j.next])
	}
	j.mu.Unlock()
	out := all[:0]
	for _, e := range all {
		if f.match(&e) {
			out = append(out, e.Listed())
		}
	}
	return out
}

// Listed is the entry as listings show it, headers and bodies as text
// (Watcher.Next gives entries as stored: cheaper when only their summary
// is wanted).
func (e Entry) Listed() Entry {
	e.Header = make(map[string]string, len(e.header))
	for k, vs := range e.header {
		e.Header[k] = strings.Join(vs, ", ")
	}
	e.Body = string(e.body)
	return e
}

// Clear empties the journal.
func (j *Journal) Clear() {
	j.mu.Lock()
	j.ring = make([]Entry, 0, min(j.size, 16))
	j.next, j.full = 0, false
	j.clearedThrough = j.seq
	if len(j.watchers) > 0 {
		j.clearedForWatchers()
	}
	j.mu.Unlock()
}

func secretHeader(k string) bool {
	switch strings.ToLower(k) {
	case "authtoken", "authorization", "cookie", "x-api-key":
		return true
	}
	return false
}

// maskKeepMin is the shortest secret whose first and last 4 characters
// are kept: shorter ones would give too much of themselves away.
const maskKeepMin = 16

// Mask keeps the first and last 4 characters of a secret of 16 characters
// or more, and masks a shorter one whole.
func Mask(s string) string {
	r := []rune(s)
	if len(r) < maskKeepMin {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// secretMembers are the body members whose values are credentials.
var secretMembers = []string{"SecurityToken", "sessionId", "token", "Password"}

// MaskBody returns body with the values of its SecurityToken, sessionId,
// token and Password members masked, in JSON or XML.
func MaskBody(body string) string {
	b := []byte(body)
	MaskBodyInPlace(b)
	return string(b)
}

// MaskBodyInPlace masks credential values in a JSON or XML body without
// allocating: `"name": "value"` in JSON, <name ...>value</...> (any prefix)
// in XML.
func MaskBodyInPlace(b []byte) {
	for _, name := range secretMembers {
		for from := 0; ; {
			i := bytes.Index(b[from:], []byte(name))
			if i < 0 {
				break
			}
			i += from
			from = i + len(name)
			if i > 0 && b[i-1] == '"' && from < len(b) && b[from] == '"' {
				maskJSONValue(b, from+1)
			} else if i > 0 && (b[i-1] == '<' || b[i-1] == ':') && from < len(b) && (b[from] == '>' || isSpace(b[from])) {
				maskXMLValue(b, from)
			}
		}
	}
}

// maskJSONValue masks the string value after the member name that ends
// before i: skips `:` and spaces, then masks inside the quotes.
func maskJSONValue(b []byte, i int) {
	for i < len(b) && (b[i] == ' ' || b[i] == ':' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	if i >= len(b) || b[i] != '"' {
		return
	}
	start := i + 1
	end := start
	for end < len(b) && b[end] != '"' {
		if b[end] == '\\' {
			end++
		}
		end++
	}
	maskSpan(b[start:min(end, len(b))])
}

// maskXMLValue masks the content of the element whose start tag's name
// ends at i, up to its end tag: text, and CDATA sections whole.
func maskXMLValue(b []byte, i int) {
	gt := bytes.IndexByte(b[i:], '>')
	if gt < 0 || (gt > 0 && b[i+gt-1] == '/') {
		return
	}
	start := i + gt + 1
	end := bytes.Index(b[start:], []byte("</"))
	if end < 0 {
		end = len(b) - start
	}
	v := b[start : start+end]
	if bytes.HasPrefix(v, []byte("<![CDATA[")) && bytes.HasSuffix(v, []byte("]]>")) {
		v = v[len("<![CDATA[") : len(v)-len("]]>")]
	}
	maskSpan(v)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

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
