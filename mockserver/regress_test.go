package mockserver_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/mockserver"
)

// A renewal whose answer never reaches the client (a reset fault, or a
// delay the client gives up on) does not happen: the retry renews.
func TestRenewalNotCommittedWhenTheAnswerIsLost(t *testing.T) {
	for _, sc := range []string{"reset", "slow"} {
		t.Run(sc, func(t *testing.T) {
			cfg := mockserver.DefaultConfig()
			cfg.Lifecycle, cfg.Seed, cfg.SeedSet = "strict", 42, true
			s, ts := newServer(t, cfg)
			_, m := adminJSON(t, ts, "POST", "/__mock/tokens", `{"realm":"commvault","owner":"agent-1"}`)
			tok := m["token"].(string)
			if err := s.Engine().Activate(sc, "RenewLoginToken", 1); err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf(`{"deviceId":"agent-1","sessionId":%q}`, tok)
			req, _ := http.NewRequest("POST", ts.URL+"/commandcenter/api/RenewLoginToken", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authtoken", tok)
			cl := &http.Client{Timeout: 300 * time.Millisecond}
			res, err := cl.Do(req)
			if err == nil {
				res.Body.Close()
				t.Errorf("the %s fault answered %d", sc, res.StatusCode)
			}
			// The server's handler ends after the client has given up.
			waitFor(t, "the first renewal to be journaled", func() bool { return s.Journal().Count(journal.Filter{Operation: "RenewLoginToken"}) == 1 })
			st, outcome, _ := renewToken(t, ts, tok, "agent-1")
			if st != 200 {
				t.Errorf("retry after a renewal the client never got: %d %s; want 200 renewed", st, outcome)
			}
		})
	}
}

// Record mode joins an XML answer to the valid answer of the same status
// with the same members, not to another one that lacks XML.
func TestRecordJoinsMediaTypesOfTheSameAnswer(t *testing.T) {
	fail := `{"DebugMessage":null,"Errors":[{"Code":"InvalidToken","Message":"The security token is not valid.","StackTrace":null}],"Status":0,"SecurityToken":null}`
	bodies := map[string][2]string{
		"ok-json":   {"application/json", okJSON},
		"fail-json": {"application/json", fail},
		"ok-xml":    {"application/xml", okXML},
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[r.Header.Get("X-Case")]
		w.Header().Set("Content-Type", b[0])
		_, _ = io.WriteString(w, b[1])
	}))
	t.Cleanup(backend.Close)
	dir := t.TempDir()
	_, ts := proxyServer(t, backend.URL, "report", dir)
	for _, c := range []string{"ok-json", "fail-json", "ok-xml"} {
		got := do(t, ts, validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "X-Case": c}))
		_ = got
	}
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir = dir
	s2, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	fo := s2.Fixtures().Operation("ValidateToken")
	def := fo.Answers["default"]
	if def == nil || !strings.Contains(def.Raw["application/xml"], ">Success<") || !strings.Contains(def.Raw["application/json"], `"Status":1`) {
		t.Errorf("default did not get the XML form of the success answer: %+v", def.Raw)
	}
	for name, a := range fo.Answers {
		if strings.HasPrefix(name, "recorded-200") && a.Raw["application/xml"] != "" && strings.Contains(a.Raw["application/json"], "InvalidToken") {
			t.Errorf("%s: the XML success body joined the JSON failure answer", name)
		}
	}
}

// A client that sends Accept-Encoding: gzip (curl --compressed, Python
// requests) to a compressing backend: the proxy checks the body itself,
// not its compressed bytes.
func TestProxyChecksTheDecodedBody(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			var b bytes.Buffer
			z := gzip.NewWriter(&b)
			_, _ = io.WriteString(z, okJSON)
			_ = z.Close()
			_, _ = w.Write(b.Bytes())
			return
		}
		_, _ = io.WriteString(w, okJSON)
	}))
	t.Cleanup(backend.Close)
	for _, mode := range []string{"report", "enforce"} {
		_, ts := proxyServer(t, backend.URL, mode, "")
		got := do(t, ts, validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Accept-Encoding": "gzip"}))
		if got.status != 200 || got.header.Get(mockserver.HeaderViolations) != "0" || got.body != okJSON {
			t.Errorf("%s: %d X-Mock-Violations=%s %s; want 200, 0 and the body", mode, got.status, got.header.Get(mockserver.HeaderViolations), got.body)
		}
	}
}

// The malformed fault on a proxied answer is malformed, not truncated: its
// Content-Length is the bytes sent.
func TestProxyMalformedFault(t *testing.T) {
	backend := newBackend(t)
	_, ts := proxyServer(t, backend.URL, "report", "")
	req, _ := http.NewRequest("PUT", ts.URL+validatePath, strings.NewReader(seedValidateJSON))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Scenario", "malformed")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || len(b) == 0 || len(b) >= len(okJSON) {
		t.Errorf("malformed over the proxy: read %d bytes, err %v; want half the body, read whole", len(b), err)
	}
}

// Close after an Open that failed (-watch with nothing to watch) returns.
func TestCloseAfterFailedOpen(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Watch, cfg.WatchSet = true, true // embedded fixtures: nothing to watch
	s, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err == nil {
		t.Fatal("Open did not fail")
	}
	ctx, cancel := contextWithTimeout(time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Close(ctx) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Errorf("Close with a 1s context still blocked after 3s")
	}
}
