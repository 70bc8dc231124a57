package xmlcodec

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Encode writes v as WCF's DataContractSerializer would for schema s: one
// line, no XML declaration, the document element carrying its namespace and
// xmlns:i, a member re-declaring the default namespace only where it
// differs from its parent's, members in DataContract order, nil members as
// <X i:nil="true"/>. Members absent from v are left out.
func Encode(v any, s *openapi3.Schema) ([]byte, error) {
	return NewCodec(Limits{}).Encode(v, s)
}

// Encode is the package's Encode with the codec's cache.
func (c *Codec) Encode(v any, s *openapi3.Schema) ([]byte, error) {
	name, ns, ok := RootName(s)
	if !ok {
		return nil, errors.New("xml: the schema has no xml.name for its document element")
	}
	var b strings.Builder
	e := encoder{b: &b, c: c}
	e.b.WriteString("<" + name)
	if ns != "" {
		e.b.WriteString(` xmlns="` + ns + `"`)
	}
	e.b.WriteString(` xmlns:i="` + NSInstance + `"`)
	if err := e.content(name, v, s, ns); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

type encoder struct {
	b *strings.Builder
	c *Codec
}

// element writes <name ...>v</name>; parentNS is the default namespace in
// scope, ns the element's own.
func (e encoder) element(name string, v any, s *openapi3.Schema, parentNS, ns string) error {
	e.b.WriteString("<" + name)
	if ns != parentNS {
		e.b.WriteString(` xmlns="` + ns + `"`)
	}
	return e.content(name, v, s, ns)
}

// content finishes the start tag opened by the caller.
func (e encoder) content(name string, v any, s *openapi3.Schema, ns string) error {
	if v == nil {
		e.b.WriteString(` i:nil="true"/>`)
		return nil
	}
	if s.XML != nil && s.XML.Namespace != "" {
		ns = s.XML.Namespace
	}
	var inner strings.Builder
	sub := encoder{b: &inner, c: e.c}
	switch {
	case isObject(s):
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("xml: %s: want an object, have %T", name, v)
		}
		oi := e.c.info(s)
		for _, prop := range oi.order {
			pv, present := m[prop]
			if !present {
				continue
			}
			pns := oi.nsOf[prop]
			if pns == "" {
				pns = ns
			}
			if err := sub.element(oi.elemOf[prop], pv, s.Properties[prop].Value, ns, pns); err != nil {
				return err
			}
		}
	case isArray(s):
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("xml: %s: want an array, have %T", name, v)
		}
		var is *openapi3.Schema
		if s.Items != nil {
			is = s.Items.Value
		}
		if is == nil {
			is = &openapi3.Schema{}
		}
		item := itemName(name, s)
		ins := ns
		if is.XML != nil && is.XML.Namespace != "" {
			ins = is.XML.Namespace
		}
		for _, it := range items {
			if err := sub.element(item, it, is, ns, ins); err != nil {
				return err
			}
		}
	default:
		if err := xml.EscapeText(&inner, []byte(scalar(v))); err != nil {
			return err
		}
	}
	if inner.Len() == 0 {
		e.b.WriteString("/>")
		return nil
	}
	e.b.WriteString(">")
	e.b.WriteString(inner.String())
	e.b.WriteString("</" + name + ">")
	return nil
}

func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return fmt.Sprint(v)
}
