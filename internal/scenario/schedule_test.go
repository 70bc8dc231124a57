package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	good := map[string]Schedule{
		"":                           {},
		"succeed-first 3":            {Kind: "succeed-first", N: 3},
		"fail-first 2":               {Kind: "fail-first", N: 2},
		"every 4":                    {Kind: "every", N: 4},
		"30%":                        {Kind: "probability", P: 0.3},
		"after 30s for 10s":          {Kind: "window", After: 30 * time.Second, For: 10 * time.Second},
		"after 50s for 10s every 1m": {Kind: "window", After: 50 * time.Second, For: 10 * time.Second, Every: time.Minute},
		"5 per second":               {Kind: "rate", N: 5},
		"ramp 0s..2s over 1m":        {Kind: "ramp", To: 2 * time.Second, Over: time.Minute},
	}
	for text, want := range good {
		got, err := ParseSchedule(text)
		want.source = text
		if err != nil || got != want {
			t.Errorf("ParseSchedule(%q) = %+v, %v, want %+v", text, got, err, want)
		}
	}
	for _, text := range []string{"fail-first", "fail-first -1", "every x", "120%", "NaN%", "after 1m for 0s", "after 50s for 20s every 1m", "3 per minute", "ramp 2s..1s over 1m", "sometimes"} {
		if _, err := ParseSchedule(text); err == nil || !strings.Contains(err.Error(), "forms:") {
			t.Errorf("ParseSchedule(%q): got %v, want an error listing the forms", text, err)
		}
	}
}

func TestScheduleFires(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seq := func(text string, times []time.Duration) string {
		s, err := ParseSchedule(text)
		if err != nil {
			t.Fatal(err)
		}
		st := &state{start: t0}
		var b strings.Builder
		for _, at := range times {
			if ok, _ := s.fires(st, t0.Add(at), 1, "k", 1); ok {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	six := make([]time.Duration, 6)
	tests := []struct {
		text  string
		times []time.Duration
		want  string
	}{
		{"succeed-first 2", six, "..xxxx"},
		{"fail-first 2", six, "xx...."},
		{"every 3", six, "..x..x"},
		{"after 10s for 5s", []time.Duration{0, 9 * time.Second, 10 * time.Second, 14 * time.Second, 15 * time.Second}, "..xx."},
		{"after 50s for 10s every 1m", []time.Duration{49 * time.Second, 50 * time.Second, 59 * time.Second, 60 * time.Second, 110 * time.Second}, ".xx.x"},
		{"2 per second", []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 1100 * time.Millisecond}, "..x."},
	}
	for _, tc := range tests {
		if got := seq(tc.text, tc.times); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.text, got, tc.want)
		}
	}
	ramp, _ := ParseSchedule("ramp 0s..2s over 10s")
	st := &state{start: t0}
	if _, d := ramp.fires(st, t0.Add(5*time.Second), 1, "k", 1); d != time.Second {
		t.Errorf("ramp at half way: %s, want 1s", d)
	}
	if _, d := ramp.fires(st, t0.Add(time.Minute), 1, "k", 1); d != 2*time.Second {
		t.Errorf("ramp after its end: %s, want 2s", d)
	}
}

func TestParseRange(t *testing.T) {
	if r, err := ParseRange("200ms..2s"); err != nil || r.Min != 200*time.Millisecond || r.Max != 2*time.Second {
		t.Errorf("got %+v %v", r, err)
	}
	for _, bad := range []string{"", "fast", "2s..1s", "-1s"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) succeeded", bad)
		}
	}
}
