package scenario

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/clock"
	"github.com/tokenmock/tokenmock/internal/draw"
	"github.com/tokenmock/tokenmock/internal/problem"
)

// Header names of the control a request has over its answer.
const (
	HeaderScenario = "X-Mock-Scenario"
	HeaderApplied  = "X-Mock-Scenario-Applied"
)

// MaxActivations bounds the activations in force at once: one per scenario
// and operation is all a test needs, since a new one replaces the old.
const MaxActivations = 256

// Options configure an Engine.
type Options struct {
	Seed int64
	// Clock is the server's clock; real time when nil.
	Clock *clock.Clock
	// Latency is added to every answer (-latency).
	Latency Range
	// StartScenario is active from start-up until cleared (-scenario).
	StartScenario string
	// FailRate of all requests get FailScenario (-fail-rate, -fail-scenario).
	FailRate     float64
	FailScenario string
	// Gate is the decider between explicit choices (header, Prefer,
	// activations) and rules: the token lifecycle. nil for none.
	Gate Decider
	// ExplicitOnly keeps only what a client or a test asks for (header,
	// Prefer, activations): rules and -fail-rate do not apply. For the
	// validating proxy, whose answers come from the real backend.
	ExplicitOnly bool
}

// Request is what the deciders know of a valid request.
type Request struct {
	Op     string
	Header http.Header
	Body   any // the validated body value
	Step   uint64
	Now    time.Time
	Seed   draw.Seed
}

// A Decider is one link of the chain that chooses an answer: it looks at
// the request and at the choice made so far, and may change it. A problem
// stops the chain and is answered (400: the request asked for what is
// not).
type Decider interface {
	Decide(r *Request, c *Choice) *problem.Problem
}

// DeciderFunc adapts a function to Decider.
type DeciderFunc func(r *Request, c *Choice) *problem.Problem

// Decide calls f.
func (f DeciderFunc) Decide(r *Request, c *Choice) *problem.Problem { return f(r, c) }

// Engine chooses, request by request, how to answer. The choice is an
// ordered chain of deciders, highest priority first:
//
//	header      X-Mock-Scenario
//	prefer      Prefer: code=, example=
//	activation  the admin API's activations, -scenario
//	gate        the token lifecycle (Options.Gate)
//	rules       scenarios.yaml's rules, -fail-rate
//
// and the operation's default answer when none of them chose. It is safe
// for concurrent use: activations with a count are exact under any load,
// and every random draw is keyed by the request's step, so a seed replays
// the same choices whatever the interleaving.
type Engine struct {
	seed  draw.Seed
	clock *clock.Clock
	start time.Time
	lat   Range
	chain []Decider
	steps sync.Map // operation -> *atomic.Uint64: its requests' numbers

	world atomic.Pointer[world]

	mu      sync.Mutex
	nActive atomic.Int64 // len(active), read without mu on the hot path
	active  []*Activation
	states  map[string]*state
}

// world is what the engine reads of the loaded fixtures: swapped whole on
// reload.
type world struct {
	set   *Set
	fx    *answers.Set
	rules []*Rule
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
	// Decided is set when an explicit decider (header, Prefer) chose the
	// answer itself: later deciders leave it alone.
	Decided bool
	Source  string // header, prefer, admin, cli, lifecycle, rule NAME, default
	Step    uint64 // the request's number for its operation, from 1
	Delay   time.Duration
	// Lifecycle is what the token lifecycle decided (live, adopted,
	// renewed, expired, unknown, revoked, wrong-owner); "" when it did not
	// govern the request.
	Lifecycle string
	// Token is the token the answer carries ({{token}}): minted by a
	// renewal.
	Token string
	// Commit, set by the gate, is run by Settle once the request is about
	// to get its answer: what the lifecycle accepted takes effect only if
	// the client gets the normal answer. It may still refuse (a concurrent
	// renewal won) by changing the answer.
	Commit func(c *Choice)
}

// Settle carries out what the chain accepted, right before the answer is
// written: the lifecycle's touch or renewal happens only when the answer
// is the default one and no fault keeps it from the client (a renewal
// whose answer never arrives would leave the client with a revoked token
// and no new one). Call it after any delay, once.
func (c *Choice) Settle() {
	commit := c.Commit
	c.Commit = nil
	if commit == nil || c.Answer != answers.DefaultAnswer || (c.Fired && c.Scenario.Fault != "") {
		return
	}
	commit(c)
}

// Applied is the value of the X-Mock-Scenario-Applied header: the scenario
// that shaped the answer, "answer:NAME" for a fixture answer asked for by
// Prefer, "lifecycle:OUTCOME" for a lifecycle refusal, or "" for the
// default answer (and for no choice at all).
func (c Choice) Applied() string {
	switch {
	case c.Fired:
		return c.Scenario.Name
	case c.Source == "lifecycle":
		return "lifecycle:" + c.Lifecycle
	case c.Scenario == nil && c.Answer != "" && c.Answer != answers.DefaultAnswer:
		return "answer:" + c.Answer
	}
	return ""
}

// NewEngine returns an engine over a scenario set and the fixtures.
func NewEngine(set *Set, fx *answers.Set, opts Options) (*Engine, error) {
	clk := opts.Clock
	if clk == nil {
		clk = clock.New(nil)
	}
	e := &Engine{
		seed: draw.Seed(opts.Seed), clock: clk, start: clk.Now(), lat: opts.Latency,
		states: map[string]*state{},
	}
	w := &world{set: set, fx: fx, rules: slices.Clone(set.Rules)}
	if opts.FailRate < 0 || opts.FailRate > 1 {
		return nil, fmt.Errorf("-fail-rate %v: want a fraction from 0 to 1", opts.FailRate)
	}
	if opts.FailRate > 0 {
		if set.Scenarios[opts.FailScenario] == nil {
			return nil, fmt.Errorf("-fail-scenario %q: %s", opts.FailScenario, known(set))
		}
		w.rules = append(w.rules, &Rule{Name: "-fail-rate", Probability: opts.FailRate, HasProbability: true, Scenario: opts.FailScenario})
	} else if opts.FailScenario != "" {
		return nil, fmt.Errorf("-fail-scenario %s needs -fail-rate", opts.FailScenario)
	}
	e.world.Store(w)
	e.chain = []Decider{DeciderFunc(e.fromHeader), DeciderFunc(e.fromPrefer), DeciderFunc(e.fromActivations)}
	if opts.Gate != nil {
		e.chain = append(e.chain, opts.Gate)
	}
	if !opts.ExplicitOnly {
		e.chain = append(e.chain, DeciderFunc(e.fromRules))
	}
	if opts.StartScenario != "" {
		if err := e.activate(opts.StartScenario, "", -1, "cli"); err != nil {
			return nil, fmt.Errorf("-scenario: %w", err)
		}
	}
	return e, nil
}

// Swap puts a reloaded scenario set and fixtures in place. Activations of
// scenarios that no longer exist (or no longer apply) are dropped; the
// others keep their counts and schedules.
func (e *Engine) Swap(set *Set, fx *answers.Set) {
	old := e.world.Load()
	w := &world{set: set, fx: fx, rules: slices.Clone(set.Rules)}
	for _, r := range old.rules {
		if r.Name == "-fail-rate" && set.Scenarios[r.Scenario] != nil {
			w.rules = append(w.rules, r)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.world.Store(w)
	e.active = slices.DeleteFunc(e.active, func(a *Activation) bool {
		s := set.Scenarios[a.Scenario]
		return s == nil || (a.Operation != "" && !s.AppliesTo(a.Operation))
	})
	e.nActive.Store(int64(len(e.active)))
}

// Draws is the seed every random draw of the server derives from.
func (e *Engine) Draws() draw.Seed { return e.seed }

// Seed is the seed of the engine's random draws.
func (e *Engine) Seed() int64 { return int64(e.seed) }

// Set is the engine's scenarios and rules.
func (e *Engine) Set() *Set { return e.world.Load().set }

// Rules are the rules in force: scenarios.yaml's, then -fail-rate's.
func (e *Engine) Rules() []*Rule { return e.world.Load().rules }

func known(set *Set) string {
	return "known scenarios: " + strings.Join(set.Names, ", ")
}

// knownFor lists the scenarios that apply to an operation.
func knownFor(set *Set, op string) string {
	var names []string
	for _, n := range set.Names {
		if set.Scenarios[n].AppliesTo(op) {
			names = append(names, n)
		}
	}
	return "scenarios of " + op + ": " + strings.Join(names, ", ")
}

// lookup finds a scenario that applies to an operation.
func lookup(set *Set, name, op string) (*Scenario, *problem.Problem) {
	s := set.Scenarios[name]
	if s == nil {
		return nil, problem.Newf(http.StatusBadRequest, "unknown scenario %q; %s", name, knownFor(set, op))
	}
	if !s.AppliesTo(op) {
		return nil, problem.Newf(http.StatusBadRequest, "scenario %s does not apply to %s; it applies to %s", name, op, strings.Join(s.Operations, ", "))
	}
	return s, nil
}

// step returns the next request number of an operation.
func (e *Engine) step(op string) uint64 {
	v, ok := e.steps.Load(op)
	if !ok {
		v, _ = e.steps.LoadOrStore(op, new(atomic.Uint64))
	}
	return v.(*atomic.Uint64).Add(1)
}

// Choose decides how to answer a valid request of operation op. A 400
// problem names an unknown scenario, answer or status asked for.
func (e *Engine) Choose(op string, h http.Header, body any) (Choice, *problem.Problem) {
	r := &Request{Op: op, Header: h, Body: body, Step: e.step(op), Now: e.clock.Now(), Seed: e.seed}
	c := Choice{Answer: answers.DefaultAnswer, Source: "default", Step: r.Step}
	for _, d := range e.chain {
		if p := d.Decide(r, &c); p != nil {
			return c, p
		}
	}
	if e.lat.Max > 0 {
		c.Delay += e.lat.Draw(e.seed.Rand("latency|"+op, r.Step))
	}
	return c, nil
}

// pick chooses scenario s for the request and lets its schedule say
// whether it fires.
func (e *Engine) pick(r *Request, c *Choice, s *Scenario, source string) {
	c.Scenario, c.Source = s, source
	key := s.Name + "|" + r.Op
	e.mu.Lock()
	st := e.states[key]
	if st == nil {
		st = &state{start: e.start}
		e.states[key] = st
	}
	fired, ramp := s.Schedule.fires(st, r.Now, e.seed, "schedule|"+key, r.Step)
	e.mu.Unlock()
	if fired {
		c.Fired = true
		if s.Answer != "" {
			// A scenario's answer is an explicit choice: the lifecycle
			// leaves it alone.
			c.Answer, c.Decided = s.Answer, true
		}
		c.Delay = s.Delay.Draw(e.seed.Rand("delay|"+key, r.Step)) + ramp
	}
}

// fromHeader applies X-Mock-Scenario.
func (e *Engine) fromHeader(r *Request, c *Choice) *problem.Problem {
	name := r.Header.Get(HeaderScenario)
	if name == "" {
		return nil
	}
	s, p := lookup(e.Set(), strings.TrimSpace(name), r.Op)
	if p != nil {
		return p
	}
	e.pick(r, c, s, "header")
	return nil
}

// fromPrefer applies Prism's Prefer header: code=N picks the fixture
// answer with that status, example=NAME a scenario or answer by name.
// Other preferences Prism knows (dynamic=) are refused by name rather
// than ignored: the client would believe it got what it asked for.
func (e *Engine) fromPrefer(r *Request, c *Choice) *problem.Problem {
	if c.Source != "default" {
		return nil
	}
	prefs := r.Header.Values("Prefer")
	if len(prefs) == 0 {
		return nil
	}
	w := e.world.Load()
	fo := w.fx.Operation(r.Op)
	for _, pref := range prefs {
		for _, tok := range strings.FieldsFunc(pref, func(r rune) bool { return r == ',' || r == ';' }) {
			k, v, _ := strings.Cut(strings.TrimSpace(tok), "=")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "code":
				n, err := strconv.Atoi(v)
				if err != nil || n < 100 || n > 599 {
					return problem.Newf(http.StatusBadRequest, "Prefer: code=%s: not an HTTP status code; %s has answers with %s", v, r.Op, statuses(fo))
				}
				a := fo.AnswerForStatus(n)
				if a == nil {
					return problem.Newf(http.StatusBadRequest, "Prefer: code=%d: %s has no answer with that status; it has %s", n, r.Op, statuses(fo))
				}
				c.Answer, c.Source, c.Decided = a.Name, "prefer", true
				return nil
			case "example":
				if s := w.set.Scenarios[v]; s != nil && s.AppliesTo(r.Op) {
					e.pick(r, c, s, "prefer")
					return nil
				}
				if fo.Answers[v] != nil {
					c.Answer, c.Source, c.Decided = v, "prefer", true
					return nil
				}
				return problem.Newf(http.StatusBadRequest, "Prefer: example=%s: no scenario or answer of %s has that name; %s; answers: %s", v, r.Op, knownFor(w.set, r.Op), strings.Join(answerNames(fo), ", "))
			case "dynamic":
				return problem.Newf(http.StatusBadRequest, "Prefer: dynamic=%s: the mock answers from fixtures, it does not generate answers from the schema; ask for one with Prefer: example=NAME or code=N", v)
			}
		}
	}
	return nil
}

func statuses(fo *answers.Operation) string {
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

func answerNames(fo *answers.Operation) []string {
	return slices.Sorted(maps.Keys(fo.Answers))
}

// fromActivations takes the newest activation that matches the
// operation, counting it down.
func (e *Engine) fromActivations(r *Request, c *Choice) *problem.Problem {
	// The lock is taken only when there is something to find: most
	// requests of a default run meet no activation.
	if c.Source != "default" || e.nActive.Load() == 0 {
		return nil
	}
	set := e.Set()
	var s *Scenario
	var source string
	e.mu.Lock()
	for i := len(e.active) - 1; i >= 0; i-- {
		a := e.active[i]
		if a.Operation != "" && a.Operation != r.Op {
			continue
		}
		sc := set.Scenarios[a.Scenario]
		if sc == nil || !sc.AppliesTo(r.Op) {
			continue
		}
		if a.Remaining > 0 {
			a.Remaining--
			if a.Remaining == 0 {
				e.active = slices.Delete(e.active, i, i+1)
				e.nActive.Store(int64(len(e.active)))
			}
		}
		s, source = sc, a.Source
		break
	}
	e.mu.Unlock()
	if s != nil {
		e.pick(r, c, s, source)
	}
	return nil
}

// fromRules takes the first rule that matches.
func (e *Engine) fromRules(r *Request, c *Choice) *problem.Problem {
	if c.Source != "default" {
		return nil
	}
	w := e.world.Load()
	for i, rule := range w.rules {
		if rule.Operation != "" && rule.Operation != r.Op {
			continue
		}
		s := w.set.Scenarios[rule.Scenario]
		if !s.AppliesTo(r.Op) {
			continue
		}
		if (rule.Header != "" || rule.Pointer != nil) && !rule.match(r.Header, r.Body) {
			continue
		}
		if rule.HasProbability && e.seed.Float64("rule"+strconv.Itoa(i)+"|"+r.Op, r.Step) >= rule.Probability {
			continue
		}
		e.pick(r, c, s, "rule "+rule.Name)
		return nil
	}
	return nil
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
		v, ok = answers.Lookup(body, r.Pointer)
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
// cleared. Its schedule starts again from now. An activation of the same
// scenario for the same operation replaces the one in force.
func (e *Engine) Activate(name, op string, times int64) error {
	return e.activate(name, op, times, "admin")
}

// ErrTooManyActivations is returned by Activate beyond MaxActivations.
var ErrTooManyActivations = fmt.Errorf("%d activations are in force, the most there can be; clear some first", MaxActivations)

func (e *Engine) activate(name, op string, times int64, source string) error {
	w := e.world.Load()
	s := w.set.Scenarios[name]
	if s == nil {
		return fmt.Errorf("unknown scenario %q; %s", name, known(w.set))
	}
	if op != "" && w.fx.Operation(op) == nil {
		return fmt.Errorf("unknown operation %q; operations: %s", op, strings.Join(w.fx.IDs(), ", "))
	}
	if op != "" && !s.AppliesTo(op) {
		return fmt.Errorf("scenario %s does not apply to %q; it applies to %s", name, op, strings.Join(s.Operations, ", "))
	}
	if times == 0 {
		return fmt.Errorf("times must be positive, or absent for until cleared")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.active = slices.DeleteFunc(e.active, func(a *Activation) bool { return a.Scenario == name && a.Operation == op })
	if len(e.active) >= MaxActivations {
		e.nActive.Store(int64(len(e.active)))
		return ErrTooManyActivations
	}
	now := e.clock.Now()
	for _, id := range s.Operations {
		e.states[name+"|"+id] = &state{start: now}
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
