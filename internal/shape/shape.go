// Package shape describes an answer by its form rather than its values
// (status, media type, headers present, each member's kind, namespace and
// order) and says, one readable line each, how two answers differ: "the
// SecurityToken moved from 4th to 1st", "Status: number, expected name".
// The contract suite compares two targets with it; the validating proxy
// and record mode tell answers apart by it.
package shape

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/tokenmock/tokenmock/internal/contract"
)

// Shape describes an answer by its form, not its values: status, media
// type, the headers present, and for each member (JSON pointer) or element
// (XML path) its kind, and for XML its namespace and the order of its
// children. Values that legitimately vary, tokens and dates, therefore
// compare equal.
type Shape struct {
	status  int
	media   string
	headers map[string]string // lower-case name -> the name as sent
	body    string            // "JSON", "XML", "not JSON", "not XML", a media type, or "" for none
	nodes   map[string]node
	paths   []string            // document order
	order   map[string][]string // XML: element path -> its child elements in order (items once)
}

type node struct {
	kind string // JSON: object, array, string, number, boolean, null; XML: elements, text, number, name, empty, nil
	ns   string // XML namespace
}

// headersThatVary are not part of an answer's shape.
var headersThatVary = map[string]bool{"date": true, "content-length": true, "connection": true, "keep-alive": true, "server": true, "x-mock-scenario-applied": true}

// Of describes an answer by its shape.
func Of(status int, header http.Header, body []byte) *Shape {
	s := &Shape{status: status, media: contract.MediaType(header), headers: map[string]string{}, nodes: map[string]node{}, order: map[string][]string{}}
	for k := range header {
		if !headersThatVary[strings.ToLower(k)] {
			s.headers[strings.ToLower(k)] = k
		}
	}
	switch {
	case contract.IsJSON(s.media):
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			s.body = "not JSON"
			return s
		}
		s.body = "JSON"
		s.json("", v)
	case contract.IsXML(s.media):
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(body); err != nil || doc.Root() == nil {
			s.body = "not XML"
			return s
		}
		s.body = "XML"
		s.xml("", doc.Root())
	case len(body) > 0:
		s.body = s.media
	}
	return s
}

func (s *Shape) add(path string, n node) {
	if _, seen := s.nodes[path]; !seen {
		s.paths = append(s.paths, path)
	}
	s.nodes[path] = n
}

func (s *Shape) json(path string, v any) {
	switch t := v.(type) {
	case map[string]any:
		s.add(path, node{kind: "object"})
		for _, k := range slices.Sorted(maps.Keys(t)) {
			s.json(path+"/"+k, t[k])
		}
	case []any:
		s.add(path, node{kind: "array"})
		for _, e := range t {
			s.json(path+"/*", e) // items merge: their number varies
		}
	case string:
		s.add(path, node{kind: "string"})
	case json.Number:
		s.add(path, node{kind: "number"})
	case bool:
		s.add(path, node{kind: "boolean"})
	case nil:
		s.add(path, node{kind: "null"})
	}
}

var (
	xmlNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	xmlName   = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]{0,39}$`) // an enum member as .NET writes it
)

func (s *Shape) xml(path string, el *etree.Element) {
	p := path + "/" + el.Tag
	n := node{ns: el.NamespaceURI()}
	text := strings.TrimSpace(el.Text())
	switch {
	case el.SelectAttrValue("i:nil", "") == "true":
		n.kind = "nil"
	case len(el.ChildElements()) > 0:
		n.kind = "elements"
	case text == "":
		n.kind = "empty"
	case xmlNumber.MatchString(text):
		n.kind = "number"
	case xmlName.MatchString(text):
		n.kind = "name"
	default:
		n.kind = "text"
	}
	s.add(p, n)
	var names []string
	for _, c := range el.ChildElements() {
		if len(names) == 0 || names[len(names)-1] != c.Tag {
			names = append(names, c.Tag) // repeated items count once
		}
		s.xml(p, c)
	}
	s.order[p] = names
}

// Differences says, one line each, how the answer got differs in shape
// from the answer want: "/TokenResponse/SecurityToken moved from 4th to
// 1st", "/Status: string, expected number". Values that legitimately vary
// (tokens, dates) do not count.
func Differences(want, got *Shape) []string {
	var out []string
	if got.status != want.status {
		out = append(out, fmt.Sprintf("status %d, expected %d", got.status, want.status))
	}
	if got.media != want.media {
		out = append(out, fmt.Sprintf("Content-Type %s, expected %s", orNone(got.media), orNone(want.media)))
	}
	for _, h := range slices.Sorted(maps.Keys(want.headers)) {
		if _, ok := got.headers[h]; !ok {
			out = append(out, fmt.Sprintf("header %s missing", want.headers[h]))
		}
	}
	for _, h := range slices.Sorted(maps.Keys(got.headers)) {
		if _, ok := want.headers[h]; !ok {
			out = append(out, fmt.Sprintf("header %s unexpected", got.headers[h]))
		}
	}
	if got.body != want.body {
		return append(out, fmt.Sprintf("body %s, expected %s", orNone(got.body), orNone(want.body)))
	}
	for _, p := range want.paths {
		w := want.nodes[p]
		g, ok := got.nodes[p]
		switch {
		case !ok:
			if _, parentThere := got.nodes[parent(p)]; parentThere || parent(p) == "" {
				out = append(out, p+": missing")
			}
		case g.kind != w.kind:
			out = append(out, fmt.Sprintf("%s: %s, expected %s", p, g.kind, w.kind))
		case g.ns != w.ns:
			out = append(out, fmt.Sprintf("%s: in namespace %s, expected %s", p, orNone(g.ns), orNone(w.ns)))
		}
		if ok {
			out = append(out, moves(p, want.order[p], got.order[p])...)
		}
	}
	for _, p := range got.paths {
		if _, ok := want.nodes[p]; !ok {
			if _, parentThere := want.nodes[parent(p)]; parentThere || parent(p) == "" {
				out = append(out, p+": unexpected")
			}
		}
	}
	return out
}

// moves reports the children of an element whose place among the others
// changed: those outside the longest run both orders share.
func moves(path string, want, got []string) []string {
	common := func(a, b []string) []string {
		var out []string
		for _, x := range a {
			if slices.Contains(b, x) {
				out = append(out, x)
			}
		}
		return out
	}
	w, g := common(want, got), common(got, want)
	if slices.Equal(w, g) {
		return nil
	}
	keep := lcs(w, g)
	var out []string
	for i, name := range g {
		if !slices.Contains(keep, name) {
			out = append(out, fmt.Sprintf("%s/%s moved from %s to %s (expected order: %s)", path, name, ordinal(slices.Index(w, name)+1), ordinal(i+1), strings.Join(w, ", ")))
		}
	}
	return out
}

// lcs is the longest common subsequence of two short lists of names.
func lcs(a, b []string) []string {
	n := make([][]int, len(a)+1)
	for i := range n {
		n[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				n[i][j] = n[i+1][j+1] + 1
			} else {
				n[i][j] = max(n[i+1][j], n[i][j+1])
			}
		}
	}
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case n[i+1][j] >= n[i][j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func parent(p string) string { return p[:strings.LastIndex(p, "/")] }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Key is a short fingerprint of the shape: answers with the same key
// differ only in values.
func (s *Shape) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%s|%s|", s.status, s.media, s.body)
	for _, h := range slices.Sorted(maps.Keys(s.headers)) {
		b.WriteString(h + ",")
	}
	for _, p := range s.paths {
		n := s.nodes[p]
		fmt.Fprintf(&b, "%s=%s@%s;", p, n.kind, n.ns)
		if o := s.order[p]; len(o) > 0 {
			b.WriteString("[" + strings.Join(o, ",") + "]")
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:4])
}
