package tokenmock_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	tokenmock "github.com/tokenmock/tokenmock"
)

func load(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// What linters (redocly, spectral) and generators ask of the specs, and
// what they cannot see for themselves.
func TestSpecsSayWhatTheyNeed(t *testing.T) {
	api, admin := load(t, tokenmock.Spec), load(t, tokenmock.AdminSpec)
	for name, doc := range map[string]*openapi3.T{"openapi.yaml": api, "admin.yaml": admin} {
		if len(doc.Servers) == 0 {
			t.Errorf("%s has no servers", name)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				if op.Description == "" || len(op.Tags) == 0 {
					t.Errorf("%s: %s %s has no description or no tags", name, method, path)
				}
				if op.Security == nil && len(doc.Security) == 0 {
					t.Errorf("%s: %s %s says nothing of its security (an open operation says security: [])", name, method, path)
				}
			}
		}
	}

	// -admin-token asks for Authorization: Bearer; without it, nothing.
	scheme := admin.Components.SecuritySchemes["adminToken"]
	if scheme == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" {
		t.Errorf("admin.yaml declares no bearer scheme adminToken: %+v", scheme)
	}
	if len(admin.Security) != 3 || admin.Security[0]["adminToken"] == nil || admin.Security[1]["dashboardSession"] == nil || len(admin.Security[2]) != 0 {
		t.Errorf("admin.yaml security: %v, want adminToken, the dashboard's cookie, or nothing", admin.Security)
	}
	if cookie := admin.Components.SecuritySchemes["dashboardSession"]; cookie == nil || cookie.Value.In != "cookie" || cookie.Value.Name != "tokenmock_admin" {
		t.Errorf("admin.yaml declares no cookie scheme dashboardSession for tokenmock_admin: %+v", cookie)
	}
	if sec := api.Paths.Find("/api/v1/token/request").Put.Security; sec == nil || len(*sec) != 0 {
		t.Errorf("ValidateToken security: %v, want an explicit security: []", sec)
	}

	// Generators name each operation's answer wrapper <operationId>Response
	// and give inline oneOfs names that they may forget to declare.
	for _, op := range []string{"RenewLoginToken", "ValidateToken"} {
		if api.Components.Schemas[op+"Response"] != nil {
			t.Errorf("schema %sResponse collides with generated client types", op)
		}
	}
	for path, item := range api.Paths.Map() {
		for method, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				for mt, media := range resp.Value.Content {
					if media.Schema != nil && media.Schema.Ref == "" && len(media.Schema.Value.OneOf) > 0 {
						t.Errorf("%s %s %s %s: an inline oneOf; name it in components/schemas", method, path, code, mt)
					}
				}
			}
		}
	}
	if !strings.Contains(string(tokenmock.Spec), "make codegen-check") {
		t.Error("openapi.yaml does not say how the generated client is checked")
	}
}
