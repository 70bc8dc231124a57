package mockserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/mockserver"
)

// What survives a reload: activations (of scenarios still there), the
// journal, tokens and the clock. What goes: activations of scenarios that
// are gone.
func TestReloadKeepsState(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"RenewLoginToken.yaml", "ValidateToken.yaml", "scenarios.yaml", "lifecycle.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir, cfg.Lifecycle = dir, "strict"
	s, ts := newServer(t, cfg)
	if err := s.Engine().Activate("slow", "", 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Engine().Activate("unavailable", "ValidateToken", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lifecycle().Seed("appspace", "tok-survives-reload", "1042"); err != nil {
		t.Fatal(err)
	}
	s.Clock().Advance(10 * time.Minute)
	do(t, ts, validate(seedValidateJSON, ctJSON)) // takes one of unavailable's 5
	live, _ := s.Lifecycle().List("appspace", "live")
	tokens := len(live)

	// The reloaded fixtures drop the slow scenario.
	scen, _ := os.ReadFile(filepath.Join(dir, "scenarios.yaml"))
	cut := strings.Replace(string(scen), "  slow:\n    description: Answers normally after 2 s.\n    delay: 2s\n", "", 1)
	if cut == string(scen) {
		t.Fatal("the test could not remove the slow scenario")
	}
	if err := os.WriteFile(filepath.Join(dir, "scenarios.yaml"), []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload("test"); err != nil {
		t.Fatal(err)
	}
	act := s.Engine().Active()
	if len(act) != 1 || act[0].Scenario != "unavailable" || act[0].Remaining != 4 {
		t.Errorf("activations after reload: %+v, want unavailable with 4 left (slow is gone)", act)
	}
	if off := s.Clock().Offset(); off != 10*time.Minute {
		t.Errorf("clock offset after reload: %s", off)
	}
	if toks, _ := s.Lifecycle().List("appspace", "live"); len(toks) != tokens {
		t.Errorf("tokens after reload: %d live, want the %d there were", len(toks), tokens)
	}
	if n := len(s.Journal().List(journal.Filter{})); n != 1 {
		t.Errorf("journal after reload: %d entries, want 1", n)
	}
}
