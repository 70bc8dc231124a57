package scenario_test

import (
	"testing"

	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

// FuzzLoad: no scenarios.yaml, however broken, panics the loader; what it
// accepts makes an engine.
func FuzzLoad(f *testing.F) {
	shipped, err := fixtures.FS.ReadFile("scenarios.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shipped)
	for _, s := range []string{
		"scenarios:\n  x: {description: d, fault: reset}\n",
		"scenarios:\n  x: {description: d, schedule: after 1s for 2s every 3s}\nrules:\n  - {probability: 50%, scenario: x}\n",
		"scenarios:\n  x: {description: d, drift: {kind: enum-form, member: Status, names: {'1': Success}}}\n",
		"rules:\n  - when: {body: /a/b, matches: '^x'}\n    scenario: x\n",
		"scenarios: [1, 2]\n", "{{{", "",
	} {
		f.Add([]byte(s))
	}
	fx := load(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := scenario.Load(data, "scenarios.yaml", fx)
		if err != nil {
			return
		}
		if _, err := scenario.NewEngine(set, fx, scenario.Options{Seed: 1}); err != nil {
			t.Fatalf("accepted but no engine: %v", err)
		}
	})
}
