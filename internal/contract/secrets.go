package contract

import (
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenmock/tokenmock/internal/redact"
)

// SecretPolicy returns what the contract says is secret: the members
// marked `x-secret: true` in any schema it uses (by property name and XML
// element name), and the headers and query parameters its security
// schemes name. The redact package adds the usual credential names.
func (c *Contract) SecretPolicy() *redact.Policy {
	var members, headers, params []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		for name, p := range s.Properties {
			if p != nil && p.Value != nil && redact.Marked(p.Value.Extensions) {
				members = append(members, name)
				if p.Value.XML != nil && p.Value.XML.Name != "" {
					members = append(members, p.Value.XML.Name)
				}
			}
			walk(p)
		}
		walk(s.Items)
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, r := range group {
				walk(r)
			}
		}
	}
	for _, ref := range c.Doc.Components.Schemas {
		walk(ref)
	}
	for _, op := range c.Operations {
		for _, s := range op.RequestSchemas {
			walk(&openapi3.SchemaRef{Value: s})
		}
		for _, resp := range op.Route.Operation.Responses.Map() {
			if resp.Value != nil {
				for _, media := range resp.Value.Content {
					walk(media.Schema)
				}
			}
		}
	}
	for _, ref := range c.Doc.Components.SecuritySchemes {
		if ref == nil || ref.Value == nil || ref.Value.Type != "apiKey" {
			continue
		}
		switch ref.Value.In {
		case "header":
			headers = append(headers, ref.Value.Name)
		case "query", "cookie":
			params = append(params, ref.Value.Name)
		}
	}
	slices.Sort(members)
	return redact.NewPolicy(slices.Compact(members), headers, params)
}
