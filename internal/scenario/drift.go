package scenario

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// DriftNamespace is where a "namespace" drift moves a member when all
// members share the root's namespace: WCF's default, tempuri.org.
const DriftNamespace = "http://tempuri.org/"

// Apply returns body (of the given media type) broken the way d says. A
// drift that has no meaning for the format (member order in JSON) leaves
// the body as it is; so does a body that does not parse.
func (d *Drift) Apply(body []byte, mediaType string) []byte {
	switch {
	case strings.Contains(mediaType, "json"):
		return d.applyJSON(body)
	case strings.Contains(mediaType, "xml"):
		return d.applyXML(body)
	}
	return body
}

type member struct {
	key string
	val json.RawMessage
}

func (d *Drift) applyJSON(body []byte) []byte {
	members, ok := readObject(body)
	if !ok {
		return body
	}
	switch d.Kind {
	case "missing":
		members = slices.DeleteFunc(members, func(m member) bool { return slices.Contains(d.Members, m.key) })
	case "unknown":
		members = append(members, member{d.Member, json.RawMessage(`"drift"`)})
	case "enum-form":
		for i, m := range members {
			if m.key != d.Member {
				continue
			}
			if name, ok := d.Names[strings.TrimSpace(string(m.val))]; ok {
				q, _ := json.Marshal(name)
				members[i].val = q
			}
		}
	default:
		return body
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// readObject reads a JSON object's members in order.
func readObject(body []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		out = append(out, member{key, raw})
	}
	return out, true
}

func (d *Drift) applyXML(body []byte) []byte {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil || doc.Root() == nil {
		return body
	}
	root := doc.Root()
	kids := root.ChildElements()
	switch d.Kind {
	case "order":
		// The last member first: a WCF client reading forwards then skips
		// every member before it.
		if len(kids) < 2 {
			return body
		}
		last := kids[len(kids)-1]
		root.RemoveChild(last)
		root.InsertChildAt(kids[0].Index(), last)
	case "namespace":
		moved := false
		for _, k := range kids {
			if k.NamespaceURI() != root.NamespaceURI() && k.SelectAttr("xmlns") != nil {
				k.RemoveAttr("xmlns") // now in the root's namespace
				moved = true
				break
			}
		}
		if !moved && len(kids) > 0 {
			kids[0].CreateAttr("xmlns", DriftNamespace)
		}
	case "missing":
		for _, k := range kids {
			if slices.Contains(d.Members, k.Tag) {
				root.RemoveChild(k)
			}
		}
	case "unknown":
		root.CreateElement(d.Member).SetText("drift")
	case "enum-form":
		for _, k := range kids {
			if k.Tag != d.Member {
				continue
			}
			for num, name := range d.Names {
				if k.Text() == name {
					k.SetText(num)
					break
				}
			}
		}
	default:
		return body
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		return body
	}
	return out
}
