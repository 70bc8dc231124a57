// Package scenario is the failure model of the mock: named scenarios (an
// answer, a delay, a network fault or a contract drift, on a schedule),
// rules that pick them from request values or by probability, and the
// engine that chooses, request by request, which one applies. It knows
// nothing of HTTP servers: the server asks it and carries out the choice.
package scenario

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-openapi/jsonpointer"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/strictyaml"
)

// Faults the server knows how to give.
var Faults = []string{"reset", "empty", "timeout", "malformed", "truncated", "slow-body"}

// Drift kinds: answers that arrive intact but break the contract.
var DriftKinds = []string{"order", "namespace", "enum-form", "missing", "unknown"}

// Scenario is one named way to answer.
type Scenario struct {
	Name        string
	Description string
	// Answer names the fixture answer given when the scenario fires; ""
	// keeps the operation's default answer (a delay, fault or drift then
	// applies to it).
	Answer     string
	Delay      Range
	Fault      string
	Duration   time.Duration // of slow-body
	Drift      *Drift
	Schedule   Schedule
	Operations []string // where it applies, sorted
}

// Drift describes how an answer breaks the contract.
type Drift struct {
	Kind    string            `yaml:"kind" json:"kind"`
	Members []string          `yaml:"members,omitempty" json:"members,omitempty"` // missing: top-level members to drop
	Member  string            `yaml:"member,omitempty" json:"member,omitempty"`   // enum-form: the member; unknown: the member added
	Names   map[string]string `yaml:"names,omitempty" json:"names,omitempty"`     // enum-form: JSON number -> XML name
}

// Rule picks a scenario for requests that match it.
type Rule struct {
	Name           string
	Operation      string // "" for all
	Header         string
	Pointer        []string // body member (JSON pointer, for XML bodies too)
	PointerText    string
	Equals         *string
	Matches        *regexp.Regexp
	Probability    float64 // with HasProbability: the chance the rule fires
	HasProbability bool
	Scenario       string
}

// Set is the loaded scenarios and rules.
type Set struct {
	Scenarios map[string]*Scenario
	Names     []string // sorted
	Rules     []*Rule
}

// File is the YAML form of scenarios.yaml.
type File struct {
	Scenarios map[string]fileScenario `yaml:"scenarios"`
	Rules     []fileRule              `yaml:"rules"`
}

type fileScenario struct {
	Description string   `yaml:"description"`
	Answer      string   `yaml:"answer"`
	Delay       string   `yaml:"delay"`
	Fault       string   `yaml:"fault"`
	Duration    string   `yaml:"duration"`
	Drift       *Drift   `yaml:"drift"`
	Schedule    string   `yaml:"schedule"`
	Operations  []string `yaml:"operations"`
}

type fileRule struct {
	Name      string `yaml:"name"`
	Operation string `yaml:"operation"`
	When      *struct {
		Header  string  `yaml:"header"`
		Body    string  `yaml:"body"`
		Equals  *string `yaml:"equals"`
		Matches string  `yaml:"matches"`
	} `yaml:"when"`
	Probability string `yaml:"probability"`
	Scenario    string `yaml:"scenario"`
}

// Load parses scenarios.yaml (where names it in messages) and checks every
// scenario against the fixtures: each answer it names must exist for the
// operations it applies to. All mistakes are reported, each with its place.
func Load(data []byte, where string, fx *answers.Set) (*Set, error) {
	var f File
	if err := strictyaml.Decode(data, where, &f); err != nil {
		return nil, err
	}
	set := &Set{Scenarios: map[string]*Scenario{}}
	var errs []error
	for name, fs := range f.Scenarios {
		s, err := buildScenario(name, fs, fx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: scenarios.%s: %w", where, name, err))
			continue
		}
		set.Scenarios[name] = s
		set.Names = append(set.Names, name)
	}
	slices.Sort(set.Names)
	for i, fr := range f.Rules {
		r, err := buildRule(i, fr, set, fx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: rules[%d]: %w", where, i, err))
			continue
		}
		set.Rules = append(set.Rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func buildScenario(name string, fs fileScenario, fx *answers.Set) (*Scenario, error) {
	if !namePattern.MatchString(name) {
		return nil, errors.New("a name is lower-case letters, digits and dashes")
	}
	s := &Scenario{Name: name, Description: fs.Description, Answer: fs.Answer, Fault: fs.Fault, Drift: fs.Drift}
	if s.Description == "" {
		return nil, errors.New("description: say what the scenario does")
	}
	var err error
	if fs.Delay != "" {
		if s.Delay, err = ParseRange(fs.Delay); err != nil {
			return nil, fmt.Errorf("delay: %w", err)
		}
	}
	if s.Fault != "" && !slices.Contains(Faults, s.Fault) {
		return nil, fmt.Errorf("fault: unknown fault %q (known: %s)", s.Fault, strings.Join(Faults, ", "))
	}
	switch s.Fault {
	case "reset", "empty", "timeout":
		// These faults give no answer at all: an answer named beside one
		// could never be seen, which is a mistake worth stopping for.
		if s.Answer != "" {
			return nil, fmt.Errorf("answer %s: a %s fault gives no answer, so the answer would never be seen; drop one of them", s.Answer, s.Fault)
		}
	}
	if fs.Duration != "" {
		if s.Fault != "slow-body" {
			return nil, errors.New("duration: only a slow-body fault has a duration")
		}
		if s.Duration, err = time.ParseDuration(fs.Duration); err != nil || s.Duration <= 0 {
			return nil, fmt.Errorf("duration: %q is not a positive duration", fs.Duration)
		}
	} else if s.Fault == "slow-body" {
		s.Duration = 2 * time.Second
	}
	if s.Drift != nil {
		if err := checkDrift(s.Drift); err != nil {
			return nil, fmt.Errorf("drift: %w", err)
		}
		if s.Fault != "" {
			return nil, errors.New("a scenario has a fault or a drift, not both")
		}
	}
	if s.Schedule, err = ParseSchedule(fs.Schedule); err != nil {
		return nil, err
	}
	if len(fs.Operations) > 0 {
		for _, id := range fs.Operations {
			op := fx.Operation(id)
			if op == nil {
				return nil, fmt.Errorf("operations: no operation %q", id)
			}
			if err := s.fits(op); err != nil {
				return nil, fmt.Errorf("operations: %s: %w", id, err)
			}
			s.Operations = append(s.Operations, id)
		}
	} else {
		for _, id := range fx.IDs() {
			if s.fits(fx.Operation(id)) == nil {
				s.Operations = append(s.Operations, id)
			}
		}
		if len(s.Operations) == 0 {
			return nil, noOperation(s, fx)
		}
	}
	slices.Sort(s.Operations)
	return s, nil
}

// noOperation says why a scenario fits no operation's fixtures: most often
// an answer name that no fixture file has.
func noOperation(s *Scenario, fx *answers.Set) error {
	var why []string
	for _, id := range fx.IDs() {
		op := fx.Operation(id)
		if s.Answer != "" && op.Answers[s.Answer] == nil {
			why = append(why, fmt.Sprintf("%s has %s", path.Base(op.File), strings.Join(slices.Sorted(maps.Keys(op.Answers)), ", ")))
		}
	}
	if len(why) == len(fx.IDs()) {
		return fmt.Errorf("answer: no fixture file has an answer %q (%s)", s.Answer, strings.Join(why, "; "))
	}
	why = why[:0]
	for _, id := range fx.IDs() {
		why = append(why, s.fits(fx.Operation(id)).Error())
	}
	return fmt.Errorf("applies to no operation: %s", strings.Join(why, "; "))
}

// fits reports why the scenario cannot apply to an operation, or nil.
func (s *Scenario) fits(op *answers.Operation) error {
	if s.Answer != "" {
		if op.Answers[s.Answer] == nil {
			return fmt.Errorf("%s has no answer %q", op.File, s.Answer)
		}
	}
	if s.Drift == nil {
		return nil
	}
	a := op.Answers[s.AnswerName()]
	switch s.Drift.Kind {
	case "order", "namespace":
		if !hasXML(a) {
			return fmt.Errorf("answer %s has no XML body to drift", a.Name)
		}
	case "enum-form", "missing":
		members := s.Drift.Members
		if s.Drift.Kind == "enum-form" {
			members = []string{s.Drift.Member}
		}
		for _, body := range a.Raw {
			for _, m := range members {
				if strings.Contains(body, `"`+m+`"`) || strings.Contains(body, "<"+m) {
					return nil
				}
			}
		}
		return fmt.Errorf("answer %s has none of the members %s", a.Name, strings.Join(members, ", "))
	}
	return nil
}

func hasXML(a *answers.Answer) bool {
	for _, mt := range a.Media() {
		if strings.Contains(mt, "xml") {
			return true
		}
	}
	return false
}

// AnswerName is the fixture answer the scenario gives.
func (s *Scenario) AnswerName() string {
	if s.Answer == "" {
		return answers.DefaultAnswer
	}
	return s.Answer
}

// AppliesTo reports whether the scenario applies to an operation.
func (s *Scenario) AppliesTo(op string) bool {
	_, ok := slices.BinarySearch(s.Operations, op)
	return ok
}

func checkDrift(d *Drift) error {
	switch d.Kind {
	case "order", "namespace":
	case "missing":
		if len(d.Members) == 0 {
			return errors.New("members: name the members to drop")
		}
	case "enum-form":
		if d.Member == "" || len(d.Names) == 0 {
			return errors.New("enum-form needs member and names (JSON number -> XML name)")
		}
	case "unknown":
		if d.Member == "" {
			return errors.New("unknown needs member: the name of the member to add")
		}
	default:
		return fmt.Errorf("kind: unknown drift %q (known: %s)", d.Kind, strings.Join(DriftKinds, ", "))
	}
	return nil
}

func buildRule(i int, fr fileRule, set *Set, fx *answers.Set) (*Rule, error) {
	r := &Rule{Name: fr.Name, Operation: fr.Operation, Scenario: fr.Scenario}
	if r.Name == "" {
		r.Name = fmt.Sprintf("rules[%d]", i)
	}
	s := set.Scenarios[fr.Scenario]
	if s == nil {
		return nil, fmt.Errorf("scenario: no scenario %q", fr.Scenario)
	}
	if r.Operation != "" {
		if fx.Operation(r.Operation) == nil {
			return nil, fmt.Errorf("operation: no operation %q", r.Operation)
		}
		if !s.AppliesTo(r.Operation) {
			return nil, fmt.Errorf("scenario %s does not apply to %s", s.Name, r.Operation)
		}
	}
	if fr.Probability != "" {
		p, err := ParseSchedule(fr.Probability)
		if err != nil || p.Kind != "probability" {
			return nil, fmt.Errorf("probability: %q is not a percentage such as 10%%", fr.Probability)
		}
		r.Probability, r.HasProbability = p.P, true
	}
	if w := fr.When; w != nil {
		switch {
		case w.Header != "" && w.Body != "":
			return nil, errors.New("when: match a header or a body member, not both")
		case w.Header != "":
			r.Header = w.Header
		case strings.HasPrefix(w.Body, "/"):
			r.PointerText = w.Body
			ptr, _ := jsonpointer.New(w.Body) // it starts with /: it parses
			r.Pointer = ptr.DecodedTokens()
		default:
			return nil, errors.New("when: header: NAME or body: /json/pointer")
		}
		switch {
		case w.Equals != nil && w.Matches != "":
			return nil, errors.New("when: equals or matches, not both")
		case w.Equals != nil:
			r.Equals = w.Equals
		case w.Matches != "":
			re, err := regexp.Compile(w.Matches)
			if err != nil {
				return nil, fmt.Errorf("when.matches: %w", err)
			}
			r.Matches = re
		default:
			return nil, errors.New("when: give equals or matches")
		}
	} else if fr.Probability == "" {
		return nil, errors.New("a rule needs when, probability, or both")
	}
	return r, nil
}
