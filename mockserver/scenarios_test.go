package mockserver_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/scenario"
	"github.com/tokenmock/tokenmock/mockserver"
)

// Every shipped scenario can be asked for by header, and gives what its
// description promises: an answer of the spec, or a drift that breaks it.
func TestShippedScenariosByHeader(t *testing.T) {
	s, ts := newServer(t)
	valid := map[string]request{
		"RenewLoginToken": renew(seedRenewJSON, nil),
		"ValidateToken":   validate(seedValidateXML, map[string]string{"Content-Type": "application/xml", "Accept": "application/xml"}),
	}
	for _, name := range s.Engine().Set().Names {
		sc := s.Engine().Set().Scenarios[name]
		if sc.Fault != "" || sc.Delay.Max > 0 || sc.Schedule.Kind != "" {
			continue // faults, delays and schedules have tests of their own
		}
		for _, op := range sc.Operations {
			for _, how := range []string{"header", "prefer", "admin"} {
				t.Run(name+"/"+op+"/"+how, func(t *testing.T) {
					r := valid[op]
					h := map[string]string{}
					for k, v := range r.header {
						h[k] = v
					}
					switch how {
					case "header":
						h[scenario.HeaderScenario] = name
					case "prefer":
						h["Prefer"] = "example=" + name
					case "admin":
						if err := s.Engine().Activate(name, op, 1); err != nil {
							t.Fatal(err)
						}
					}
					r.header = h
					checkScenarioAnswer(t, s, ts, r, name, op)
				})
			}
		}
	}
}

func checkScenarioAnswer(t *testing.T, s *mockserver.Server, ts *httptest.Server, r request, name, op string) {
	t.Helper()
	sc := s.Engine().Set().Scenarios[name]
	got := do(t, ts, r)
	if got.header.Get(scenario.HeaderApplied) != name {
		t.Errorf("%s: got %q, want %q", scenario.HeaderApplied, got.header.Get(scenario.HeaderApplied), name)
	}
	err := s.Contract().Operation(op).ValidateResponse(context.Background(), got.status, got.header, []byte(got.body))
	if sc.Drift != nil && err == nil {
		t.Errorf("drift %s kept the contract: %d %s", sc.Drift.Kind, got.status, got.body)
	}
	if sc.Drift == nil && err != nil {
		t.Errorf("answer breaks the contract: %v\n%s", err, got.body)
	}
	if sc.Answer != "" {
		if want := s.Fixtures().Operation(op).Answers[sc.Answer].Status; got.status != want {
			t.Errorf("status: got %d, want %d", got.status, want)
		}
	}
}

func TestChoosingTheAnswer(t *testing.T) {
	_, ts := newServer(t)
	tests := []struct {
		name    string
		req     request
		status  int
		applied string
		body    string
	}{
		{"unknown scenario lists the known ones", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "X-Mock-Scenario": "nope"}), 400, "", "scenarios of ValidateToken: drift-missing-token"},
		{"scenario that does not apply", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "X-Mock-Scenario": "invalid-device"}), 400, "", "does not apply to ValidateToken"},
		{"validation comes first", validate(`{}`, map[string]string{"Content-Type": "application/json", "X-Mock-Scenario": "server-error"}), 400, "", `"rule":"required"`},
		{"Prefer code", renew(seedRenewJSON, map[string]string{"Prefer": "code=401"}), 401, "answer:expired", "errorCode"},
		{"Prefer unknown code", renew(seedRenewJSON, map[string]string{"Prefer": "code=418"}), 400, "", "it has 200, 401, 429, 500, 503"},
		{"Prefer example names a scenario", renew(seedRenewJSON, map[string]string{"Prefer": "example=invalid-device"}), 200, "invalid-device", "is not the device"},
		{"Prefer example, unknown", renew(seedRenewJSON, map[string]string{"Prefer": "example=nope"}), 400, "", "no scenario or answer"},
		{"header beats Prefer", renew(seedRenewJSON, map[string]string{"Prefer": "code=500", "X-Mock-Scenario": "unauthorized"}), 401, "unauthorized", "Access denied"},
		{"rule on a JSON body member", renew(`{"deviceId":"d","sessionId":"expired-session"}`, nil), 401, "expired", "can no longer be renewed"},
		{"rule on an XML body member", validate(xmlAuth(`<SecurityToken>expired-token</SecurityToken>`), ctXML), 401, "expired", "<Code>TokenExpired</Code>"},
		{"no rule matches", validate(xmlAuth(`<SecurityToken>fine</SecurityToken>`), ctXML), 200, "", "<Status xmlns"},
		{"device placeholder in a scenario answer", renew(`{"deviceId":"laptop-3","sessionId":"s"}`, map[string]string{"X-Mock-Scenario": "invalid-device"}), 200, "invalid-device", "Device laptop-3 is not"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, ts, tc.req)
			if got.status != tc.status || got.header.Get(scenario.HeaderApplied) != tc.applied || !strings.Contains(got.body, tc.body) {
				t.Errorf("got %d %q %s, want %d %q and a body with %q", got.status, got.header.Get(scenario.HeaderApplied), got.body, tc.status, tc.applied, tc.body)
			}
		})
	}
}

// faultServer serves scenarios with short durations, so tests stay fast.
func faultServer(t *testing.T, extra string) (*mockserver.Server, string) {
	t.Helper()
	dir := copyFixtures(t)
	write(t, filepath.Join(dir, "scenarios.yaml"), `scenarios:
  reset: {description: r, fault: reset}
  empty: {description: e, fault: empty}
  timeout: {description: t, fault: timeout}
  malformed: {description: m, fault: malformed}
  truncated: {description: t, fault: truncated}
  slow-body: {description: s, fault: slow-body, duration: 400ms}
  slow: {description: s, delay: 300ms}
  unavailable: {description: u, answer: unavailable}
  flaky: {description: f, answer: unavailable, schedule: 30%}
  fail-twice: {description: f, answer: server-error, schedule: fail-first 2}
`+extra)
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir, cfg.Addr, cfg.TimeoutMax = dir, "127.0.0.1:0", 5*time.Second
	cfg.Seed, cfg.SeedSet = 42, true
	s, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s, "http://" + s.Addr()
}

func send(client *http.Client, base, scen, accept string) (*http.Response, []byte, error) {
	req, _ := http.NewRequest(http.MethodPut, base+validatePath, strings.NewReader(seedValidateXML))
	req.Header.Set("Content-Type", "application/xml")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if scen != "" {
		req.Header.Set(scenario.HeaderScenario, scen)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// Each fault as a real net/http client sees it.
func TestFaultsFromAClient(t *testing.T) {
	_, base := faultServer(t, "")
	fresh := func() *http.Client { return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} }

	t.Run("reset", func(t *testing.T) {
		_, _, err := send(fresh(), base, "reset", "")
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("got %v, want connection reset", err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		_, _, err := send(fresh(), base, "empty", "")
		if !errors.Is(err, io.EOF) {
			t.Errorf("got %v, want EOF", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		c := fresh()
		c.Timeout = 300 * time.Millisecond
		_, _, err := send(c, base, "timeout", "")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("got %v, want a client timeout", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, accept := range []string{"application/xml", "application/json"} {
			resp, body, err := send(fresh(), base, "malformed", accept)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), accept) {
				t.Errorf("Content-Type %q, want %s", resp.Header.Get("Content-Type"), accept)
			}
			var v any
			var perr error
			if accept == "application/json" {
				perr = json.Unmarshal(body, &v)
			} else {
				perr = xml.Unmarshal(body, new(struct{}))
				if perr == nil {
					d := xml.NewDecoder(strings.NewReader(string(body)))
					for perr == nil {
						_, perr = d.Token()
					}
					if errors.Is(perr, io.EOF) {
						perr = nil
					}
				}
			}
			if perr == nil {
				t.Errorf("%s body parses: %s", accept, body)
			}
		}
	})
	t.Run("truncated", func(t *testing.T) {
		_, _, err := send(fresh(), base, "truncated", "")
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("got %v, want unexpected EOF", err)
		}
	})
	t.Run("slow-body", func(t *testing.T) {
		start := time.Now()
		resp, body, err := send(fresh(), base, "slow-body", "")
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 400*time.Millisecond {
			t.Errorf("took %s, want at least 400ms", d)
		}
		if resp.StatusCode != 200 || !strings.Contains(string(body), "</TokenResponse>") {
			t.Errorf("got %d %s, want the whole answer", resp.StatusCode, body)
		}
	})
	t.Run("slow", func(t *testing.T) {
		start := time.Now()
		resp, _, err := send(fresh(), base, "slow", "")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v %v", resp, err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("took %s, want at least 300ms", d)
		}
	})
	t.Run("the server keeps answering", func(t *testing.T) {
		resp, _, err := send(fresh(), base, "", "")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v %v", resp, err)
		}
	})
}

func adminCall(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// times: N is exact under concurrency: N answers get the scenario, never N±1.
func TestActivationTimesIsExact(t *testing.T) {
	_, base := faultServer(t, "")
	const clients, times = 50, 17
	if code, body := adminCall(t, base, http.MethodPost, "/__mock/scenarios/unavailable/activate", `{"operation":"ValidateToken","times":17}`); code != 200 {
		t.Fatalf("activate: %d %s", code, body)
	}
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				resp, _, err := send(client, base, "", "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if counts[503] != times || counts[200] != clients*4-times {
		t.Errorf("got %v, want %d × 503 and %d × 200", counts, times, clients*4-times)
	}
	if _, body := adminCall(t, base, http.MethodGet, "/__mock/scenarios/active", ""); !strings.Contains(body, `"active":[]`) {
		t.Errorf("active after use: %s, want none", body)
	}
}

// A seeded probability gives the same sequence on every run.
func TestSeededProbabilityRepeats(t *testing.T) {
	run := func() string {
		_, base := faultServer(t, "")
		var seq strings.Builder
		for range 40 {
			resp, _, err := send(http.DefaultClient, base, "flaky", "")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == 503 {
				seq.WriteByte('x')
			} else {
				seq.WriteByte('.')
			}
		}
		return seq.String()
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("seed 42 gave\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n < 4 || n > 24 {
		t.Errorf("%d of 40 failed (%s), want about 30%%", n, a)
	}
}

func TestScheduleFailFirst(t *testing.T) {
	_, base := faultServer(t, "")
	var got []int
	for range 4 {
		resp, _, err := send(http.DefaultClient, base, "fail-twice", "")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.StatusCode)
	}
	if got[0] != 500 || got[1] != 500 || got[2] != 200 || got[3] != 200 {
		t.Errorf("got %v, want 500 500 200 200", got)
	}
}

func TestJournal(t *testing.T) {
	_, base := faultServer(t, "")
	if _, _, err := send(http.DefaultClient, base, "unavailable", ""); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+renewPath, strings.NewReader(`{"deviceId":"d","sessionId":"QSDK 0123456789abcdef"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authtoken", "QSDK 0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	_, body := adminCall(t, base, http.MethodGet, "/__mock/requests", "")
	var list struct {
		Requests []struct {
			Operation, Scenario, Rule, Validation, Body string
			Status                                      int
			Step                                        int
			Headers                                     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Requests) != 2 {
		t.Fatalf("got %d entries, want 2: %s", len(list.Requests), body)
	}
	first, second := list.Requests[0], list.Requests[1]
	if first.Operation != "ValidateToken" || first.Scenario != "unavailable" || first.Rule != "header" || first.Status != 503 || first.Step != 1 {
		t.Errorf("first entry: %+v", first)
	}
	if second.Status != 200 || second.Validation != "ok" || second.Rule != "default" {
		t.Errorf("second entry: %+v", second)
	}
	if a := second.Headers["Authtoken"]; a != "QSDK*************cdef" {
		t.Errorf("Authtoken stored as %q, want it masked", a)
	}
	if strings.Contains(second.Body, "0123456789abcdef") {
		t.Errorf("sessionId stored in clear: %s", second.Body)
	}
	_, body = adminCall(t, base, http.MethodGet, "/__mock/requests?operation=RenewLoginToken", "")
	if strings.Count(body, `"id"`) != 1 {
		t.Errorf("filter by operation: %s", body)
	}
	_, body = adminCall(t, base, http.MethodGet, "/__mock/requests?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "")
	if !strings.Contains(body, `"requests":[]`) {
		t.Errorf("filter by since: %s", body)
	}
	if code, body := adminCall(t, base, http.MethodGet, "/__mock/requests?since=yesterday", ""); code != 400 {
		t.Errorf("bad since: %d %s", code, body)
	}
	if code, _ := adminCall(t, base, http.MethodDelete, "/__mock/requests", ""); code != 204 {
		t.Errorf("DELETE: %d", code)
	}
	if _, body := adminCall(t, base, http.MethodGet, "/__mock/requests", ""); !strings.Contains(body, `"requests":[]`) {
		t.Errorf("after DELETE: %s", body)
	}
}

func TestValidationReportMode(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.Validation = "report"
	s, ts := newServer(t, cfg)
	got := do(t, ts, renew(`{"deviceId":7}`, map[string]string{"Authtoken": ""}))
	if got.status != 200 {
		t.Fatalf("got %d %s, want 200 in report mode", got.status, got.body)
	}
	e := s.Journal().List(journal.Filter{})
	if len(e) != 1 || e[0].Validation != "reported" || len(e[0].Violations) < 3 {
		t.Errorf("journal: %+v, want the violations reported", e)
	}
}

func TestNoAdminAPI(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.Admin = false
	_, ts := newServer(t, cfg)
	if got := do(t, ts, request{http.MethodGet, "/__mock/health", "", nil}); got.status != 404 {
		t.Errorf("got %d, want 404 with -admin=false", got.status)
	}
}

// A timeout fault in flight does not hold up the shutdown.
func TestShutdownEndsTimeoutFaults(t *testing.T) {
	s, base := faultServer(t, "")
	// The request takes the activation when its answer is chosen: once
	// none is left, the fault holds the request.
	if err := s.Engine().Activate("timeout", "ValidateToken", 1); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := send(http.DefaultClient, base, "", "")
		errc <- err
	}()
	waitFor(t, "the request to take the timeout activation", func() bool { return len(s.Engine().Active()) == 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s with a timeout fault in flight", d)
	}
	if err := <-errc; err == nil {
		t.Error("the timeout fault answered")
	}
	// The connection was hijacked, so Close does not wait for the handler
	// to write its journal entry: wait for the entry itself.
	waitFor(t, "the journal entry of the faulted request", func() bool { return len(s.Journal().List(journal.Filter{})) == 1 })
	if e := s.Journal().List(journal.Filter{}); len(e) != 1 || e[0].Fault != "timeout" {
		t.Errorf("journal: %+v, want the one request ended by its timeout fault", e)
	}
}

// waitFor polls cond until it holds, for what a test cannot be told of.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The failure flags: -scenario, -fail-rate with -fail-scenario, -latency.
func TestFailureFlags(t *testing.T) {
	t.Run("-scenario", func(t *testing.T) {
		cfg := mockserver.DefaultConfig()
		cfg.Scenario = "unavailable"
		s, ts := newServer(t, cfg)
		for range 3 {
			if got := do(t, ts, validate(seedValidateJSON, ctJSON)); got.status != 503 || got.header.Get(scenario.HeaderApplied) != "unavailable" {
				t.Fatalf("got %d %q, want 503 from -scenario", got.status, got.header.Get(scenario.HeaderApplied))
			}
		}
		s.Engine().Clear()
		if got := do(t, ts, validate(seedValidateJSON, ctJSON)); got.status != 200 {
			t.Errorf("after clearing: %d", got.status)
		}
	})
	t.Run("-fail-rate", func(t *testing.T) {
		cfg := mockserver.DefaultConfig()
		cfg.FailRate, cfg.FailScenario = 1, "server-error"
		s, ts := newServer(t, cfg)
		if got := do(t, ts, renew(seedRenewJSON, nil)); got.status != 500 {
			t.Errorf("got %d, want 500 for every request at -fail-rate 1", got.status)
		}
		if e := s.Journal().List(journal.Filter{}); len(e) != 1 || e[0].Rule != "rule -fail-rate" {
			t.Errorf("journal: %+v", e)
		}
	})
	t.Run("-latency", func(t *testing.T) {
		cfg := mockserver.DefaultConfig()
		cfg.Latency = scenario.Range{Min: 150 * time.Millisecond, Max: 200 * time.Millisecond}
		_, ts := newServer(t, cfg)
		start := time.Now()
		got := do(t, ts, validate(seedValidateJSON, ctJSON))
		if d := time.Since(start); got.status != 200 || d < 150*time.Millisecond {
			t.Errorf("got %d after %s, want 200 after at least 150ms", got.status, d)
		}
	})
	t.Run("bad -scenario", func(t *testing.T) {
		cfg := mockserver.DefaultConfig()
		cfg.Scenario = "nope"
		if _, err := mockserver.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "known scenarios") {
			t.Errorf("got %v, want the known scenarios listed", err)
		}
	})
}
