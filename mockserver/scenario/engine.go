package scenario

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmock/tokenmock/mockserver/fixture"
	"github.com/tokenmock/tokenmock/mockserver/problem"
)

// Header names of the control a request has over its answer.
const (
	HeaderScenario = "X-Mock-Scenario"
	HeaderApplied  = "X-Mock-Scenario-Applied"
)

// Options configure an Engine.
type Options struct {
	Seed int64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Latency is added to every answer (-latency).
	Latency Range
	// StartScenario is active from start-up until cleared (-scenario).
	StartScenario string
	// FailRate of all requests get FailScenario (-fail-rate, -fail-scenario).
	FailRate     float64
	FailScenario string
}

// Engine chooses, request by request, how to answer. It is safe for
// concurrent use: activations with a count are exact under any load.
type Engine struct {
	set   *Set
	fx    *fixture.Set
	seed  int64
	now   func() time.Time
	start time.Time
	lat   Range
	rules []*Rule
	steps map[string]*atomic.Uint64 // per-operation request numbers

	mu      sync.Mutex
	nActive atomic.Int64 // len(active), read without mu on the hot path
	active  []*Activation
	states  map[string]*state
	rngs    map[string]*rand.Rand
}

// Activation is a scenario switched on at run time.
type Activation struct {
	Scenario  string    `json:"scenario"`
	Operation string    `json:"operation,omitempty"`
	Remaining int64     `json:"remaining"` // -1: until cleared
	Since     time.Time `json:"since"`
	Source    string    `json:"source"` // admin or cli
}

// Choice is how one request is answered.
type Choice struct {
	Scenario *Scenario // chosen, whether it fired or not; nil for none
	Fired    bool      // the scenario's schedule let it fire
	Answer   string    // the fixture answer to give
	Source   string    // header, prefer, admin, cli, rule NAME, default
	Step     uint64    // the request's number for its operation, from 1
	Delay    time.Duration
}

// Applied is the value of the X-Mock-Scenario-Applied header: the scenario
// that shaped the answer, "answer:NAME" for a fixture answer asked for by
// Prefer, or "" for the default answer (and for no choice at all).
func (c Choice) Applied() string {
	switch {
	case c.Fired:
		return c.Scenario.Name
	case c.Scenario == nil && c.Answer != "" && c.Answer != fixture.DefaultAnswer:
		return "answer:" + c.Answer
	}
	return ""
}

// NewEngine returns an engine over a scenario set and the fixtures.
func NewEngine(set *Set, fx *fixture.Set, opts Options) (*Engine, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	e := &Engine{
		set: set, fx: fx, seed: opts.Seed, now: now, start: now(), lat: opts.Latency,
		rules:  slices.Clone(set.Rules),
		steps:  map[string]*atomic.Uint64{},
		states: map[string]*state{},
		rngs:   map[string]*rand.Rand{},
	}
	for _, id := range fx.IDs() {
		e.steps[id] = new(atomic.Uint64)
	}
	if opts.FailRate < 0 || opts.FailRate > 1 {
		return nil, fmt.Errorf("-fail-rate %v: want a fraction from 0 to 1", opts.FailRate)
	}
	if opts.FailRate > 0 {
		if set.Scenarios[opts.FailScenario] == nil {
			return nil, fmt.Errorf("-fail-scenario %q: %s", opts.FailScenario, e.known())
		}
		e.rules = append(e.rules, &Rule{Name: "-fail-rate", Probability: opts.FailRate, HasProbability: true, Scenario: opts.FailScenario})
	} else if opts.FailScenario != "" {
		return nil, fmt.Errorf("-fail-scenario %s needs -fail-rate", opts.FailScenario)
	}
	if opts.StartScenario != "" {
		if err := e.activate(opts.StartScenario, "", -1, "cli"); err != nil {
			return nil, fmt.Errorf("-scenario: %w", err)
		}
	}
	return e, nil
}

// Seed is the seed of the engine's random draws.
func (e *Engine) Seed() int64 { return e.seed }

// Set is the engine's scenarios and rules.
func (e *Engine) Set() *Set { return e.set }

func (e *Engine) known() string {
	return "known scenarios: " + strings.Join(e.set.Names, ", ")
}

// rng returns the random source of one key, seeded from the engine's seed
// and the key, so that each operation's sequence of draws is the same on
// every run whatever the interleaving with other operations. Call with mu.
func (e *Engine) rng(key string) *rand.Rand {
	r := e.rngs[key]
	if r == nil {
		h := fnv.New64a()
		h.Write([]byte(key))
		r = rand.New(rand.NewPCG(uint64(e.seed), h.Sum64()))
		e.rngs[key] = r
	}
	return r
}

// lookup finds a scenario that applies to an operation.
func (e *Engine) lookup(name, op string) (*Scenario, *problem.Problem) {
	s := e.set.Scenarios[name]
	if s == nil {
		return nil, problem.Newf(http.StatusBadRequest, "unknown scenario %q; %s", name, e.known())
	}
	if !s.AppliesTo(op) {
		return nil, problem.Newf(http.StatusBadRequest, "scenario %s does not apply to %s; it applies to %s", name, op, strings.Join(s.Operations, ", "))
	}
	return s, nil
}

// Choose decides how to answer a valid request of operation op. Highest
// priority first: the X-Mock-Scenario header, Prefer (code= or example=),
// activations, rules, the default answer. A 400 problem names an unknown
// scenario, answer or status asked for.
func (e *Engine) Choose(op string, h http.Header, body any) (Choice, *problem.Problem) {
	c := Choice{Answer: fixture.DefaultAnswer, Source: "default"}
	if st := e.steps[op]; st != nil {
		c.Step = st.Add(1)
	}
	if name := h.Get(HeaderScenario); name != "" {
		s, p := e.lookup(strings.TrimSpace(name), op)
		if p != nil {
			return c, p
		}
		c.Scenario, c.Source = s, "header"
	} else if prefs := h.Values("Prefer"); len(prefs) > 0 {
		if p := e.prefer(&c, op, prefs); p != nil {
			return c, p
		}
	}
	// The lock is taken only for what needs it: most requests of a
	// default run have no activation, no probability and no latency.
	if c.Source == "default" && e.nActive.Load() > 0 {
		e.mu.Lock()
		e.fromActivations(&c, op)
		e.mu.Unlock()
	}
	if c.Source == "default" && len(e.rules) > 0 {
		e.fromRules(&c, op, h, body)
	}
	if s := c.Scenario; s != nil {
		e.mu.Lock()
		key := s.Name + "|" + op
		st := e.states[key]
		if st == nil {
			st = &state{start: e.start, rng: e.rng("schedule|" + key)}
			e.states[key] = st
		}
		fired, ramp := s.Schedule.fires(st, e.now())
		if fired {
			c.Fired, c.Answer = true, s.AnswerName()
			c.Delay = s.Delay.Draw(e.rng("delay|"+op)) + ramp
		}
		e.mu.Unlock()
	}
	if e.lat.Max > 0 {
		e.mu.Lock()
		c.Delay += e.lat.Draw(e.rng("latency|" + op))
		e.mu.Unlock()
	}
	return c, nil
}

// prefer applies Prism's Prefer header: code=N picks the fixture answer
// with that status, example=NAME a scenario or answer by name.
func (e *Engine) prefer(c *Choice, op string, prefs []string) *problem.Problem {
	fo := e.fx.Operation(op)
	for _, pref := range prefs {
		for _, tok := range strings.FieldsFunc(pref, func(r rune) bool { return r == ',' || r == ';' }) {
			k, v, _ := strings.Cut(strings.TrimSpace(tok), "=")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "code":
				n, err := strconv.Atoi(v)
				a := fo.AnswerForStatus(n)
				if err != nil || a == nil {
					return problem.Newf(http.StatusBadRequest, "Prefer: code=%s: %s has no answer with that status; it has %s", v, op, statuses(fo))
				}
				c.Answer, c.Source = a.Name, "prefer"
				return nil
			case "example":
				if s := e.set.Scenarios[v]; s != nil {
					if !s.AppliesTo(op) {
						_, p := e.lookup(v, op)
						return p
					}
					c.Scenario, c.Source = s, "prefer"
					return nil
				}
				if fo.Answers[v] != nil {
					c.Answer, c.Source = v, "prefer"
					return nil
				}
				return problem.Newf(http.StatusBadRequest, "Prefer: example=%s: no scenario or answer of %s has that name; %s; answers: %s", v, op, e.known(), strings.Join(answers(fo), ", "))
			}
		}
	}
	return nil
}

func statuses(fo *fixture.Operation) string {
	var codes []int
	for _, a := range fo.Answers {
		if !slices.Contains(codes, a.Status) {
			codes = append(codes, a.Status)
		}
	}
	slices.Sort(codes)
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ", ")
}

func answers(fo *fixture.Operation) []string {
	out := make([]string, 0, len(fo.Answers))
	for n := range fo.Answers {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// fromActivations takes the newest activation that matches op, counting it
// down. Call with mu.
func (e *Engine) fromActivations(c *Choice, op string) {
	for i := len(e.active) - 1; i >= 0; i-- {
		a := e.active[i]
		if a.Operation != "" && a.Operation != op {
			continue
		}
		s := e.set.Scenarios[a.Scenario]
		if !s.AppliesTo(op) {
			continue
		}
		if a.Remaining > 0 {
			a.Remaining--
			if a.Remaining == 0 {
				e.active = slices.Delete(e.active, i, i+1)
				e.nActive.Store(int64(len(e.active)))
			}
		}
		c.Scenario, c.Source = s, a.Source
		return
	}
}

// fromRules takes the first rule that matches; it locks mu for the draws
// of probability rules.
func (e *Engine) fromRules(c *Choice, op string, h http.Header, body any) {
	for i, r := range e.rules {
		if r.Operation != "" && r.Operation != op {
			continue
		}
		s := e.set.Scenarios[r.Scenario]
		if !s.AppliesTo(op) {
			continue
		}
		if (r.Header != "" || r.Pointer != nil) && !r.match(h, body) {
			continue
		}
		if r.HasProbability {
			e.mu.Lock()
			draw := e.rng(fmt.Sprintf("rule%d|%s", i, op)).Float64()
			e.mu.Unlock()
			if draw >= r.Probability {
				continue
			}
		}
		c.Scenario, c.Source = s, "rule "+r.Name
		return
	}
}

func (r *Rule) match(h http.Header, body any) bool {
	var v string
	var ok bool
	if r.Header != "" {
		vals := h.Values(r.Header)
		if len(vals) > 0 {
			v, ok = vals[0], true
		}
	} else {
		v, ok = fixture.Lookup(body, r.Pointer)
	}
	if !ok {
		return false
	}
	if r.Equals != nil {
		return v == *r.Equals
	}
	return r.Matches.MatchString(v)
}

// Activate switches a scenario on for the next times requests (of op, or of
// every operation it applies to, when op is ""); times < 0 means until
// cleared. Its schedule starts again from now.
func (e *Engine) Activate(name, op string, times int64) error {
	return e.activate(name, op, times, "admin")
}

func (e *Engine) activate(name, op string, times int64, source string) error {
	s := e.set.Scenarios[name]
	if s == nil {
		return fmt.Errorf("unknown scenario %q; %s", name, e.known())
	}
	if op != "" && !s.AppliesTo(op) {
		return fmt.Errorf("scenario %s does not apply to %q; it applies to %s", name, op, strings.Join(s.Operations, ", "))
	}
	if times == 0 {
		return fmt.Errorf("times must be positive, or absent for until cleared")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for _, id := range s.Operations {
		key := name + "|" + id
		e.states[key] = &state{start: now, rng: e.rng("schedule|" + key)}
	}
	e.active = append(e.active, &Activation{Scenario: name, Operation: op, Remaining: times, Since: now, Source: source})
	e.nActive.Store(int64(len(e.active)))
	return nil
}

// Active lists the activations in force, oldest first.
func (e *Engine) Active() []Activation {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Activation, len(e.active))
	for i, a := range e.active {
		out[i] = *a
	}
	return out
}

// Clear removes every activation, -scenario's included.
func (e *Engine) Clear() {
	e.mu.Lock()
	e.active = nil
	e.nActive.Store(0)
	e.mu.Unlock()
}
