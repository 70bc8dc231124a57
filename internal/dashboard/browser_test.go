package dashboard_test

// End-to-end tests of the dashboard in headless Chromium (Debian's
// chromium package, driven by chromedp): what a person does with the page,
// checked by what the page shows. They skip, saying why, where no browser
// is installed; .ci/run installs one.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokenmock/tokenmock/mockserver"
)

const (
	validatePath = "/api/v1/token/request"
	renewPath    = "/commandcenter/api/RenewLoginToken"
	validJSON    = `{"Authentication": {"AccountId": "1042", "SecurityToken": "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`
	renewJSON    = `{"deviceId": "build-agent-07", "sessionId": "QSDK 3f9a1c47e2b85d60"}`
)

// browserPath is the Chromium to drive: $CHROME_PATH, or the first known
// name on PATH.
func browserPath() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc = func() {}
	browserErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserCancel()
	os.Exit(code)
}

// tab opens a new tab of the one browser the tests share.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := browserPath()
	if path == "" {
		const why = "no Chromium installed (apt-get install chromium; or set CHROME_PATH): the browser tests cannot run"
		if os.Getenv("TOKENMOCK_BROWSER_TESTS") == "required" {
			t.Fatal(why) // CI: a skip would hide a missing install
		}
		t.Skip(why)
	}
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // as root, Chromium refuses to start with its sandbox
			chromedp.WindowSize(1400, 900),
			chromedp.Flag("disable-dev-shm-usage", true),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		browserErr = chromedp.Do(bctx) // starts the browser
		browserCtx, browserCancel = bctx, func() { bcancel(); acancel() }
	})
	if browserErr != nil {
		t.Fatalf("start %s: %v", path, browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	ctx, cancel2 := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(func() { cancel2(); cancel() })
	return ctx
}

// logBuffer keeps the server's log, for what only the log shows.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type mock struct {
	*mockserver.Server
	base string
	log  *logBuffer
}

// start runs the mock on a port of 127.0.0.1, for the browser to reach.
func start(t *testing.T, configure func(*mockserver.Config)) *mock {
	t.Helper()
	cfg := mockserver.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	if configure != nil {
		configure(&cfg)
	}
	lb := &logBuffer{}
	s, err := mockserver.New(cfg, slog.New(slog.NewTextHandler(lb, nil)))
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
	return &mock{Server: s, base: "http://" + s.Addr(), log: lb}
}

// send is a client of the mocked API, as curl would be.
func (m *mock) send(t *testing.T, method, path, ctype, body string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, m.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// eval runs JavaScript in the page and decodes its JSON result into v.
func eval(t *testing.T, ctx context.Context, js string, v any) {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify("+js+")"))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%s gave %s: %v", js, s, err)
	}
}

// text is the text a person sees in the first element that sel selects.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	eval(t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel), &s)
	return s
}

// waitText waits until the element sel selects shows want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := text(t, ctx, sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s shows %q, want it to show %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// changed tells the page that the form sel selects changed, as a person's
// choice in it would.
func changed(sel string) chromedp.Action[chromedp.Void] {
	return script(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event('change'))`, sel))
}

// script runs JavaScript in the page.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("("+js+", true)")(ctx, tg)
		return err
	})
}

// row is a row of the journal table as the page shows it.
type row struct{ ID, Operation, Request, Status, Validation, Scenario, Lifecycle string }

func rows(t *testing.T, ctx context.Context) []row {
	t.Helper()
	var out []row
	eval(t, ctx, `Array.from(document.querySelectorAll('#journal tbody tr[data-id]')).map(r => ({
		ID: r.cells[0].innerText, Operation: r.cells[2].innerText, Request: r.cells[3].innerText, Status: r.cells[4].innerText,
		Validation: r.cells[5].innerText, Scenario: r.cells[6].innerText, Lifecycle: r.cells[7].innerText}))`, &out)
	return out
}

func waitRows(t *testing.T, ctx context.Context, n int) []row {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := rows(t, ctx)
		if len(r) >= n {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page shows %d requests, want %d: %+v", len(r), n, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func openPage(t *testing.T, ctx context.Context, m *mock) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(m.base+"/__mock/ui"))
	waitText(t, ctx, "#stream-status", "live")
}

// Requests appear as they arrive, newest first, in the order the mock
// answered them; one opened shows its violations with location and rule.
func TestBrowserLiveJournal(t *testing.T) {
	ctx := tab(t)
	m := start(t, nil)
	openPage(t, ctx, m)
	m.send(t, "PUT", validatePath, "application/json", validJSON)
	m.send(t, "POST", renewPath, "application/json", renewJSON, "Authtoken", "QSDK 3f9a1c47e2b85d60")
	m.send(t, "PUT", validatePath, "application/json", `{"Authentication": {"AccountId": 1042}}`)
	m.send(t, "PUT", validatePath, "application/xml", `<TokenRequest/>`)
	got := waitRows(t, ctx, 4)
	want := []row{
		{ID: "4", Operation: "ValidateToken", Status: "400", Validation: "rejected"},
		{ID: "3", Operation: "ValidateToken", Status: "400", Validation: "rejected (1)"},
		{ID: "2", Operation: "RenewLoginToken", Status: "200", Validation: "ok"},
		{ID: "1", Operation: "ValidateToken", Status: "200", Validation: "ok"},
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Operation != w.Operation || g.Status != w.Status || !strings.HasPrefix(g.Validation, w.Validation) {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
	// Live: one more, without reloading, on top.
	m.send(t, "PUT", validatePath, "application/json", validJSON)
	if got := waitRows(t, ctx, 5); got[0].ID != "5" {
		t.Errorf("the newest row is %s, want 5", got[0].ID)
	}
	waitText(t, ctx, "#received", "5")

	run(t, ctx, chromedp.Click(chromedp.CSS(`#journal tr[data-id="3"]`)))
	waitText(t, ctx, "#detail-body table.violations", "/Authentication/AccountId")
	v := text(t, ctx, "#detail-body table.violations")
	if !strings.Contains(v, "type") || !strings.Contains(v, "string") {
		t.Errorf("violations %q: want the rule (type) and what it expects", v)
	}
	body := text(t, ctx, "#detail-body pre.body")
	if body != "{\n  \"Authentication\": {\n    \"AccountId\": 1042\n  }\n}" {
		t.Errorf("request body shown as %q, want it indented", body)
	}

	// Filters: only the rejected ones.
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`#filters select[name=validation]`), "rejected"),
		changed("#filters"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := rows(t, ctx)
		if len(r) == 2 && r[0].ID == "4" && r[1].ID == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("filtered on rejected: %+v, want 4 and 3", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A scenario activated from the page is given to the next request, as many
// times as asked, then the default answer comes back.
func TestBrowserActivateScenario(t *testing.T) {
	ctx := tab(t)
	m := start(t, nil)
	openPage(t, ctx, m)
	form := `form.activate[data-scenario="expired"] `
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS(form+`input[name=times]`), "1"),
		chromedp.SetValue(chromedp.CSS(form+`select[name=operation]`), "ValidateToken"),
		chromedp.Click(chromedp.CSS(form+`button`)),
	)
	waitText(t, ctx, "#flash", "Activated expired for ValidateToken for the next 1 request(s).")
	waitText(t, ctx, `[data-panel="active"]`, "expired")
	if a := m.Engine().Active(); len(a) != 1 || a[0].Scenario != "expired" || a[0].Remaining != 1 || a[0].Operation != "ValidateToken" {
		t.Fatalf("activations %+v, want expired once for ValidateToken", a)
	}
	if resp := m.send(t, "PUT", validatePath, "application/json", validJSON); resp.StatusCode != 401 || resp.Header.Get("X-Mock-Scenario-Applied") != "expired" {
		t.Errorf("the next request: %d %s, want 401 expired", resp.StatusCode, resp.Header.Get("X-Mock-Scenario-Applied"))
	}
	m.send(t, "PUT", validatePath, "application/json", validJSON)
	got := waitRows(t, ctx, 2)
	if got[1].Scenario != "expired" || got[1].Status != "401" || got[0].Scenario != "" || got[0].Status != "200" {
		t.Errorf("rows %+v: want the first request expired (401), the second the default (200)", got)
	}
	waitText(t, ctx, `[data-panel="active"]`, "None")
}

// Moving the clock from the page expires a token seeded from the page.
func TestBrowserClockExpiresToken(t *testing.T) {
	ctx := tab(t)
	m := start(t, func(c *mockserver.Config) { c.Lifecycle = "strict" })
	openPage(t, ctx, m)
	const tok = "tok-browser-0000000001"
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS(`#seed select[name=realm]`), "appspace"),
		chromedp.SetValue(chromedp.CSS(`#seed input[name=owner]`), "1042"),
		chromedp.SetValue(chromedp.CSS(`#seed input[name=token]`), tok),
		chromedp.Click(chromedp.CSS(`#seed button`)),
	)
	waitText(t, ctx, "#flash", "Seeded appspace token "+tok+" for 1042 (shown this once).")
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`#token-filter select[name=realm]`), "appspace"),
		changed("#token-filter"))
	waitText(t, ctx, `[data-panel="tokens"]`, "tok-********0001")
	row := `[data-panel="tokens"] tr:has(td.mono)`
	if s := text(t, ctx, row); !strings.Contains(s, "1042") || !strings.Contains(s, "live") {
		t.Fatalf("token row %q, want 1042 live", s)
	}
	if strings.Contains(text(t, ctx, `[data-panel="tokens"]`), tok) {
		t.Error("the list shows the token in clear")
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`button[data-advance="31m"]`)))
	waitText(t, ctx, `[data-panel="clock"] .offset`, "31m0s")
	waitText(t, ctx, row+" td.state", "expired")
	if resp := m.send(t, "PUT", validatePath, "application/json", `{"Authentication": {"AccountId": "1042", "SecurityToken": "`+tok+`"}}`); resp.StatusCode != 401 || resp.Header.Get("X-Mock-Lifecycle") != "expired" {
		t.Errorf("the token after 31 minutes: %d %s, want 401 expired", resp.StatusCode, resp.Header.Get("X-Mock-Lifecycle"))
	}
	if got := waitRows(t, ctx, 1); got[0].Lifecycle != "expired" {
		t.Errorf("row %+v, want lifecycle expired", got[0])
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`button[data-call="DELETE /__mock/clock"]`)))
	waitText(t, ctx, `[data-panel="clock"]`, "(real time)")
}

// What a client sends is shown as text: a script or an image with a
// handler, in a body, a header or the query, runs nothing.
func TestBrowserHostileBodyInert(t *testing.T) {
	ctx := tab(t)
	m := start(t, nil)
	openPage(t, ctx, m)
	hostile := `"><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`
	body := `{"Authentication": {"AccountId": "` + strings.ReplaceAll(hostile, `"`, `\"`) + `", "SecurityToken": "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`
	m.send(t, "PUT", validatePath+`?q="><img/src=x/onerror=window.__pwned=3>`, "application/json", body, "X-Evil", hostile)
	m.send(t, "PUT", validatePath, "application/xml", `<script>window.__pwned=4</script><img src=x onerror="window.__pwned=5">`)
	waitRows(t, ctx, 2)
	for _, id := range []string{"1", "2"} {
		run(t, ctx, chromedp.Click(chromedp.CSS(`#journal tr[data-id="`+id+`"]`)))
		waitText(t, ctx, "#detail-body dl.summary", "#"+id)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`#journal tr[data-id="1"]`)))
	waitText(t, ctx, "#detail-body pre.body", `<script>window.__pwned=2</script>`)
	if h := text(t, ctx, "#detail-body table.headers"); !strings.Contains(h, hostile) {
		t.Errorf("the hostile header is not shown as text: %q", h)
	}
	if r := rows(t, ctx); !strings.Contains(r[1].Request, `<img/src=x/onerror=window.__pwned=3>`) {
		t.Errorf("the hostile query is not shown as text: %q", r[1].Request)
	}
	time.Sleep(200 * time.Millisecond) // an image's error handler would have run by now
	var pwned any
	eval(t, ctx, `window.__pwned === undefined ? null : window.__pwned`, &pwned)
	var elements int
	eval(t, ctx, `document.querySelectorAll('main img, main script').length`, &elements)
	if pwned != nil || elements != 0 {
		t.Errorf("hostile input ran (window.__pwned=%v) or became elements (%d img/script)", pwned, elements)
	}
}

// With -admin-token the page asks for the token; the API refuses anyone
// without it; the login cookie is out of the page's script's reach.
func TestBrowserAdminToken(t *testing.T) {
	ctx := tab(t)
	const secret = "s3cret-admin-token"
	m := start(t, func(c *mockserver.Config) { c.AdminToken = secret })
	run(t, ctx, chromedp.Navigate(m.base+"/__mock/ui"))
	waitText(t, ctx, "body", "Admin token")
	if s := text(t, ctx, "body"); strings.Contains(s, "Requests") {
		t.Fatal("the dashboard shows before the login")
	}
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=token]`), "not-it"), chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitText(t, ctx, "body", "That is not the admin token.")
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=token]`), secret), chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitText(t, ctx, "#stream-status", "live")
	var cookies string
	eval(t, ctx, `document.cookie`, &cookies)
	if strings.Contains(cookies, "tokenmock_admin") {
		t.Error("the login cookie is readable by script (not HttpOnly)")
	}
	// The page's calls carry the login.
	run(t, ctx, chromedp.Click(chromedp.CSS(`button[data-advance="1h"]`)))
	waitText(t, ctx, `[data-panel="clock"] .offset`, "1h0m0s")
	m.send(t, "PUT", validatePath, "application/json", validJSON)
	waitRows(t, ctx, 1)
	// Anyone else needs the token.
	for _, p := range []string{"/__mock/clock", "/__mock/requests/stream", "/__mock/ui/panels/tokens"} {
		resp, err := http.Get(m.base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("GET %s without the token: %d, want 401", p, resp.StatusCode)
		}
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`form.logout button`)))
	waitText(t, ctx, "body", "Admin token")
}

// A page on another origin cannot change the mock's state: its POSTs reach
// the mock and are refused.
func TestBrowserCrossSitePostRefused(t *testing.T) {
	ctx := tab(t)
	m := start(t, nil)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>evil</title>
<form id="f" method="POST" action="%[1]s/__mock/scenarios/outage/activate" target="sink"></form>
<iframe name="sink"></iframe>
<script>
fetch(%[1]q + '/__mock/clock', {method: 'POST', mode: 'no-cors', credentials: 'include', body: '{"advance":"31m"}'})
  .catch(() => {})
  .finally(() => {
    document.querySelector('iframe').addEventListener('load', () => { document.title = 'done'; });
    document.getElementById('f').submit();
  });
</script>`, m.base)
	}))
	defer evil.Close()
	run(t, ctx, chromedp.Navigate(evil.URL))
	deadline := time.Now().Add(10 * time.Second)
	for {
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		if title == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the evil page did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a := m.Engine().Active(); len(a) != 0 {
		t.Errorf("a cross-site form activated %+v", a)
	}
	if off := m.Clock().Offset(); off != 0 {
		t.Errorf("a cross-site fetch moved the clock by %s", off)
	}
	if n := strings.Count(m.log.String(), "cross-site call refused"); n != 2 {
		t.Errorf("%d cross-site calls refused in the log, want 2 (the form and the fetch):\n%s", n, m.log.String())
	}
}

// TestScreenshots writes the README's pictures of the dashboard, when
// TOKENMOCK_SCREENSHOTS names a folder (make screenshots).
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("TOKENMOCK_SCREENSHOTS")
	if dir == "" {
		t.Skip("TOKENMOCK_SCREENSHOTS is not set (make screenshots sets it)")
	}
	ctx := tab(t)
	m := start(t, func(c *mockserver.Config) { c.Lifecycle = "strict"; c.Seed, c.SeedSet = 7, true })
	openPage(t, ctx, m)
	seed := func(body string) {
		req, _ := http.NewRequest("POST", m.base+"/__mock/tokens", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	seed(`{"realm":"appspace","owner":"1042","token":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}`)
	seed(`{"realm":"appspace","owner":"2077","token":"0b7e41d2-93c5-4f0e-b1aa-5e6d2c9f8a13"}`)
	seed(`{"realm":"commvault","owner":"build-agent-07"}`)
	m.send(t, "PUT", validatePath, "application/json", validJSON)
	m.send(t, "POST", renewPath, "application/json", `{"deviceId": "build-agent-07", "sessionId": "QSDK 3f9a1c47e2b85d60c3a91f7e4b28d05a6c1e93f7b2a4d8c05e6f1a9b3c7d2e48"}`, "Authtoken", "QSDK 3f9a1c47e2b85d60c3a91f7e4b28d05a6c1e93f7b2a4d8c05e6f1a9b3c7d2e48")
	m.send(t, "PUT", validatePath, "application/xml", `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"><SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken><AccountId>1042</AccountId></Authentication></TokenRequest>`)
	if err := m.Engine().Activate("unavailable", "ValidateToken", 3); err != nil {
		t.Fatal(err)
	}
	m.send(t, "PUT", validatePath, "application/json", validJSON)
	m.send(t, "PUT", validatePath, "application/json", `{"Authentication": {"AccountId": 1042, "SecurityToken": null}}`)
	m.Clock().Advance(31 * time.Minute)
	seed(`{"realm":"appspace","owner":"3310","token":"c4d1e8f0-2a6b-4b39-8e71-f05a9d3c6b22"}`)
	m.send(t, "PUT", validatePath, "application/json", `{"Authentication": {"AccountId": "2077", "SecurityToken": "0b7e41d2-93c5-4f0e-b1aa-5e6d2c9f8a13"}}`)
	waitRows(t, ctx, 6)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#journal tr[data-id="3"]`)))
	waitText(t, ctx, "#detail-body table.violations", "/TokenRequest")
	time.Sleep(2500 * time.Millisecond) // a refresh of the panels
	shots := []struct{ file, sel string }{
		{"dashboard.png", ""},
		{"dashboard-request.png", "#detail"},
		{"dashboard-tokens.png", "#tokens"},
	}
	for _, s := range shots {
		action := chromedp.FullScreenshot(100)
		if s.sel != "" {
			action = chromedp.Screenshot(chromedp.CSS(s.sel))
		}
		png, err := chromedp.Run(ctx, action)
		if err != nil {
			t.Fatal(err)
		}
		png = smallPNG(t, png)
		if err := os.WriteFile(filepath.Join(dir, s.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", s.file, len(png))
	}
}

// smallPNG re-encodes a screenshot with a palette of 256 of its colours:
// a page of flat colours and text loses nothing a reader sees, and the
// file shrinks to about a third.
func smallPNG(t *testing.T, b []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[color.RGBA]int{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colours := slices.SortedFunc(maps.Keys(counts), func(a, b color.RGBA) int { return counts[b] - counts[a] })
	// The most used first, skipping those close to one already taken, so
	// that a rare colour (a green status) keeps its own entry rather than
	// an anti-aliasing shade of grey taking it.
	pal := make(color.Palette, 0, 256)
	for _, min := range []int{24, 12, 0} {
		for _, c := range colours {
			if len(pal) == 256 {
				break
			}
			far := true
			for _, p := range pal {
				q := p.(color.RGBA)
				dr, dg, db := int(c.R)-int(q.R), int(c.G)-int(q.G), int(c.B)-int(q.B)
				if dr*dr+dg*dg+db*db <= min*min {
					far = false
					break
				}
			}
			if far {
				pal = append(pal, c)
			}
		}
	}
	out := image.NewPaletted(r, pal)
	draw.Draw(out, r, img, r.Min, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBrowserUnderLoad keeps the page open while clients send requests as
// fast as TOKENMOCK_LOAD_RATE (10000 a second) for TOKENMOCK_LOAD_SECONDS
// (5), then checks what the issue asks of the page: every request is
// either shown (counted as received) or counted as missed, and memory
// stays flat. It is a measurement, not a unit test: it runs only when
// TOKENMOCK_LOAD_SECONDS is set.
func TestBrowserUnderLoad(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("TOKENMOCK_LOAD_SECONDS"))
	if secs <= 0 {
		t.Skip("TOKENMOCK_LOAD_SECONDS is not set: a measurement, run by hand")
	}
	rate := 10000
	if r, _ := strconv.Atoi(os.Getenv("TOKENMOCK_LOAD_RATE")); r > 0 {
		rate = r
	}
	ctx := tab(t)
	m := start(t, nil)
	openPage(t, ctx, m)
	heap := func() (server uint64, page float64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		eval(t, ctx, `performance.memory ? performance.memory.usedJSHeapSize : 0`, &page)
		return ms.HeapAlloc, page
	}
	s0, p0 := heap()
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var sent atomic.Int64
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	const workers = 64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every := time.Duration(workers) * time.Second / time.Duration(rate)
			next := time.Now().Add(time.Duration(w) * every / workers)
			for time.Now().Before(deadline) {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				next = next.Add(every)
				resp, err := client.Post(m.base+validatePath, "application/json", strings.NewReader(validJSON))
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	n := sent.Load()
	// POST is not ValidateToken's method: each is a 405, journaled all the same.
	waitFor := time.Now().Add(30 * time.Second)
	var got struct{ Received, Missed int64 }
	for {
		eval(t, ctx, `({Received: Number(document.querySelector('#received').textContent), Missed: Number(document.querySelector('#missed').textContent)})`, &got)
		if got.Received+got.Missed >= n || time.Now().After(waitFor) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s1, p1 := heap()
	t.Logf("%d requests in %d s (%.0f/s): the page received %d and was told of %d missed (sum %d); server heap %.1f → %.1f MiB; page JS heap %.1f → %.1f MiB",
		n, secs, float64(n)/float64(secs), got.Received, got.Missed, got.Received+got.Missed,
		float64(s0)/(1<<20), float64(s1)/(1<<20), p0/(1<<20), p1/(1<<20))
	if got.Received+got.Missed != n {
		t.Errorf("received %d + missed %d = %d, want the %d requests sent", got.Received, got.Missed, got.Received+got.Missed, n)
	}
}
