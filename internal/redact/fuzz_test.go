package redact_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/tokenmock/tokenmock/internal/redact"
)

// FuzzBody: whatever the body, masking never panics, keeps its length and
// leaves no collected value of 8 bytes or more in it.
func FuzzBody(f *testing.F) {
	for _, s := range []string{
		`{"sessionId":"QSDK 0123456789abcdef","deviceId":"d"}`,
		`{"session\u0049d":["a","b"],"x":{"Password":12}}`,
		`<a:SecurityToken><![CDATA[</x>abcdefgh]]></a:SecurityToken>`,
		`<SecurityToken>ab<!--</SecurityToken>-->cdefgh</SecurityToken>`,
		`<A SecurityToken='abcdefgh' i:nil="true"/>`,
		`sessionId=abc%20defgh&x=1`,
		"\xff\xfe<\x00",
	} {
		f.Add([]byte(s))
	}
	p := redact.NewPolicy([]string{"pin"}, []string{"Authtoken"}, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := p.Scan(http.Header{"Authtoken": {"QSDK abcdefghijkl"}}, "token=abcdefghij", body)
		b := bytes.Clone(body)
		r.Body(b)
		if len(b) != len(body) {
			t.Fatalf("length %d, want %d", len(b), len(body))
		}
		for _, v := range r.Values() {
			if len(v) >= 8 && bytes.Contains(b, []byte(v)) {
				t.Fatalf("%q still in %q", v, b)
			}
		}
	})
}
