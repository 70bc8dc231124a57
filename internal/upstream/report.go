package upstream

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tokenmock/tokenmock/internal/problem"
)

// Report counts what the proxy saw: violations per operation, rule and
// location, and one case per operation × media type × status for JUnit.
// It is bounded: at most maxCases cases and maxKeys counters, beyond which
// new ones are counted under "other".
type Report struct {
	mu     sync.Mutex
	counts map[countKey]int
	cases  map[caseKey]*caseRecord
	order  []caseKey
}

const (
	maxCases       = 1000
	maxKeys        = 10000
	maxCaseDetails = 20
)

type countKey struct{ Operation, Direction, Rule, Location string }

type caseKey struct {
	Operation, Media string
	Status           int
}

type caseRecord struct {
	exchanges  int
	failures   int
	violations []string // the first maxCaseDetails
}

// NewReport returns an empty report.
func NewReport() *Report {
	return &Report{counts: map[countKey]int{}, cases: map[caseKey]*caseRecord{}}
}

// Add records one checked exchange of an operation.
func (r *Report) Add(op, media string, status int, viols []problem.Violation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ck := caseKey{op, media, status}
	c := r.cases[ck]
	if c == nil {
		if len(r.cases) >= maxCases {
			ck = caseKey{"other", "", 0}
			c = r.cases[ck]
		}
		if c == nil {
			c = &caseRecord{}
			r.cases[ck] = c
			r.order = append(r.order, ck)
		}
	}
	c.exchanges++
	if len(viols) > 0 {
		c.failures++
	}
	for _, v := range viols {
		k := countKey{op, v.Direction, v.Rule, v.Location}
		if _, ok := r.counts[k]; !ok && len(r.counts) >= maxKeys {
			k = countKey{Operation: "other"}
		}
		r.counts[k]++
		if len(c.violations) < maxCaseDetails {
			c.violations = append(c.violations, strings.TrimSpace(v.Direction+" "+v.String()))
		}
	}
}

// Count is one line of the summary.
type Count struct {
	Operation string `json:"operation"`
	Direction string `json:"direction,omitempty"`
	Rule      string `json:"rule"`
	Location  string `json:"location"`
	Count     int    `json:"count"`
}

// Case is one operation × media type × status seen.
type Case struct {
	Operation  string   `json:"operation"`
	Media      string   `json:"media,omitempty"`
	Status     int      `json:"status"`
	Exchanges  int      `json:"exchanges"`
	Failing    int      `json:"failing"`
	Violations []string `json:"violations,omitempty"`
}

// Summary is what GET /__mock/violations shows.
type Summary struct {
	Total      int     `json:"total"`
	Violations []Count `json:"violations"`
	Cases      []Case  `json:"cases"`
}

// Summary returns the counts, most frequent first, and the cases in the
// order first seen.
func (r *Report) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Violations: []Count{}, Cases: []Case{}}
	for k, n := range r.counts {
		s.Violations = append(s.Violations, Count{k.Operation, k.Direction, k.Rule, k.Location, n})
		s.Total += n
	}
	slices.SortFunc(s.Violations, func(a, b Count) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Operation+a.Rule+a.Location, b.Operation+b.Rule+b.Location)
	})
	for _, k := range r.order {
		c := r.cases[k]
		s.Cases = append(s.Cases, Case{k.Operation, k.Media, k.Status, c.exchanges, c.failures, slices.Clone(c.violations)})
	}
	return s
}

// JUnit renders the cases as JUnit XML: one test case per operation ×
// media type × status seen, failing with its violations.
func (r *Report) JUnit() []byte {
	s := r.Summary()
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
	}
	type suite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	out := suite{Name: "tokenmock upstream contract"}
	for _, c := range s.Cases {
		tc := testcase{Classname: "upstream." + c.Operation, Name: fmt.Sprintf("%s %s %d", c.Operation, orNone(c.Media), c.Status)}
		if c.Failing > 0 {
			tc.Failure = &failure{Message: fmt.Sprintf("%d of %d exchanges broke the contract (the request, the answer or both)", c.Failing, c.Exchanges), Text: strings.Join(c.Violations, "\n")}
			out.Failures++
		}
		out.Cases = append(out.Cases, tc)
		out.Tests++
	}
	b, _ := xml.MarshalIndent(out, "", "  ")
	return append([]byte(xml.Header), b...)
}

func orNone(s string) string {
	if s == "" {
		return "(no body)"
	}
	return s
}
