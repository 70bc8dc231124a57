package scenario_test

import (
	"net/http"
	"strings"
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

func load(t testing.TB) *answers.Set {
	t.Helper()
	c, err := contract.Load(tokenmock.Spec, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fx, err := answers.Load(fixtures.FS, "fixtures", c)
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func TestLoadRefusesMistakes(t *testing.T) {
	fx := load(t)
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "scenarios:\n  x:\n    description: d\n    faults: reset\n", "line 4: scenarios.x: unknown field faults (known: description, answer,"},
		{"unknown fault", "scenarios:\n  x:\n    description: d\n    fault: explode\n", `scenarios.x: fault: unknown fault "explode" (known: reset, empty`},
		{"unknown answer", "scenarios:\n  x:\n    description: d\n    answer: nope\n", `scenarios.x: answer: no fixture file has an answer "nope"`},
		{"answer missing for a listed operation", "scenarios:\n  x:\n    description: d\n    answer: invalid-device\n    operations: [ValidateToken]\n", `ValidateToken.yaml has no answer "invalid-device"`},
		{"bad delay", "scenarios:\n  x:\n    description: d\n    delay: soon\n", "scenarios.x: delay:"},
		{"bad schedule", "scenarios:\n  x:\n    description: d\n    schedule: often\n", `scenarios.x: schedule "often"`},
		{"no description", "scenarios:\n  x:\n    fault: reset\n", "scenarios.x: description"},
		{"bad drift", "scenarios:\n  x:\n    description: d\n    drift: {kind: sideways}\n", `unknown drift "sideways"`},
		{"rule for an unknown scenario", "rules:\n  - when: {header: X, equals: y}\n    scenario: nope\n", `rules[0]: scenario: no scenario "nope"`},
		{"rule with a bad regexp", "scenarios:\n  x: {description: d, fault: reset}\nrules:\n  - when: {header: X, matches: '('}\n    scenario: x\n", "rules[0]: when.matches"},
		{"rule without condition", "scenarios:\n  x: {description: d, fault: reset}\nrules:\n  - scenario: x\n", "rules[0]: a rule needs when, probability"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Load([]byte(tc.yaml), "fixtures/scenarios.yaml", fx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fixtures/scenarios.yaml") {
				t.Errorf("got %v, want an error naming the file and %q", err, tc.want)
			}
		})
	}
}

// Each operation's sequence of probabilistic choices depends only on the
// seed and that operation's own requests, not on the other operation's.
func TestProbabilityPerOperationIgnoresInterleaving(t *testing.T) {
	fx := load(t)
	set, err := scenario.Load([]byte("scenarios:\n  u: {description: d, answer: unavailable}\nrules:\n  - probability: 40%\n    scenario: u\n"), "s.yaml", fx)
	if err != nil {
		t.Fatal(err)
	}
	sequence := func(pattern string) string {
		e, err := scenario.NewEngine(set, fx, scenario.Options{Seed: 99})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, p := range pattern {
			op := "ValidateToken"
			if p == 'r' {
				op = "RenewLoginToken"
			}
			c, _ := e.Choose(op, http.Header{}, nil)
			if op == "ValidateToken" {
				if c.Fired {
					b.WriteByte('x')
				} else {
					b.WriteByte('.')
				}
			}
		}
		return b.String()
	}
	a := sequence(strings.Repeat("v", 30))
	b := sequence(strings.Repeat("rvr", 30))
	if a != b {
		t.Errorf("ValidateToken's sequence changed with RenewLoginToken's calls:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("sequence %s: want a mix", a)
	}
}

func TestZeroProbabilityNeverFires(t *testing.T) {
	fx := load(t)
	set, err := scenario.Load([]byte("scenarios:\n  u: {description: d, answer: unavailable}\nrules:\n  - probability: 0%\n    scenario: u\n"), "s.yaml", fx)
	if err != nil {
		t.Fatal(err)
	}
	e, err := scenario.NewEngine(set, fx, scenario.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if c, _ := e.Choose("ValidateToken", http.Header{}, nil); c.Scenario != nil {
			t.Fatal("a 0% rule fired")
		}
	}
}
