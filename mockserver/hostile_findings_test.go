package mockserver_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"log/slog"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/mockserver"
)

// The findings of an adversarial pass over the running server, one case
// each: TestHostileInput runs them.
var hostileFindings = []struct {
	name string
	run  func(t *testing.T)
}{
	{"1 violations are bounded in the answer, the log and the journal", findingViolationsBounded},
	{"2 journal entries are bounded: 5000 headers, a 60 KB query", findingEntriesBounded},
	{"3 the GC headroom: see TestTunesOnlyWhileTheLiveHeapIsSmall (package gctune) and make bench", nil},
	{"4 a claimed Content-Length is not allocated; size flags have a ceiling", findingClaimedLength},
	{"5 secrets escape the mask in no spelling", findingSecrets},
	{"6 fixture links stay inside the directory; errors quote no file", findingFixtureLinks},
	{"7 idle connections cannot lock new clients out", findingIdleConnections},
	{"8 strictness: framing, slashes, admin JSON, large fixtures", findingStrictness},
}

// put sends a ValidateToken request and returns the status and body.
func put(t *testing.T, url, ctype, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lastEntry returns the journal's newest entry, as the admin API lists it.
func lastEntry(t *testing.T, base string) (raw string, e journal.Entry) {
	t.Helper()
	var page struct {
		Requests []json.RawMessage
		Next     string
	}
	cursor := ""
	for {
		_, body := adminCall(t, base, http.MethodGet, "/__mock/requests?limit=1000&cursor="+cursor, "")
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("%v: %s", err, cut([]byte(body)))
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(page.Requests) == 0 {
		t.Fatal("the journal is empty")
	}
	raw = string(page.Requests[len(page.Requests)-1])
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatal(err)
	}
	return raw, e
}

// longestLine is the size of the longest line logged.
func longestLine(logs string) int {
	n := 0
	for l := range strings.SplitSeq(logs, "\n") {
		n = max(n, len(l))
	}
	return n
}

// maxLogLine bounds a request's log line: its violations as a journal
// entry keeps them, the problem's detail, the path, each escaped at worst
// six times, and the other attributes.
const maxLogLine = 6*(journal.ViolationsKeep+2*problem.MaxField+journal.PathMax) + 512

func findingViolationsBounded(t *testing.T) {
	_, base, logs := openServer(t, mockserver.DefaultConfig())
	var b strings.Builder
	b.WriteString(`{"Authentication":{"AccountId":"1"}`)
	for i := range 80000 {
		fmt.Fprintf(&b, `,"m%05d":1`, i)
	}
	b.WriteString("}")
	start := time.Now()
	status, body := put(t, base+validatePath, "application/json", b.String(), nil)
	took := time.Since(start)
	if status != 400 || !strings.Contains(body, "and 79900 more violations") {
		t.Fatalf("got %d %s, want a 400 listing 100 members and counting the 79900 others", status, cut([]byte(body)))
	}
	raw, e := lastEntry(t, base)
	t.Logf("80 000 unknown members (%d bytes): 400 of %d bytes in %s, journal entry %d bytes, longest log line %d bytes", b.Len(), len(body), took, len(raw), longestLine(logs.String()))
	if len(body) > problem.MaxRendered {
		t.Errorf("400 body %d bytes, above %d", len(body), problem.MaxRendered)
	}
	if n := longestLine(logs.String()); n > maxLogLine {
		t.Errorf("log line of %d bytes, above %d", n, maxLogLine)
	}
	if e.Violations[len(e.Violations)-1].Rule != problem.RuleMore || int64(len(raw)) > 6*journal.MaxEntryBytes(journal.DefaultBodyMax) {
		t.Errorf("journal entry of %d bytes with %d violations", len(raw), len(e.Violations))
	}

	// An i:nil attribute's value is quoted cut, not whole.
	long := strings.Repeat("x", 500000)
	status, body = put(t, base+validatePath, "application/xml", xmlAuth(`<AccountId i:nil="`+long+`"/>`), map[string]string{"Accept": "application/json"})
	if status != 400 || len(body) > 2048 || !strings.Contains(body, `"rule":"nil"`) {
		t.Errorf("i:nil of 500 000 bytes: got %d, %d bytes: %s", status, len(body), cut([]byte(body)))
	}
}

func findingEntriesBounded(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.JournalBytes = 1 << 20
	s, base, _ := openServer(t, cfg)
	headers := map[string]string{}
	for i := range 5000 {
		headers[fmt.Sprintf("X-H%04d", i)] = "v"
	}
	for range 100 {
		if status, body := put(t, base+validatePath, "application/json", seedValidateJSON, headers); status != 200 {
			t.Fatalf("5000 headers: got %d %s", status, cut([]byte(body)))
		}
	}
	raw, e := lastEntry(t, base)
	if len(e.Header) > 200 || e.HeadersCut < 4800 || len(raw) > 16<<10 {
		t.Errorf("5000 headers: %d kept, %d dropped, entry %d bytes", len(e.Header), e.HeadersCut, len(raw))
	}
	if n, used := s.Journal().Usage(); used > cfg.JournalBytes {
		t.Errorf("%d entries counted %d bytes, above -journal-bytes %d", n, used, cfg.JournalBytes)
	}
	query := "?q=" + strings.Repeat("a", 60000)
	if status, _ := put(t, base+validatePath+query, "application/json", seedValidateJSON, nil); status != 200 {
		t.Fatalf("60 KB query: got %d", status)
	}
	if _, e := lastEntry(t, base); len(e.Path) > journal.PathMax || !e.PathCut {
		t.Errorf("60 KB query stored as %d bytes (cut %v)", len(e.Path), e.PathCut)
	}
}

func findingClaimedLength(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.MaxBody = mockserver.CeilingMaxBody
	_, base, _ := openServer(t, cfg)
	addr := strings.TrimPrefix(base, "http://")
	raw := func(claim int64, send string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", validatePath, claim, send)
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if got := raw(mockserver.CeilingMaxBody, `{"Authentication":`); !strings.Contains(got, " 400 ") {
		t.Errorf("a 1 GiB claim with 18 bytes sent: got %q, want 400", got)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("a 1 GiB claim allocated %d bytes", grew)
	}
	if got := raw(512<<30, ""); !strings.Contains(got, " 413 ") {
		t.Errorf("a 512 GiB claim: got %q, want 413", got)
	}
	for _, v := range []string{"17179869185GiB", "2GiB", "9223372036854775808"} {
		if _, err := mockserver.ParseConfig([]string{"-max-body", v}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "ceiling") {
			t.Errorf("-max-body %s: got %v, want refused above the ceiling", v, err)
		}
	}
}

// secretPlacements put a token everywhere a client could: each case is a
// request and the token it carries. The property test in
// secrets_test.go draws them at random.
func secretPlacements(tok string) []struct {
	name, method, path, ctype, body string
	header                          map[string]string
} {
	renewH := map[string]string{"Authtoken": "QSDK 1"}
	return []struct {
		name, method, path, ctype, body string
		header                          map[string]string
	}{
		{"escaped name", "POST", renewPath, "application/json", `{"deviceId":"d","session\u0049d":"` + tok + `"}`, renewH},
		{"escaped value", "POST", renewPath, "application/json", `{"deviceId":"d","sessionId":"` + tok[:2] + `\u00` + fmt.Sprintf("%x", tok[2]) + tok[3:] + `"}`, renewH},
		{"wrong case", "POST", renewPath, "application/json", `{"deviceId":"d","sessionID":"` + tok + `"}`, renewH},
		{"non-string value", "PUT", validatePath, "application/json", `{"Authentication":{"SecurityToken":["` + tok + `"]}}`, nil},
		{"XML wrong case", "PUT", validatePath, "application/xml", xmlAuth(`<Securitytoken>` + tok + `</Securitytoken>`), nil},
		{"XML CDATA with an end tag", "PUT", validatePath, "application/xml", xmlAuth(`<SecurityToken><![CDATA[</x>` + tok + `]]></SecurityToken>`), nil},
		{"XML comment with an end tag", "PUT", validatePath, "application/xml", xmlAuth(`<SecurityToken><!-- </SecurityToken> -->` + tok + `</SecurityToken>`), nil},
		{"XML i:nil", "PUT", validatePath, "application/xml", xmlAuth(`<SecurityToken i:nil="` + tok + `"/>`), nil},
		{"XML attribute", "PUT", validatePath, "application/xml", xmlAuth(`<AccountId SecurityToken="` + tok + `">1</AccountId>`), nil},
		{"query", "PUT", validatePath + "?access_token=" + tok, "application/json", seedValidateJSON, nil},
		{"Proxy-Authorization", "PUT", validatePath, "application/json", seedValidateJSON, map[string]string{"Proxy-Authorization": "Bearer " + tok}},
		{"X-Auth-Token", "PUT", validatePath, "application/json", seedValidateJSON, map[string]string{"X-Auth-Token": tok}},
		{"Authtoken, and again in the body", "POST", renewPath, "application/json", `{"deviceId":"` + tok + `","sessionId":"` + tok + `"}`, map[string]string{"Authtoken": tok}},
	}
}

func findingSecrets(t *testing.T) {
	s, base, logs := openServer(t, mockserver.DefaultConfig())
	const tok = "Zq7XtokenW3kP9sEcretV5mN2bL8"
	for _, p := range secretPlacements(tok) {
		t.Run(p.name, func(t *testing.T) {
			req, _ := http.NewRequest(p.method, base+p.path, strings.NewReader(p.body))
			req.Header.Set("Content-Type", p.ctype)
			for k, v := range p.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			entries := s.Journal().List(journal.Filter{})
			entry, _ := json.Marshal(entries[len(entries)-1])
			if resp.StatusCode >= 400 && strings.Contains(string(body), tok) {
				t.Errorf("the %d answer shows the token: %s", resp.StatusCode, body)
			}
			if strings.Contains(string(entry), tok) {
				t.Errorf("the journal keeps the token: %s", entry)
			}
			if strings.Contains(logs.String(), tok) {
				t.Errorf("the log shows the token: %s", logs.String())
			}
		})
	}
}

func findingFixtureLinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "shadow")
	write(t, outside, "root:$6$saltsalt$HASH-MARKER-root-0000000000000000:19000:0:99999:7:::\nalice:$6$salt$HASH-MARKER-alice:19000:0:99999:7:::\n")
	for _, name := range []string{"scenarios.yaml", "RenewLoginToken.yaml"} {
		dir := copyFixtures(t)
		_ = os.Remove(filepath.Join(dir, name))
		if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		cfg := mockserver.DefaultConfig()
		cfg.FixturesDir = dir
		_, err := mockserver.New(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "outside") || strings.Contains(err.Error(), "HASH-MARKER") {
			t.Errorf("%s linked outside: got %v, want refused by name, no content", name, err)
		}
	}
	// A copy inside is read, but an error quotes one line's first 80 bytes.
	dir := copyFixtures(t)
	data, _ := os.ReadFile(outside)
	write(t, filepath.Join(dir, "scenarios.yaml"), string(data))
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir = dir
	_, err := mockserver.New(cfg, nil)
	if err == nil || strings.Contains(err.Error(), "HASH-MARKER-alice") || strings.Count(err.Error(), "HASH-MARKER") > 1 {
		t.Errorf("a password file as scenarios.yaml: %v", err)
	}
}

func findingIdleConnections(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.MaxConns = 8
	s, base, logs := openServer(t, cfg)
	// 8 clients each leave a keep-alive connection idle: the limit.
	var idle []*http.Client
	for range 8 {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		if status, _ := getWith(t, c, base+"/__mock/health"); status != 200 {
			t.Fatalf("got %d", status)
		}
		idle = append(idle, c)
	}
	if n := s.OpenConns(); n != 8 {
		t.Fatalf("%d connections open, want 8", n)
	}
	time.Sleep(1100 * time.Millisecond) // idle for longer than a new one's grace
	start := time.Now()
	if status, _ := getWith(t, &http.Client{Timeout: 5 * time.Second}, base+"/__mock/health"); status != 200 {
		t.Errorf("a new client at the limit: got %d", status)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a new client at the limit waited %s", d)
	}
	if n := s.OpenConns(); n > 8 {
		t.Errorf("%d connections open, above -max-conns 8", n)
	}
	if !strings.Contains(logs.String(), "connection limit is reached") {
		t.Errorf("no warning logged")
	}
	for _, c := range idle {
		c.CloseIdleConnections()
	}
}

func getWith(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func findingStrictness(t *testing.T) {
	_, base, _ := openServer(t, mockserver.DefaultConfig())
	t.Run("Content-Length and Transfer-Encoding", func(t *testing.T) {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		body := `{"Authentication":{"AccountId":"1"}}`
		fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", validatePath, len(body), body)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !resp.Close || !strings.Contains(string(b), `"rule":"framing"`) {
			t.Errorf("got %d (close %v) %s, want 400, rule framing, connection closed", resp.StatusCode, resp.Close, b)
		}
	})
	for _, path := range []string{"/api/v1/token%2frequest", "/api/v1/token%2Frequest", "/api/v1/token/request/", "/api/v1//token/request"} {
		if status, body := put(t, base+path, "application/json", seedValidateJSON, nil); status != 404 {
			t.Errorf("PUT %s: got %d %s, want 404", path, status, cut([]byte(body)))
		}
	}
	if status, _ := put(t, base+validatePath, "application/json", seedValidateJSON, nil); status != 200 {
		t.Errorf("the path itself: got %d", status)
	}
	for _, body := range []string{`{"times": 1} trailing`, `{"times": 1, "times": 2}`, `{"times": 1}{"times": 2}`, "{\"operation\": \"\xff\"}", `{"nope": 1}`} {
		if code, got := adminCall(t, base, http.MethodPost, "/__mock/scenarios/unavailable/activate", body); code != 400 {
			t.Errorf("activate with %q: got %d %s, want 400", body, code, got)
		}
	}
	adminCall(t, base, http.MethodDelete, "/__mock/scenarios/active", "")

	t.Run("large fixtures", func(t *testing.T) {
		dir := copyFixtures(t)
		var b strings.Builder
		b.WriteString("answers:\n  default:\n    status: 200\n    body:\n      application/json: '{\"DebugMessage\":null,\"Errors\":[],\"Status\":1,\"SecurityToken\":\"t\"}'\n      application/xml: '<TokenResponse xmlns=\"" + nsToken + "\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><DebugMessage xmlns=\"" + nsMessages + "\" i:nil=\"true\"/><Errors xmlns=\"" + nsMessages + "\"/><Status xmlns=\"" + nsMessages + "\">Success</Status><SecurityToken>t</SecurityToken></TokenResponse>'\n")
		for i := 0; b.Len() < 1200<<10; i++ {
			fmt.Fprintf(&b, "  a%06d:\n    status: 503\n    headers: {Retry-After: '1'}\n    body: {application/json: '{\"title\":\"Service Unavailable\",\"status\":503}', application/xml: '<problem xmlns=\"urn:ietf:rfc:7807\"><title>Service Unavailable</title><status>503</status></problem>'}\n", i)
		}
		write(t, filepath.Join(dir, "ValidateToken.yaml"), b.String())
		_ = os.Remove(filepath.Join(dir, "scenarios.yaml")) // its rules name answers this file lacks
		cfg := mockserver.DefaultConfig()
		cfg.FixturesDir = dir
		cfg.MaxFixture = 1 << 20
		if _, err := mockserver.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "ValidateToken.yaml") || !strings.Contains(err.Error(), "-max-fixture") {
			t.Errorf("a fixture above -max-fixture: got %v", err)
		}
		cfg.MaxFixture = 4 << 20
		logs := &syncBuffer{}
		if _, err := mockserver.New(cfg, newTextLogger(logs)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "loading fixtures") {
			t.Errorf("no progress logged for a %d-byte fixture: %s", b.Len(), logs.String())
		}
		write(t, filepath.Join(dir, "ValidateToken.yaml"), "answers:\n  default:\n    status: 200 # caf\xe9\n")
		if _, err := mockserver.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "UTF-8") {
			t.Errorf("invalid UTF-8: got %v, want the line named", err)
		}
	})
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
