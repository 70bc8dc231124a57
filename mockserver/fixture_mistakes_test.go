package mockserver_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/mockserver"
)

// startWith starts the mock on the shipped fixtures with one file edited,
// and returns the start-up error.
func startWith(t *testing.T, file string, edit func(string) string, spec ...string) error {
	t.Helper()
	dir := copyFixtures(t)
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if edited := edit(string(b)); edited == string(b) {
		t.Fatalf("the edit of %s changes nothing", file)
	} else {
		write(t, p, edited)
	}
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir = dir
	if len(spec) > 0 {
		cfg.SpecFile = filepath.Join(t.TempDir(), "openapi.yaml")
		write(t, cfg.SpecFile, spec[0])
	}
	_, err = mockserver.New(cfg, nil)
	return err
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

// lineOf is the line of the file on which what starts.
func lineOf(t *testing.T, file, what string) int {
	t.Helper()
	i := strings.Index(file, what)
	if i < 0 {
		t.Fatalf("the shipped fixture has no %q", what)
	}
	return strings.Count(file[:i], "\n") + 1
}

// The mistakes a new user makes in the shipped fixtures: the first line of
// the message names the file, the place and what to change, and says
// nothing that is not about the mistake.
func TestFixtureMistakesFirstLine(t *testing.T) {
	b, err := fixtures.FS.ReadFile("ValidateToken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	validateYAML := string(b)
	tests := []struct {
		name, file string
		edit       func(string) string
		first      []string // in the first line
		never      []string // anywhere in the message
	}{
		{"a oneOf answer with a member of the wrong type", "RenewLoginToken.yaml",
			replace(`{"errorCode":5,`, `{"errorCode":"seven",`),
			[]string{"RenewLoginToken.yaml: answers.unauthorized.body.application/json does not match the spec: /errorCode: value must be an integer [type]"},
			[]string{"title", "unsupported"}},
		{"an extra member", "RenewLoginToken.yaml",
			replace(`{"errorCode":1,`, `{"errorCode":1,"extra":true,`),
			[]string{`answers.expired.body.application/json does not match the spec: /extra: property "extra" is unsupported`},
			[]string{"title"}},
		{"a body under a media type the operation does not answer in", "RenewLoginToken.yaml",
			replace("    body:\n      application/json: '{\"errorCode\":500", "    body:\n      application/xml: '{\"errorCode\":500"),
			[]string{"RenewLoginToken.yaml: answers.server-error.body.application/xml: RenewLoginToken answers in application/json, never in application/xml: put the body under application/json"},
			[]string{"document element", "no application/json body"}},
		{"a scenario naming an answer no fixture has", "scenarios.yaml",
			replace("answer: rate-limited", "answer: rate-limitd"),
			[]string{`scenarios.yaml: scenarios.rate-limited: answer: no fixture file has an answer "rate-limitd" (RenewLoginToken.yaml has default, expired,`},
			nil},
		{"a mis-indented line far down", "ValidateToken.yaml",
			replace("\n  rate-limited:\n", "\n   rate-limited:\n"),
			[]string{fmt.Sprintf("ValidateToken.yaml: line %d: this line does not fit the block that starts at line %d: check its indentation",
				lineOf(t, validateYAML, "\n  rate-limited:\n")+1, lineOf(t, validateYAML, "\n  default:\n")+1)},
			nil},
		{"a misspelt field", "ValidateToken.yaml",
			replace("    status: 500\n", "    statuss: 500\n"),
			[]string{fmt.Sprintf("ValidateToken.yaml: line %d: answers.server-error: unknown field statuss (known: status, headers, body, invalid, recorded)", lineOf(t, validateYAML, "    status: 500\n"))},
			[]string{"struct", `yaml:\"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := startWith(t, tc.file, tc.edit)
			if err == nil {
				t.Fatal("start-up succeeded")
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			for _, w := range tc.first {
				if !strings.Contains(first, w) {
					t.Errorf("first line %q\ndoes not say %q", first, w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("the message says %q, which is not the mistake:\n%s", n, err)
				}
			}
		})
	}
	t.Run("a member reported once", func(t *testing.T) {
		err := startWith(t, "ValidateToken.yaml", replace(`"Status":0,"SecurityToken":null}'
      application/xml: '<TokenResponse xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DebugMessage xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">Object`, `"Status":0,"SecurityToken":null,"Extra":1}'
      application/xml: '<TokenResponse xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DebugMessage xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">Object`))
		if err == nil {
			t.Fatal("start-up succeeded")
		}
		if n := strings.Count(err.Error(), `"Extra"`); n != 1 {
			t.Errorf("the extra member is named %d times, want once:\n%s", n, err)
		}
	})
}

// Fixture bodies are checked as they render, with representative values
// for their placeholders, not as templates.
func TestFixturesValidatedAsRendered(t *testing.T) {
	token := "          description: The new session token, `QSDK <hex>`.\n"
	withToken := func(rule string) string {
		spec := string(tokenmock.Spec)
		if !strings.Contains(spec, token) {
			t.Fatal("openapi.yaml no longer describes the token as the test expects")
		}
		return strings.Replace(spec, token, token+"          "+rule+"\n", 1)
	}
	noop := replace("# Answers", "# The answers")
	t.Run("the token's pattern, which the template {{token}} itself breaks", func(t *testing.T) {
		if err := startWith(t, "RenewLoginToken.yaml", noop, withToken(`pattern: '^QSDK [0-9a-f]{64}$'`)); err != nil {
			t.Errorf("start-up refused: %v", err)
		}
	})
	t.Run("QSDK {{hex:64}} against the token's pattern", func(t *testing.T) {
		edit := replace(`'{"token":"{{token}}","error":{}}'`, `'{"token":"QSDK {{hex:64}}","error":{}}'`)
		if err := startWith(t, "RenewLoginToken.yaml", edit, withToken(`pattern: '^QSDK [0-9a-f]{64}$'`)); err != nil {
			t.Errorf("start-up refused: %v", err)
		}
		edit = replace(`'{"token":"{{token}}","error":{}}'`, `'{"token":"QSDK {{hex:32}}","error":{}}'`)
		if err := startWith(t, "RenewLoginToken.yaml", edit, withToken(`pattern: '^QSDK [0-9a-f]{64}$'`)); err == nil || !strings.Contains(err.Error(), "answers.default.body.application/json does not match the spec: /token") {
			t.Errorf("got %v, want a 32-digit token refused", err)
		}
	})
	t.Run("a maxLength the template meets and its renderings break", func(t *testing.T) {
		spec := strings.Replace(withToken(`maxLength: 20`), "token: QSDK 9c2e7b14f0a3d8e65b1c4a9f27d03e8b5a6c1f94e2b7d0a38c5f1e69b4d2a7c3", "token: QSDK 9c2e7b14", 1)
		err := startWith(t, "RenewLoginToken.yaml", noop, spec)
		if err == nil || !strings.Contains(err.Error(), "answers.default.body.application/json does not match the spec: /token: maximum string length is 20") {
			t.Errorf("got %v, want answers.default refused for its rendered token's length", err)
		}
	})
	t.Run("a body placeholder rendered with the sample requests", func(t *testing.T) {
		err := startWith(t, "ValidateToken.yaml", replace("  dotnet-client:\n", "  long-token:\n    application/json: '{\"Authentication\":{\"SecurityToken\":\""+strings.Repeat("x", 80)+"\"}}'\n  dotnet-client:\n"),
			strings.Replace(string(tokenmock.Spec), "        SecurityToken:\n          type: string\n          nullable: true\n          x-secret: true\n    TokenResponseXml:", "        SecurityToken:\n          type: string\n          nullable: true\n          x-secret: true\n          maxLength: 64\n    TokenResponseXml:", 1))
		if err == nil || !strings.Contains(err.Error(), "answers.default.body.application/json, rendered for requests.long-token (application/json), does not match the spec: /SecurityToken: maximum string length is 64") {
			t.Errorf("got %v, want the rendering for the long sample token refused", err)
		}
	})
}

// How AppSpace refuses a token is an assumption (401); a service that
// answers 200 with Status Failure, the only answer a WCF client on Mono can
// read, is the documented switch of two lines in ValidateToken.yaml away.
func TestRefusalIn200IsOneSwitchAway(t *testing.T) {
	const shipped, switched = "  unauthorized: *unauthorized-401\n  expired: *expired-401\n", "  unauthorized: *unauthorized-200\n  expired: *expired-200\n"
	b, err := fixtures.FS.ReadFile("ValidateToken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "#   unauthorized: *unauthorized-200\n  #   expired: *expired-200\n") {
		t.Fatal("ValidateToken.yaml no longer documents the switch this test makes")
	}
	for _, tc := range []struct {
		name   string
		edit   string
		status int
	}{{"shipped", shipped, 401}, {"switched", switched, 200}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixtures(t)
			write(t, filepath.Join(dir, "ValidateToken.yaml"), strings.Replace(string(b), shipped, tc.edit, 1))
			cfg := mockserver.DefaultConfig()
			cfg.FixturesDir = dir
			s, err := mockserver.New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, ts := newServerFrom(t, s)
			for _, r := range []struct {
				what string
				req  request
				want string
			}{
				{"unauthorized, JSON", validate(seedValidateJSON, map[string]string{"Content-Type": "application/json", "X-Mock-Scenario": "unauthorized"}), `"Code":"InvalidToken"`},
				{"unauthorized, XML", validate(seedValidateXML, map[string]string{"Content-Type": "application/xml", "X-Mock-Scenario": "unauthorized"}), `<Code>InvalidToken</Code>`},
				{"the expired-token rule", validate(`{"Authentication":{"SecurityToken":"expired-token"}}`, ctJSON), `"Code":"TokenExpired"`},
			} {
				got := do(t, ts, r.req)
				if got.status != tc.status || !strings.Contains(got.body, r.want) || !(strings.Contains(got.body, `"Status":0`) || strings.Contains(got.body, ">Failure</Status>")) {
					t.Errorf("%s: got %d %s, want %d with %s and Status Failure", r.what, got.status, got.body, tc.status, r.want)
				}
			}
			if got := do(t, ts, renew(seedRenewJSON, map[string]string{"X-Mock-Scenario": "unauthorized"})); got.status != 401 {
				t.Errorf("RenewLoginToken unauthorized: got %d, want Commvault's 401 either way", got.status)
			}
			// The token lifecycle's refusal of an unknown token.
			cfg.Lifecycle = "strict"
			strict, err := mockserver.New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, sts := newServerFrom(t, strict)
			if got := do(t, sts, validate(`{"Authentication":{"AccountId":"1042","SecurityToken":"never-issued"}}`, ctJSON)); got.status != tc.status || !strings.Contains(got.body, `"Code":"InvalidToken"`) {
				t.Errorf("-lifecycle strict, an unknown token: got %d %s, want %d with InvalidToken", got.status, got.body, tc.status)
			}
		})
	}
}
