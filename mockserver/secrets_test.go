package mockserver_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/mockserver"
)

// randomCase changes the case of some letters of a name.
func randomCase(t *rapid.T, name string) string {
	b := []byte(name)
	for i := range b {
		if rapid.Bool().Draw(t, "flip") {
			switch c := b[i]; {
			case c >= 'a' && c <= 'z':
				b[i] = c - 'a' + 'A'
			case c >= 'A' && c <= 'Z':
				b[i] = c - 'A' + 'a'
			}
		}
	}
	return string(b)
}

// jsonEscapeSome writes s as the inside of a JSON string with some of its
// characters as \u escapes.
func jsonEscapeSome(t *rapid.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if rapid.IntRange(0, 3).Draw(t, "esc") == 0 {
			fmt.Fprintf(&b, `\u%04x`, s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// xmlText writes s as XML character data in one of the ways a client can.
func xmlText(t *rapid.T, s string) string {
	switch rapid.IntRange(0, 4).Draw(t, "xml text") {
	case 0:
		return "<![CDATA[" + s + "]]>"
	case 1:
		return "<![CDATA[</x>" + s + "]]>"
	case 2:
		i := rapid.IntRange(1, len(s)-1).Draw(t, "split")
		return s[:i] + "<!-- </SecurityToken> -->" + s[i:]
	case 3:
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if rapid.Bool().Draw(t, "entity") {
				fmt.Fprintf(&b, "&#x%x;", s[i])
			} else {
				b.WriteByte(s[i])
			}
		}
		return b.String()
	}
	return s
}

// A token placed anywhere a client could put one, in any spelling, never
// appears in the journal, the log, or an error answer.
func TestSecretsNeverWrittenDown(t *testing.T) {
	logs := &syncBuffer{}
	s, err := mockserver.New(mockserver.DefaultConfig(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	rapid.Check(t, func(t *rapid.T) {
		tok := rapid.StringMatching(`[A-Za-z0-9]{12,40}`).Draw(t, "token")
		method, path, ctype, body := http.MethodPut, validatePath, "application/json", seedValidateJSON
		header := http.Header{}
		query := url.Values{}
		switch rapid.IntRange(0, 4).Draw(t, "where") {
		case 0: // a JSON member
			name := randomCase(t, rapid.SampledFrom([]string{"SecurityToken", "Password", "sessionId", "token"}).Draw(t, "member"))
			if rapid.Bool().Draw(t, "escape the name") {
				name = jsonEscapeSome(t, name)
			}
			value := `"` + jsonEscapeSome(t, tok) + `"`
			switch rapid.IntRange(0, 2).Draw(t, "type") {
			case 1:
				value = `["` + tok + `"]`
			case 2:
				value = `{"v":"` + tok + `"}`
			}
			if rapid.Bool().Draw(t, "renew") {
				method, path = http.MethodPost, renewPath
				header.Set("Authtoken", "QSDK 1")
				body = `{"deviceId":"d","` + name + `":` + value + `}`
			} else {
				body = `{"Authentication":{"AccountId":"1","` + name + `":` + value + `}}`
			}
		case 1: // an XML member
			ctype = "application/xml"
			name := randomCase(t, rapid.SampledFrom([]string{"SecurityToken", "Password"}).Draw(t, "element"))
			switch rapid.IntRange(0, 2).Draw(t, "form") {
			case 0:
				body = xmlAuth(`<AccountId>1</AccountId><` + name + `>` + xmlText(t, tok) + `</` + name + `>`)
			case 1:
				body = xmlAuth(`<` + name + ` i:nil="` + tok + `"/>`)
			case 2:
				body = xmlAuth(`<AccountId ` + name + `="` + tok + `">1</AccountId>`)
			}
		case 2: // a credential header
			name := randomCase(t, rapid.SampledFrom([]string{"Authorization", "Proxy-Authorization", "X-Auth-Token", "X-Api-Key", "Cookie", "Authtoken", "X-Access-Token"}).Draw(t, "header"))
			value := rapid.SampledFrom([]string{tok, "Bearer " + tok, "QSDK " + tok, "sid=" + tok}).Draw(t, "value")
			header.Set(name, value)
		case 3: // a query parameter
			name := randomCase(t, rapid.SampledFrom([]string{"access_token", "api_key", "token", "sessionId", "password", "key"}).Draw(t, "param"))
			query.Set(name, tok)
		case 4: // a token sent as a number
			tok = rapid.StringMatching(`[1-9][0-9]{11,17}`).Draw(t, "digits")
			body = `{"Authentication":{"SecurityToken":` + tok + `}}`
		}
		if rapid.Bool().Draw(t, "break the body") {
			body += "}"
		}
		target := path
		if len(query) > 0 {
			target += "?" + query.Encode()
		}
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header = header
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", rapid.SampledFrom([]string{"application/json", "application/xml"}).Draw(t, "accept"))
		s.Journal().Clear()
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 400 && strings.Contains(rec.Body.String(), tok) {
			t.Fatalf("the %d answer shows the token: %s", rec.Code, rec.Body)
		}
		entries := s.Journal().List(journal.Filter{})
		if len(entries) != 1 {
			t.Fatalf("%d journal entries, want 1", len(entries))
		}
		entry, _ := json.Marshal(entries[0])
		if strings.Contains(string(entry), tok) {
			t.Fatalf("the journal keeps the token: %s", entry)
		}
		if line := logs.String(); strings.Contains(line, tok) {
			t.Fatalf("the log shows the token: %s", line)
		}
	})
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
