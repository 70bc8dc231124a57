package mockserver_test

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/mockserver"
)

// copyFixtures writes the embedded fixtures to a new directory.
func copyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(fixtures.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fixtures.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A third operation added to the spec, with its fixture file, is served
// with no Go change.
func TestThirdOperationNeedsNoCode(t *testing.T) {
	dir := t.TempDir()
	spec := strings.Replace(string(tokenmock.Spec), "\npaths:\n", `
paths:
  /api/v1/token/{id}:
    get:
      operationId: GetToken
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      responses:
        '200':
          description: A token.
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id:
                    type: string
            application/xml:
              schema:
                type: object
                required: [id]
                x-datacontract-order: [id]
                xml:
                  name: Token
                  namespace: urn:example
                properties:
                  id:
                    type: string
`, 1)
	write(t, filepath.Join(dir, "openapi.yaml"), spec)
	fix := copyFixtures(t)
	write(t, filepath.Join(fix, "GetToken.yaml"), `answers:
  default:
    status: 200
    headers:
      X-Example: yes
    body:
      application/json: '{"id":"{{uuid}}"}'
      application/xml: '<Token xmlns="urn:example"><id>{{header:X-Id}}</id></Token>'
`)
	cfg := mockserver.DefaultConfig()
	cfg.SpecFile, cfg.FixturesDir = filepath.Join(dir, "openapi.yaml"), fix
	_, ts := newServer(t, cfg)

	got := do(t, ts, request{http.MethodGet, "/api/v1/token/abc", "", map[string]string{"Accept": "application/xml", "X-Id": "a&b"}})
	if got.status != 200 || got.body != `<Token xmlns="urn:example"><id>a&amp;b</id></Token>` || got.header.Get("X-Example") != "yes" {
		t.Errorf("GetToken XML: got %d %q (X-Example %q)", got.status, got.body, got.header.Get("X-Example"))
	}
	got = do(t, ts, request{http.MethodGet, "/api/v1/token/abc", "", nil})
	if got.status != 200 || !strings.HasPrefix(got.body, `{"id":"`) {
		t.Errorf("GetToken JSON: got %d %q", got.status, got.body)
	}
	// The seed operations are still served.
	if got := do(t, ts, validate(seedValidateXML, ctXML)); got.status != 200 {
		t.Errorf("ValidateToken: got %d", got.status)
	}
	if got := do(t, ts, request{http.MethodDelete, "/api/v1/token/abc", "", nil}); got.status != 405 || got.header.Get("Allow") != "GET" {
		t.Errorf("DELETE: got %d Allow %q, want 405 Allow GET", got.status, got.header.Get("Allow"))
	}
}

// Mistakes in the configuration stop start-up with a message naming the
// file and the place.
func TestStartupRefusesBadFixtures(t *testing.T) {
	tests := []struct {
		name    string
		file    string // fixture file to write
		content string
		want    []string
	}{
		{"Status by name in JSON", "ValidateToken.yaml", `answers:
  default:
    status: 200
    body:
      application/json: '{"DebugMessage":null,"Errors":[],"Status":"Success","SecurityToken":"t"}'
      application/xml: '<TokenResponse xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><DebugMessage xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"/><Errors xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"/><Status xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">Success</Status><SecurityToken>t</SecurityToken></TokenResponse>'
`, []string{"ValidateToken.yaml: answers.default.body.application/json", "/Status"}},
		{"XML member out of order", "ValidateToken.yaml", `answers:
  default:
    status: 200
    body:
      application/json: '{"DebugMessage":null,"Errors":[],"Status":1,"SecurityToken":"t"}'
      application/xml: '<TokenResponse xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><SecurityToken>t</SecurityToken><DebugMessage xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"/><Errors xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"/><Status xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">Success</Status></TokenResponse>'
`, []string{"answers.default.body.application/xml", "/TokenResponse/DebugMessage", "must come before SecurityToken"}},
		{"missing XML body", "ValidateToken.yaml", `answers:
  default:
    status: 200
    body:
      application/json: '{"DebugMessage":null,"Errors":[],"Status":1,"SecurityToken":"t"}'
`, []string{"answers.default.body: no application/xml body"}},
		{"undocumented status", "RenewLoginToken.yaml", `answers:
  default:
    status: 418
    body:
      application/json: '{}'
`, []string{"RenewLoginToken.yaml: answers.default.status: RenewLoginToken does not document status 418"}},
		{"unknown field", "RenewLoginToken.yaml", `answers:
  default:
    status: 200
    bodies: {}
`, []string{"RenewLoginToken.yaml", "line 4: answers.default: unknown field bodies (known: status, headers, body, invalid, recorded)"}},
		{"unknown placeholder", "RenewLoginToken.yaml", `answers:
  default:
    status: 200
    body:
      application/json: '{"token":"{{random}}","error":{}}'
`, []string{"answers.default.body.application/json", "unknown placeholder {{random}}"}},
		{"fixture for no operation", "Login.yaml", `answers: {}`, []string{`Login.yaml: the spec has no operation "Login"`}},
		{"bad sample request", "RenewLoginToken.yaml", `requests:
  broken:
    application/json: '{"deviceId":1}'
answers:
  default:
    status: 200
    body:
      application/json: '{"token":"QSDK 1","error":{}}'
`, []string{"requests.broken.application/json", "/deviceId"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixtures(t)
			write(t, filepath.Join(dir, tc.file), tc.content)
			cfg := mockserver.DefaultConfig()
			cfg.FixturesDir = dir
			_, err := mockserver.New(cfg, nil)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not mention %q", err, w)
				}
			}
		})
	}
}

func TestStartupRefusesBadSpec(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, spec, want string
	}{
		{"not YAML", "openapi: [", "load spec"},
		{"invalid spec", "openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n", "validate spec"},
		{"XML example in the wrong namespace", strings.Replace(string(tokenmock.Spec),
			`<Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">`, `<Authentication>`, 1),
			"requestBody.content.application/xml.examples.seed: /TokenRequest/Authentication: element in namespace"},
		{"JSON example of the wrong type", strings.Replace(string(tokenmock.Spec), "deviceId: build-agent-07", "deviceId: 7", 1),
			"examples.seed: /deviceId: value must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "spec.yaml")
			write(t, p, tc.spec)
			cfg := mockserver.DefaultConfig()
			cfg.SpecFile = p
			_, err := mockserver.New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("got %v, want an error naming %s and %q", err, p, tc.want)
			}
		})
	}
}
