package mockserver_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	nsToken    = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"
	nsMessages = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"

	renewPath    = "/commandcenter/api/RenewLoginToken"
	validatePath = "/api/v1/token/request"

	// The seeds' request bodies, byte for byte.
	seedRenewJSON = `{
"deviceId": "{{LoggedInDeviceName}}",
"sessionId": "{{ExpiredTOKEN}}"
}`
	seedValidateXML = `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">
    <AccountId>String</AccountId>
    <SecurityToken>String</SecurityToken>
  </Authentication>
</TokenRequest>`
	seedValidateJSON = "{\n\t\"Authentication\":{\n\t\t\"AccountId\":\"String\",\n\t\t\"SecurityToken\":\"String\"\n\t}\n}"
)

// newServer starts the mock on the embedded defaults, or on cfg if given.
func newServer(t *testing.T, cfgs ...mockserver.Config) (*mockserver.Server, *httptest.Server) {
	t.Helper()
	cfg := mockserver.DefaultConfig()
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	s, err := mockserver.New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return newServerFrom(t, s)
}

func newServerFrom(t *testing.T, s *mockserver.Server) (*mockserver.Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

type request struct {
	method, path, body string
	header             map[string]string
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, ts *httptest.Server, r request) answer {
	t.Helper()
	req, err := http.NewRequest(r.method, ts.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func renew(body string, h map[string]string) request {
	hh := map[string]string{"Content-Type": "application/json", "Accept": "application/json", "Authtoken": "QSDK 0a1b2c"}
	for k, v := range h {
		if v == "" {
			delete(hh, k)
		} else {
			hh[k] = v
		}
	}
	return request{http.MethodPost, renewPath, body, hh}
}

func validate(body string, h map[string]string) request {
	return request{http.MethodPut, validatePath, body, h}
}

func xmlAuth(inner string) string {
	return `<TokenRequest xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Authentication xmlns="` + nsMessages + `">` + inner + `</Authentication></TokenRequest>`
}

var (
	ctJSON = map[string]string{"Content-Type": "application/json"}
	ctXML  = map[string]string{"Content-Type": "application/xml"}
)

func TestAnswers(t *testing.T) {
	s, ts := newServer(t)
	tests := []struct {
		name   string
		req    request
		status int
		ctype  string   // media type of the answer
		match  []string // regexps the body must match
	}{
		{"renew seed body", renew(seedRenewJSON, nil), 200, "application/json",
			[]string{`^\{"token":"QSDK [0-9a-f]{64}","error":\{\}\}$`}},
		{"validate seed JSON", validate(seedValidateJSON, ctJSON), 200, "application/json",
			[]string{`^\{"DebugMessage":null,"Errors":\[\],"Status":1,"SecurityToken":"String"\}$`}},
		{"validate seed XML answers XML", validate(seedValidateXML, ctXML), 200, "application/xml",
			[]string{`<Status xmlns="` + regexp.QuoteMeta(nsMessages) + `">Success</Status><SecurityToken>String</SecurityToken></TokenResponse>$`}},
		{"XML request, Accept JSON", validate(seedValidateXML, map[string]string{"Content-Type": "application/xml", "Accept": "application/json"}), 200, "application/json",
			[]string{`"Status":1`}},
		{"JSON request, Accept XML", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Accept": "application/xml"}), 200, "application/xml",
			[]string{`<Status xmlns="[^"]+">Success</Status>`}},
		{"Accept with q-values prefers XML", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Accept": "application/json;q=0.5, application/xml"}), 200, "application/xml", nil},
		{"Accept */* keeps the request's format", validate(seedValidateXML, map[string]string{"Content-Type": "application/xml", "Accept": "*/*"}), 200, "application/xml", nil},
		{"charset=utf-8 is fine", validate(seedValidateXML, map[string]string{"Content-Type": "application/xml; charset=utf-8"}), 200, "application/xml", nil},
		{"token echoed, escaped for XML", validate(xmlAuth(`<SecurityToken>a&amp;b&lt;c</SecurityToken>`), ctXML), 200, "application/xml",
			[]string{`<SecurityToken>a&amp;b&lt;c</SecurityToken>`}},
		{"token echoed, escaped for JSON", validate(`{"Authentication":{"SecurityToken":"a\"b"}}`, ctJSON), 200, "application/json",
			[]string{`"SecurityToken":"a\\"b"`}},
		{"WCF client JSON with nulls", validate(`{"Authentication":{"API":null,"AccountId":"1042","Password":null,"SecurityToken":"t","Username":null}}`, ctJSON), 200, "application/json", nil},

		{"unknown path", request{http.MethodGet, "/nope", "", nil}, 404, "application/json", []string{`"status":404`, `/nope`}},
		{"unknown path, Accept XML", request{http.MethodGet, "/nope", "", map[string]string{"Accept": "application/xml"}}, 404, "application/xml", []string{`<status>404</status>`}},
		{"paths are case-sensitive", request{http.MethodPost, "/commandcenter/api/renewlogintoken", seedRenewJSON, ctJSON}, 404, "application/json", nil},
		{"wrong method", request{http.MethodGet, renewPath, "", nil}, 405, "application/json", []string{`GET is not allowed`}},
		{"missing Authtoken", renew(seedRenewJSON, map[string]string{"Authtoken": ""}), 401, "application/json", []string{`"location":"Authtoken"`}},
		{"blank Authtoken", renew(seedRenewJSON, map[string]string{"Authtoken": "  "}), 401, "application/json", []string{`Authtoken is missing or empty`}},
		{"Content-Type not offered", renew(seedRenewJSON, map[string]string{"Content-Type": "text/plain"}), 415, "application/json", []string{`text/plain is not accepted by RenewLoginToken`}},
		{"XML to a JSON-only operation", renew(`<a/>`, map[string]string{"Content-Type": "application/xml"}), 415, "application/json", nil},
		{"text/xml is not application/xml", validate(seedValidateXML, map[string]string{"Content-Type": "text/xml"}), 415, "application/xml", nil},
		{"no Content-Type", validate(seedValidateJSON, map[string]string{"Content-Type": ""}), 415, "application/json", []string{`Content-Type is missing`}},
		{"other charset", validate(seedValidateXML, map[string]string{"Content-Type": "application/xml; charset=iso-8859-1"}), 415, "application/xml", []string{`charset iso-8859-1`}},
		{"Accept nothing offered", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Accept": "text/html"}), 406, "application/json", []string{`text/html`}},
		{"Accept XML from a JSON-only operation", renew(seedRenewJSON, map[string]string{"Accept": "application/xml"}), 406, "application/xml", []string{`<status>406</status>`}},
		{"Accept q=0 for both", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "Accept": "application/json;q=0, application/xml;q=0"}), 406, "application/json", nil},
		{"missing required member", renew(`{"deviceId":"d"}`, nil), 400, "application/json", []string{`"location":"/sessionId","rule":"required"`}},
		{"wrong type", renew(`{"deviceId":7,"sessionId":"s"}`, nil), 400, "application/json", []string{`"location":"/deviceId","rule":"type"`}},
		{"every error listed", renew(`{"deviceId":7,"extra":true}`, nil), 400, "application/json",
			[]string{`"location":"/deviceId","rule":"type"`, `"location":"/sessionId","rule":"required"`, `"location":"/extra","rule":"additionalProperties"`}},
		{"malformed JSON", renew(`{"deviceId":`, nil), 400, "application/json", []string{`"rule":"syntax"`}},
		{"empty body", renew(``, nil), 400, "application/json", []string{`"rule":"required"`}},
		{"Authentication null", validate(`{"Authentication":null}`, ctJSON), 400, "application/json", []string{`"location":"/Authentication","rule":"nullable"`}},
		{"Authentication missing", validate(`{}`, ctJSON), 400, "application/json", []string{`"location":"/Authentication","rule":"required"`}},
		{"XML Authentication in the wrong namespace", validate(`<TokenRequest xmlns="`+nsToken+`"><Authentication><AccountId>1</AccountId></Authentication></TokenRequest>`, ctXML), 400, "application/xml",
			[]string{`<location>/TokenRequest/Authentication</location><rule>namespace</rule>`}},
		{"XML Authentication nil", validate(`<TokenRequest xmlns="`+nsToken+`" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Authentication xmlns="`+nsMessages+`" i:nil="true"/></TokenRequest>`, ctXML), 400, "application/xml",
			[]string{`<location>/TokenRequest/Authentication</location><rule>nullable</rule>`}},
		{"XML Authentication missing", validate(`<TokenRequest xmlns="`+nsToken+`"/>`, ctXML), 400, "application/xml",
			[]string{`<location>/TokenRequest/Authentication</location><rule>required</rule>`}},
		{"XML out of order", validate(xmlAuth(`<SecurityToken>t</SecurityToken><AccountId>1</AccountId>`), ctXML), 400, "application/xml", []string{`<rule>order</rule>`}},
		{"XML malformed", validate(`<TokenRequest`, ctXML), 400, "application/xml", []string{`<rule>syntax</rule>`}},
		{"XML error, Accept JSON", validate(`<TokenRequest/>`, map[string]string{"Content-Type": "application/xml", "Accept": "application/json"}), 400, "application/json", []string{`"location":"/TokenRequest"`}},

		// The first thing wrong decides.
		{"401 before 415", renew(seedRenewJSON, map[string]string{"Authtoken": "", "Content-Type": "text/plain"}), 401, "application/json", nil},
		{"415 before 406", validate(seedValidateJSON, map[string]string{"Content-Type": "text/plain", "Accept": "text/html"}), 415, "application/json", nil},
		{"406 before 400", validate(`{`, map[string]string{"Content-Type": "application/json", "Accept": "text/html"}), 406, "application/json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, ts, tc.req)
			if got.status != tc.status {
				t.Fatalf("status: got %d, want %d; body %s", got.status, tc.status, got.body)
			}
			if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type: got %q, want %s", ct, tc.ctype)
			}
			for _, m := range tc.match {
				if !regexp.MustCompile(m).MatchString(got.body) {
					t.Errorf("body %s\ndoes not match %s", got.body, m)
				}
			}
			// Every answer, fixture or problem, is one the contract documents.
			op := s.Contract().Operation(opFor(tc.req.path))
			if op != nil {
				if err := op.ValidateResponse(context.Background(), got.status, got.header, []byte(got.body)); err != nil {
					t.Errorf("the answer breaks the contract: %v", err)
				}
			}
		})
	}
}

func opFor(path string) string {
	switch path {
	case renewPath:
		return "RenewLoginToken"
	case validatePath:
		return "ValidateToken"
	}
	return ""
}

func TestMethodNotAllowedNamesAllow(t *testing.T) {
	_, ts := newServer(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		got := do(t, ts, request{m, renewPath, "", nil})
		if got.status != 405 || got.header.Get("Allow") != "POST" {
			t.Errorf("%s: got %d Allow %q, want 405 Allow POST", m, got.status, got.header.Get("Allow"))
		}
	}
	got := do(t, ts, request{http.MethodPost, validatePath, seedValidateJSON, ctJSON})
	if got.status != 405 || got.header.Get("Allow") != "PUT" {
		t.Errorf("POST %s: got %d Allow %q, want 405 Allow PUT", validatePath, got.status, got.header.Get("Allow"))
	}
}

// Methods Echo does not know still get the contract's 404 or 405.
func TestUnknownMethods(t *testing.T) {
	_, ts := newServer(t)
	got := do(t, ts, request{"FOO", validatePath, "", nil})
	if got.status != 405 || got.header.Get("Allow") != "PUT" {
		t.Errorf("FOO %s: got %d Allow %q, want 405 Allow PUT", validatePath, got.status, got.header.Get("Allow"))
	}
	if got := do(t, ts, request{"PROPFIND", "/nope", "", nil}); got.status != 404 {
		t.Errorf("PROPFIND /nope: got %d, want 404", got.status)
	}
}

func TestBodyLimit(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.MaxBody = 1024
	_, ts := newServer(t, cfg)
	big := `{"deviceId":"` + strings.Repeat("x", 2000) + `","sessionId":"s"}`
	if got := do(t, ts, renew(big, nil)); got.status != 413 {
		t.Errorf("got %d, want 413", got.status)
	}
	// 413 comes before 401: the body is never read past the limit.
	if got := do(t, ts, renew(big, map[string]string{"Authtoken": ""})); got.status != 413 {
		t.Errorf("without Authtoken: got %d, want 413", got.status)
	}
	// Without Content-Length (chunked), the limit still holds.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+renewPath, io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authtoken", "QSDK 1")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked: got %d, want 413", resp.StatusCode)
	}
}

// The XML answer is pinned byte for byte: names, namespaces, order, nil.
func TestXMLAnswerGolden(t *testing.T) {
	_, ts := newServer(t)
	got := do(t, ts, validate(xmlAuth(`<AccountId>1042</AccountId><SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken>`), ctXML))
	golden(t, "validate-token-answer.xml", got.body)
	got = do(t, ts, validate(`{"Authentication":{"AccountId":"1042","SecurityToken":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`, ctJSON))
	golden(t, "validate-token-answer.json", got.body)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Tokens are minted fresh for each call, like the real service does.
func TestRenewMintsFreshTokens(t *testing.T) {
	_, ts := newServer(t)
	seen := map[string]bool{}
	for range 5 {
		var body struct{ Token string }
		got := do(t, ts, renew(seedRenewJSON, nil))
		if err := json.Unmarshal([]byte(got.body), &body); err != nil {
			t.Fatal(err)
		}
		if seen[body.Token] {
			t.Fatalf("token %s given twice", body.Token)
		}
		seen[body.Token] = true
	}
}
