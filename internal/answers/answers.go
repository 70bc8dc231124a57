// Package answers loads the answers the mock gives: one YAML file per
// operation of the spec, named <operationId>.yaml, each answer checked
// against the spec for its status and media type before anything is served.
package answers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/strictyaml"
)

// ScenariosFile is the file of the fixture directory that holds scenarios
// and rules rather than an operation's answers.
const ScenariosFile = "scenarios.yaml"

// LifecycleFile is the file of the fixture directory that holds the token
// realms (package lifecycle).
const LifecycleFile = "lifecycle.yaml"

// DefaultAnswer is the name of the answer a valid request gets.
const DefaultAnswer = "default"

// Set holds the fixtures of every operation.
type Set struct {
	ops map[string]*Operation
}

// Operation holds one operation's answers and sample requests.
type Operation struct {
	ID      string
	File    string
	Answers map[string]*Answer
	// Requests maps a sample's name to its body per media type.
	Requests map[string]map[string]string
	// Lifecycle binds the operation to a realm of the token lifecycle;
	// nil when the operation has nothing to do with tokens.
	Lifecycle *Binding
}

// Binding ties an operation to a realm of the token lifecycle (package
// lifecycle checks and carries it out): where the request carries the
// token and its owner, what the call does to the token, and which answer
// each refusal gets. Places are "body:/json/pointer" (for XML bodies too)
// or "header:Name".
type Binding struct {
	Realm      string            `yaml:"realm"`
	Action     string            `yaml:"action"`     // touch or renew
	Token      string            `yaml:"token"`      // the token acted upon
	Credential string            `yaml:"credential"` // optional: another place that must hold a token of the realm
	Owner      string            `yaml:"owner"`      // optional: who the token belongs to
	Answers    map[string]string `yaml:"answers"`    // refusal (unknown, revoked, expired, wrong-owner) -> answer name
}

// Answer is one answer of an operation.
type Answer struct {
	Name   string
	Status int
	Header http.Header
	// Bodies maps each media type to its body.
	Bodies map[string]*Template
	// Raw keeps the unrendered bodies, for validation and listing.
	Raw map[string]string
	// Invalid, when set, says how the answer breaks the contract: a
	// backend's answer kept by record mode to be served on demand
	// (Prefer: example=NAME) exactly as it came. Such an answer is not
	// checked against the spec and cannot be the default.
	Invalid string
}

// Media returns the media types the answer has a body for, sorted.
func (a *Answer) Media() []string {
	return slices.Sorted(maps.Keys(a.Bodies))
}

// IDs lists the operations that have fixtures, sorted.
func (s *Set) IDs() []string {
	return slices.Sorted(maps.Keys(s.ops))
}

// AnswerForStatus returns the first answer (by name) of an operation with
// the given status, or nil.
func (o *Operation) AnswerForStatus(status int) *Answer {
	var best *Answer
	for _, a := range o.Answers {
		if a.Status == status && (best == nil || a.Name < best.Name) {
			best = a
		}
	}
	return best
}

// Operation returns the fixtures of an operation, or nil.
func (s *Set) Operation(id string) *Operation { return s.ops[id] }

// file is the YAML form of a fixture file.
type file struct {
	Lifecycle *Binding                     `yaml:"lifecycle"`
	Requests  map[string]map[string]string `yaml:"requests"`
	Answers   map[string]fileAnswer        `yaml:"answers"`
}

type fileAnswer struct {
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers"`
	Body    map[string]string `yaml:"body"`
	Invalid string            `yaml:"invalid"`
	// Recorded says where an answer recorded by -record came from. Such an
	// answer has a body in the one media type the backend answered in.
	Recorded string `yaml:"recorded"`
}

// Options bound a load and report its progress.
type Options struct {
	// MaxFileBytes is the size limit of a fixture file; 0 means
	// DefaultMaxFileBytes.
	MaxFileBytes int64
	// Progress, when set, is told how far the check of a file's answers
	// has gone: at its start when it is large, then every ProgressEvery.
	Progress func(file string, size int64, checked, total int)
}

// ProgressEvery is how often Options.Progress hears of a long load.
const ProgressEvery = 2 * time.Second

// largeFile is the size from which a load says how far it has got.
const largeFile = 1 << 20

// Load reads the fixtures of every operation of c from fsys (where dir
// names fsys in messages) and checks each answer and sample request against
// the spec. All mistakes are reported together, each naming its file.
func Load(fsys fs.FS, dir string, c *contract.Contract) (*Set, error) {
	return LoadWith(fsys, dir, c, Options{})
}

// LoadWith is Load with options.
func LoadWith(fsys fs.FS, dir string, c *contract.Contract, opt Options) (*Set, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = DefaultMaxFileBytes
	}
	set := &Set{ops: map[string]*Operation{}}
	var errs []error
	found := map[string]bool{}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("load fixtures %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (path.Ext(name) != ".yaml" && path.Ext(name) != ".yml") || name == ScenariosFile || name == LifecycleFile {
			continue
		}
		id := strings.TrimSuffix(name, path.Ext(name))
		where := path.Join(dir, name)
		op := c.Operation(id)
		if op == nil {
			errs = append(errs, fmt.Errorf("%s: the spec has no operation %q (fixture files are named <operationId>.yaml)", where, id))
			continue
		}
		found[id] = true
		data, err := ReadFile(fsys, name, where, opt.MaxFileBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("load fixture %s: %w", where, err))
			continue
		}
		fo, ferrs := loadFile(data, where, op, opt.Progress)
		if len(ferrs) > MaxFileErrors {
			ferrs = append(ferrs[:MaxFileErrors], fmt.Errorf("%s: and %d more mistakes", where, len(ferrs)-MaxFileErrors))
		}
		errs = append(errs, ferrs...)
		if fo != nil {
			set.ops[id] = fo
		}
	}
	for _, op := range c.Operations {
		if !found[op.ID] {
			errs = append(errs, fmt.Errorf("%s: operation %s has no fixture file %s.yaml", dir, op.ID, op.ID))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

func loadFile(data []byte, where string, op *contract.Operation, progress func(string, int64, int, int)) (*Operation, []error) {
	var f file
	if err := strictyaml.Decode(data, where, &f); err != nil {
		return nil, []error{err}
	}
	total, checked, last := len(f.Answers), 0, time.Now()
	if progress != nil && len(data) >= largeFile {
		progress(where, int64(len(data)), 0, total)
	}
	fo := &Operation{ID: op.ID, File: where, Answers: map[string]*Answer{}, Requests: f.Requests, Lifecycle: f.Lifecycle}
	samples, errs := checkRequests(f.Requests, where, op, f.Lifecycle)
	if b := f.Lifecycle; b != nil {
		for _, outcome := range slices.Sorted(maps.Keys(b.Answers)) {
			if _, ok := f.Answers[b.Answers[outcome]]; !ok {
				errs = append(errs, fmt.Errorf("%s: lifecycle.answers.%s: no answer %q in this file", where, outcome, b.Answers[outcome]))
			}
		}
	}
	if _, ok := f.Answers[DefaultAnswer]; !ok {
		errs = append(errs, fmt.Errorf("%s: answers: no %q answer", where, DefaultAnswer))
	}
	for _, name := range slices.Sorted(maps.Keys(f.Answers)) {
		checked++
		if progress != nil && checked%256 == 0 && time.Since(last) >= ProgressEvery {
			progress(where, int64(len(data)), checked, total)
			last = time.Now()
		}
		a, aerrs := loadAnswer(name, f.Answers[name], fmt.Sprintf("%s: answers.%s", where, excerptCut(name, ExcerptMax)), op, samples)
		errs = append(errs, aerrs...)
		if a != nil {
			fo.Answers[name] = a
		}
	}
	return fo, errs
}

// loadAnswer checks one answer against the spec: its status, the media
// types of its bodies, and each body as it renders for every sample.
func loadAnswer(name string, fa fileAnswer, at string, op *contract.Operation, samples []sample) (*Answer, []error) {
	a := &Answer{Name: name, Status: fa.Status, Header: http.Header{}, Bodies: map[string]*Template{}, Raw: map[string]string{}}
	if fa.Status < 100 || fa.Status > 599 {
		return nil, []error{fmt.Errorf("%s.status: %d is not an HTTP status", at, fa.Status)}
	}
	for k, v := range fa.Headers {
		a.Header.Set(k, v)
	}
	if fa.Invalid != "" {
		return loadInvalid(name, fa, at, a)
	}
	resp := op.Route.Operation.Responses.Status(fa.Status)
	if resp == nil || resp.Value == nil {
		return nil, []error{fmt.Errorf("%s.status: %s does not document status %d", at, op.ID, fa.Status)}
	}
	var errs []error
	offered := slices.Sorted(maps.Keys(resp.Value.Content))
	misplaced := false
	for _, mt := range slices.Sorted(maps.Keys(fa.Body)) {
		body := fa.Body[mt]
		mt = strings.ToLower(mt)
		switch {
		case resp.Value.Content.Get(mt) == nil:
			errs = append(errs, fmt.Errorf("%s.body.%s: the spec offers no %s body for %s status %d (it offers %s): put the body under one of those", at, mt, mt, op.ID, fa.Status, strings.Join(offered, ", ")))
			misplaced = true
			continue
		case !slices.Contains(op.ResponseTypes, mt):
			errs = append(errs, fmt.Errorf("%s.body.%s: %s answers in %s, never in %s: put the body under %s", at, mt, op.ID, strings.Join(op.ResponseTypes, ", "), mt, op.ResponseTypes[0]))
			misplaced = true
			continue
		}
		t, err := ParseTemplate(body, mt)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.body.%s: %w", at, mt, err))
			continue
		}
		if err := checkRenderings(t, body, mt, fa.Status, a.Header, op, samples); err != nil {
			errs = append(errs, fmt.Errorf("%s.body.%s%w", at, mt, err))
			continue
		}
		a.Bodies[mt] = t
		a.Raw[mt] = body
	}
	// Every answer can be given in each format the operation answers in
	// (its 2xx media types) that the spec offers for this status.
	for _, mt := range offered {
		mt = strings.ToLower(mt)
		if _, ok := fa.Body[mt]; !ok && len(fa.Body) > 0 && !misplaced && fa.Recorded == "" && slices.Contains(op.ResponseTypes, mt) {
			errs = append(errs, fmt.Errorf("%s.body: no %s body, which the spec offers for %d", at, mt, fa.Status))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return a, nil
}

// loadInvalid keeps an answer marked invalid as it is: only its
// placeholders are parsed.
func loadInvalid(name string, fa fileAnswer, at string, a *Answer) (*Answer, []error) {
	if name == DefaultAnswer {
		return nil, []error{fmt.Errorf("%s.invalid: the default answer must keep the contract; give this answer another name", at)}
	}
	a.Invalid = fa.Invalid
	for _, mt := range slices.Sorted(maps.Keys(fa.Body)) {
		t, err := ParseTemplate(fa.Body[mt], strings.ToLower(mt))
		if err != nil {
			return nil, []error{fmt.Errorf("%s.body.%s: %w", at, mt, err)}
		}
		a.Bodies[strings.ToLower(mt)], a.Raw[strings.ToLower(mt)] = t, fa.Body[mt]
	}
	return a, nil
}

// sample is a representative request that answers are rendered for at
// load time: what a body placeholder reads comes from it.
type sample struct {
	name string // for messages: requests.seed (application/json)
	req  Request
}

// checkRequests checks the fixture's sample requests against the spec and
// returns them as samples to render answers with. Without any, answers are
// rendered for a request whose members are all absent.
func checkRequests(reqs map[string]map[string]string, where string, op *contract.Operation, b *Binding) ([]sample, []error) {
	var samples []sample
	var errs []error
	header := sampleHeader(op)
	for _, name := range slices.Sorted(maps.Keys(reqs)) {
		for _, mt := range slices.Sorted(maps.Keys(reqs[name])) {
			body := reqs[name][mt]
			mt = strings.ToLower(mt)
			if !slices.Contains(op.RequestTypes, mt) {
				errs = append(errs, fmt.Errorf("%s: requests.%s: %s does not accept %s (it accepts %s)", where, name, op.ID, mt, strings.Join(op.RequestTypes, ", ")))
				continue
			}
			v, p := op.ValidateBody(mt, []byte(body))
			if p != nil {
				errs = append(errs, fmt.Errorf("%s: requests.%s.%s does not match the spec: %w", where, name, mt, p))
				continue
			}
			samples = append(samples, sample{name: fmt.Sprintf("requests.%s (%s)", name, mt), req: Request{Body: v, Header: header, Token: sampleToken(b, v, header)}})
		}
	}
	if len(samples) == 0 {
		samples = []sample{{name: "a request without members (the file has no requests)", req: Request{Header: header}}}
	}
	return samples, errs
}

// sampleToken is what {{token}} renders at load time: a token of the
// operation's realm, in its form, taken where the sample request carries
// one (the binding's token place); "" for an operation without a realm.
func sampleToken(b *Binding, body any, h http.Header) string {
	if b == nil {
		return ""
	}
	p, err := ParsePlace(b.Token)
	if err != nil {
		return "" // reported by the lifecycle's own checks
	}
	v, _ := p.Value(h, body)
	return v
}

// sampleHeader is what {{header:Name}} reads at load time: the example of
// each header the operation declares (a parameter or an API key), else
// "sample".
func sampleHeader(op *contract.Operation) http.Header {
	h := http.Header{}
	for _, p := range op.Route.Operation.Parameters {
		if p.Value != nil && p.Value.In == "header" {
			v := "sample"
			if p.Value.Example != nil {
				v = fmt.Sprint(p.Value.Example)
			}
			h.Set(p.Value.Name, v)
		}
	}
	for _, name := range op.APIKeyHeaders() {
		if h.Get(name) == "" {
			h.Set(name, "sample")
		}
	}
	return h
}

// checkRenderings validates what a body template renders: once when it
// reads nothing of the request, else for every sample, reporting the first
// sample whose rendering breaks the spec. Random placeholders ({{hex:N}},
// {{uuid}}) render with random values of their form, as when serving.
func checkRenderings(t *Template, src, mt string, status int, header http.Header, op *contract.Operation, samples []sample) error {
	readsRequest := strings.Contains(src, "{{body:") || strings.Contains(src, "{{header:")
	if !readsRequest {
		samples = samples[:1]
	}
	h := header.Clone()
	h.Set("Content-Type", mt)
	for _, s := range samples {
		rendered := t.Render(s.req)
		if err := op.ValidateResponse(context.Background(), status, h, rendered); err != nil {
			if readsRequest {
				return fmt.Errorf(", rendered for %s, does not match the spec: %w\n    rendered: %s", s.name, err, cut(rendered))
			}
			return fmt.Errorf(" does not match the spec: %w", err)
		}
	}
	return nil
}

// cut shortens a rendering for a message.
func cut(b []byte) string {
	const max = 200
	if len(b) <= max {
		return string(b)
	}
	return string(b[:max]) + "…"
}
