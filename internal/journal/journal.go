// Package journal keeps the last requests the mock answered, within a
// budget of entries and of bytes: memory stays flat however long the server
// runs and whatever its clients send. Each entry is bounded on its own (a
// cut of the body, of the headers, of the path, of the violations, of the
// answer), and credentials are masked (see package redact) before it is
// stored.
package journal

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/redact"
)

// Entry is one request and how it was answered.
type Entry struct {
	ID         uint64              `json:"id"`
	Time       time.Time           `json:"time"`
	Operation  string              `json:"operation,omitempty"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	PathCut    bool                `json:"pathTruncated,omitempty"`
	Header     map[string]string   `json:"headers"`
	HeadersCut int                 `json:"headersDropped,omitempty"` // header values not kept
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
	header      http.Header
	body        []byte
	accountedAs int64 // Size when stored
}

// Answer is what an entry keeps of the answer a client got.
type Answer struct {
	Status        int               `json:"status"`
	Header        map[string]string `json:"headers,omitempty"`
	Body          string            `json:"body,omitempty"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
}

// NewAnswer makes what the journal keeps of an answer: its headers within
// AnswerHeaderKeep bytes, its body cut at max bytes, the credentials red
// found in the request (nil: none) and the answer's own secret places (a
// renewed token) masked. header and body are not changed.
func NewAnswer(status int, header http.Header, body []byte, max int, red *redact.Request) *Answer {
	if red == nil {
		red = redact.Default.Scan(nil, "", nil)
	}
	a := &Answer{Status: status, Header: make(map[string]string, min(len(header), 16))}
	size := 0
	for k, vs := range header {
		v := strings.Join(vs, ", ")
		name := problem.Cut(k, HeaderNameMax)
		v = problem.Cut(red.HeaderValue(k, v), HeaderValueMax)
		if cost := HeaderOverhead + len(name) + len(v); size+cost <= AnswerHeaderKeep {
			size += cost
			a.Header[name] = v
		}
	}
	if len(body) > max {
		body, a.BodyTruncated = body[:max], true
	}
	b := bytes.Clone(body)
	red.Body(b)
	a.Body = string(b)
	return a
}

// What one entry keeps at most. With them an entry is counted at most
// MaxEntryBytes, whatever the request (see Size).
const (
	DefaultBodyMax   = 4 << 10 // bytes of the body, and of the answer's
	PathMax          = 1 << 10 // bytes of the path and query
	HeaderKeep       = 8 << 10 // bytes of the request's headers (names, values and their overheads)
	AnswerHeaderKeep = 2 << 10 // bytes of the answer's headers
	HeaderValueMax   = 256     // bytes of one header value once the headers pass their budget
	HeaderNameMax    = 128     // bytes of a header name
	ViolationsKeep   = 8 << 10 // bytes of violations (see problem.Size)
	EntryOverhead    = 512     // the entry's own fields and short strings
	HeaderOverhead   = 64      // a header name's map slot and slice
	ValueOverhead    = 16      // a header value's string header
	DefaultMaxBytes  = 16 << 20
)

// MaxEntryBytes is the most an entry is counted as (see Size) with bodies
// cut at bodyMax: the figure the README's worst case uses.
func MaxEntryBytes(bodyMax int) int64 {
	return EntryOverhead + PathMax + HeaderKeep + int64(bodyMax) + ViolationsKeep + int64(bodyMax) + AnswerHeaderKeep
}

// Options bound a journal.
type Options struct {
	Size    int            // entries kept at most; 0 keeps none
	Bytes   int64          // bytes kept at most (see Size); 0 means DefaultMaxBytes
	BodyMax int            // bytes of each body kept; 0 means DefaultBodyMax
	Policy  *redact.Policy // what is secret; nil means redact.Default
}

// Journal is a bounded ring of entries, safe for concurrent use: when an
// entry would take it past either bound, the oldest entries go first.
type Journal struct {
	opt   Options
	mu    sync.Mutex
	ring  []Entry // grows up to opt.Size, then wraps
	start int     // index of the oldest entry
	n     int     // entries held
	bytes int64
	seq   uint64

	// Followers of the journal (see Watch): with none, adding an entry
	// does no work for them.
	watchers       []*Watcher
	clearedThrough uint64 // the last ID emptied by Clear
}

// New returns a journal of size entries (0 keeps none) that keeps at most
// bodyMax bytes of each body, within DefaultMaxBytes.
func New(size, bodyMax int) *Journal { return NewWith(Options{Size: size, BodyMax: bodyMax}) }

// NewWith returns a journal with the given bounds.
func NewWith(o Options) *Journal {
	if o.Bytes <= 0 {
		o.Bytes = DefaultMaxBytes
	}
	if o.BodyMax <= 0 {
		o.BodyMax = DefaultBodyMax
	}
	if o.Policy == nil {
		o.Policy = redact.Default
	}
	o.Size = max(o.Size, 0)
	// The ring grows as entries come: a server that answers few requests
	// (a test's) costs little, one that answers many stays at Size.
	return &Journal{opt: o, ring: make([]Entry, min(o.Size, 16))}
}

// Size is the number of entries the journal holds at most.
func (j *Journal) Size() int { return j.opt.Size }

// MaxBytes is the number of bytes the journal holds at most.
func (j *Journal) MaxBytes() int64 { return j.opt.Bytes }

// BodyMax is the number of bytes of a body an entry keeps.
func (j *Journal) BodyMax() int { return j.opt.BodyMax }

// Usage returns the entries held and the bytes they are counted as.
func (j *Journal) Usage() (entries int, bytes int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n, j.bytes
}

// Add stores e with the request's header and body, bounded and with their
// credentials masked. It takes ownership of header and body: the caller
// must not use them afterwards (a served request's never are).
func (j *Journal) Add(e Entry, header http.Header, body []byte) { j.AddMasked(e, header, body, nil) }

// AddMasked is Add with the credentials red found in the request (nil:
// the journal scans for them itself), so that a request is scanned once
// for its journal entry, its log line and its error answer.
func (j *Journal) AddMasked(e Entry, header http.Header, body []byte, red *redact.Request) {
	if j.opt.Size == 0 {
		return
	}
	path, query, _ := strings.Cut(e.Path, "?")
	if red == nil {
		red = j.opt.Policy.Scan(header, query, body)
	}
	if query != "" {
		path += "?" + red.Query(query)
	}
	e.Path = red.String(path)
	if len(e.Path) > PathMax {
		e.Path, e.PathCut = problem.Cut(e.Path, PathMax), true
	}
	e.header, e.HeadersCut = keepHeader(header, HeaderKeep)
	red.Header(e.header)
	// A copy of at most BodyMax bytes: a cut slice would keep the whole
	// request body alive as long as the entry.
	if len(body) > j.opt.BodyMax {
		body, e.BodyCut = body[:j.opt.BodyMax], true
	}
	e.body = bytes.Clone(body)
	red.Body(e.body)
	e.Violations = problem.Within(e.Violations, ViolationsKeep)
	e.accountedAs = Size(&e)

	if e.accountedAs > j.opt.Bytes {
		return // larger than the whole budget (a budget set below MaxEntryBytes): not kept
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.n > 0 && (j.n == j.opt.Size || j.bytes+e.accountedAs > j.opt.Bytes) {
		j.evictOldest()
	}
	if j.n == len(j.ring) {
		j.grow()
	}
	j.seq++
	e.ID = j.seq
	j.ring[(j.start+j.n)%len(j.ring)] = e
	j.n++
	j.bytes += e.accountedAs
	if len(j.watchers) > 0 {
		j.wakeWatchers()
	}
}

// grow doubles the ring, up to Size, keeping the entries in order.
func (j *Journal) grow() {
	ring := make([]Entry, min(j.opt.Size, max(16, 2*len(j.ring))))
	for i := range j.n {
		ring[i] = j.ring[(j.start+i)%len(j.ring)]
	}
	j.ring, j.start = ring, 0
}

// evictOldest drops the oldest entry; call with mu.
func (j *Journal) evictOldest() {
	if len(j.watchers) > 0 {
		j.leaving(&j.ring[j.start])
	}
	j.bytes -= j.ring[j.start].accountedAs
	j.ring[j.start] = Entry{}
	j.start = (j.start + 1) % len(j.ring)
	j.n--
}

// Size is what an entry is counted as against the journal's byte budget:
// the bytes of everything it keeps plus fixed overheads per entry, header
// and violation, so that it covers the memory the entry takes.
func Size(e *Entry) int64 {
	n := int64(EntryOverhead + len(e.Path) + len(e.body) + len(e.Operation) + len(e.Method) + len(e.Validation) + len(e.Scenario) + len(e.Rule) + len(e.Fault) + len(e.Lifecycle))
	n += headerSize(e.header)
	for _, v := range e.Violations {
		n += int64(problem.Size(v))
	}
	if a := e.Answer; a != nil {
		n += int64(len(a.Body))
		for k, v := range a.Header {
			n += HeaderOverhead + int64(len(k)+len(v))
		}
	}
	return n
}

func headerSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		n += HeaderOverhead + int64(len(k))
		for _, v := range vs {
			n += ValueOverhead + int64(len(v))
		}
	}
	return n
}

// keepHeader returns the header an entry keeps: h itself when it is within
// budget bytes, else a copy with names in order, each cut to HeaderNameMax
// bytes, values cut to HeaderValueMax bytes, and no more than budget bytes
// in all; it also returns how many values it left out.
func keepHeader(h http.Header, budget int64) (http.Header, int) {
	if headerSize(h) <= budget {
		return h, 0 // the journal owns it: masked in place
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := http.Header{}
	var size int64
	dropped := 0
	for _, k := range names {
		name := problem.Cut(k, HeaderNameMax)
		for _, v := range h[k] {
			v = problem.Cut(v, HeaderValueMax)
			cost := int64(ValueOverhead + len(v))
			if _, ok := out[name]; !ok {
				cost += HeaderOverhead + int64(len(name))
			}
			if size+cost > budget {
				dropped++
				continue
			}
			size += cost
			out[name] = append(out[name], v)
		}
	}
	return out, dropped
}

// Filter selects journal entries; zero fields select all.
type Filter struct {
	Operation  string
	Since      time.Time
	Lifecycle  string
	Status     string // a code (401), a class (4xx), none (no answer: a fault); "" for any
	Scenario   string // the applied scenario; "none" for the default answer
	Validation string // ok, rejected, reported, unchecked
}

// Match tells whether an entry passes the filter.
func (f Filter) Match(e *Entry) bool {
	return (f.Operation == "" || e.Operation == f.Operation) && !e.Time.Before(f.Since) &&
		(f.Lifecycle == "" || e.Lifecycle == f.Lifecycle) &&
		StatusMatches(f.Status, e.Status) &&
		(f.Scenario == "" || e.Scenario == f.Scenario || (f.Scenario == "none" && e.Scenario == "")) &&
		(f.Validation == "" || e.Validation == f.Validation)
}

// StatusMatches tells whether a status matches a filter: a code (401), a
// class (4xx), none (0: a fault gave no answer), or "" for any.
func StatusMatches(filter string, status int) bool {
	switch {
	case filter == "":
		return true
	case filter == "none":
		return status == 0
	case len(filter) == 3 && filter[1:] == "xx":
		return status/100 == int(filter[0]-'0')
	}
	return strconv.Itoa(status) == filter
}

// Count is the number of entries that match f.
func (j *Journal) Count(f Filter) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for i := range j.n {
		if f.Match(&j.ring[(j.start+i)%len(j.ring)]) {
			n++
		}
	}
	return n
}

// Page is a page of entries, oldest first. Next is the cursor of the
// following page: the ID of the last entry, when more entries match; 0
// when this page is the last.
type Page struct {
	Entries []Entry
	Next    uint64
}

// List returns every entry that matches f, oldest first.
func (j *Journal) List(f Filter) []Entry { return j.Page(f, 0, 0).Entries }

// Page returns the entries that match f with an ID above after (the Next
// of the previous page), at most limit of them (0: all).
func (j *Journal) Page(f Filter, after uint64, limit int) Page {
	j.mu.Lock()
	var page Page
	for i := range j.n {
		e := &j.ring[(j.start+i)%len(j.ring)]
		if e.ID <= after || !f.Match(e) {
			continue
		}
		if limit > 0 && len(page.Entries) == limit {
			page.Next = page.Entries[len(page.Entries)-1].ID
			break
		}
		page.Entries = append(page.Entries, *e)
	}
	j.mu.Unlock()
	// Entries are stored masked and never changed: they are read outside
	// the lock.
	for i := range page.Entries {
		page.Entries[i] = page.Entries[i].Listed()
	}
	return page
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

// at is the i-th entry held, oldest first. Call with mu.
func (j *Journal) at(i int) *Entry {
	return &j.ring[(j.start+i)%len(j.ring)]
}

// Clear empties the journal.
func (j *Journal) Clear() {
	j.mu.Lock()
	j.ring = make([]Entry, min(j.opt.Size, 16))
	j.start, j.n, j.bytes = 0, 0, 0
	j.clearedThrough = j.seq
	if len(j.watchers) > 0 {
		j.clearedForWatchers()
	}
	j.mu.Unlock()
}

// Mask masks a credential for a log line or a listing (see redact.Mask).
func Mask(s string) string { return redact.Mask(s) }
