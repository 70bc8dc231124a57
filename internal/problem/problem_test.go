package problem_test

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// Both renderings of a problem, markup in the details included, match the
// spec's Problem schema; XML through the same decoder as any answer.
func TestRenderingsMatchTheSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(tokenmock.Spec)
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["Problem"].Value
	p := problem.New(400, `the body <&> "broke"`,
		problem.Violation{Location: "/TokenRequest/Authentication", Rule: "namespace", Detail: "a & b"},
		problem.Violation{Rule: "syntax", Detail: "no location"})

	body, ct := p.Render(true)
	if ct != "application/xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	v, err := xmlcodec.Decode(body, schema, xmlcodec.Limits{})
	if err != nil {
		t.Fatalf("XML %s: %v", body, err)
	}
	if err := schema.VisitJSON(v); err != nil {
		t.Errorf("XML does not match Problem: %v", err)
	}
	if got := v.(map[string]any)["detail"]; got != `the body <&> "broke"` {
		t.Errorf("detail read back as %q", got)
	}

	body, ct = p.Render(false)
	if ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var jv any
	if err := json.Unmarshal(body, &jv); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(jv); err != nil {
		t.Errorf("JSON %s does not match Problem: %v", body, err)
	}
	if len(jv.(map[string]any)["errors"].([]any)) != 2 {
		t.Errorf("errors: %s", body)
	}
}
