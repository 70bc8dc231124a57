package scenario_test

import (
	"net/http"
	"testing"

	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

// BenchmarkChoose: scenario selection for a plain request (the shipped
// rules are checked), for a header-chosen scenario, and with an activation.
func BenchmarkChoose(b *testing.B) {
	fx := load(b)
	data, _ := fixtures.FS.ReadFile("scenarios.yaml")
	set, err := scenario.Load(data, "scenarios.yaml", fx)
	if err != nil {
		b.Fatal(err)
	}
	body := map[string]any{"Authentication": map[string]any{"SecurityToken": "t"}}
	run := func(name string, e *scenario.Engine, h http.Header) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, p := e.Choose("ValidateToken", h, body); p != nil {
					b.Fatal(p)
				}
			}
		})
	}
	e, _ := scenario.NewEngine(set, fx, scenario.Options{Seed: 1})
	run("default", e, http.Header{})
	run("header", e, http.Header{scenario.HeaderScenario: {"flaky"}})
	active, _ := scenario.NewEngine(set, fx, scenario.Options{Seed: 1, StartScenario: "slow-body"})
	run("activation", active, http.Header{})
}
