// Package journal keeps the last requests the mock answered, in a ring of
// fixed size: memory stays flat however long the server runs. Credentials
// are masked before an entry is stored.
package journal

import (
	"regexp"
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
	Rule       string              `json:"rule"`               // what chose it: header, prefer, admin, cli, rule NAME, default
	Step       uint64              `json:"step,omitempty"`     // the request's number for its operation
	Fault      string              `json:"fault,omitempty"`
	Status     int                 `json:"status"` // 0 when a fault gave no answer
	DurationMS float64             `json:"durationMs"`
}

// Journal is a bounded ring of entries, safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	ring    []Entry
	next    int
	full    bool
	seq     uint64
	bodyMax int
}

// New returns a journal of size entries (0 keeps none) that keeps at most
// bodyMax bytes of each body.
func New(size, bodyMax int) *Journal {
	return &Journal{ring: make([]Entry, size), bodyMax: bodyMax}
}

// Size is the number of entries the journal holds at most.
func (j *Journal) Size() int { return len(j.ring) }

// Add stores e, masking credentials and cutting the body, and gives it an id.
func (j *Journal) Add(e Entry, header map[string][]string, body []byte) {
	if len(j.ring) == 0 {
		return
	}
	e.Header = make(map[string]string, len(header))
	for k, vs := range header {
		v := strings.Join(vs, ", ")
		if secretHeader(k) {
			v = Mask(v)
		}
		e.Header[k] = v
	}
	if len(body) > j.bodyMax {
		body, e.BodyCut = body[:j.bodyMax], true
	}
	e.Body = MaskBody(string(body))
	j.mu.Lock()
	j.seq++
	e.ID = j.seq
	j.ring[j.next] = e
	j.next++
	if j.next == len(j.ring) {
		j.next, j.full = 0, true
	}
	j.mu.Unlock()
}

// List returns the entries, oldest first, of an operation ("" for all) at
// or after since (zero for all).
func (j *Journal) List(op string, since time.Time) []Entry {
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
		if (op == "" || e.Operation == op) && !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	return out
}

// Clear empties the journal.
func (j *Journal) Clear() {
	j.mu.Lock()
	clear(j.ring)
	j.next, j.full = 0, false
	j.mu.Unlock()
}

func secretHeader(k string) bool {
	switch strings.ToLower(k) {
	case "authtoken", "authorization", "cookie", "x-api-key":
		return true
	}
	return false
}

// Mask keeps the first and last 4 characters of a secret.
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// Members whose values are credentials, in JSON and XML bodies.
var (
	secretJSON = regexp.MustCompile(`("(?:SecurityToken|sessionId|token|Password)"\s*:\s*")((?:[^"\\]|\\.)*)(")`)
	secretXML  = regexp.MustCompile(`(<(?:[A-Za-z_][\w.-]*:)?(?:SecurityToken|Password)(?:\s[^>]*)?>)([^<]*)(</)`)
)

// MaskBody masks the values of SecurityToken, sessionId, token and Password
// members in a JSON or XML body.
func MaskBody(body string) string {
	mask := func(re *regexp.Regexp, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			g := re.FindStringSubmatch(m)
			return g[1] + Mask(g[2]) + g[3]
		})
	}
	return mask(secretXML, mask(secretJSON, body))
}
