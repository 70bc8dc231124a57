package problem_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/internal/problem"
)

func TestBoundListsAHundredAndCountsTheRest(t *testing.T) {
	vs := make([]problem.Violation, 80000)
	for i := range vs {
		vs[i] = problem.Violation{Location: fmt.Sprintf("/m%d", i), Rule: "additionalProperties", Detail: strings.Repeat("x", 10000)}
	}
	p := problem.New(400, strings.Repeat("d", 100000), vs...)
	if len(p.Errors) != problem.MaxViolations+1 {
		t.Fatalf("got %d violations, want %d", len(p.Errors), problem.MaxViolations+1)
	}
	last := p.Errors[len(p.Errors)-1]
	if last.Rule != problem.RuleMore || !strings.Contains(last.Detail, "and 79900 more") {
		t.Errorf("last violation %+v, want the count of the 79900 others", last)
	}
	if len(p.Errors[0].Detail) > problem.MaxField || len(p.Detail) > 2*problem.MaxField {
		t.Errorf("detail %d bytes, problem detail %d bytes", len(p.Errors[0].Detail), len(p.Detail))
	}
	// A problem built again from a bounded list keeps the count.
	again := problem.New(400, "d", p.Errors...)
	if got := again.Errors[len(again.Errors)-1].Detail; got != last.Detail {
		t.Errorf("count lost: %q", got)
	}
}

// The worst problem, every field at its bound and made of the characters
// that escape the longest, renders within MaxRendered: the bound the
// README states.
func TestWorstRenderingWithinMaxRendered(t *testing.T) {
	for _, worst := range []string{"\x01", "<", "&", `"`} {
		vs := make([]problem.Violation, 200)
		for i := range vs {
			f := strings.Repeat(worst, 1000)
			vs[i] = problem.Violation{Location: f, Rule: f, Detail: f}
		}
		p := problem.New(400, strings.Repeat(worst, 1000), vs...)
		for _, xml := range []bool{false, true} {
			body, _ := p.Render(xml)
			if len(body) > problem.MaxRendered {
				t.Errorf("%q, xml %v: %d bytes, above MaxRendered %d", worst, xml, len(body), problem.MaxRendered)
			}
		}
	}
}

func TestWithin(t *testing.T) {
	vs := make([]problem.Violation, 101)
	for i := range vs {
		vs[i] = problem.Violation{Location: "/a", Rule: "r", Detail: strings.Repeat("d", 200)}
	}
	got := problem.Within(problem.Bound(vs), 8<<10)
	size := 0
	for _, v := range got {
		size += problem.Size(v)
	}
	if size > 8<<10 || got[len(got)-1].Rule != problem.RuleMore {
		t.Errorf("%d violations, %d bytes", len(got), size)
	}
	if !strings.Contains(got[len(got)-1].Detail, fmt.Sprintf("and %d more", 101-len(got)+1)) {
		t.Errorf("count %q", got[len(got)-1].Detail)
	}
}

func TestQuoteWithholdsCredentials(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", `"abc"`},
		{"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64", "(a 36-byte value that looks like a credential, not shown)"},
		{"QSDK 3f9a1c47e2b85d60c3a9", "(a 25-byte value that looks like a credential, not shown)"},
		{"2026-11-27T10:00:00Z", `"2026-11-27T10:00:00Z"`},
		{strings.Repeat("a", 100), `"` + strings.Repeat("a", 37) + `…"`},
	} {
		if got := problem.Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
