package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmock/tokenmock/internal/draw"
)

// Schedule decides, request by request, whether a selected scenario fires;
// when it does not, the request gets the operation's default answer.
//
// Forms (the text of `schedule:` in scenarios.yaml):
//
//	succeed-first N          the first N requests succeed, then it fires
//	fail-first N             it fires for the first N requests only
//	every N                  it fires on every Nth request
//	P%                       it fires with probability P (seeded)
//	after A for D            it fires from A to A+D after start
//	after A for D every E    the same window, repeated every E
//	N per second             it fires for requests beyond N in a second
//	ramp X..Y over D         always fires; latency grows from X to Y over D
//
// "Start" is the activation through the admin API or -scenario, or the
// server's start-up when the scenario is chosen another way.
type Schedule struct {
	Kind   string // "", succeed-first, fail-first, every, probability, window, rate, ramp
	N      int64
	P      float64
	After  time.Duration
	For    time.Duration
	Every  time.Duration
	From   time.Duration
	To     time.Duration
	Over   time.Duration
	source string
}

func (s Schedule) String() string { return s.source }

// ParseSchedule parses the text form of a schedule.
func ParseSchedule(text string) (Schedule, error) {
	f := strings.Fields(text)
	s := Schedule{source: text}
	bad := func(why string) (Schedule, error) {
		return Schedule{}, fmt.Errorf("schedule %q: %s (forms: succeed-first N, fail-first N, every N, P%%, after A for D [every E], N per second, ramp X..Y over D)", text, why)
	}
	count := func(w string) (int64, bool) {
		n, err := strconv.ParseInt(w, 10, 64)
		return n, err == nil && n > 0
	}
	switch {
	case len(f) == 0:
		return s, nil
	case len(f) == 2 && (f[0] == "succeed-first" || f[0] == "fail-first" || f[0] == "every"):
		n, ok := count(f[1])
		if !ok {
			return bad("N must be a positive whole number")
		}
		s.Kind, s.N = f[0], n
	case len(f) == 1 && strings.HasSuffix(f[0], "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
			return bad("P must be a number from 0 to 100")
		}
		s.Kind, s.P = "probability", p/100
	case (len(f) == 4 || len(f) == 6) && f[0] == "after" && f[2] == "for":
		var err1, err2, err3 error
		s.After, err1 = time.ParseDuration(f[1])
		s.For, err2 = time.ParseDuration(f[3])
		if len(f) == 6 {
			if f[4] != "every" {
				return bad("expected every E")
			}
			s.Every, err3 = time.ParseDuration(f[5])
		}
		if err1 != nil || err2 != nil || err3 != nil || s.After < 0 || s.For <= 0 || s.Every < 0 {
			return bad("A, D and E are durations such as 30s; D must be positive")
		}
		if s.Every > 0 && s.After+s.For > s.Every {
			return bad("the window (A+D) must fit in E")
		}
		s.Kind = "window"
	case len(f) == 3 && f[1] == "per" && f[2] == "second":
		n, ok := count(f[0])
		if !ok {
			return bad("N must be a positive whole number")
		}
		s.Kind, s.N = "rate", n
	case len(f) == 4 && f[0] == "ramp" && f[2] == "over":
		r, err := ParseRange(f[1])
		if err != nil {
			return bad(err.Error())
		}
		s.Over, err = time.ParseDuration(f[3])
		if err != nil || s.Over <= 0 {
			return bad("D must be a positive duration")
		}
		s.Kind, s.From, s.To = "ramp", r.Min, r.Max
	default:
		return bad("unknown form")
	}
	return s, nil
}

// state is a schedule's memory for one scenario and one operation.
type state struct {
	start  time.Time
	n      int64     // requests that reached the scenario
	window time.Time // start of the current rate window
	inWin  int64
}

// fires tells whether the scenario fires for the request now, and the
// latency a ramp adds. A probability draws from the seed, keyed by what
// it is for and the request's step, so that it replays.
func (s Schedule) fires(st *state, now time.Time, seed draw.Seed, key string, step uint64) (bool, time.Duration) {
	st.n++
	switch s.Kind {
	case "succeed-first":
		return st.n > s.N, 0
	case "fail-first":
		return st.n <= s.N, 0
	case "every":
		return st.n%s.N == 0, 0
	case "probability":
		return seed.Float64(key, step) < s.P, 0
	case "window":
		t := now.Sub(st.start)
		if s.Every > 0 {
			t %= s.Every
		}
		return t >= s.After && t < s.After+s.For, 0
	case "rate":
		sec := now.Truncate(time.Second)
		if !sec.Equal(st.window) {
			st.window, st.inWin = sec, 0
		}
		st.inWin++
		return st.inWin > s.N, 0
	case "ramp":
		frac := float64(now.Sub(st.start)) / float64(s.Over)
		frac = min(max(frac, 0), 1)
		return true, s.From + time.Duration(frac*float64(s.To-s.From))
	}
	return true, 0
}

// Range is a fixed duration (Min == Max) or a range to draw from.
type Range struct {
	Min, Max time.Duration
}

// ParseRange parses "2s" or "200ms..2s".
func ParseRange(text string) (Range, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(text), "..")
	a, err := time.ParseDuration(lo)
	if err != nil || a < 0 {
		return Range{}, fmt.Errorf("%q is not a duration or range (2s, 200ms..2s)", text)
	}
	b := a
	if isRange {
		b, err = time.ParseDuration(hi)
		if err != nil || b < a {
			return Range{}, fmt.Errorf("%q is not a duration range: want MIN..MAX with MIN <= MAX", text)
		}
	}
	return Range{a, b}, nil
}

// Draw returns a duration within the range.
func (r Range) Draw(rng *rand.Rand) time.Duration {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + time.Duration(rng.Int64N(int64(r.Max-r.Min)+1))
}

func (r Range) String() string {
	if r.Min == r.Max {
		return r.Min.String()
	}
	return r.Min.String() + ".." + r.Max.String()
}
