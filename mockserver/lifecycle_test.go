package mockserver_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/mockserver"
)

// lifeServer starts a server with the given -lifecycle mode and a fixed
// seed.
func lifeServer(t *testing.T, mode string) *httptest.Server {
	t.Helper()
	cfg := mockserver.DefaultConfig()
	cfg.Lifecycle, cfg.Seed, cfg.SeedSet = mode, 42, true
	_, ts := newServer(t, cfg)
	return ts
}

func adminJSON(t *testing.T, ts *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	got := do(t, ts, request{method, path, body, map[string]string{"Content-Type": "application/json"}})
	var m map[string]any
	_ = json.Unmarshal([]byte(got.body), &m)
	return got.status, m
}

func validateToken(t *testing.T, ts *httptest.Server, token, account string, asXML bool) (int, string) {
	t.Helper()
	var r request
	if asXML {
		r = validate(xmlAuth(fmt.Sprintf("<AccountId>%s</AccountId><SecurityToken>%s</SecurityToken>", account, token)), ctXML)
	} else {
		r = validate(fmt.Sprintf(`{"Authentication":{"AccountId":%q,"SecurityToken":%q}}`, account, token), ctJSON)
	}
	got := do(t, ts, r)
	return got.status, got.header.Get(mockserver.HeaderLifecycle)
}

func renewToken(t *testing.T, ts *httptest.Server, token, device string) (int, string, string) {
	t.Helper()
	got := do(t, ts, renew(fmt.Sprintf(`{"deviceId":%q,"sessionId":%q}`, device, token), map[string]string{"Authtoken": token}))
	var body struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal([]byte(got.body), &body)
	return got.status, got.header.Get(mockserver.HeaderLifecycle), body.Token
}

// The walk-through of issue 9, black-box: seed, validate, move the clock,
// see the expiry slide and then strike; renew with the wrong device, the
// right one, the old token. The admin API only; no sleeping.
func TestLifecycleWalkThrough(t *testing.T) {
	for _, mode := range []string{"strict", "adopt"} {
		t.Run(mode, func(t *testing.T) {
			ts := lifeServer(t, mode)
			if st, m := adminJSON(t, ts, "POST", "/__mock/tokens", `{"realm":"appspace","owner":"1042","token":"tok-walk-0000000001"}`); st != 201 || m["token"] != "tok-walk-0000000001" {
				t.Fatalf("seed: %d %v", st, m)
			}
			steps := []struct {
				advance, token, account string
				xml                     bool
				status                  int
				outcome                 string
			}{
				{"", "tok-walk-0000000001", "1042", false, 200, "live"},
				{"", "tok-walk-0000000001", "1042", true, 200, "live"},
				{"29m", "tok-walk-0000000001", "1042", false, 200, "live"},
				{"29m", "tok-walk-0000000001", "1042", true, 200, "live"}, // sliding: 58 minutes since the seed
				{"", "tok-walk-0000000001", "9999", false, 401, "wrong-owner"},
				{"30m", "tok-walk-0000000001", "1042", false, 401, "expired"}, // idle exactly the timeout
			}
			for i, s := range steps {
				if s.advance != "" {
					if st, _ := adminJSON(t, ts, "POST", "/__mock/clock", `{"advance":"`+s.advance+`"}`); st != 200 {
						t.Fatalf("advance: %d", st)
					}
				}
				st, outcome := validateToken(t, ts, s.token, s.account, s.xml)
				if st != s.status || outcome != s.outcome {
					t.Errorf("step %d: got %d %s, want %d %s", i, st, outcome, s.status, s.outcome)
				}
			}
			unknown := "unknown"
			if mode == "adopt" {
				unknown = "adopted"
			}
			if st, outcome := validateToken(t, ts, "never-seen-token-1", "1042", false); outcome != unknown || (mode == "strict" && st != 401) {
				t.Errorf("unknown token: %d %s, want %s", st, outcome, unknown)
			}

			// Renewal: an expired Commvault session within its window.
			_, m := adminJSON(t, ts, "POST", "/__mock/tokens", `{"realm":"commvault","owner":"agent-7"}`)
			old, _ := m["token"].(string)
			if !strings.HasPrefix(old, "QSDK ") {
				t.Fatalf("minted token %q, want QSDK form", old)
			}
			adminJSON(t, ts, "POST", "/__mock/clock", `{"advance":"45m"}`)
			if st, outcome, tok := renewToken(t, ts, old, "agent-8"); st != 200 || outcome != "wrong-owner" || tok != "" {
				t.Errorf("wrong device: %d %s token %q, want 200 wrong-owner and no token", st, outcome, tok)
			}
			st, outcome, fresh := renewToken(t, ts, old, "agent-7")
			if st != 200 || outcome != "renewed" || !strings.HasPrefix(fresh, "QSDK ") || fresh == old {
				t.Fatalf("renewal: %d %s %q", st, outcome, fresh)
			}
			if st, outcome, _ := renewToken(t, ts, old, "agent-7"); st != 401 || outcome != "revoked" {
				t.Errorf("old token again: %d %s, want 401 revoked", st, outcome)
			}
			if st, outcome, again := renewToken(t, ts, fresh, "agent-7"); st != 200 || outcome != "renewed" || again == fresh {
				t.Errorf("the new token renews: %d %s", st, outcome)
			}
			// Beyond the renewal window, a renewal is refused as expired.
			_, m = adminJSON(t, ts, "POST", "/__mock/tokens", `{"realm":"commvault","owner":"agent-9"}`)
			late, _ := m["token"].(string)
			adminJSON(t, ts, "POST", "/__mock/clock", `{"advance":"25h"}`)
			if st, outcome, _ := renewToken(t, ts, late, "agent-9"); st != 401 || outcome != "expired" {
				t.Errorf("past the window: %d %s, want 401 expired", st, outcome)
			}

			// The journal says what the lifecycle decided, and filters on it.
			_, j := adminJSON(t, ts, "GET", "/__mock/requests?lifecycle=renewed", "")
			if reqs, _ := j["requests"].([]any); len(reqs) != 2 {
				t.Errorf("journal: %d renewed requests, want 2", len(reqs))
			}
			// Tokens are listed masked.
			_, l := adminJSON(t, ts, "GET", "/__mock/tokens?realm=commvault&state=revoked", "")
			b, _ := json.Marshal(l)
			if strings.Contains(string(b), old) || !strings.Contains(string(b), "revoked") {
				t.Errorf("token list shows a token whole, or lacks the revoked one: %s", b)
			}
		})
	}
}

// Precedence: an explicit scenario, Prefer or activation wins over the
// lifecycle; the lifecycle's refusal wins over rules.
func TestLifecyclePrecedence(t *testing.T) {
	ts := lifeServer(t, "strict")
	body := `{"Authentication":{"AccountId":"1042","SecurityToken":"never-seen-token-2"}}`
	tests := []struct {
		name    string
		h       map[string]string
		status  int
		outcome string
	}{
		{"lifecycle alone", nil, 401, "unknown"},
		{"header scenario wins", map[string]string{"X-Mock-Scenario": "server-error"}, 500, ""},
		{"Prefer wins", map[string]string{"Prefer": "code=200"}, 200, ""},
		{"delay-only scenario keeps the lifecycle", map[string]string{"X-Mock-Scenario": "drift-unknown-member"}, 401, "unknown"},
	}
	for _, tc := range tests {
		h := map[string]string{"Content-Type": "application/json"}
		for k, v := range tc.h {
			h[k] = v
		}
		got := do(t, ts, validate(body, h))
		if got.status != tc.status || got.header.Get(mockserver.HeaderLifecycle) != tc.outcome {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, got.status, got.header.Get(mockserver.HeaderLifecycle), tc.status, tc.outcome)
		}
	}
	// The shipped rule expired-token would answer expired; the lifecycle
	// says unknown first.
	got := do(t, ts, validate(`{"Authentication":{"AccountId":"1042","SecurityToken":"expired-token"}}`, ctJSON))
	if got.header.Get(mockserver.HeaderLifecycle) != "unknown" {
		t.Errorf("rule beat the lifecycle: %s", got.header)
	}
}

// 50 concurrent renewals of one token: exactly one new token.
func TestConcurrentRenewalsOneWins(t *testing.T) {
	ts := lifeServer(t, "strict")
	_, m := adminJSON(t, ts, "POST", "/__mock/tokens", `{"realm":"commvault","owner":"agent-1"}`)
	tok := m["token"].(string)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			st, outcome, _ := renewToken(t, ts, tok, "agent-1")
			mu.Lock()
			counts[fmt.Sprint(st, " ", outcome)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts["200 renewed"] != 1 || counts["401 revoked"] != 49 {
		t.Errorf("got %v, want 1 renewed and 49 revoked", counts)
	}
}

// The store is bounded: adopt with random tokens cannot grow it past
// -max-tokens; revoked tokens go first.
func TestTokenStoreBounded(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.Lifecycle, cfg.MaxTokens = "adopt", 10
	s, ts := newServer(t, cfg)
	for i := range 50 {
		validateToken(t, ts, fmt.Sprintf("random-token-%04d", i), "1", false)
	}
	if n := s.Lifecycle().Len(); n != 10 {
		t.Errorf("store holds %d tokens, want the limit 10", n)
	}
	// The most recent ones are kept.
	if _, outcome := validateToken(t, ts, "random-token-0049", "1", false); outcome != "live" {
		t.Errorf("the newest token was evicted: %s", outcome)
	}
}

// The same seed gives the same answers, tokens included, whatever the
// interleaving of 8 concurrent clients.
func TestSeedReplaysUnderConcurrency(t *testing.T) {
	run := func() map[uint64]string {
		cfg := mockserver.DefaultConfig()
		cfg.Seed, cfg.SeedSet, cfg.FailRate, cfg.FailScenario = 7, true, 0.3, "unavailable"
		s, ts := newServer(t, cfg)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					do(t, ts, renew(seedRenewJSON, nil))
				}
			})
		}
		wg.Wait()
		out := map[uint64]string{}
		for _, e := range s.Journal().List(journal.Filter{}) {
			out[e.Step] = fmt.Sprint(e.Status, e.Scenario)
		}
		return out
	}
	a, b := run(), run()
	if len(a) != 400 {
		t.Fatalf("%d steps journaled, want 400", len(a))
	}
	diff := 0
	for step, v := range a {
		if b[step] != v {
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d of 400 steps differ between two runs with the same seed", diff)
	}
}
