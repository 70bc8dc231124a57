// Package selftest checks the contract suite itself: run against the mock
// behind a proxy that breaks its answers one way at a time, the suite must
// fail and name the rule. Kept apart from the suite's own package, so that
// the suite's binary and its JUnit report hold contract checks only.
package selftest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/contracttests"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/mockserver"
)

// loadContract is the spec the suite checks with: the embedded one.
func loadContract(t *testing.T) *contract.Contract {
	t.Helper()
	c, err := contracttests.LoadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collector is a Reporter that keeps what the suite reports.
type collector struct{ failures []string }

func (c *collector) Helper() {}
func (c *collector) Errorf(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// corruption breaks one answer of the mock the way a drifting backend would.
type corruption func(resp *http.Response, body []byte) []byte

const nsMessages = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"

// onlyOK applies f to 200 answers of the given media type.
func onlyOK(media string, f func([]byte) []byte) corruption {
	return func(resp *http.Response, body []byte) []byte {
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), media) {
			return body
		}
		return f(body)
	}
}

func replace(re string, with string) func([]byte) []byte {
	r := regexp.MustCompile(re)
	return func(b []byte) []byte { return r.ReplaceAll(b, []byte(with)) }
}

// brokenProxy serves the mock through a proxy that corrupts its answers.
func brokenProxy(t *testing.T, corrupt corruption) string {
	t.Helper()
	srv, err := mockserver.New(mockserver.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mock := httptest.NewServer(srv.Handler())
	t.Cleanup(mock.Close)
	u, _ := url.Parse(mock.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if corrupt != nil {
			body = corrupt(resp, body)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	ts := httptest.NewServer(proxy)
	t.Cleanup(ts.Close)
	return ts.URL
}

// The suite catches real breakage: each kind makes it fail, naming the
// rule; the unbroken proxy passes.
func TestSuiteCatchesBreakage(t *testing.T) {
	c := loadContract(t)
	tests := []struct {
		name    string
		corrupt corruption
		want    string // in some failure message
	}{
		{"unbroken", nil, ""},
		{"token of the wrong type (JSON)", onlyOK("application/json", replace(`"token":"[^"]*"`, `"token":12345`)), "/token: value must be a string"},
		{"SecurityToken of the wrong type (JSON)", onlyOK("application/json", replace(`"SecurityToken":"[^"]*"`, `"SecurityToken":true`)), "/SecurityToken: value must be a string"},
		{"Status missing (JSON)", onlyOK("application/json", replace(`,"Status":1`, ``)), `property "Status" is missing`},
		{"Status missing (XML)", onlyOK("application/xml", replace(`<Status [^>]*>[^<]*</Status>`, ``)), `/TokenResponse/Status: property "Status" is missing`},
		{"Status as a string in JSON", onlyOK("application/json", replace(`"Status":1`, `"Status":"Success"`)), "ValidateToken JSON 200: /Status: value is not one of the allowed values [0,1]"},
		{"Status as a number in XML", onlyOK("application/xml", replace(`>Success</Status>`, `>1</Status>`)), "/TokenResponse/Status: value is not one of the allowed values"},
		{"an XML element in the wrong namespace", onlyOK("application/xml", replace(`<Status xmlns="[^"]*">`, `<Status>`)), "/TokenResponse/Status: element in namespace http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token, the contract wants " + nsMessages},
		{"members out of DataContract order", onlyOK("application/xml", replace(`(<DebugMessage[^>]*/>)(.*)(<SecurityToken>[^<]*</SecurityToken>)`, `$3$1$2`)), "[order]"},
		{"a wrong root element", onlyOK("application/xml", replace(`TokenResponse`, `TokenResult`)), "document element is TokenResult, the contract wants TokenResponse"},
		{"a wrong Content-Type", onlyOK("application/xml", func(b []byte) []byte { return b }), ""},
		{"a status the spec does not document", func(resp *http.Response, body []byte) []byte {
			if resp.StatusCode == 200 {
				resp.StatusCode = 299
			}
			return body
		}, "status 299 is not one the spec documents"},
		{"Errors not an array (JSON)", onlyOK("application/json", replace(`"Errors":\[\]`, `"Errors":{}`)), "/Errors: value must be an array"},
		{"Errors not an array (XML)", onlyOK("application/xml", replace(`<Errors xmlns="([^"]*)"/>`, `<Errors xmlns="$1">none</Errors>`)), "/TokenResponse/Errors: text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			corrupt := tc.corrupt
			if tc.name == "a wrong Content-Type" {
				corrupt = func(resp *http.Response, body []byte) []byte {
					if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
						resp.Header.Set("Content-Type", "text/xml; charset=utf-8")
					}
					return body
				}
				tc.want = `Content-Type "text/xml; charset=utf-8", want the negotiated application/xml`
			}
			s, err := contracttests.New(c, brokenProxy(t, corrupt), true)
			if err != nil {
				t.Fatal(err)
			}
			var c collector
			for _, check := range s.Positive() {
				check.Run(&c)
			}
			if tc.want == "" {
				if len(c.failures) > 0 {
					t.Fatalf("the unbroken proxy fails the suite:\n%s", strings.Join(c.failures, "\n"))
				}
				return
			}
			if len(c.failures) == 0 {
				t.Fatal("the suite passed a broken server")
			}
			for _, f := range c.failures {
				if strings.Contains(f, tc.want) {
					return
				}
			}
			t.Errorf("no failure names the rule %q; got:\n%s", tc.want, strings.Join(c.failures, "\n"))
		})
	}
}

// The comparison sees a server drift from another: the same mock twice
// compares equal, a broken one differs where it broke, said in a line.
func TestCompareSeesDrift(t *testing.T) {
	c := loadContract(t)
	a, err := contracttests.New(c, brokenProxy(t, nil), true)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := contracttests.New(c, brokenProxy(t, nil), true)
	if d := contracttests.Compare(a, same); len(d) > 0 {
		t.Errorf("the mock differs from itself:\n%s", strings.Join(d, "\n"))
	}
	drifted, _ := contracttests.New(c, brokenProxy(t, onlyOK("application/xml", replace(`(<DebugMessage[^>]*/>)(.*)(<SecurityToken>[^<]*</SecurityToken>)`, `$3$1$2`))), true)
	d := strings.Join(contracttests.Compare(a, drifted), "\n")
	if !strings.Contains(d, "/TokenResponse/SecurityToken moved from 4th to 1st") {
		t.Errorf("member order drift not reported as a move:\n%s", d)
	}
	if strings.Contains(d, "/TokenResponse/DebugMessage moved") {
		t.Errorf("members that kept their order reported as moved:\n%s", d)
	}
}
