package mockserver_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openServer runs the mock on a real listener, logging into a buffer.
func openServer(t *testing.T, cfg mockserver.Config, level ...slog.Level) (*mockserver.Server, string, *syncBuffer) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	logs := &syncBuffer{}
	opts := &slog.HandlerOptions{}
	if len(level) > 0 {
		opts.Level = level[0]
	}
	s, err := mockserver.New(cfg, slog.New(slog.NewTextHandler(logs, opts)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s, "http://" + s.Addr(), logs
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"><AccountId>&lol3;</AccountId></Authentication></TokenRequest>`

const externalEntity = `<?xml version="1.0"?>
<!DOCTYPE TokenRequest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"><AccountId>&xxe;</AccountId></Authentication></TokenRequest>`

// The worst a client can send gets a 4xx, quickly, and the server keeps
// answering; nothing is logged at error level.
func TestHostileInput(t *testing.T) {
	_, base, logs := openServer(t, mockserver.DefaultConfig())
	deepJSON := `{"Authentication":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`
	deepXML := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	manyXML := `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token">` + strings.Repeat("<x a='1' b='2'/>", 20000) + `</TokenRequest>`
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i * 7919)
	}
	tests := []struct {
		name, ctype, body string
		header            map[string]string
		status            int
		rule              string
	}{
		{"billion laughs", "application/xml", billionLaughs, nil, 400, "doctype"},
		{"external entity", "application/xml", externalEntity, nil, 400, "doctype"},
		{"200000-deep JSON", "application/json", deepJSON, nil, 400, "depth"},
		{"100000-deep XML", "application/xml", deepXML, nil, 400, "depth"},
		{"too many XML elements", "application/xml", manyXML, nil, 400, "size"},
		{"invalid UTF-8 in JSON", "application/json", "{\"Authentication\":{\"AccountId\":\"\xff\xfe\"}}", nil, 400, "encoding"},
		{"invalid UTF-8 in XML", "application/xml", "<TokenRequest xmlns=\"x\">\xff</TokenRequest>", nil, 400, "encoding"},
		{"invalid XML character", "application/xml", "<TokenRequest xmlns=\"x\">\x01</TokenRequest>", nil, 400, "syntax"},
		{"duplicate JSON member", "application/json", `{"Authentication":{"AccountId":"a","AccountId":"b"}}`, nil, 400, "duplicate"},
		{"trailing garbage after JSON", "application/json", `{"Authentication":{}} xyz`, nil, 400, "trailing"},
		{"two JSON values", "application/json", `{"Authentication":{}}{}`, nil, 400, "trailing"},
		{"binary garbage as JSON", "application/json", string(garbage), nil, 400, ""},
		{"binary garbage as XML", "application/xml", string(garbage), nil, 400, ""},
		{"binary garbage, no type", "application/octet-stream", string(garbage), nil, 415, ""},
		{"1 MiB header", "application/json", `{"Authentication":{}}`, map[string]string{"X-Big": strings.Repeat("a", 1<<20)}, 431, ""},
		{"64 MiB body", "application/json", strings.Repeat(" ", 64<<20), nil, 413, ""},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, base+validatePath, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			req.Header.Set("Accept", "application/json")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("got %v, want a %d", err, tc.status)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.rule != "" && !strings.Contains(string(body), `"rule":"`+tc.rule+`"`) {
				t.Errorf("body %s does not name the rule %s", cut(body), tc.rule)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
			// and the server keeps answering normally
			ok, err := http.Post(base+validatePath+"", "application/json", strings.NewReader(seedValidateJSON))
			if err != nil {
				t.Fatal(err)
			}
			ok.Body.Close()
			if ok.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("after: got %d, want 405 (POST on a PUT path)", ok.StatusCode)
			}
		})
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged for client mistakes:\n%s", logs.String())
	}
	for _, f := range hostileFindings {
		if f.run == nil {
			continue // tested elsewhere, as its name says
		}
		t.Run(f.name, f.run)
	}
}

func cut(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// A client that sends half a request header is dropped.
func TestHalfSentRequestIsDropped(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.ReadHeaderTimeout = 300 * time.Millisecond
	_, base, _ := openServer(t, cfg)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: app", validatePath)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = bufio.NewReader(conn).ReadString('\n')
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("dropped after %s, want about 300ms", d)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("still open after 5s: %v", err)
	}
}

// A panic in a handler becomes a 500 with the stack logged, and the server
// carries on.
func TestPanicBecomes500(t *testing.T) {
	logs := &syncBuffer{}
	s, err := mockserver.New(mockserver.DefaultConfig(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.AddTestRoute(http.MethodGet, "/boom", func() error { panic("boom") })
	_, ts := newServerFrom(t, s)
	got := do(t, ts, request{http.MethodGet, "/boom", "", map[string]string{"Accept": "application/xml"}})
	if got.status != 500 || !strings.Contains(got.body, "<status>500</status>") || strings.Contains(got.body, "boom") {
		t.Errorf("got %d %s, want a 500 problem that does not leak the panic", got.status, got.body)
	}
	if !strings.Contains(logs.String(), "panic while serving") || !strings.Contains(logs.String(), "hostile_test.go") {
		t.Errorf("no stack in the log:\n%s", logs.String())
	}
	if got := do(t, ts, validate(seedValidateJSON, ctJSON)); got.status != 200 {
		t.Errorf("after the panic: %d", got.status)
	}
}

func TestAdminToken(t *testing.T) {
	cfg := mockserver.DefaultConfig()
	cfg.AdminToken = "s3cret-token"
	_, ts := newServer(t, cfg)
	tests := []struct {
		auth   string
		status int
	}{
		{"", 401},
		{"Bearer wrong", 401},
		{"s3cret-token", 401},
		{"Bearer s3cret-token", 200},
	}
	for _, tc := range tests {
		got := do(t, ts, request{http.MethodGet, "/__mock/health", "", map[string]string{"Authorization": tc.auth}})
		if got.status != tc.status {
			t.Errorf("Authorization %q: got %d, want %d", tc.auth, got.status, tc.status)
		}
		if got.status == 401 && got.header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	// The mocked routes do not need it.
	if got := do(t, ts, validate(seedValidateJSON, ctJSON)); got.status != 200 {
		t.Errorf("mocked route: got %d", got.status)
	}
}

func TestWarnsWhenAdminIsOpenToTheNetwork(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		warn        bool
	}{
		{"127.0.0.1:0", "", false},
		{"0.0.0.0:0", "", true},
		{"0.0.0.0:0", "t", false},
	} {
		cfg := mockserver.DefaultConfig()
		cfg.AdminToken = tc.token
		logs := &syncBuffer{}
		cfg.Addr = tc.addr
		s, err := mockserver.New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := contextWithTimeout(time.Second)
		_ = s.Close(ctx)
		cancel()
		if got := strings.Contains(logs.String(), "admin API is open"); got != tc.warn {
			t.Errorf("%s token %q: warned %v, want %v\n%s", tc.addr, tc.token, got, tc.warn, logs.String())
		}
	}
}
