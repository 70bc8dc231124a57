package lifecycle

import (
	"container/list"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/clock"
	"github.com/tokenmock/tokenmock/internal/draw"
	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

// Modes of -lifecycle.
const (
	Off    = "off"    // no token is checked: any token validates and renews
	Adopt  = "adopt"  // an unknown token is registered on first sight, then follows the rules
	Strict = "strict" // only seeded or minted tokens exist
)

// Modes lists the modes, for messages.
var Modes = []string{Off, Adopt, Strict}

// Gate is the token lifecycle of one server: its store and rules, and the
// decider the scenario engine asks. It is safe for concurrent use.
type Gate struct {
	mode  string
	clock *clock.Clock
	seed  draw.Seed
	cfg   atomic.Pointer[Config]

	mu     sync.Mutex
	store  *store
	seeded uint64 // tokens minted through Seed, for their draws
}

// Options configure a Gate.
type Options struct {
	Mode      string // off, adopt or strict ("" is off)
	MaxTokens int    // 0: DefaultMaxTokens
	Clock     *clock.Clock
	Seed      int64
}

// New returns the lifecycle of a server over cfg; in adopt and strict
// modes the realms' tokens are live from now.
func New(cfg *Config, opts Options) (*Gate, error) {
	if opts.Mode == "" {
		opts.Mode = Off
	}
	if !slices.Contains(Modes, opts.Mode) {
		return nil, fmt.Errorf("-lifecycle %q: want %s", opts.Mode, strings.Join(Modes, ", "))
	}
	if opts.MaxTokens < 0 {
		return nil, fmt.Errorf("-max-tokens %d: must not be negative", opts.MaxTokens)
	}
	if opts.Clock == nil {
		opts.Clock = clock.New(nil)
	}
	g := &Gate{mode: opts.Mode, clock: opts.Clock, seed: draw.Seed(opts.Seed), store: newStore(opts.MaxTokens)}
	g.cfg.Store(cfg)
	g.seedRealms(cfg)
	return g, nil
}

// Mode is the gate's mode.
func (g *Gate) Mode() string { return g.mode }

// Config is the realms and bindings in force.
func (g *Gate) Config() *Config { return g.cfg.Load() }

// Swap puts reloaded realms and bindings in place. Tokens survive; tokens
// of realms that no longer exist are dropped, and realms' seeded tokens
// that are new are added.
func (g *Gate) Swap(cfg *Config) {
	g.cfg.Store(cfg)
	g.mu.Lock()
	for k, r := range g.store.tokens {
		if cfg.Realms[k.realm] == nil {
			g.store.remove(r)
		}
	}
	g.mu.Unlock()
	g.seedRealms(cfg)
}

func (g *Gate) seedRealms(cfg *Config) {
	if g.mode == Off {
		return
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, name := range cfg.Names {
		for _, t := range cfg.Realms[name].Tokens {
			if g.store.get(name, t.Token) == nil {
				g.store.add(name, t.Token, t.Owner, now)
			}
		}
	}
}

// Decide is the gate's link in the scenario engine's chain. It checks the
// request without changing anything; what it accepts is done by the
// choice's Commit, once the request is sure to get the normal answer.
func (g *Gate) Decide(r *scenario.Request, c *scenario.Choice) *problem.Problem {
	b := g.cfg.Load().Bindings[r.Op]
	if b == nil {
		return nil
	}
	if b.Action == Renew {
		// The token the answer carries, drawn from the request's step:
		// the same whether or not the lifecycle keeps it.
		c.Token = g.mint(b.Realm, "token|"+r.Op, r.Step)
	}
	if g.mode == Off || c.Decided {
		return nil
	}
	if outcome, _ := g.evaluate(b, r, c.Token, false); Refused(outcome) {
		refuse(b, c, outcome)
		return nil
	}
	c.Commit = func(c *scenario.Choice) {
		outcome, tok := g.evaluate(b, r, c.Token, true)
		if Refused(outcome) {
			refuse(b, c, outcome)
			return
		}
		c.Lifecycle, c.Token = outcome, tok
	}
	return nil
}

func refuse(b *Binding, c *scenario.Choice, outcome string) {
	c.Lifecycle, c.Answer = outcome, b.Answer(outcome)
	if c.Source == "default" {
		c.Source = "lifecycle"
	}
}

func (g *Gate) mint(rm *Realm, key string, step uint64) string {
	return string(rm.Form.Render(answers.Request{Rand: g.seed.Rand(key, step)}))
}

// evaluate decides what the request does to its token; with apply, it
// does it. minted is the token a renewal gives.
func (g *Gate) evaluate(b *Binding, r *scenario.Request, minted string, apply bool) (outcome, token string) {
	tok, ok := b.Token.Value(r.Header, r.Body)
	if !ok {
		return Unknown, ""
	}
	var owner string
	if b.Owner != nil {
		owner, _ = b.Owner.Value(r.Header, r.Body)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if b.Credential != nil {
		cred, ok := b.Credential.Value(r.Header, r.Body)
		if !ok {
			return Unknown, ""
		}
		if cred != tok {
			if out, _ := g.check(b, cred, owner, false, r.Now, apply); Refused(out) {
				return out, ""
			}
		}
	}
	out, rec := g.check(b, tok, owner, b.Owner != nil, r.Now, apply)
	if Refused(out) || !apply {
		return out, ""
	}
	switch b.Action {
	case Touch:
		g.store.touch(rec, r.Now)
		return out, tok
	default: // Renew
		rec.revoked = true
		g.store.kill(rec)
		g.store.add(b.Realm.Name, minted, rec.owner, r.Now)
		return Renewed, minted
	}
}

// check looks a token up under the binding's rules. Call with mu.
func (g *Gate) check(b *Binding, value, owner string, checkOwner bool, now time.Time, apply bool) (string, *record) {
	rm := b.Realm
	rec := g.store.get(rm.Name, value)
	adopted := false
	if rec == nil {
		if g.mode != Adopt {
			return Unknown, nil
		}
		if !apply {
			return Adopted, nil
		}
		rec, adopted = g.store.add(rm.Name, value, owner, now), true
	}
	if rec.revoked {
		return Revoked, rec
	}
	if exp := rec.expires(rm); !now.Before(exp) {
		if b.Action != Renew || !now.Before(exp.Add(rm.RenewalWindow)) {
			return Expired, rec
		}
	}
	if checkOwner && rec.owner != owner {
		return WrongOwner, rec
	}
	if adopted {
		return Adopted, rec
	}
	return Live, rec
}

// Token is a token as the admin API shows it.
type Token struct {
	ID           uint64    `json:"id"` // names the token in the admin API without showing it
	Realm        string    `json:"realm"`
	Token        string    `json:"token"`
	Owner        string    `json:"owner"`
	State        string    `json:"state"` // live, expired, revoked
	Issued       time.Time `json:"issued"`
	LastActivity time.Time `json:"lastActivity"`
	Expires      time.Time `json:"expires"`
}

func (g *Gate) view(r *record, rm *Realm, now time.Time, masked bool) Token {
	t := Token{ID: r.id, Realm: r.realm, Token: r.value, Owner: r.owner, Issued: r.issued.UTC(), LastActivity: r.last.UTC()}
	if rm != nil {
		t.State, t.Expires = r.state(rm, now), r.expires(rm).UTC()
	}
	if masked {
		t.Token = journal.Mask(t.Token)
	}
	return t
}

// Errors of the admin calls.
var (
	ErrNoRealm = errors.New("no such realm")
	ErrNoToken = errors.New("no such token")
)

func (g *Gate) realm(name string) (*Realm, error) {
	cfg := g.cfg.Load()
	rm := cfg.Realms[name]
	if rm == nil {
		return nil, fmt.Errorf("%w %q; realms: %s", ErrNoRealm, name, strings.Join(cfg.Names, ", "))
	}
	return rm, nil
}

// List returns the tokens of a realm ("" for all) in a state ("" for
// all), masked, most recently active first.
func (g *Gate) List(realm, state string) ([]Token, error) {
	if realm != "" {
		if _, err := g.realm(realm); err != nil {
			return nil, err
		}
	}
	switch state {
	case "", Live, Expired, Revoked:
	default:
		return nil, fmt.Errorf("state %q: want live, expired or revoked", state)
	}
	cfg := g.cfg.Load()
	now := g.clock.Now()
	out := []Token{}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, front := range []*list.Element{g.store.live.Front(), g.store.dead.Front()} {
		for el := front; el != nil; el = el.Next() {
			r := el.Value.(*record)
			if realm != "" && r.realm != realm {
				continue
			}
			t := g.view(r, cfg.Realms[r.realm], now, true)
			if state == "" || t.State == state {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// Seed registers a live token of a realm owned by owner; an empty token
// is minted in the realm's form. The token is shown whole: this is the
// call that created it.
func (g *Gate) Seed(realm, token, owner string) (Token, error) {
	rm, err := g.realm(realm)
	if err != nil {
		return Token{}, err
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if token == "" {
		g.seeded++
		token = g.mint(rm, "seed|"+realm, g.seeded)
	}
	return g.view(g.store.add(realm, token, owner, now), rm, now, false), nil
}

// Expire makes a token expired now (it may still renew within the
// realm's renewal window).
func (g *Gate) Expire(realm, token string) (Token, error) {
	return g.change(realm, token, func(r *record, rm *Realm, now time.Time) {
		if now.Before(r.expires(rm)) {
			r.forced = now
		}
		g.store.kill(r) // evicted first, as revoked tokens are; still renewable in its window
	})
}

// Revoke revokes a token: it can be neither used nor renewed.
func (g *Gate) Revoke(realm, token string) (Token, error) {
	return g.change(realm, token, func(r *record, _ *Realm, _ time.Time) {
		r.revoked = true
		g.store.kill(r)
	})
}

func (g *Gate) change(realm, token string, f func(*record, *Realm, time.Time)) (Token, error) {
	rm, err := g.realm(realm)
	if err != nil {
		return Token{}, err
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.store.get(realm, token)
	if r == nil {
		return Token{}, fmt.Errorf("%w %s in realm %s", ErrNoToken, journal.Mask(token), realm)
	}
	f(r, rm, now)
	return g.view(r, rm, now, true), nil
}

// ByID is the token of a realm that the store numbers id (Token.ID): the
// admin API and the dashboard act on a listed token, which they only see
// masked, by its number.
func (g *Gate) ByID(realm string, id uint64) (string, error) {
	if _, err := g.realm(realm); err != nil {
		return "", err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.store.byID[id]
	if r == nil || r.realm != realm {
		return "", fmt.Errorf("%w %d in realm %s", ErrNoToken, id, realm)
	}
	return r.value, nil
}

// Clear empties every realm.
func (g *Gate) Clear() {
	g.mu.Lock()
	g.store.clear()
	g.mu.Unlock()
}

// Len is the number of tokens held.
func (g *Gate) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.store.tokens)
}
