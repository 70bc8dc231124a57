// Package lifecycle makes tokens behave as the real services' do: a token
// store per realm, tokens that expire after a time of inactivity (sliding
// with every use), that renew within a window after expiry, that belong to
// an owner and that are revoked once renewed. Operations are bound to a
// realm declaratively, in their fixture file (the `lifecycle:` key); the
// realms' rules live in the fixture directory's lifecycle.yaml. No Go code
// is written per operation.
//
// The lifecycle is a decider of the scenario engine's chain (Gate): an
// explicit scenario, Prefer or activation wins over it, and its refusal
// wins over rules and the default answer. What it accepts takes effect
// (touch, renewal) only when the request gets the normal answer.
package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/strictyaml"
)

// File is the fixture directory's file of realms.
const File = answers.LifecycleFile

// Actions a binding can name.
const (
	Touch = "touch" // refresh the token's last activity (sliding expiry)
	Renew = "renew" // mint a new token and revoke the presented one
)

// Outcomes, as the journal and the log show them.
const (
	Live       = "live"        // a live token, touched
	Adopted    = "adopted"     // an unknown token registered on first sight (-lifecycle adopt)
	Renewed    = "renewed"     // a new token minted, the presented one revoked
	Expired    = "expired"     // idle (or past its lifetime) beyond what the call accepts
	Unknown    = "unknown"     // no such token in the realm, or none presented
	Revoked    = "revoked"     // renewed already, or revoked through the admin API
	WrongOwner = "wrong-owner" // the token belongs to another owner
)

// Refusals are the outcomes a binding maps to answers.
var Refusals = []string{Unknown, Revoked, Expired, WrongOwner}

// Refused reports whether an outcome refuses the request.
func Refused(outcome string) bool { return slices.Contains(Refusals, outcome) }

// Defaults of a realm's rules, when lifecycle.yaml does not say.
const (
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultRenewalWindow = 24 * time.Hour
)

// Realm is a family of tokens and the rules they live by.
type Realm struct {
	Name          string
	Form          *answers.Template // how a minted token looks
	FormText      string
	IdleTimeout   time.Duration // inactivity after which a token expires; an idle time equal to it is expired
	Lifetime      time.Duration // since issue, whatever the activity; 0: none
	RenewalWindow time.Duration // after expiry, during which a renewal is still accepted
	Tokens        []Seeded      // live at start-up (adopt and strict modes)
}

// Seeded is a token that exists from start-up.
type Seeded struct {
	Token string `yaml:"token" json:"token"`
	Owner string `yaml:"owner" json:"owner"`
}

// Binding is an operation's part in a realm.
type Binding struct {
	Op         string
	Realm      *Realm
	Action     string
	Token      *answers.Place
	Credential *answers.Place // nil: none
	Owner      *answers.Place // nil: tokens of this operation are not checked for their owner
	Answers    map[string]string
}

// Answer is the fixture answer a refusal gets: the binding's, else its
// unknown answer.
func (b *Binding) Answer(outcome string) string {
	if a := b.Answers[outcome]; a != "" {
		return a
	}
	return b.Answers[Unknown]
}

// Config is the realms and the bindings of a loaded fixture directory.
type Config struct {
	Realms   map[string]*Realm
	Names    []string            // realm names, sorted
	Bindings map[string]*Binding // by operation
}

type fileRealm struct {
	Token         string   `yaml:"token"`
	IdleTimeout   string   `yaml:"idle-timeout"`
	Lifetime      string   `yaml:"lifetime"`
	RenewalWindow string   `yaml:"renewal-window"`
	Tokens        []Seeded `yaml:"tokens"`
}

// Load reads lifecycle.yaml (data, named where in messages; nil when the
// directory has none) and the bindings of the fixtures, and checks that
// they fit together. All mistakes are reported, each with its place.
func Load(data []byte, where string, fx *answers.Set) (*Config, error) {
	var f struct {
		Realms map[string]fileRealm `yaml:"realms"`
	}
	if err := strictyaml.Decode(data, where, &f); err != nil {
		return nil, err
	}
	cfg := &Config{Realms: map[string]*Realm{}, Bindings: map[string]*Binding{}}
	var errs []error
	for name, fr := range f.Realms {
		r, err := buildRealm(name, fr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: realms.%s.%w", where, name, err))
			continue
		}
		cfg.Realms[name] = r
		cfg.Names = append(cfg.Names, name)
	}
	slices.Sort(cfg.Names)
	for _, id := range fx.IDs() {
		fo := fx.Operation(id)
		if fo.Lifecycle == nil {
			continue
		}
		b, err := buildBinding(id, fo.Lifecycle, cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: lifecycle.%w", fo.File, err))
			continue
		}
		cfg.Bindings[id] = b
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func buildRealm(name string, fr fileRealm) (*Realm, error) {
	r := &Realm{Name: name, IdleTimeout: DefaultIdleTimeout, RenewalWindow: DefaultRenewalWindow, Tokens: fr.Tokens, FormText: fr.Token}
	if fr.Token == "" {
		return nil, errors.New(`token: say how a minted token looks, e.g. 'QSDK {{hex:64}}' or '{{uuid}}'`)
	}
	t, err := answers.ParseTemplate(fr.Token, "")
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	r.Form = t
	for _, d := range []struct {
		field string
		text  string
		to    *time.Duration
		zero  bool // 0 allowed: off
	}{{"idle-timeout", fr.IdleTimeout, &r.IdleTimeout, false}, {"lifetime", fr.Lifetime, &r.Lifetime, true}, {"renewal-window", fr.RenewalWindow, &r.RenewalWindow, true}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v < 0 || (v == 0 && !d.zero) {
			return nil, fmt.Errorf("%s: %q is not a positive duration such as 30m", d.field, d.text)
		}
		*d.to = v
	}
	for i, s := range r.Tokens {
		if s.Token == "" {
			return nil, fmt.Errorf("tokens[%d].token: empty", i)
		}
	}
	return r, nil
}

func buildBinding(op string, fb *answers.Binding, cfg *Config) (*Binding, error) {
	b := &Binding{Op: op, Action: fb.Action, Answers: fb.Answers}
	b.Realm = cfg.Realms[fb.Realm]
	if b.Realm == nil {
		return nil, fmt.Errorf("realm: no realm %q in %s (realms: %s)", fb.Realm, File, strings.Join(cfg.Names, ", "))
	}
	if b.Action != Touch && b.Action != Renew {
		return nil, fmt.Errorf("action: %q; want touch (refresh the last activity) or renew (mint a new token)", b.Action)
	}
	var err error
	if b.Token, err = answers.ParsePlace(fb.Token); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if fb.Credential != "" {
		if b.Credential, err = answers.ParsePlace(fb.Credential); err != nil {
			return nil, fmt.Errorf("credential: %w", err)
		}
	}
	if fb.Owner != "" {
		if b.Owner, err = answers.ParsePlace(fb.Owner); err != nil {
			return nil, fmt.Errorf("owner: %w", err)
		}
	}
	for outcome := range fb.Answers {
		if !Refused(outcome) {
			return nil, fmt.Errorf("answers.%s: not a refusal; refusals are %s", outcome, strings.Join(Refusals, ", "))
		}
	}
	if fb.Answers[Unknown] == "" {
		return nil, errors.New("answers.unknown: name the answer an unknown token gets (the other refusals fall back to it)")
	}
	return b, nil
}
