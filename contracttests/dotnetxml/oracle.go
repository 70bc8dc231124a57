// Package dotnetxml is the contract suite's own oracle for WCF DataContract
// XML. It learns what .NET writes from golden bodies written by the real
// .NET serializer (make dotnet-golden), with the XML schema .NET publishes
// for the same contracts, and judges an answer by them: element names,
// namespaces, member order, i:nil, list items, enums as names.
//
// It imports nothing but the standard library, and reads XML with
// encoding/xml rather than etree: a bug of the mock's own decoder
// (internal/xmlcodec), or of the spec both read, cannot be shared with it.
package dotnetxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// XSI is the namespace of i:nil.
const XSI = "http://www.w3.org/2001/XMLSchema-instance"

// Finding is one way a body differs from what .NET writes.
type Finding struct {
	Path   string // /TokenResponse/Errors/Error[2]/Code, or (document)
	Rule   string // syntax, doctype, root, namespace, order, unknown, missing, duplicate, nil, attribute, text, enum
	Detail string
}

func (f Finding) String() string { return f.Path + ": " + f.Detail + " [dotnet:" + f.Rule + "]" }

// Oracle knows, for each document element of the goldens, what .NET
// writes under it.
type Oracle struct {
	roots map[xml.Name]*elem
}

// elem is one element position of the goldens (not a type): the members
// of TokenResponse, the items of Errors, the members of one Error.
type elem struct {
	name     xml.Name
	golden   string   // the first golden it was seen in, named in findings
	nillable bool     // some golden writes it as i:nil="true"
	text     bool     // some golden writes text in it
	complex  bool     // some golden writes elements in it
	repeats  bool     // some golden writes it several times in a row (a list's items)
	optional bool     // some golden leaves it out where its parent has content
	values   []string // the texts the goldens write in it
	enum     []string
	enumFrom string // the schema file naming the enum
	members  []*elem
	// learning: how often it was written not nil, and how often as a
	// member of its parent
	filled, present int
}

func (e *elem) member(local string) *elem {
	for _, m := range e.members {
		if m.name.Local == local {
			return m
		}
	}
	return nil
}

func (e *elem) order() string {
	names := make([]string, len(e.members))
	for i, m := range e.members {
		names[i] = m.name.Local
	}
	return strings.Join(names, ", ")
}

// Load reads the goldens of fsys: every *.xml is a body .NET wrote, every
// *.xsd a schema .NET exported for the same contracts (its enumerations
// say which members are enums). The goldens must agree with each other.
func Load(fsys fs.FS) (*Oracle, error) {
	o := &Oracle{roots: map[xml.Name]*elem{}}
	bodies, err := fs.Glob(fsys, "*.xml")
	if err != nil {
		return nil, err
	}
	if len(bodies) == 0 {
		return nil, errors.New("no golden bodies (*.xml)")
	}
	for _, name := range bodies {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		root, findings := parse(data)
		if len(findings) > 0 {
			return nil, fmt.Errorf("golden %s: %s", name, findings[0])
		}
		m := o.roots[root.name]
		if m == nil {
			m = &elem{name: root.name, golden: name}
			o.roots[root.name] = m
		}
		if err := learn(m, root, name); err != nil {
			return nil, fmt.Errorf("golden %s: %w", name, err)
		}
	}
	for _, m := range o.roots {
		if err := settle(m, "/"+m.name.Local); err != nil {
			return nil, err
		}
	}
	schemas, err := fs.Glob(fsys, "*.xsd")
	if err != nil {
		return nil, err
	}
	enums := map[xml.Name]enumDecl{}
	for _, name := range schemas {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := readSchema(data, name, enums); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
	}
	for _, m := range o.roots {
		if err := applyEnums(m, "/"+m.name.Local, enums); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Roots are the document elements the oracle knows.
func (o *Oracle) Roots() []xml.Name {
	var out []xml.Name
	for n := range o.roots {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b xml.Name) int { return strings.Compare(a.Local+" "+a.Space, b.Local+" "+b.Space) })
	return out
}

// Knows reports whether the goldens hold a body with that document element.
func (o *Oracle) Knows(root xml.Name) bool { return o.roots[root] != nil }

// learn adds what one golden element shows to its model m.
func learn(m *elem, el *node, golden string) error {
	if el.nil {
		m.nillable = true
		return nil
	}
	m.filled++
	if len(el.children) == 0 {
		if strings.TrimSpace(el.text) != "" {
			m.text = true
			if !slices.Contains(m.values, el.text) {
				m.values = append(m.values, el.text)
			}
		}
		return nil
	}
	if strings.TrimSpace(el.text) != "" {
		m.text = true
	}
	m.complex = true
	// Runs of one member (a list's items) count once, in order.
	var order []*elem
	for i, c := range el.children {
		if i > 0 && el.children[i-1].name == c.name {
			mem := order[len(order)-1]
			mem.repeats = true
			if err := learn(mem, c, golden); err != nil {
				return err
			}
			continue
		}
		mem := m.member(c.name.Local)
		if mem == nil {
			mem = &elem{name: c.name, golden: golden}
		} else if mem.name.Space != c.name.Space {
			return fmt.Errorf("%s in namespace %s, another golden (%s) has it in %s", c.name.Local, c.name.Space, mem.golden, mem.name.Space)
		}
		if slices.Contains(order, mem) {
			return fmt.Errorf("%s written twice apart under %s", c.name.Local, el.name.Local)
		}
		order = append(order, mem)
		mem.present++
		if err := learn(mem, c, golden); err != nil {
			return err
		}
	}
	merged, err := mergeOrder(m.members, order)
	if err != nil {
		return fmt.Errorf("under %s: %w", el.name.Local, err)
	}
	m.members = merged
	return nil
}

// mergeOrder adds the members of one golden to the order known so far:
// every golden must list its members in one order .NET agrees on.
func mergeOrder(known, seen []*elem) ([]*elem, error) {
	out := slices.Clone(known)
	at := 0 // where the next member of seen may go
	for _, m := range seen {
		i := slices.Index(out, m)
		switch {
		case i < 0:
			out = slices.Insert(out, at, m)
			at++
		case i < at:
			return nil, fmt.Errorf("members in another order than other goldens: %s before %s", out[at-1].name.Local, m.name.Local)
		default:
			at = i + 1
		}
	}
	return out, nil
}

// settle derives, once every golden is read, which members may be left
// out (a list's items: Errors is written empty too) and checks the goldens never mix text and elements.
func settle(m *elem, p string) error {
	if m.text && m.complex {
		return fmt.Errorf("goldens write both text and elements in %s", p)
	}
	for _, c := range m.members {
		c.optional = c.present < m.filled
		if err := settle(c, p+"/"+c.name.Local); err != nil {
			return err
		}
	}
	return nil
}

// Check judges body, which should have the document element root, by what
// .NET writes. It returns no findings when .NET could have written it.
func (o *Oracle) Check(body []byte, root xml.Name) []Finding {
	m := o.roots[root]
	if m == nil {
		return []Finding{{"(document)", "root", fmt.Sprintf("no golden has the document element %s", qname(root))}}
	}
	doc, findings := parse(body)
	if doc == nil {
		return findings
	}
	if doc.name != root {
		return append(findings, Finding{"/" + doc.name.Local, "root", fmt.Sprintf("document element %s, .NET writes %s (%s)", qname(doc.name), qname(root), m.golden)})
	}
	c := checker{findings: findings}
	c.element(m, doc, "/"+root.Local)
	return c.findings
}

// RootOf returns the document element of body, if it has one.
func RootOf(body []byte) (xml.Name, bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.Name{}, false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, true
		}
	}
}

type checker struct{ findings []Finding }

func (c *checker) add(p, rule, format string, args ...any) {
	c.findings = append(c.findings, Finding{p, rule, fmt.Sprintf(format, args...)})
}

func (c *checker) element(m *elem, el *node, p string) {
	for _, a := range el.badAttrs {
		c.add(p, "attribute", "%s", a)
	}
	if el.nil {
		if !m.nillable {
			c.add(p, "nil", "i:nil=\"true\", but .NET never writes %s as nil: every golden gives it a value (%s)", m.name.Local, m.golden)
		}
		if len(el.children) > 0 || strings.TrimSpace(el.text) != "" {
			c.add(p, "nil", "i:nil=\"true\" with content")
		}
		return
	}
	switch {
	case m.complex:
		if t := strings.TrimSpace(el.text); t != "" {
			c.add(p, "text", "text %q where .NET writes only elements (%s)", cut(t), m.golden)
		}
		c.members(m, el, p)
	case m.text || len(m.enum) > 0:
		if len(el.children) > 0 {
			c.add(p, "text", "element %s where .NET writes text (%s)", el.children[0].name.Local, m.golden)
			return
		}
		if len(m.enum) > 0 && !slices.Contains(m.enum, el.text) {
			c.add(p, "enum", "%q is not a name of the enum: .NET writes one of %s (%s)", cut(el.text), strings.Join(m.enum, ", "), m.enumFrom)
		}
	default:
		if len(el.children) > 0 || strings.TrimSpace(el.text) != "" {
			c.add(p, "text", "content where .NET writes %s empty or nil (%s)", m.name.Local, m.golden)
		}
	}
}

// members checks the child elements of el against m's members: known,
// in their namespace, each once (a list's items together), in .NET's
// order, none missing.
func (c *checker) members(m *elem, el *node, p string) {
	type run struct {
		mem  *elem
		path string
	}
	var runs []run
	count := map[*elem]int{}
	var last *elem
	for _, ch := range el.children {
		mem := m.member(ch.name.Local)
		if mem == nil {
			c.add(p+"/"+ch.name.Local, "unknown", "%s has no member %s: .NET writes %s (%s)", m.name.Local, ch.name.Local, m.order(), m.golden)
			continue
		}
		count[mem]++
		cp := p + "/" + ch.name.Local
		if mem.repeats {
			cp = fmt.Sprintf("%s[%d]", cp, count[mem])
		}
		if count[mem] > 1 && (mem != last || !mem.repeats) {
			if mem.repeats {
				c.add(cp, "order", "an item of %s apart from the others: .NET writes a list's items together", m.name.Local)
			} else {
				c.add(cp, "duplicate", "%s written again: .NET writes each member once (%s)", ch.name.Local, m.golden)
			}
			continue
		}
		if ch.name.Space != mem.name.Space {
			c.add(cp, "namespace", "in %s, .NET writes it in namespace %s (%s)", nsName(ch.name.Space), mem.name.Space, mem.golden)
		}
		c.element(mem, ch, cp)
		if mem != last {
			runs = append(runs, run{mem, cp})
		}
		last = mem
	}
	// The members out of order are those off a longest run in .NET's order:
	// one member moved is reported once, where it moved to.
	idx := make([]int, len(runs))
	for i, r := range runs {
		idx[i] = slices.Index(m.members, r.mem)
	}
	keep := longestIncreasing(idx)
	for i, r := range runs {
		if keep[i] {
			continue
		}
		where := ""
		for j := i + 1; j < len(runs); j++ {
			if idx[j] < idx[i] {
				where = "before " + runs[j].mem.name.Local
				break
			}
		}
		if where == "" {
			for j := i - 1; j >= 0; j-- {
				if idx[j] > idx[i] {
					where = "after " + runs[j].mem.name.Local
					break
				}
			}
		}
		c.add(r.path, "order", "written %s: .NET writes %s in that order (%s)", where, m.order(), m.golden)
	}
	for _, mem := range m.members {
		if count[mem] == 0 && !mem.optional {
			c.add(p+"/"+mem.name.Local, "missing", "missing: .NET writes every member, an unset one as i:nil=\"true\" (%s)", m.golden)
		}
	}
}

// longestIncreasing marks a longest strictly increasing subsequence of
// idx. Its length is bounded by the members of one element.
func longestIncreasing(idx []int) []bool {
	n := len(idx)
	length := make([]int, n)
	prev := make([]int, n)
	best := -1
	for i := range idx {
		length[i], prev[i] = 1, -1
		for j := 0; j < i; j++ {
			if idx[j] < idx[i] && length[j]+1 > length[i] {
				length[i], prev[i] = length[j]+1, j
			}
		}
		if best < 0 || length[i] > length[best] {
			best = i
		}
	}
	keep := make([]bool, n)
	for i := best; i >= 0; i = prev[i] {
		keep[i] = true
	}
	return keep
}

// node is an element of a parsed body.
type node struct {
	name     xml.Name
	nil      bool
	text     string
	children []*node
	badAttrs []string // attributes .NET would not write
}

// maxDepth bounds the nesting parse accepts, far above any DataContract
// body of the token APIs.
const maxDepth = 64

// parse reads one document with encoding/xml, which resolves each name's
// namespace itself. What is not well-formed, or not a single element with
// nothing but whitespace, comments and an XML declaration around it, is a
// finding; the tree is nil when it cannot be read at all.
func parse(data []byte) (*node, []Finding) {
	var findings []Finding
	doc := func(rule, format string, args ...any) {
		findings = append(findings, Finding{"(document)", rule, fmt.Sprintf(format, args...)})
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, col := d.InputPos()
			doc("syntax", "line %d, column %d: %v", line, col, err)
			return nil, findings
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns":
				case a.Name.Space == XSI && a.Name.Local == "nil":
					if a.Value == "true" {
						n.nil = true
					} else {
						n.badAttrs = append(n.badAttrs, fmt.Sprintf("i:nil=%q: .NET writes only i:nil=\"true\"", a.Value))
					}
				case a.Name.Local == "nil":
					n.badAttrs = append(n.badAttrs, fmt.Sprintf("a nil attribute in %s, not in %s: .NET would not read the member as null", nsName(a.Name.Space), XSI))
				default:
					n.badAttrs = append(n.badAttrs, fmt.Sprintf("attribute %s: .NET writes none here", qname(a.Name)))
				}
			}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			case root == nil:
				root = n
			default:
				doc("syntax", "a second document element %s", t.Name.Local)
				return nil, findings
			}
			if len(stack) == maxDepth {
				doc("syntax", "elements nested deeper than %d", maxDepth)
				return nil, findings
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			} else if s := strings.TrimSpace(string(t)); s != "" {
				doc("syntax", "text %q outside the document element", cut(s))
			}
		case xml.Directive:
			doc("doctype", "<!%s>: .NET writes no DOCTYPE", cut(string(t)))
		case xml.ProcInst:
			if t.Target != "xml" {
				doc("syntax", "processing instruction <?%s?>: .NET writes none", t.Target)
			}
		}
	}
	if root == nil {
		doc("syntax", "no document element")
	}
	return root, findings
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

func nsName(ns string) string {
	if ns == "" {
		return "no namespace"
	}
	return "namespace " + ns
}

func cut(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// enumDecl is a member whose schema type is an enumeration.
type enumDecl struct {
	names []string
	file  string
}

// readSchema adds to enums every member an XSD .NET exported declares with
// an enumeration type, keyed by the member's qualified element name (the
// schema's targetNamespace, as DataContract schemas are
// elementFormDefault="qualified"). Only what DataContract XSDs hold is
// read: xs:complexType sequences and xs:simpleType restrictions.
func readSchema(data []byte, file string, enums map[xml.Name]enumDecl) error {
	const xs = "http://www.w3.org/2001/XMLSchema"
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		target    string
		simple    xml.Name // the xs:simpleType being read
		inComplex int
		members   = map[xml.Name]xml.Name{} // member → its type
		values    = map[xml.Name][]string{} // simple type → enumeration
		scopes    []map[string]string       // in-scope prefixes, for QName values
	)
	resolve := func(q string) xml.Name {
		prefix, local, ok := strings.Cut(q, ":")
		if !ok {
			prefix, local = "", q
		}
		for i := len(scopes) - 1; i >= 0; i-- {
			if ns, ok := scopes[i][prefix]; ok {
				return xml.Name{Space: ns, Local: local}
			}
		}
		return xml.Name{Space: prefix, Local: local}
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			scope := map[string]string{}
			attr := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					scope[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					scope[""] = a.Value
				case a.Name.Space == "":
					attr[a.Name.Local] = a.Value
				}
			}
			scopes = append(scopes, scope)
			if t.Name.Space != xs {
				continue
			}
			switch t.Name.Local {
			case "schema":
				target = attr["targetNamespace"]
			case "complexType":
				inComplex++
			case "simpleType":
				simple = xml.Name{Space: target, Local: attr["name"]}
			case "enumeration":
				values[simple] = append(values[simple], attr["value"])
			case "element":
				if inComplex > 0 && attr["type"] != "" {
					members[xml.Name{Space: target, Local: attr["name"]}] = resolve(attr["type"])
				}
			}
		case xml.EndElement:
			scopes = scopes[:len(scopes)-1]
			if t.Name.Space == xs && t.Name.Local == "complexType" {
				inComplex--
			}
		}
	}
	for member, typ := range members {
		if names := values[typ]; len(names) > 0 {
			enums[member] = enumDecl{names, path.Base(file)}
		}
	}
	return nil
}

// applyEnums marks the members the schemas declare as enums, and checks
// that the goldens write only their names.
func applyEnums(m *elem, p string, enums map[xml.Name]enumDecl) error {
	if e, ok := enums[m.name]; ok {
		if m.complex {
			return fmt.Errorf("%s: the schema says enum, the goldens write elements", p)
		}
		for _, v := range m.values {
			if !slices.Contains(e.names, v) {
				return fmt.Errorf("%s: a golden writes %q, not one of the enum's names in %s (%s)", p, v, e.file, strings.Join(e.names, ", "))
			}
		}
		m.enum, m.enumFrom = e.names, e.file
	}
	for _, c := range m.members {
		if err := applyEnums(c, p+"/"+c.name.Local, enums); err != nil {
			return err
		}
	}
	return nil
}
