package selftest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/contracttests"
)

const nsToken = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"

func xmlAnswer(members string) *contracttests.Response {
	return &contracttests.Response{Status: 200, Header: http.Header{"Content-Type": {"application/xml; charset=utf-8"}},
		Body: []byte(`<TokenResponse xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">` + members + `</TokenResponse>`)}
}

func jsonAnswer(status int, body string, header ...string) *contracttests.Response {
	h := http.Header{"Content-Type": {"application/json"}, "Date": {"today"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &contracttests.Response{Status: status, Header: h, Body: []byte(body)}
}

// The comparison says what differs, one short line each.
func TestDifferencesSayWhatMoved(t *testing.T) {
	var (
		debug    = `<DebugMessage xmlns="` + nsMessages + `" i:nil="true"/>`
		errs     = `<Errors xmlns="` + nsMessages + `"/>`
		status   = `<Status xmlns="` + nsMessages + `">Success</Status>`
		token    = `<SecurityToken>6f1c2a9e-4b7d</SecurityToken>`
		wcf      = xmlAnswer(debug + errs + status + token)
		wcfJSON  = jsonAnswer(200, `{"DebugMessage":null,"Errors":[],"Status":1,"SecurityToken":"6f1c"}`)
		otherTok = xmlAnswer(debug + errs + status + `<SecurityToken>another-token-value</SecurityToken>`)
	)
	tests := []struct {
		name      string
		want, got *contracttests.Response
		lines     []string
	}{
		{"the same shape, other values", wcf, otherTok, nil},
		{"a member out of order", wcf, xmlAnswer(token + debug + errs + status),
			[]string{"/TokenResponse/SecurityToken moved from 4th to 1st (expected order: DebugMessage, Errors, Status, SecurityToken)"}},
		{"an enum as a number in XML", wcf, xmlAnswer(debug + errs + `<Status xmlns="` + nsMessages + `">1</Status>` + token),
			[]string{"/TokenResponse/Status: number, expected name"}},
		{"an enum as a name in JSON", wcfJSON, jsonAnswer(200, `{"DebugMessage":null,"Errors":[],"Status":"Success","SecurityToken":"6f1c"}`),
			[]string{"/Status: string, expected number"}},
		{"a member in the root's namespace", wcf, xmlAnswer(`<DebugMessage i:nil="true"/>` + errs + status + token),
			[]string{"/TokenResponse/DebugMessage: in namespace " + nsToken + ", expected " + nsMessages}},
		{"a member missing, another unexpected", wcfJSON, jsonAnswer(200, `{"DebugMessage":null,"Errors":[],"Status":1,"Unexpected":"x"}`),
			[]string{"/SecurityToken: missing", "/Unexpected: unexpected"}},
		{"status, Content-Type and a header", wcfJSON, &contracttests.Response{Status: 503, Header: http.Header{"Content-Type": {"text/plain"}, "Retry-After": {"10"}}, Body: []byte("down")},
			[]string{"status 503, expected 200", "Content-Type text/plain, expected application/json", "header Retry-After unexpected", "body text/plain, expected JSON"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := contracttests.Differences(tc.want, tc.got)
			if strings.Join(got, "\n") != strings.Join(tc.lines, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.lines, "\n"))
			}
		})
	}
}
