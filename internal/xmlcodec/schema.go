// Package xmlcodec maps XML documents in WCF DataContract form to and from
// the values that kin-openapi validates, guided by an OpenAPI schema and its
// `xml` objects.
//
// DataContract is stricter than the OpenAPI `xml` object can say: members
// travel in a fixed order (listed in the schema extension
// `x-datacontract-order`), each element in an exact namespace, null written
// as i:nil="true", arrays always wrapped. A real WCF client silently skips a
// member that breaks any of these, so the decoder reports each of them as a
// violation instead of guessing. The decoded value then goes through
// kin-openapi's schema validation exactly as a JSON body does.
package xmlcodec

import (
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenmock/tokenmock/internal/redact"
)

// Namespaces that DataContract writes on every document.
const (
	// NSInstance is XMLSchema-instance, bound to the prefix "i" by WCF.
	NSInstance = "http://www.w3.org/2001/XMLSchema-instance"
)

// OrderExtension is the schema extension that lists an object's members in
// DataContract order.
const OrderExtension = "x-datacontract-order"

// objectInfo is what the codec derives once from an object schema.
type objectInfo struct {
	order   []string          // property names in DataContract order
	rank    map[string]int    // property name -> position in order
	byElem  map[string]string // element local name -> property name
	elemOf  map[string]string // property name -> element local name
	nsOf    map[string]string // property name -> namespace set on the member, "" to inherit
	itemsOf map[string]string // property name of an array -> item element name
}

// Codec is the XML mapping of one loaded contract. The facts it derives
// from schemas are cached in it, not in the package: they live and die
// with the contract, and two contracts in one process never see each
// other's limits or schemas.
type Codec struct {
	lim   Limits
	infos sync.Map // *openapi3.Schema -> *objectInfo
}

// NewCodec returns a codec with the given limits (zero values: defaults).
func NewCodec(lim Limits) *Codec {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if lim.MaxNodes <= 0 {
		lim.MaxNodes = DefaultMaxNodes
	}
	return &Codec{lim: lim}
}

// info returns the derived facts of an object schema. Schemas of a loaded
// document do not change, so the facts are computed once per schema.
func (c *Codec) info(s *openapi3.Schema) *objectInfo {
	if v, ok := c.infos.Load(s); ok {
		return v.(*objectInfo)
	}
	oi := &objectInfo{
		rank:    map[string]int{},
		byElem:  map[string]string{},
		elemOf:  map[string]string{},
		nsOf:    map[string]string{},
		itemsOf: map[string]string{},
	}
	oi.order = Order(s)
	for i, name := range oi.order {
		oi.rank[name] = i
	}
	for name, ref := range s.Properties {
		if ref == nil || ref.Value == nil {
			continue
		}
		elem := name
		// A referenced schema's xml.name names its type, not this member.
		if ref.Ref == "" && ref.Value.XML != nil && ref.Value.XML.Name != "" && !isArray(ref.Value) {
			elem = ref.Value.XML.Name
		}
		oi.byElem[elem] = name
		oi.elemOf[name] = elem
		if ref.Value.XML != nil {
			oi.nsOf[name] = ref.Value.XML.Namespace
		}
		if isArray(ref.Value) {
			oi.itemsOf[name] = itemName(name, ref.Value)
		}
	}
	v, _ := c.infos.LoadOrStore(s, oi)
	return v.(*objectInfo)
}

// Order returns the members of an object schema in DataContract order: the
// list in x-datacontract-order, followed by any property it leaves out in
// ordinal order (DataContract's default when no order is given).
func Order(s *openapi3.Schema) []string {
	var order []string
	seen := map[string]bool{}
	if raw, ok := s.Extensions[OrderExtension].([]any); ok {
		for _, v := range raw {
			if name, ok := v.(string); ok && s.Properties[name] != nil && !seen[name] {
				order = append(order, name)
				seen[name] = true
			}
		}
	}
	var rest []string
	for name := range s.Properties {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// itemName is the element name of one item of an array member.
func itemName(member string, s *openapi3.Schema) string {
	if s.Items != nil && s.Items.Value != nil && s.Items.Value.XML != nil && s.Items.Value.XML.Name != "" {
		return s.Items.Value.XML.Name
	}
	return member
}

func isArray(s *openapi3.Schema) bool { return s.Type.Is(openapi3.TypeArray) }
func isObject(s *openapi3.Schema) bool {
	return s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0
}

// RootName returns the qualified name of the document element for a body
// schema, and whether the schema names one.
func RootName(s *openapi3.Schema) (name, namespace string, ok bool) {
	if s == nil || s.XML == nil || s.XML.Name == "" {
		return "", "", false
	}
	return s.XML.Name, s.XML.Namespace, true
}

// Alternatives returns the schemas a body may have: the members of a oneOf
// or anyOf (each naming its own document element), else s itself.
func Alternatives(s *openapi3.Schema) []*openapi3.Schema {
	refs := s.OneOf
	if len(refs) == 0 {
		refs = s.AnyOf
	}
	if len(refs) == 0 {
		return []*openapi3.Schema{s}
	}
	out := make([]*openapi3.Schema, 0, len(refs))
	for _, r := range refs {
		if r != nil && r.Value != nil {
			out = append(out, r.Value)
		}
	}
	return out
}

// CheckBodySchema reports why s cannot describe an XML body, or nil.
func CheckBodySchema(s *openapi3.Schema) error {
	for _, alt := range Alternatives(s) {
		if _, _, ok := RootName(alt); !ok {
			return errors.New("the schema (and each of its oneOf/anyOf) needs xml.name for its document element")
		}
	}
	return nil
}

// Path turns a JSON pointer into a value decoded from (or encoded to) XML
// into the XML path of the same member: "/Errors/0/Code" under TokenResponse
// becomes "/TokenResponse/Errors/Error[1]/Code".
func Path(s *openapi3.Schema, pointer []string) string {
	return NewCodec(Limits{}).Path(s, pointer)
}

// Path is the package's Path with the codec's cache.
func (c *Codec) Path(s *openapi3.Schema, pointer []string) string {
	alts := Alternatives(s)
	s = alts[0]
	for _, alt := range alts {
		if len(pointer) > 0 && alt.Properties[pointer[0]] != nil {
			s = alt
			break
		}
	}
	root, _, ok := RootName(s)
	if !ok {
		root = "root"
	}
	path := "/" + root
	cur := s
	for i := 0; i < len(pointer); i++ {
		seg := pointer[i]
		if cur == nil || !isObject(cur) {
			path += "/" + seg
			cur = nil
			continue
		}
		ref := cur.Properties[seg]
		if ref == nil || ref.Value == nil {
			path += "/" + seg
			cur = nil
			continue
		}
		oi := c.info(cur)
		path += "/" + oi.elemOf[seg]
		cur = ref.Value
		if isArray(cur) && i+1 < len(pointer) {
			if n, err := strconv.Atoi(pointer[i+1]); err == nil {
				path += "/" + oi.itemsOf[seg] + "[" + strconv.Itoa(n+1) + "]"
				i++
				if cur.Items != nil {
					cur = cur.Items.Value
				} else {
					cur = nil
				}
			}
		}
	}
	return path
}

// secretMember reports whether an element holds a secret: its schema is
// marked x-secret, or its name is one credentials go by (see
// redact.SecretName), whatever its case.
func secretMember(s *openapi3.Schema, tag string) bool {
	return (s != nil && redact.Marked(s.Extensions)) || redact.SecretName(tag)
}
