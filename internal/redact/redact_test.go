package redact_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/redact"
)

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"QSDK 0123456789abcdef", "QSDK*************cdef"},
		{"short", "*****"},
		{"QSDK 1a2b", "*********"},
	}
	for _, tc := range tests {
		if got := redact.Mask(tc.in); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// The secret places of a body are masked whatever the spelling of their
// names, the type of their value, escapes, CDATA or comments.
func TestBody(t *testing.T) {
	p := redact.NewPolicy([]string{"pin"}, []string{"Authtoken"}, nil)
	tests := []struct{ name, in, want string }{
		{"json", `{"sessionId":"QSDK 0123456789abc","deviceId":"d"}`, `{"sessionId":"QSDK**********9abc","deviceId":"d"}`},
		{"json short", `{"sessionId":"QSDK 0123","deviceId":"d"}`, `{"sessionId":"*********","deviceId":"d"}`},
		{"json escaped quote", `{"token" : "QSDK 0123\"456789abcd", "x":1}`, `{"token" : "*********************", "x":1}`},
		{"json longer name", `{"tokenizer":"abcdefghijklmnopq"}`, `{"tokenizer":"abcdefghijklmnopq"}`},
		{"json escaped name", `{"session\u0049d":"abcdefghijklmnopq"}`, `{"session\u0049d":"abcd*********nopq"}`},
		{"json wrong case", `{"SESSIONID":"abcdefgh"}`, `{"SESSIONID":"********"}`},
		{"json snake case", `{"session_id":"abcdefgh"}`, `{"session_id":"********"}`},
		{"json number", `{"sessionId": 1234567890123,"d":1}`, `{"sessionId": *************,"d":1}`},
		{"json object", `{"Password":{"x":"abc"}, "d":1}`, `{"Password":***********, "d":1}`},
		{"json contract's own name", `{"PIN":"1234"}`, `{"PIN":"****"}`},
		{"json cut short", `{"deviceId":"d","sessionId":"QSDK 0123456789abcdefgh`, `{"deviceId":"d","sessionId":"QSDK***************efgh`},
		{"xml", `<a:SecurityToken>6f1c2a9e-4b7d-4e23</a:SecurityToken>`, `<a:SecurityToken>6f1c**********4e23</a:SecurityToken>`},
		{"xml namespace", `<SecurityToken xmlns="u">abcdefghijklmnop</SecurityToken>`, `<SecurityToken xmlns="u">abcd********mnop</SecurityToken>`},
		{"xml newline in tag", "<SecurityToken\n>abcdefghij</SecurityToken>", "<SecurityToken\n>**********</SecurityToken>"},
		{"xml cdata", `<a:SecurityToken><![CDATA[6f1c2a9e-4b7d-4e23]]></a:SecurityToken>`, `<a:SecurityToken>******************************</a:SecurityToken>`},
		{"xml cdata with end tag", `<X><SecurityToken><![CDATA[ab</SecurityToken>cd]]></SecurityToken><Y>1</Y></X>`, `<X><SecurityToken>********************************</SecurityToken><Y>1</Y></X>`},
		{"xml comment with end tag", `<SecurityToken>ab<!--</SecurityToken>-->cd</SecurityToken><Y>1</Y>`, `<SecurityToken>***************************</SecurityToken><Y>1</Y>`},
		{"xml wrong case", `<Securitytoken>abcdefgh</Securitytoken>`, `<Securitytoken>********</Securitytoken>`},
		{"xml nil", `<Password i:nil="true"/>`, `<Password i:nil="true"/>`},
		{"xml nil with a value", `<Password i:nil="abcdefgh"/>`, `<Password i:nil="********"/>`},
		{"xml attribute", `<Authentication SecurityToken="abcdefgh" A="1"/>`, `<Authentication SecurityToken="********" A="1"/>`},
		{"xml child element", `<SecurityToken><v>abc</v></SecurityToken><A>1</A>`, `<SecurityToken>**********</SecurityToken><A>1</A>`},
		{"form", `deviceId=d&sessionId=abc%20def&x=1`, `deviceId=d&sessionId=*********&x=1`},
		{"utf-16", "\xff\xfe<\x00a\x00", "******"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.in)
			p.Scan(nil, "", nil).Body(b)
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

// The values found in secret places are decoded and then masked wherever
// else they appear.
func TestScanCollectsDecodedValues(t *testing.T) {
	p := redact.NewPolicy(nil, []string{"Authtoken"}, []string{"api_key"})
	h := http.Header{
		"Authtoken":           {"QSDK 0123456789abcdef"},
		"Proxy-Authorization": {"Basic dXNlcjpwYXNzd29yZA=="},
		"Cookie":              {"a=1; sid=cookievalue123"},
		"X-Trace":             {"echo 0123456789abcdef"},
	}
	body := `{"Authentication":{"SecurityToken":"tok\u0065n-in-escapes","Password":12345678901}}`
	r := p.Scan(h, "api_key=query-secret-1&x=2", []byte(body))
	for _, want := range []string{"QSDK 0123456789abcdef", "0123456789abcdef", "dXNlcjpwYXNzd29yZA==", "cookievalue123", "query-secret-1", "token-in-escapes", "12345678901"} {
		if !slices.Contains(r.Values(), want) {
			t.Errorf("%q not collected: %q", want, r.Values())
		}
	}
	if got := r.String("got token-in-escapes and query-secret-1"); strings.Contains(got, "token-in-escapes") || strings.Contains(got, "query-secret-1") {
		t.Errorf("String: %s", got)
	}
	r.Header(h)
	if strings.Contains(h.Get("X-Trace"), "0123456789abcdef") || strings.Contains(h.Get("Proxy-Authorization"), "dXNlcjpwYXNzd29yZA") {
		t.Errorf("headers: %v", h)
	}
	if got := r.Query("api_key=query-secret-1&x=2&access_token=abc"); got != "api_key=**************&x=2&access_token=***" {
		t.Errorf("query: %s", got)
	}
	vs := []problem.Violation{{Location: "/a", Detail: `"token-in-escapes" is wrong`}}
	r.Violations(vs)
	if strings.Contains(vs[0].Detail, "token-in-escapes") {
		t.Errorf("violation: %s", vs[0].Detail)
	}
}

func TestNames(t *testing.T) {
	p := redact.NewPolicy(nil, []string{"X-Custom-Key"}, nil)
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"Authorization", true}, {"Proxy-Authorization", true}, {"X-Auth-Token", true}, {"Cookie", true},
		{"X-Api-Key", true}, {"X-Custom-Key", true}, {"Authtoken", true}, {"Content-Type", false}, {"Accept", false}, {"X-Mock-Scenario", false},
	} {
		if got := p.Header(tc.header); got != tc.want {
			t.Errorf("header %s: got %v, want %v", tc.header, got, tc.want)
		}
	}
	for _, tc := range []struct {
		param string
		want  bool
	}{{"access_token", true}, {"sessionId", true}, {"key", true}, {"page", false}, {"operation", false}} {
		if got := p.Param(tc.param); got != tc.want {
			t.Errorf("param %s: got %v, want %v", tc.param, got, tc.want)
		}
	}
}
