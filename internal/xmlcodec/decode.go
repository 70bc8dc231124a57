package xmlcodec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"golang.org/x/text/encoding/unicode"

	"github.com/tokenmock/tokenmock/internal/problem"
)

// Limits bound the work a hostile document can cause.
type Limits struct {
	MaxDepth int // element nesting; 0 means DefaultMaxDepth
	MaxNodes int // elements and attributes; 0 means DefaultMaxNodes
}

// Defaults far above any DataContract document of the token APIs.
const (
	DefaultMaxDepth = 64
	DefaultMaxNodes = 10000
)

// NewBodyDecoder returns an openapi3filter.BodyDecoder for XML bodies:
// registered for application/xml, it makes both request and response
// validation read XML.
func NewBodyDecoder(lim Limits) openapi3filter.BodyDecoder {
	return NewCodec(lim).BodyDecoder()
}

// BodyDecoder is the codec's decoder in openapi3filter's form.
func (c *Codec) BodyDecoder() openapi3filter.BodyDecoder {
	return func(body io.Reader, _ http.Header, ref *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		data, err := readAll(body)
		if err != nil {
			return nil, fmt.Errorf("read xml body: %w", err)
		}
		if ref == nil || ref.Value == nil {
			return nil, errors.New("xml: no schema for the body")
		}
		return c.Decode(data, ref.Value)
	}
}

// Decode parses data and maps it to a value (map[string]any, []any, string,
// float64, bool or nil) guided by schema s, whose xml object names the
// document element. Every structural violation is collected, located by
// XML path (/TokenRequest/Authentication) and named by its rule (syntax,
// doctype, encoding, depth, size, root, namespace, order, unknown,
// duplicate, type, nil, text, attribute); if any is found the returned
// error is a problem.List.
func Decode(data []byte, s *openapi3.Schema, lim Limits) (any, error) {
	return NewCodec(lim).Decode(data, s)
}

// Decode is the package's Decode with the codec's limits and cache.
func (c *Codec) Decode(data []byte, s *openapi3.Schema) (any, error) {
	lim := c.lim
	if err := CheckBodySchema(s); err != nil {
		return nil, fmt.Errorf("xml: %w", err)
	}
	d := &decoder{c: c}
	data, wasUTF16 := toUTF8(data)
	if v := declaredEncoding(data); v != "" && !strings.EqualFold(v, "utf-8") && !(wasUTF16 && strings.EqualFold(v, "utf-16")) {
		d.add("", "encoding", fmt.Sprintf("encoding %q is not supported: send UTF-8, or UTF-16 with a byte order mark", v))
		return nil, d.err()
	}
	if !utf8.Valid(data) {
		d.add("", "encoding", "the document is not valid UTF-8")
		return nil, d.err()
	}
	if hasDoctype(data) {
		d.add("", "doctype", "a DOCTYPE is not allowed: no entities, internal or external, are expanded")
		return nil, d.err()
	}
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = lim.MaxDepth
	if err := doc.ReadFromBytes(data); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			d.add("", "depth", fmt.Sprintf("elements nest deeper than the limit of %d", lim.MaxDepth))
		} else {
			d.add("", "syntax", "not well-formed XML: "+strings.TrimPrefix(err.Error(), "XML syntax error "))
		}
		return nil, d.err()
	}
	var root *etree.Element
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if root != nil {
				d.add("/"+t.Tag, "syntax", "a second document element; XML has exactly one")
				continue
			}
			root = t
		case *etree.Directive:
			d.add("", "doctype", "a DOCTYPE or other directive is not allowed")
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				d.add("", "syntax", "text outside the document element")
			}
		}
	}
	if root == nil {
		d.add("", "syntax", "no document element")
		return nil, d.err()
	}
	if d.violations.Len() > 0 {
		return nil, d.err()
	}
	if n := countNodes(root, lim.MaxNodes); n > lim.MaxNodes {
		d.add("", "size", fmt.Sprintf("the document has more than %d elements and attributes, the limit", lim.MaxNodes))
		return nil, d.err()
	}
	path := "/" + root.Tag
	if !d.checkName(root, path) {
		return nil, d.err()
	}
	// The schema, or the alternative of a oneOf, that names this element.
	var names []string
	var byName *openapi3.Schema
	for _, alt := range Alternatives(s) {
		name, ns, _ := RootName(alt)
		names = append(names, name)
		if name != root.Tag {
			continue
		}
		if byName == nil {
			byName = alt
		}
		if ns == root.NamespaceURI() {
			s, byName = alt, nil
			break
		}
	}
	if byName != nil {
		_, want, _ := RootName(byName)
		d.add(path, "namespace", fmt.Sprintf("element in namespace %s, the contract wants %s", nsName(root.NamespaceURI()), nsName(want)))
		return nil, d.err()
	}
	rootName, rootNS, _ := RootName(s)
	if root.Tag != rootName || root.NamespaceURI() != rootNS {
		d.add(path, "root", fmt.Sprintf("document element is %s, the contract wants %s", root.Tag, strings.Join(names, " or ")))
		return nil, d.err()
	}
	v := d.value(root, s, rootNS, path)
	if d.violations.Len() > 0 {
		return v, d.err()
	}
	return v, nil
}

// toUTF8 drops a UTF-8 byte order mark (.NET's XmlWriter writes one) and
// converts UTF-16 with a byte order mark to UTF-8.
func toUTF8(data []byte) ([]byte, bool) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], false
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		// The byte order mark says which: the endianness given here is
		// only the default.
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return data, false
		}
		return out, true
	}
	return data, false
}

// hasDoctype reports whether the prolog, before the document element,
// holds a DOCTYPE (or any other <!...> declaration but a comment). It
// scans bytes: nothing is parsed, let alone expanded.
func hasDoctype(data []byte) bool {
	for i := 0; i < len(data); {
		lt := bytes.IndexByte(data[i:], '<')
		if lt < 0 || i+lt+1 >= len(data) {
			return false
		}
		i += lt + 1
		switch {
		case data[i] == '?':
			end := bytes.Index(data[i:], []byte("?>"))
			if end < 0 {
				return false
			}
			i += end + 2
		case bytes.HasPrefix(data[i:], []byte("!--")):
			end := bytes.Index(data[i:], []byte("-->"))
			if end < 0 {
				return false
			}
			i += end + 3
		case data[i] == '!':
			return true
		default:
			return false // the document element
		}
	}
	return false
}

// countNodes counts elements and attributes under el, stopping past max.
func countNodes(el *etree.Element, max int) int {
	n := 1 + len(el.Attr)
	for _, tok := range el.Child {
		if n > max {
			break
		}
		if c, ok := tok.(*etree.Element); ok {
			n += countNodes(c, max-n)
		}
	}
	return n
}

// hasElements reports whether el has a child element.
func hasElements(el *etree.Element) bool {
	for _, tok := range el.Child {
		if _, ok := tok.(*etree.Element); ok {
			return true
		}
	}
	return false
}

// declaredEncoding returns the encoding named in an XML declaration, if any.
func declaredEncoding(data []byte) string {
	data = bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(data[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n=")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	rest = rest[1:]
	if j := strings.IndexByte(rest, q); j >= 0 {
		return rest[:j]
	}
	return ""
}

func nsName(ns string) string {
	if ns == "" {
		return "(none)"
	}
	return ns
}

// decoder collects violations: at most problem.MaxViolations are kept
// and the rest counted, however many a document holds.
type decoder struct {
	c          *Codec
	violations problem.Collector
}

func (d *decoder) add(path, rule, detail string) {
	d.violations.Add(path, rule, detail)
}

func (d *decoder) err() error {
	return d.violations.Err()
}

// checkName reports an element whose prefix is not declared: etree resolves
// it to no namespace without a word.
func (d *decoder) checkName(el *etree.Element, path string) bool {
	if el.Space != "" && el.NamespaceURI() == "" {
		d.add(path, "namespace", fmt.Sprintf("prefix %q is not declared", el.Space))
		return false
	}
	return true
}

// attributes checks el's attributes and reports whether it is i:nil="true".
func (d *decoder) attributes(el *etree.Element, path string, secret bool) (isNil bool) {
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		if a.Space != "" && a.NamespaceURI() == NSInstance && a.Key == "nil" {
			switch a.Value {
			case "true", "1":
				isNil = true
			case "false", "0":
			default:
				d.add(path, "nil", fmt.Sprintf("i:nil is %s, want true or false", show(secret, a.Value)))
			}
			continue
		}
		name := a.Key
		if a.Space != "" {
			name = a.Space + ":" + a.Key
		}
		d.add(path, "attribute", fmt.Sprintf("unexpected attribute %s", problem.Cut(name, problem.QuoteMax)))
	}
	return isNil
}

// value decodes el against s. ns is the namespace el's own members inherit
// when their schema names none.
func (d *decoder) value(el *etree.Element, s *openapi3.Schema, ns, path string) any {
	secret := secretMember(s, el.Tag)
	if d.attributes(el, path, secret) {
		if hasElements(el) || strings.TrimSpace(text(el)) != "" {
			d.add(path, "nil", "an element with i:nil=\"true\" must be empty")
		}
		return nil
	}
	if s.XML != nil && s.XML.Namespace != "" {
		ns = s.XML.Namespace
	}
	switch {
	case isObject(s):
		return d.object(el, s, ns, path)
	case isArray(s):
		return d.array(el, s, ns, path)
	}
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok {
			d.add(path+"/"+c.Tag, "unknown", fmt.Sprintf("element %s holds a value, not elements", el.Tag))
		}
	}
	t := text(el)
	switch {
	case s.Type.Is(openapi3.TypeString):
		return t
	case s.Type.Is(openapi3.TypeInteger):
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			d.add(path, "type", fmt.Sprintf("%s is not an integer", show(secret, t)))
			return t
		}
		return float64(n)
	case s.Type.Is(openapi3.TypeNumber):
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			d.add(path, "type", fmt.Sprintf("%s is not a number", show(secret, t)))
			return t
		}
		return f
	case s.Type.Is(openapi3.TypeBoolean):
		switch strings.TrimSpace(t) {
		case "true", "1":
			return true
		case "false", "0":
			return false
		}
		d.add(path, "type", fmt.Sprintf("%s is not a boolean (true or false)", show(secret, t)))
		return t
	}
	return t
}

func (d *decoder) object(el *etree.Element, s *openapi3.Schema, ns, path string) any {
	oi := d.c.info(s)
	out := make(map[string]any, len(oi.order))
	last := -1
	lastName := ""
	for _, tok := range el.Child {
		switch c := tok.(type) {
		case *etree.CharData:
			if strings.TrimSpace(c.Data) != "" {
				d.add(path, "text", fmt.Sprintf("text %s among the members of %s", show(secretMember(s, el.Tag), c.Data), el.Tag))
			}
			continue
		case *etree.Element:
			cpath := path + "/" + c.Tag
			if !d.checkName(c, cpath) {
				continue
			}
			name, ok := oi.byElem[c.Tag]
			if !ok {
				d.add(cpath, "unknown", fmt.Sprintf("element %s is not a member of %s (members: %s)", c.Tag, el.Tag, strings.Join(oi.elems(), ", ")))
				continue
			}
			want := oi.nsOf[name]
			if want == "" {
				want = ns
			}
			if got := c.NamespaceURI(); got != want {
				d.add(cpath, "namespace", fmt.Sprintf("element in namespace %s, the contract wants %s", nsName(got), nsName(want)))
				continue
			}
			if _, dup := out[name]; dup {
				d.add(cpath, "duplicate", fmt.Sprintf("member %s appears twice", c.Tag))
				continue
			}
			if r := oi.rank[name]; r < last {
				d.add(cpath, "order", fmt.Sprintf("member %s must come before %s (DataContract order: %s)", c.Tag, lastName, strings.Join(oi.elems(), ", ")))
			} else {
				last, lastName = r, c.Tag
			}
			out[name] = d.value(c, s.Properties[name].Value, want, cpath)
		}
	}
	return out
}

func (d *decoder) array(el *etree.Element, s *openapi3.Schema, ns, path string) any {
	out := []any{}
	var items *openapi3.Schema
	if s.Items != nil {
		items = s.Items.Value
	}
	item := itemName(el.Tag, s)
	itemNS := ns
	if items != nil && items.XML != nil && items.XML.Namespace != "" {
		itemNS = items.XML.Namespace
	}
	n := 0
	for _, tok := range el.Child {
		switch c := tok.(type) {
		case *etree.CharData:
			if strings.TrimSpace(c.Data) != "" {
				d.add(path, "text", fmt.Sprintf("text %s among the items of %s", show(secretMember(s, el.Tag), c.Data), el.Tag))
			}
		case *etree.Element:
			// The index counts items only, as XPath (and Path) do.
			if c.Tag == item {
				n++
			}
			cpath := fmt.Sprintf("%s/%s[%d]", path, c.Tag, max(n, 1))
			if c.Tag != item {
				cpath = path + "/" + c.Tag
			}
			if !d.checkName(c, cpath) {
				continue
			}
			if c.Tag != item {
				d.add(cpath, "unknown", fmt.Sprintf("element %s in %s, the contract wants %s items", c.Tag, el.Tag, item))
				continue
			}
			if got := c.NamespaceURI(); got != itemNS {
				d.add(cpath, "namespace", fmt.Sprintf("element in namespace %s, the contract wants %s", nsName(got), nsName(itemNS)))
				continue
			}
			if items == nil {
				out = append(out, text(c))
				continue
			}
			out = append(out, d.value(c, items, itemNS, cpath))
		}
	}
	return out
}

// elems lists the member element names in order, for messages.
func (oi *objectInfo) elems() []string {
	out := make([]string, len(oi.order))
	for i, name := range oi.order {
		out[i] = oi.elemOf[name]
	}
	return out
}

// text is the character data directly inside el (CDATA included).
func text(el *etree.Element) string {
	if len(el.Child) == 1 {
		if c, ok := el.Child[0].(*etree.CharData); ok {
			return c.Data // the common case, without a copy
		}
	}
	var b strings.Builder
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.CharData); ok {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// show renders a value of the document for a message: never the value of
// a secret member (see secretMember), else quoted and cut, and withheld
// when it looks like a credential whatever member holds it.
func show(secret bool, v string) string {
	if secret {
		return fmt.Sprintf("(a %d-byte value of a secret member, not shown)", len(v))
	}
	return problem.Quote(v)
}

// readAll reads a body; from a *bytes.Buffer (what the server hands over)
// it takes the bytes as they are, without a copy.
func readAll(r io.Reader) ([]byte, error) {
	if b, ok := r.(*bytes.Buffer); ok {
		return b.Bytes(), nil
	}
	return io.ReadAll(r)
}
