package selftest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/contracttests"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/mockserver"
)

var tokenResponse = xml.Name{Space: nsToken, Local: "TokenResponse"}

// seedXML is ValidateToken's request as .NET writes it.
func seedXML(t *testing.T) []byte {
	t.Helper()
	b, err := fs.ReadFile(contracttests.DotnetGoldens(), "TokenRequest.seed.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mockAnswer sends body to the in-process mock's ValidateToken, with the
// scenario header when given, and returns the answer.
func mockAnswer(t *testing.T, base, scenario, mediaType string, body []byte) *contracttests.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/token/request", bytes.NewReader(body))
	req.Header.Set("Content-Type", mediaType)
	req.Header.Set("Accept", mediaType)
	if scenario != "" {
		req.Header.Set("X-Mock-Scenario", scenario)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &contracttests.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func startMock(t *testing.T) string {
	t.Helper()
	srv, err := mockserver.New(mockserver.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// weakenings make the spec say what a drift scenario does, as a mock and
// a judge sharing one mistake would read it: a contract loaded from it
// passes the scenario's answers; the oracle, which never reads the spec's
// xml objects, does not.
var weakenings = map[string]struct{ old, new string }{
	"drift-order": {"x-datacontract-order: [DebugMessage, Errors, Status, SecurityToken]\n      xml:\n        name: TokenResponse",
		"x-datacontract-order: [SecurityToken, DebugMessage, Errors, Status]\n      xml:\n        name: TokenResponse"},
	"drift-namespace": {"        DebugMessage:\n          type: string\n          nullable: true\n          xml:\n            namespace: " + nsMessages + "\n",
		"        DebugMessage:\n          type: string\n          nullable: true\n"},
	"drift-status-form": {"enum: [Failure, Success]\n      xml:", "enum: [Failure, Success, '0', '1']\n      xml:"},
}

func weakened(t *testing.T, scenario string) *contract.Contract {
	t.Helper()
	spec := string(tokenmock.Spec)
	r := weakenings[scenario]
	if strings.Count(spec, r.old) != 1 {
		t.Fatalf("the spec no longer holds %q once: update the test", r.old)
	}
	spec = strings.Replace(spec, r.old, r.new, 1)
	// The spec's own 200 XML example follows the real order: drop the
	// examples, which the weakened schema would refuse.
	c, err := contract.Load([]byte(dropXMLExamples(spec)), "openapi.yaml (weakened)")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dropXMLExamples removes the XML examples of ValidateToken's answers.
func dropXMLExamples(spec string) string {
	var out []string
	skip := 0
	for _, line := range strings.Split(spec, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if skip > 0 && (strings.TrimSpace(line) == "" || indent > skip) {
			continue
		}
		skip = 0
		if strings.TrimSpace(line) == "examples:" && strings.Contains(strings.Join(out[max(0, len(out)-3):], "\n"), "TokenResponseXml") {
			skip = indent
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// The oracle catches, with their location, the mock's drift scenarios: a
// decoder that let them through would not hide them. A judge whose spec
// shares the drift (weakened) passes them; the oracle does not, and the
// suite reports its findings. The undrifted answers pass it.
func TestOracleCatchesDrift(t *testing.T) {
	base := startMock(t)
	suite, err := contracttests.New(loadContract(t), base, true)
	if err != nil {
		t.Fatal(err)
	}
	op := suite.Contract.Operation("ValidateToken")
	tests := []struct {
		scenario string
		want     string // the one finding
		sharedBy bool   // the weakened spec shares the drift
	}{
		{"", "", false},
		{"unauthorized", "", false},
		{"expired", "", false},
		{"server-error", "", false},
		{"drift-order", "/TokenResponse/SecurityToken: written before DebugMessage: .NET writes DebugMessage, Errors, Status, SecurityToken in that order (TokenResponse.all-null.xml) [dotnet:order]", true},
		{"drift-namespace", "/TokenResponse/DebugMessage: in namespace " + nsToken + ", .NET writes it in namespace " + nsMessages + " (TokenResponse.all-null.xml) [dotnet:namespace]", true},
		{"drift-status-form", `/TokenResponse/Status: "1" is not a name of the enum: .NET writes one of Failure, Success (Nexus.AppSpace.Service.Contract.Messages.xsd) [dotnet:enum]`, true},
		{"drift-missing-token", `/TokenResponse/SecurityToken: missing: .NET writes every member, an unset one as i:nil="true" (TokenResponse.all-null.xml) [dotnet:missing]`, false},
		{"drift-unknown-member", "/TokenResponse/Unexpected: TokenResponse has no member Unexpected: .NET writes DebugMessage, Errors, Status, SecurityToken (TokenResponse.all-null.xml) [dotnet:unknown]", false},
	}
	for _, tc := range tests {
		t.Run("scenario "+tc.scenario, func(t *testing.T) {
			resp := mockAnswer(t, base, tc.scenario, "application/xml", seedXML(t))
			var got []string
			for _, f := range suite.Oracle.Check(resp.Body, tokenResponse) {
				got = append(got, f.String())
			}
			if strings.Join(got, "\n") != tc.want {
				t.Fatalf("the oracle on\n%s\ngot\n%s\nwant\n%s", resp.Body, strings.Join(got, "\n"), tc.want)
			}
			var c collector
			req := contracttests.Request{Op: op, ContentType: "application/xml", Accept: "application/xml", Body: seedXML(t), What: "X-Mock-Scenario: " + tc.scenario}
			suite.CheckAnswer(&c, req, resp, 0)
			if tc.want != "" && !contains(c.failures, "ValidateToken XML "+strconv.Itoa(resp.Status)+": "+tc.want) {
				t.Errorf("the suite does not report the oracle's finding; got:\n%s", strings.Join(c.failures, "\n"))
			}
			if tc.want == "" && len(c.failures) > 0 {
				t.Errorf("the suite fails an undrifted answer:\n%s", strings.Join(c.failures, "\n"))
			}
			if tc.sharedBy {
				weak := weakened(t, tc.scenario)
				if err := weak.Operation("ValidateToken").ValidateResponse(context.Background(), resp.Status, resp.Header, resp.Body); err != nil {
					t.Errorf("the weakened spec should share the drift, yet refuses it: %v", err)
				}
			}
		})
	}
}

func contains(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// Cross-check: the mock reads what .NET writes. Every .NET golden of
// TokenResponse validates as an answer, every TokenRequest golden as a
// request, and the mock's XML decoder gives the same value for .NET's XML
// as for .NET's JSON of the same object (Status by name in XML, by number
// in JSON). The mock answers each request golden with its token.
func TestMockReadsDotnetGoldens(t *testing.T) {
	c := loadContract(t)
	op := c.Operation("ValidateToken")
	goldens := contracttests.DotnetGoldens()
	names, err := fs.Glob(goldens, "*.xml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	statusNumber := map[string]float64{"Failure": 0, "Success": 1} // the enum's values in Contracts.cs
	base := startMock(t)
	for _, name := range names {
		stem := strings.TrimSuffix(name, ".xml")
		xmlBody, _ := fs.ReadFile(goldens, name)
		jsonBody, err := fs.ReadFile(goldens, stem+".json")
		if err != nil {
			t.Fatalf("%s has no JSON twin: %v", name, err)
		}
		t.Run(stem, func(t *testing.T) {
			var fromXML, fromJSON any
			switch {
			case strings.HasPrefix(stem, "TokenResponse."):
				for mt, body := range map[string][]byte{"application/xml": xmlBody, "application/json": jsonBody} {
					if err := op.ValidateResponse(context.Background(), 200, http.Header{"Content-Type": {mt}}, body); err != nil {
						t.Errorf("the mock refuses .NET's %s answer: %v", mt, err)
					}
				}
				schema := op.Route.Operation.Responses.Status(200).Value.Content.Get("application/xml").Schema.Value
				if fromXML, err = c.XML().Decode(xmlBody, schema); err != nil {
					t.Fatalf("the mock's decoder refuses .NET's XML: %v", err)
				}
				m := fromXML.(map[string]any)
				m["Status"] = statusNumber[m["Status"].(string)]
			case strings.HasPrefix(stem, "TokenRequest."):
				v, p := op.ValidateBody("application/xml", xmlBody)
				if p != nil {
					t.Fatalf("the mock refuses .NET's XML request: %v", p)
				}
				fromXML = v
				if _, p := op.ValidateBody("application/json", jsonBody); p != nil {
					t.Fatalf("the mock refuses .NET's JSON request: %v", p)
				}
				for mt, body := range map[string][]byte{"application/xml": xmlBody, "application/json": jsonBody} {
					resp := mockAnswer(t, base, "", mt, body)
					if resp.Status != 200 || !bytes.Contains(resp.Body, []byte("6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64")) {
						t.Errorf("the mock answers .NET's %s request %d: %s", mt, resp.Status, resp.Body)
					}
				}
			default:
				t.Fatalf("a golden of no known contract")
			}
			if err := json.Unmarshal(jsonBody, &fromJSON); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromXML, fromJSON) {
				x, _ := json.Marshal(fromXML)
				t.Errorf("the mock decodes .NET's XML as\n%s\n.NET's JSON of the same object is\n%s", x, jsonBody)
			}
		})
	}
}

// What judging one XML answer costs: the spec's validation through the
// mock's decoder (the baseline) and the .NET oracle, on .NET's own
// success answer and on its answer with two errors.
func BenchmarkJudgeXMLAnswer(b *testing.B) {
	c, err := contracttests.LoadContract()
	if err != nil {
		b.Fatal(err)
	}
	s, err := contracttests.New(c, "http://127.0.0.1:0", true)
	if err != nil {
		b.Fatal(err)
	}
	op := c.Operation("ValidateToken")
	header := http.Header{"Content-Type": {"application/xml; charset=utf-8"}}
	for _, name := range []string{"TokenResponse.success.xml", "TokenResponse.two-errors.xml"} {
		body, err := fs.ReadFile(contracttests.DotnetGoldens(), name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/spec+xmlcodec", func(b *testing.B) {
			for b.Loop() {
				if err := op.ValidateResponse(context.Background(), 200, header, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/dotnet-oracle", func(b *testing.B) {
			for b.Loop() {
				if f := s.Oracle.Check(body, tokenResponse); len(f) > 0 {
					b.Fatal(f)
				}
			}
		})
	}
}
