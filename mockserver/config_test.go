package mockserver_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(mockserver.Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c mockserver.Config) bool {
			return c.Addr == "127.0.0.1:8080" && c.LogFormat == "text" && c.MaxBody == 1<<20 && c.SpecFile == "" && c.FixturesDir == ""
		}, ""},
		{"flags", []string{"-addr", ":0", "-log-format", "json", "-max-body", "2KiB", "-spec", "s.yaml", "-fixtures", "fx"}, nil, func(c mockserver.Config) bool {
			return c.Addr == ":0" && c.LogFormat == "json" && c.MaxBody == 2048 && c.SpecFile == "s.yaml" && c.FixturesDir == "fx"
		}, ""},
		{"environment", nil, map[string]string{"MOCKSERVER_ADDR": "127.0.0.1:9", "MOCKSERVER_SHUTDOWN_TIMEOUT": "3s"}, func(c mockserver.Config) bool {
			return c.Addr == "127.0.0.1:9" && c.ShutdownTimeout == 3*time.Second
		}, ""},
		{"flag beats environment", []string{"-addr", "127.0.0.1:1"}, map[string]string{"MOCKSERVER_ADDR": "127.0.0.1:9"}, func(c mockserver.Config) bool {
			return c.Addr == "127.0.0.1:1"
		}, ""},
		{"failure flags", []string{"-scenario", "slow", "-fail-rate", "0.1", "-fail-scenario", "flaky", "-latency", "50ms..200ms", "-seed", "7", "-journal-size", "10", "-admin=false", "-validation", "report"}, nil, func(c mockserver.Config) bool {
			return c.Scenario == "slow" && c.FailRate == 0.1 && c.FailScenario == "flaky" && c.Latency.Min == 50*time.Millisecond && c.Latency.Max == 200*time.Millisecond &&
				c.Seed == 7 && c.SeedSet && c.JournalSize == 10 && !c.Admin && c.Validation == "report"
		}, ""},
		{"limits", []string{"-journal-bytes", "1MiB", "-max-conns", "500", "-max-fixture", "64MiB", "-max-body", "1GiB"}, map[string]string{"MOCKSERVER_GC_HEADROOM": "32MiB"}, func(c mockserver.Config) bool {
			return c.JournalBytes == 1<<20 && c.MaxConns == 500 && c.MaxFixture == 64<<20 && c.MaxBody == 1<<30 && c.GCHeadroom == 32<<20
		}, ""},
		{"limits from the environment", nil, map[string]string{"MOCKSERVER_JOURNAL_BYTES": "2MiB", "MOCKSERVER_MAX_CONNS": "9"}, func(c mockserver.Config) bool {
			return c.JournalBytes == 2<<20 && c.MaxConns == 9
		}, ""},
		{"size that overflows", []string{"-max-body", "17179869185GiB"}, nil, nil, "above the ceiling of 1GiB"},
		{"size above its ceiling", []string{"-max-header", "17MiB"}, nil, nil, "above the ceiling of 16MiB"},
		{"number too large", []string{"-journal-bytes", "99999999999999999999"}, nil, nil, "above the ceiling of 4GiB"},
		{"journal too small", []string{"-journal-bytes", "1KiB"}, nil, nil, "-journal-bytes 1024: must be at least 64KiB"},
		{"negative max-conns", []string{"-max-conns", "-1"}, nil, nil, "-max-conns -1: must not be negative"},
		{"fail-rate alone", []string{"-fail-rate", "0.5"}, nil, nil, "-fail-rate and -fail-scenario go together"},
		{"bad latency", []string{"-latency", "2s..1s"}, nil, nil, "not a duration range"},
		{"bad seed", []string{"-seed", "x"}, nil, nil, `"x" is not a whole number`},
		{"bad log format", []string{"-log-format", "xml"}, nil, nil, `-log-format "xml": want text or json`},
		{"bad size", []string{"-max-body", "lots"}, nil, nil, `"lots" is not a size`},
		{"bad environment value", nil, map[string]string{"MOCKSERVER_MAX_BODY": "-1"}, nil, `environment MOCKSERVER_MAX_BODY="-1"`},
		{"unknown flag", []string{"-colour"}, nil, nil, "unknown flag -colour"},
		{"stray argument", []string{"serve"}, nil, nil, "unexpected arguments: serve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := mockserver.ParseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg) {
				t.Errorf("got %+v", cfg)
			}
		})
	}
}

// -watch is a boolean flag: given alone it does not swallow the next one.
func TestWatchFlag(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		watch bool
	}{
		{[]string{"-watch", "-fixtures", "x"}, true},
		{[]string{"-fixtures", "x"}, true},
		{[]string{"-fixtures", "x", "-watch=false"}, false},
		{nil, false},
		{[]string{"-watch"}, true},
	} {
		cfg, err := mockserver.ParseConfig(tc.args, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if cfg.Watch != tc.watch || (tc.args != nil && cfg.FixturesDir == "" && len(tc.args) > 1) {
			t.Errorf("%v: watch %v fixtures %q, want watch %v", tc.args, cfg.Watch, cfg.FixturesDir, tc.watch)
		}
	}
}
