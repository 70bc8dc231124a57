package dashboard_test

import (
	"testing"

	"github.com/tokenmock/tokenmock/internal/dashboard"
)

func TestPretty(t *testing.T) {
	tests := []struct {
		name, body, mediaType, want string
	}{
		{"json", `{"a":{"b":[1,2]},"c":"<x>"}`, "application/json", "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  },\n  \"c\": \"<x>\"\n}"},
		{"json without a media type", ` {"a":1}`, "", "{\n  \"a\": 1\n}"},
		{"json cut by the journal", `{"a":{"b":`, "application/json", `{"a":{"b":`},
		{"xml as WCF writes it",
			`<TokenRequest xmlns="urn:t" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Authentication xmlns="urn:m"><AccountId>1042</AccountId><Password i:nil="true"/></Authentication></TokenRequest>`,
			"application/xml",
			"<TokenRequest xmlns=\"urn:t\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <Authentication xmlns=\"urn:m\">\n    <AccountId>1042</AccountId>\n    <Password i:nil=\"true\"/>\n  </Authentication>\n</TokenRequest>"},
		{"xml prefixes kept, text escaped",
			"<?xml version=\"1.0\"?>\n<a:R xmlns:a=\"urn:a\">\n  <a:S>x &amp; &lt;y&gt;</a:S>\n<!-- c --></a:R>",
			"text/xml",
			"<?xml version=\"1.0\"?>\n<a:R xmlns:a=\"urn:a\">\n  <a:S>x &amp; &lt;y&gt;</a:S>\n  <!-- c -->\n</a:R>"},
		{"xml cut by the journal", `<a><b>1</b><c>`, "application/xml", `<a><b>1</b><c>`},
		{"malformed xml", `<a></b>`, "application/xml", `<a></b>`},
		{"not a body to indent", `token=abc`, "application/x-www-form-urlencoded", `token=abc`},
		{"empty", ``, "application/json", ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dashboard.Pretty(tc.body, tc.mediaType); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
