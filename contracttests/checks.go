package contracttests

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// Check is one named check of the suite.
type Check struct {
	Name string
	// MockOnly, when set, is why the check runs only against the mock.
	MockOnly string
	Run      func(r Reporter)
}

// exampleBytes turns a spec example into a body: JSON values are
// marshalled, XML examples are the document itself.
func exampleBytes(v any, mediaType string) ([]byte, error) {
	if contract.IsXML(mediaType) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("an XML example must be a string")
		}
		return []byte(s), nil
	}
	return json.Marshal(v)
}

// Positive lists, for every sample and every answer media type, a check
// that the answer is documented, negotiated and valid.
func (s *Suite) Positive() []Check {
	var out []Check
	for _, sm := range s.Samples {
		accepts := append([]string{""}, sm.Op.ResponseTypes...)
		for _, accept := range accepts {
			req := Request{Op: sm.Op, ContentType: sm.MediaType, Accept: accept, Body: sm.Body, What: sm.Name}
			name := fmt.Sprintf("%s/%s/%s→%s", sm.Op.ID, sm.Name, kindOf(sm.MediaType), acceptName(accept))
			out = append(out, Check{Name: name, Run: func(r Reporter) {
				r.Helper()
				resp, err := s.Do(context.Background(), req)
				if err != nil {
					r.Errorf("%s: %v", Describe(req), err)
					return
				}
				want := 0
				if s.Mock {
					want = 2
				}
				s.CheckAnswer(r, req, resp, want)
				// Without Accept, the answer comes in the request's own format.
				if accept == "" && slices.Contains(sm.Op.ResponseTypes, sm.MediaType) && resp.Status/100 == 2 {
					if got := mediaOf(resp.Header); got != sm.MediaType {
						r.Errorf("%s %d: without Accept the answer is %s, want the request's %s\n    request: %s", sm.Op.ID, resp.Status, got, sm.MediaType, Describe(req))
					}
				}
			}})
		}
	}
	return out
}

func acceptName(accept string) string {
	if accept == "" {
		return "no-Accept"
	}
	return kindOf(accept)
}

// Negative lists requests generated from the request schemas that break
// the contract, each of which must get a documented 4xx: each required
// member dropped, each member of a wrong type, null where not nullable,
// each XML element in a wrong namespace, a malformed body, no credentials.
func (s *Suite) Negative() []Check {
	var out []Check
	seen := map[string]bool{}
	for _, sm := range s.Samples {
		key := sm.Op.ID + "|" + sm.MediaType
		if sm.MediaType == "" || seen[key] {
			continue
		}
		seen[key] = true
		schema := sm.Op.RequestSchemas[sm.MediaType]
		for _, m := range Mutations(sm.Body, schema, sm.MediaType) {
			req := Request{Op: sm.Op, ContentType: sm.MediaType, Accept: sm.MediaType, Body: m.Body, What: m.What}
			if !slices.Contains(sm.Op.ResponseTypes, sm.MediaType) && len(sm.Op.ResponseTypes) > 0 {
				req.Accept = sm.Op.ResponseTypes[0]
			}
			out = append(out, s.want4xx(fmt.Sprintf("%s/%s/%s", sm.Op.ID, kindOf(sm.MediaType), m.What), req))
		}
		if s.NeedsAuth(sm.Op) {
			req := Request{Op: sm.Op, ContentType: sm.MediaType, Body: sm.Body, NoAuth: true, What: "credentials left out"}
			out = append(out, s.want4xx(fmt.Sprintf("%s/%s/no credentials", sm.Op.ID, kindOf(sm.MediaType)), req))
		}
	}
	return out
}

func (s *Suite) want4xx(name string, req Request) Check {
	return Check{Name: name, Run: func(r Reporter) {
		r.Helper()
		resp, err := s.Do(context.Background(), req)
		if err != nil {
			r.Errorf("%s: %v", Describe(req), err)
			return
		}
		s.CheckAnswer(r, req, resp, 4)
	}}
}

// Mutation is a request body broken in one named way.
type Mutation struct {
	What string
	Body []byte
}

// Mutations breaks a valid body of the media type in every way its schema
// allows (see Negative).
func Mutations(body []byte, schema *openapi3.Schema, mediaType string) []Mutation {
	var out []Mutation
	if contract.IsXML(mediaType) {
		out = xmlMutations(body, schema)
	} else {
		out = jsonMutations(body, schema)
	}
	return append(out, Mutation{"malformed body", body[:len(body)/2]})
}

// jsonMutations breaks a valid JSON body in every way its schema allows.
func jsonMutations(body []byte, schema *openapi3.Schema) []Mutation {
	var base any
	if json.Unmarshal(body, &base) != nil || schema == nil {
		return nil
	}
	var out []Mutation
	var walk func(path []string, s *openapi3.Schema, v map[string]any)
	walk = func(path []string, s *openapi3.Schema, v map[string]any) {
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			ps := s.Properties[name].Value
			p := append(slices.Clone(path), name)
			loc := "/" + strings.Join(p, "/")
			if slices.Contains(s.Required, name) {
				out = append(out, Mutation{"required " + loc + " dropped", edit(base, p, nil, true)})
			}
			out = append(out, Mutation{"wrong type at " + loc, edit(base, p, wrongType(ps), false)})
			if !ps.Nullable {
				out = append(out, Mutation{"null at " + loc, edit(base, p, nil, false)})
			}
			if child, ok := v[name].(map[string]any); ok && isObject(ps) {
				walk(p, ps, child)
			}
		}
	}
	if m, ok := base.(map[string]any); ok {
		walk(nil, schema, m)
	}
	return out
}

func isObject(s *openapi3.Schema) bool {
	return s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0
}

// wrongType is a value of a type the schema does not allow.
func wrongType(s *openapi3.Schema) any {
	switch {
	case s.Type.Is(openapi3.TypeString):
		return 12345
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber), s.Type.Is(openapi3.TypeBoolean):
		return "not-a-" + s.Type.Slice()[0]
	case s.Type.Is(openapi3.TypeArray):
		return map[string]any{}
	}
	return "not-an-object"
}

// edit returns a copy of v (as JSON) with the member at path set to val,
// or deleted.
func edit(v any, path []string, val any, del bool) []byte {
	raw, _ := json.Marshal(v)
	var cp any
	_ = json.Unmarshal(raw, &cp)
	cur := cp.(map[string]any)
	for _, seg := range path[:len(path)-1] {
		next, ok := cur[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[seg] = next
		}
		cur = next
	}
	last := path[len(path)-1]
	if del {
		delete(cur, last)
	} else {
		cur[last] = val
	}
	out, _ := json.Marshal(cp)
	return out
}

// WrongNamespace is where negative checks move XML elements.
const WrongNamespace = "urn:tokenmock:wrong-namespace"

// xmlMutations breaks a valid XML body: the document element and each
// element in turn moved to a wrong namespace, each required member dropped.
func xmlMutations(body []byte, schema *openapi3.Schema) []Mutation {
	v, err := xmlcodec.Decode(body, schema, xmlcodec.Limits{})
	if err != nil {
		return nil
	}
	// Re-encode in WCF's own form, where each element's namespace is a
	// default namespace declaration that one attribute can move.
	canon, err := xmlcodec.Encode(v, schema)
	if err != nil {
		return nil
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(canon) != nil {
		return nil
	}
	var out []Mutation
	var walk func(el *etree.Element, path string, chain []int)
	walk = func(el *etree.Element, path string, chain []int) {
		for i, c := range el.ChildElements() {
			cpath := path + "/" + c.Tag
			cchain := append(slices.Clone(chain), i)
			d := doc.Copy()
			follow(d.Root(), cchain).CreateAttr("xmlns", WrongNamespace)
			b, _ := d.WriteToBytes()
			out = append(out, Mutation{cpath + " in a wrong namespace", b})
			walk(c, cpath, cchain)
		}
	}
	root := doc.Root()
	d := doc.Copy()
	d.Root().CreateAttr("xmlns", WrongNamespace)
	b, _ := d.WriteToBytes()
	out = append(out, Mutation{"/" + root.Tag + " in a wrong namespace", b})
	walk(root, "/"+root.Tag, nil)
	for _, name := range slices.Sorted(maps.Keys(schema.Properties)) {
		if !schema.Properties[name].Value.Nullable {
			d := doc.Copy()
			for _, c := range d.Root().ChildElements() {
				if c.Tag == name {
					for _, k := range c.ChildElements() {
						c.RemoveChild(k)
					}
					c.CreateAttr("i:nil", "true")
				}
			}
			b, _ := d.WriteToBytes()
			out = append(out, Mutation{"i:nil at /" + root.Tag + "/" + name, b})
		}
		if !slices.Contains(schema.Required, name) {
			continue
		}
		d := doc.Copy()
		for _, c := range d.Root().ChildElements() {
			if c.Tag == name {
				d.Root().RemoveChild(c)
			}
		}
		b, _ := d.WriteToBytes()
		out = append(out, Mutation{"required /" + root.Tag + "/" + name + " dropped", b})
	}
	return out
}

// follow descends from el through the child elements at the given
// positions.
func follow(el *etree.Element, chain []int) *etree.Element {
	for _, i := range chain {
		el = el.ChildElements()[i]
	}
	return el
}

// MockOnly lists checks of the mock's own features: every answer of every
// fixture, asked for with Prefer: code=N, is one the spec documents.
func (s *Suite) MockOnly() []Check {
	const why = "Prefer: code= picks a fixture answer, a feature of the mock"
	fx, err := answers.Load(fixtures.FS, "fixtures", s.Contract)
	if err != nil {
		return []Check{{Name: "fixtures", Run: func(r Reporter) { r.Errorf("fixtures: %v", err) }}}
	}
	var out []Check
	for _, sm := range s.Samples {
		fo := fx.Operation(sm.Op.ID)
		if fo == nil || sm.MediaType == "" {
			continue
		}
		codes := map[int]bool{}
		for _, a := range fo.Answers {
			codes[a.Status] = true
		}
		for code := range codes {
			for _, accept := range sm.Op.ResponseTypes {
				req := Request{Op: sm.Op, ContentType: sm.MediaType, Accept: accept, Body: sm.Body,
					Header: map[string][]string{"Prefer": {fmt.Sprintf("code=%d", code)}}, What: fmt.Sprintf("%s, Prefer: code=%d", sm.Name, code)}
				out = append(out, Check{Name: fmt.Sprintf("%s/%s/%s→%s/code=%d", sm.Op.ID, sm.Name, kindOf(sm.MediaType), kindOf(accept), code), MockOnly: why, Run: func(r Reporter) {
					r.Helper()
					resp, err := s.Do(context.Background(), req)
					if err != nil {
						r.Errorf("%s: %v", Describe(req), err)
						return
					}
					if resp.Status != code {
						r.Errorf("%s: status %d, want %d", Describe(req), resp.Status, code)
					}
					s.CheckAnswer(r, req, resp, 0)
				}})
			}
		}
	}
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.Name, b.Name) })
	return out
}
