package mockserver_test

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/mockserver"
)

const (
	okJSON = `{"DebugMessage":null,"Errors":[],"Status":1,"SecurityToken":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}`
	okXML  = `<TokenResponse xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DebugMessage xmlns="` + nsMessages + `" i:nil="true"/><Errors xmlns="` + nsMessages + `"/><Status xmlns="` + nsMessages + `">Success</Status><SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken></TokenResponse>`
)

// backendCase is one answer of the test backend: correct, or drifted in
// one way, in JSON or XML.
type backendCase struct {
	name   string
	status int
	ctype  string
	body   string
	rule   string // the violation expected, "" for none
	where  string // a part of its location
}

var backendCases = []backendCase{
	{"json ok", 200, "application/json", okJSON, "", ""},
	{"xml ok", 200, "application/xml", okXML, "", ""},
	{"json unknown member", 200, "application/json", strings.Replace(okJSON, `"Status":1`, `"Status":1,"Extra":true`, 1), "additionalProperties", "/Extra"},
	{"json missing member", 200, "application/json", strings.Replace(okJSON, `"Status":1,`, ``, 1), "required", ""},
	{"json enum form", 200, "application/json", strings.Replace(okJSON, `"Status":1`, `"Status":"Success"`, 1), "enum", "/Status"},
	{"xml order", 200, "application/xml", strings.Replace(strings.Replace(okXML, `<SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken>`, ``, 1), `<DebugMessage`, `<SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken><DebugMessage`, 1), "order", "/TokenResponse/"},
	{"xml namespace", 200, "application/xml", strings.Replace(okXML, `<DebugMessage xmlns="`+nsMessages+`"`, `<DebugMessage`, 1), "namespace", "/TokenResponse/DebugMessage"},
	{"xml enum form", 200, "application/xml", strings.Replace(okXML, `>Success<`, `>1<`, 1), "enum", "/TokenResponse/Status"},
	{"undocumented status", 418, "application/json", `{"title":"teapot"}`, "response", ""},
	{"wrong content type", 200, "text/plain", "OK", "response", ""},
}

// newBackend answers each request with the case named in X-Backend-Case.
func newBackend(t *testing.T) *httptest.Server {
	t.Helper()
	byName := map[string]backendCase{}
	for _, c := range backendCases {
		byName[c.name] = c
	}
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			w.Header().Set("X-Elsewhere", "yes")
			w.WriteHeader(299)
			_, _ = io.WriteString(w, "outside the contract")
			return
		}
		c, ok := byName[r.Header.Get("X-Backend-Case")]
		if !ok {
			c = backendCases[0]
		}
		w.Header().Set("Content-Type", c.ctype)
		w.WriteHeader(c.status)
		_, _ = io.WriteString(w, c.body)
	}))
	t.Cleanup(b.Close)
	return b
}

func proxyServer(t *testing.T, backend, mode, record string) (*mockserver.Server, *httptest.Server) {
	t.Helper()
	cfg := mockserver.DefaultConfig()
	cfg.Upstream, cfg.UpstreamMode, cfg.Record = backend, mode, record
	return newServer(t, cfg)
}

func viaProxy(t *testing.T, ts *httptest.Server, c backendCase) answer {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json", "X-Backend-Case": c.name}
	return do(t, ts, validate(seedValidateJSON, h))
}

// Report mode: every drift is reported with its rule and location, none
// for the correct answers, and the client gets the backend's bytes and
// status unchanged.
func TestProxyReport(t *testing.T) {
	backend := newBackend(t)
	s, ts := proxyServer(t, backend.URL, "report", "")
	for _, c := range backendCases {
		t.Run(c.name, func(t *testing.T) {
			got := viaProxy(t, ts, c)
			if got.status != c.status || got.body != c.body {
				t.Errorf("the client got %d %q, want the backend's %d %q", got.status, got.body, c.status, c.body)
			}
			n := got.header.Get(mockserver.HeaderViolations)
			entries := s.Journal().List(journalAll())
			e := entries[len(entries)-1]
			if !e.Upstream || e.Answer == nil || e.Answer.Status != c.status {
				t.Errorf("journal entry does not keep the backend's answer: %+v", e)
			}
			if c.rule == "" {
				if n != "0" || len(e.Violations) != 0 {
					t.Errorf("a correct answer reported %s violations: %+v", n, e.Violations)
				}
				return
			}
			if n == "0" || n == "" {
				t.Errorf("X-Mock-Violations %q for a drifted answer", n)
			}
			found := false
			for _, v := range e.Violations {
				if v.Direction == "answer" && v.Rule == c.rule && strings.Contains(v.Location, c.where) {
					found = true
				}
			}
			if !found {
				t.Errorf("no answer violation with rule %s at %s: %+v", c.rule, c.where, e.Violations)
			}
		})
	}
	// The JUnit report parses and fails exactly the drifted cases.
	got := do(t, ts, request{http.MethodGet, "/__mock/violations?format=junit", "", nil})
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal([]byte(got.body), &suite); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, got.body)
	}
	// Cases are per operation × media type × status: the JSON drifts share
	// the JSON 200 case with the correct JSON answer, so it fails; so does
	// the XML 200 one; 418 and text/plain fail; nothing passes.
	for _, c := range suite.Cases {
		if c.Failure == nil {
			t.Errorf("case %s passes though drifted answers fell in it", c.Name)
		}
	}
	if suite.Tests != 4 || suite.Failures != 4 {
		t.Errorf("JUnit: %d tests, %d failures; want 4 and 4", suite.Tests, suite.Failures)
	}
	// Outside the contract: forwarded untouched, journaled unchecked.
	out := do(t, ts, request{http.MethodGet, "/elsewhere", "", nil})
	if out.status != 299 || out.body != "outside the contract" || out.header.Get("X-Elsewhere") != "yes" {
		t.Errorf("outside the contract: %d %q", out.status, out.body)
	}
	cnt := do(t, ts, request{http.MethodGet, "/__mock/requests/count?validation=unchecked", "", nil})
	if !strings.Contains(cnt.body, `"count":1`) {
		t.Errorf("unchecked count: %s", cnt.body)
	}
}

// Enforce mode: a drifted answer becomes a 502 listing its violations; a
// request that breaks the contract never reaches the backend.
func TestProxyEnforce(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	inner := newBackend(t)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		res, err := http.DefaultTransport.RoundTrip(func() *http.Request {
			o := r.Clone(r.Context())
			o.URL.Scheme, o.URL.Host, o.RequestURI = "http", strings.TrimPrefix(inner.URL, "http://"), ""
			return o
		}())
		if err != nil {
			w.WriteHeader(500)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(counting.Close)
	_, ts := proxyServer(t, counting.URL, "enforce", "")
	if got := viaProxy(t, ts, backendCases[0]); got.status != 200 || got.body != okJSON {
		t.Errorf("correct answer: %d %s", got.status, got.body)
	}
	got := viaProxy(t, ts, backendCases[6]) // xml namespace drift, asked as JSON: still checked as what it is
	if got.status != http.StatusBadGateway || !strings.Contains(got.body, `"direction":"answer"`) {
		t.Errorf("drifted answer in enforce: %d %s, want 502 with the answer's violations", got.status, got.body)
	}
	before := hits
	bad := do(t, ts, validate(`{}`, ctJSON))
	if bad.status != 400 || hits != before {
		t.Errorf("an invalid request: %d, backend hit %d times more; want 400 and none", bad.status, hits-before)
	}
}

// Record mode writes fixtures that a restarted mock loads and serves, with
// no secret in them.
func TestProxyRecord(t *testing.T) {
	backend := newBackend(t)
	dir := t.TempDir()
	_, ts := proxyServer(t, backend.URL, "report", dir)
	const real = `{"Authentication":{"AccountId":"1042","SecurityToken":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`
	for _, c := range backendCases {
		do(t, ts, validate(real, map[string]string{"Content-Type": "application/json", "X-Backend-Case": c.name}))
	}
	if j := do(t, ts, request{http.MethodGet, "/__mock/requests?limit=1000", "", nil}); strings.Contains(j.body, "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64") || !strings.Contains(j.body, `"upstream":true`) {
		t.Errorf("the journal shows the token whole, or no proxied exchange")
	}
	data, err := os.ReadFile(filepath.Join(dir, "ValidateToken.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	recorded := string(data[strings.Index(string(data), "\nanswers:"):])
	if strings.Contains(recorded, "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64") {
		t.Errorf("a secret is in the recording:\n%s", data)
	}
	if !strings.Contains(string(data), "{{body:/Authentication/SecurityToken}}") || !strings.Contains(string(data), "invalid:") {
		t.Errorf("the recording lacks the placeholder or the invalid marks:\n%s", data)
	}
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir = dir
	s2, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatalf("the recording does not load: %v", err)
	}
	_, ts2 := newServerFrom(t, s2)
	got := do(t, ts2, validate(`{"Authentication":{"AccountId":"7","SecurityToken":"tok-replayed-0001"}}`, ctJSON))
	if got.status != 200 || !strings.Contains(got.body, `"SecurityToken":"tok-replayed-0001"`) {
		t.Errorf("the recorded default: %d %s", got.status, got.body)
	}
	// The JSON and XML forms of the backend's answer joined in one default:
	// an XML client gets XML from the recording.
	if got := do(t, ts2, validate(seedValidateXML, ctXML)); got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "application/xml") {
		t.Errorf("XML from the recording: %d %s %s", got.status, got.header.Get("Content-Type"), got.body)
	}
	// The scenarios came along.
	if got := do(t, ts2, validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "X-Mock-Scenario": "unavailable"})); got.status != 503 {
		t.Errorf("a scenario on the recording: %d %s", got.status, got.body)
	}
	// A recorded invalid answer is served on demand, as it came.
	var names []string
	for name := range s2.Fixtures().Operation("ValidateToken").Answers {
		if strings.HasPrefix(name, "recorded-418") {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("recorded 418 answers: %v", names)
	}
	got = do(t, ts2, validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Prefer": "example=" + names[0]}))
	if got.status != 418 || got.body != `{"title":"teapot"}` {
		t.Errorf("recorded invalid answer: %d %s", got.status, got.body)
	}
}

func journalAll() journal.Filter { return journal.Filter{} }

// A scenario asked for explicitly applies to real traffic: a drift to the
// backend's answer, a fault to the connection; the control header is not
// forwarded.
func TestProxyInjectsScenarios(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Mock-Scenario"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, okXML)
	}))
	t.Cleanup(backend.Close)
	_, ts := proxyServer(t, backend.URL, "report", "")
	got := do(t, ts, validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Accept": "application/xml", "X-Mock-Scenario": "drift-order"}))
	if got.status != 200 || !strings.HasPrefix(strings.SplitN(got.body, "><", 2)[1], "SecurityToken>") {
		t.Errorf("drift-order on real traffic: %d %s", got.status, got.body)
	}
	if got.header.Get("X-Mock-Scenario-Applied") != "drift-order" {
		t.Errorf("X-Mock-Scenario-Applied %q", got.header.Get("X-Mock-Scenario-Applied"))
	}
	req, _ := http.NewRequest(http.MethodPut, ts.URL+validatePath, strings.NewReader(seedValidateJSON))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Scenario", "reset")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("reset on real traffic answered %d", res.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range seen {
		if h != "" {
			t.Errorf("the backend saw X-Mock-Scenario: %s", h)
		}
	}
}

// An HTTPS backend with a private CA (-upstream-ca), and the JUnit report
// written on shutdown (-upstream-junit).
func TestProxyHTTPSAndJUnitOnShutdown(t *testing.T) {
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, okJSON)
	}))
	t.Cleanup(backend.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	cert := backend.Certificate()
	pemBytes := "-----BEGIN CERTIFICATE-----\n" + base64Lines(cert.Raw) + "-----END CERTIFICATE-----\n"
	if err := os.WriteFile(ca, []byte(pemBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := mockserver.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Upstream, cfg.UpstreamCA, cfg.UpstreamJUnit = backend.URL, ca, filepath.Join(dir, "junit.xml")
	s, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+s.Addr()+validatePath, strings.NewReader(seedValidateJSON))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != okJSON {
		t.Errorf("through an https backend with -upstream-ca: %d %s", res.StatusCode, b)
	}
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	junit, err := os.ReadFile(cfg.UpstreamJUnit)
	if err != nil {
		t.Fatalf("no JUnit report on shutdown: %v", err)
	}
	if !strings.Contains(string(junit), `tests="1" failures="0"`) {
		t.Errorf("JUnit on shutdown: %s", junit)
	}
	// Without the CA, the backend's certificate is refused: 502.
	cfg.UpstreamCA, cfg.UpstreamJUnit = "", ""
	_, ts := newServer(t, cfg)
	if got := do(t, ts, validate(seedValidateJSON, ctJSON)); got.status != http.StatusBadGateway {
		t.Errorf("an untrusted backend: %d %s, want 502", got.status, got.body)
	}
}

func base64Lines(der []byte) string {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s + "\n"
}
