package mockserver_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/mockserver"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func call(t *testing.T, method, u, body string, h map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// With -admin-token the page asks for it once and keeps an HttpOnly,
// SameSite=Strict cookie; the bearer header keeps working for scripts.
func TestDashboardLogin(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.AdminToken = "s3cret-admin-token"
	_, ts := newServer(t, cfg)
	ui := ts.URL + "/__mock/ui"

	resp, body := call(t, "GET", ui, "", nil)
	if resp.StatusCode != 401 || !strings.Contains(body, `name="token"`) || strings.Contains(body, "Requests") {
		t.Fatalf("the page without login: %d, want 401 and the login form:\n%s", resp.StatusCode, body)
	}
	for _, p := range []string{"/__mock/requests/stream", "/__mock/ui/panels/clock", "/__mock/ui/requests/1", "/__mock/health"} {
		if resp, _ := call(t, "GET", ts.URL+p, "", nil); resp.StatusCode != 401 {
			t.Errorf("%s without login: %d, want 401", p, resp.StatusCode)
		}
	}
	if resp, _ := call(t, "GET", ts.URL+"/__mock/ui/static/app.css", "", nil); resp.StatusCode != 200 {
		t.Errorf("the style sheet of the login form: %d, want 200", resp.StatusCode)
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	resp, body = call(t, "POST", ui+"/login", "token=wrong", form)
	if resp.StatusCode != 401 || !strings.Contains(body, "not the admin token") || len(resp.Cookies()) != 0 {
		t.Errorf("a wrong token: %d %v, want 401 and no cookie", resp.StatusCode, resp.Cookies())
	}
	resp, _ = call(t, "POST", ui+"/login", "token="+url.QueryEscape(cfg.AdminToken), form)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("the right token: %d %v, want 303 and a cookie", resp.StatusCode, resp.Cookies())
	}
	c := resp.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/__mock" || strings.Contains(c.Value, cfg.AdminToken) {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, path /__mock, not the token itself", c)
	}
	withCookie := map[string]string{"Cookie": c.Name + "=" + c.Value}
	if resp, body := call(t, "GET", ui, "", withCookie); resp.StatusCode != 200 || !strings.Contains(body, "Requests") {
		t.Errorf("the page with the cookie: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "POST", ts.URL+"/__mock/clock", `{"advance":"1m"}`, withCookie); resp.StatusCode != 200 {
		t.Errorf("an admin call with the cookie: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", ui, "", map[string]string{"Cookie": c.Name + "=" + strings.Repeat("0", len(c.Value))}); resp.StatusCode != 401 {
		t.Errorf("a forged cookie: %d, want 401", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", ts.URL+"/__mock/health", "", map[string]string{"Authorization": "Bearer " + cfg.AdminToken}); resp.StatusCode != 200 {
		t.Errorf("Bearer: %d, want 200", resp.StatusCode)
	}
	resp, _ = call(t, "POST", ui+"/logout", "", withCookie)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d %v, want 303 clearing the cookie", resp.StatusCode, resp.Cookies())
	}
}

// A state-changing call a browser sends from another origin is refused,
// with or without -admin-token; reads and non-browser clients are not.
func TestCrossSiteCallsRefused(t *testing.T) {
	s, ts := newServer(t)
	host := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		want   int
	}{
		{"curl", "POST", "/__mock/scenarios/outage/activate", nil, 200},
		{"the page itself", "POST", "/__mock/scenarios/outage/activate", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, 200},
		{"another site", "POST", "/__mock/scenarios/outage/activate", map[string]string{"Origin": "http://evil.example"}, 403},
		{"another port", "POST", "/__mock/clock", map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"an opaque origin", "DELETE", "/__mock/scenarios/active", map[string]string{"Origin": "null"}, 403},
		{"no Origin, cross-site", "DELETE", "/__mock/tokens", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"no Origin, same-site", "POST", "/__mock/reload", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"typed in the address bar", "POST", "/__mock/reload", map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"a read from elsewhere", "GET", "/__mock/scenarios/active", map[string]string{"Origin": "http://evil.example"}, 200},
		{"the login form from elsewhere", "POST", "/__mock/ui/login", map[string]string{"Origin": "http://evil.example"}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Engine().Clear()
			resp, body := call(t, tc.method, ts.URL+tc.path, "", tc.header)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want == 403 {
				if !strings.Contains(body, "cross-site request refused") {
					t.Errorf("body %s does not say why", body)
				}
				if len(s.Engine().Active()) != 0 || s.Clock().Offset() != 0 {
					t.Error("the refused call changed state")
				}
			}
		})
	}
}

// The page loads only its own script and style sheet: a CSP without
// unsafe-inline, and no inline script, style or handler to need one.
func TestDashboardPageIsSelfContained(t *testing.T) {
	_, ts := newServer(t)
	resp, body := call(t, "GET", ts.URL+"/__mock/ui", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("got %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe-*", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`),        // inline script
		regexp.MustCompile(`<script(?:\s(?:[^s>]|s[^r])*)?>`), // script without src
		regexp.MustCompile(`(?i)\sstyle=`),                    // inline style
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\son[a-z]+=`), // inline handler
		regexp.MustCompile(`(?i)(src|href)="(https?:)?//`),
	} {
		if m := bad.FindString(body); m != "" {
			t.Errorf("the page has %q", m)
		}
	}
	for _, f := range []struct{ name, ctype string }{{"app.js", "text/javascript"}, {"app.css", "text/css"}, {"favicon.svg", "image/svg+xml"}} {
		resp, body := call(t, "GET", ts.URL+"/__mock/ui/static/"+f.name, "", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.ctype) || len(body) == 0 {
			t.Errorf("%s: %d %s", f.name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			if f.name != "favicon.svg" { // the SVG namespace is a name, not a fetch
				t.Errorf("%s refers to another server", f.name)
			}
		}
	}
	if resp, _ := call(t, "GET", ts.URL+"/__mock/ui/static/nope.js", "", nil); resp.StatusCode != 404 {
		t.Errorf("an unknown file: %d, want 404", resp.StatusCode)
	}
}

// Bodies, paths and headers are whatever a client sent: the opened entry
// shows them as text.
func TestDashboardEscapesWhatClientsSend(t *testing.T) {
	_, ts := newServer(t)
	hostile := `"><img src=x onerror=alert(1)><script>alert(2)</script>`
	body := `{"Authentication": {"AccountId": "` + strings.ReplaceAll(hostile, `"`, `\"`) + `", "SecurityToken": "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`
	do(t, ts, request{http.MethodPut, validatePath + "?q=" + url.QueryEscape(hostile), body, map[string]string{"Content-Type": "application/json", "X-Evil": hostile}})
	do(t, ts, request{http.MethodPut, validatePath, `<script>alert(3)</script>`, ctXML})
	for _, id := range []string{"1", "2"} {
		resp, page := call(t, "GET", ts.URL+"/__mock/ui/requests/"+id, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("entry %s: %d", id, resp.StatusCode)
		}
		if m := regexp.MustCompile(`<img|<script|<[^>]*onerror`).FindString(page); m != "" {
			t.Errorf("entry %s shows %q as markup:\n%s", id, m, page)
		}
		if !strings.Contains(page, "&lt;script&gt;alert(") {
			t.Errorf("entry %s does not show the script as text:\n%s", id, page)
		}
	}
}

// An opened entry shows what a user checks: its violations with location
// and rule, bodies indented, the scenario, rule, step and lifecycle.
func TestDashboardEntryDetail(t *testing.T) {
	_, ts := newServer(t)
	do(t, ts, request{http.MethodPut, validatePath, xmlAuth(`<AccountId>1042</AccountId><SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken>`), map[string]string{"Content-Type": "application/xml", "X-Mock-Scenario": "expired"}})
	do(t, ts, validate(`{"Authentication": {"AccountId": 1042}}`, ctJSON))
	_, page := call(t, "GET", ts.URL+"/__mock/ui/requests/1", "", nil)
	for _, want := range []string{"expired", "chosen by header", "step 1", "401", "\n  &lt;Authentication xmlns=", "6f1c**********", "Answer body <small>application/xml</small>"} {
		if !strings.Contains(page, want) {
			t.Errorf("entry 1 lacks %q:\n%s", want, page)
		}
	}
	_, page = call(t, "GET", ts.URL+"/__mock/ui/requests/2", "", nil)
	for _, want := range []string{`<td class="mono">/Authentication/AccountId</td><td>type</td>`, "rejected", "{\n  &#34;Authentication&#34;: {"} {
		if !strings.Contains(page, want) {
			t.Errorf("entry 2 lacks %q:\n%s", want, page)
		}
	}
	if _, page := call(t, "GET", ts.URL+"/__mock/ui/requests/99", "", nil); !strings.Contains(page, "no longer in the journal") {
		t.Errorf("an entry the journal does not hold: %s", page)
	}
	if resp, _ := call(t, "GET", ts.URL+"/__mock/ui/requests/x", "", nil); resp.StatusCode != 400 {
		t.Errorf("a bad id: %d, want 400", resp.StatusCode)
	}
}

// The Upstream panel shows only when a validating proxy runs, with what
// it saw by operation, rule and location.
func TestDashboardUpstreamPanel(t *testing.T) {
	_, ts := newServer(t)
	if _, page := call(t, "GET", ts.URL+"/__mock/ui", "", nil); strings.Contains(page, `id="upstream"`) {
		t.Error("an Upstream panel without a proxy")
	}
	if resp, _ := call(t, "GET", ts.URL+"/__mock/ui/panels/upstream", "", nil); resp.StatusCode != 404 {
		t.Errorf("the upstream panel without a proxy: %d, want 404", resp.StatusCode)
	}
	backend := newBackend(t)
	_, pts := proxyServer(t, backend.URL, "report", "")
	for _, name := range []string{"json ok", "xml order", "xml order", "json enum form"} {
		for _, c := range backendCases {
			if c.name == name {
				viaProxy(t, pts, c)
			}
		}
	}
	_, page := call(t, "GET", pts.URL+"/__mock/ui", "", nil)
	for _, want := range []string{`id="upstream"`, backend.URL, "4 exchanges checked, 3 with violations",
		"<td>ValidateToken</td><td>answer</td><td>order</td><td class=\"mono\">/TokenResponse/"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Upstream panel lacks %q:\n%s", want, page)
		}
	}
	if resp, panel := call(t, "GET", pts.URL+"/__mock/ui/panels/upstream", "", nil); resp.StatusCode != 200 || !strings.Contains(panel, "<td>enum</td>") {
		t.Errorf("the upstream panel: %d %s", resp.StatusCode, panel)
	}
}

// The page acts on a listed token, which it only sees masked, by its id.
func TestTokenByID(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.Lifecycle = "strict"
	_, ts := newServer(t, cfg)
	_, seeded := adminJSON(t, ts, "POST", "/__mock/tokens", `{"realm":"appspace","owner":"1042","token":"tok-by-id-000000001"}`)
	id := strconv.FormatFloat(seeded["id"].(float64), 'f', -1, 64)
	tests := []struct {
		body   string
		status int
		state  string
	}{
		{`{"realm":"appspace","id":` + id + `}`, 200, "expired"},
		{`{"realm":"appspace","id":99999}`, 404, ""},
		{`{"realm":"commvault","id":` + id + `}`, 404, ""},
		{`{"realm":"appspace","id":1,"token":"x"}`, 400, ""},
	}
	for _, tc := range tests {
		status, got := adminJSON(t, ts, "POST", "/__mock/tokens/expire", tc.body)
		if status != tc.status || (tc.state != "" && got["state"] != tc.state) {
			t.Errorf("%s: got %d %v, want %d %s", tc.body, status, got, tc.status, tc.state)
		}
	}
	if code, _ := validateToken(t, ts, "tok-by-id-000000001", "1042", false); code != 401 {
		t.Errorf("the token expired by id still validates: %d", code)
	}
}
