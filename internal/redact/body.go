package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// The body walkers below read raw bytes, not a parsed document: they must
// find the secrets of a body that does not parse, that is cut short (the
// journal keeps 4 KiB), or that spells its names with escapes. They never
// fail; what they do not recognise they leave alone.

// walkBody finds the values in the secret places of a JSON, XML or form
// body. collect, when set, receives each value decoded; with mask, the
// values are masked in place.
func walkBody(b []byte, p *Policy, collect func(string), mask bool) {
	w := walker{p: p, collect: collect, mask: mask}
	if collect == nil {
		w.collect = func(string) {}
	}
	switch first := firstByte(b); {
	case len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF):
		// UTF-16: no name can be read byte-wise; keep nothing of it.
		if mask {
			star(b)
		}
	case first == '<':
		w.xml(b)
	case first == '{' || first == '[':
		w.json(b)
	default:
		maskPairs(b, p, w.collect, mask)
	}
}

func firstByte(b []byte) byte {
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	for _, c := range b {
		if !isSpace(c) {
			return c
		}
	}
	return 0
}

type walker struct {
	p       *Policy
	collect func(string)
	mask    bool
}

// ---- JSON

// json masks the value of every member whose name, unescaped, is secret:
// a string inside its quotes, anything else (a number, an object, an
// array) whole.
func (w *walker) json(b []byte) {
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		end := stringEnd(b, i)
		j := skipSpace(b, end+1)
		if j < len(b) && b[j] == ':' && w.memberJSON(b[i+1:min(end, len(b))]) {
			vs := skipSpace(b, j+1)
			ve := jsonValueEnd(b, vs)
			w.jsonSecret(b[vs:ve])
			i = ve - 1
			continue
		}
		i = end
	}
}

// memberJSON reports whether a member name, as written inside its quotes,
// is secret; escapes are decoded only when there are some.
func (w *walker) memberJSON(raw []byte) bool {
	if bytes.IndexByte(raw, '\\') >= 0 {
		return w.p.Member(jsonString(raw))
	}
	return member(w.p, raw)
}

// jsonSecret collects and masks one secret value.
func (w *walker) jsonSecret(v []byte) {
	if len(v) == 0 {
		return
	}
	if v[0] == '"' {
		content := v[1:]
		if len(content) > 0 && content[len(content)-1] == '"' && stringEnd(v, 0) == len(v)-1 {
			content = content[:len(content)-1]
		}
		w.collect(jsonString(content))
		if w.mask {
			if bytes.IndexByte(content, '\\') >= 0 {
				star(content)
			} else {
				maskSpan(content)
			}
		}
		return
	}
	// A number, a literal, an object or an array: every string and number
	// in it is a secret.
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			end := stringEnd(v, i)
			w.collect(jsonString(v[i+1 : min(end, len(v))]))
			i = end
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(v) && strings.IndexByte("+-.eE0123456789", v[j]) >= 0 {
				j++
			}
			w.collect(string(v[i:j]))
			i = j - 1
		}
	}
	if w.mask {
		star(v)
	}
}

// stringEnd returns the index of the quote that closes the JSON string
// opening at i, or len(b) when it is not closed.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(b)
}

// jsonValueEnd returns the end (exclusive) of the JSON value starting at i.
func jsonValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return min(stringEnd(b, i)+1, len(b))
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j)
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && strings.IndexByte(",}]\r\n", b[j]) < 0 {
		j++
	}
	return j
}

// jsonString decodes the inside of a JSON string, escapes and all; what
// does not decode is taken as it is.
func jsonString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) == nil {
		return s
	}
	return string(raw)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// ---- XML

// xml masks the content of every element whose local name is secret (text,
// CDATA, comments and child elements alike, up to its own end tag), and
// the values of attributes whose name is secret.
func (w *walker) xml(b []byte) {
	for i := 0; i < len(b); {
		lt := bytes.IndexByte(b[i:], '<')
		if lt < 0 {
			return
		}
		i += lt
		if skip := skipMarkup(b, i); skip > i {
			i = skip
			continue
		}
		nameEnd := i + 1
		for nameEnd < len(b) && !isSpace(b[nameEnd]) && b[nameEnd] != '>' && b[nameEnd] != '/' {
			nameEnd++
		}
		secret := member(w.p, localName(b[i+1:nameEnd]))
		tagEnd, selfClosing := w.attributes(b, nameEnd, secret)
		if !secret || selfClosing {
			i = tagEnd
			continue
		}
		end, next := contentEnd(b, tagEnd)
		w.xmlSecret(b[tagEnd:end])
		i = next
	}
}

// skipMarkup returns where a comment, CDATA section, processing
// instruction, declaration or end tag starting at i ends; i itself when a
// start tag starts there.
func skipMarkup(b []byte, i int) int {
	rest := b[i:]
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		return after(b, i+4, "-->")
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		return after(b, i+9, "]]>")
	case bytes.HasPrefix(rest, []byte("<?")):
		return after(b, i+2, "?>")
	case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("</")):
		return after(b, i+2, ">")
	}
	return i
}

// after returns the index just past the first sep at or after i, or len(b).
func after(b []byte, i int, sep string) int {
	if i > len(b) {
		return len(b)
	}
	j := bytes.Index(b[i:], []byte(sep))
	if j < 0 {
		return len(b)
	}
	return i + j + len(sep)
}

func localName(name []byte) []byte {
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// attributes reads the attributes of a start tag from i, masking secret
// ones (all but namespace declarations and i:nil's true/false when the
// element itself is secret), and returns the index after the tag's '>'.
func (w *walker) attributes(b []byte, i int, secretElement bool) (end int, selfClosing bool) {
	for i < len(b) {
		i = skipSpace(b, i)
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '>':
			return i + 1, false
		case '/':
			if i+1 < len(b) && b[i+1] == '>' {
				return i + 2, true
			}
			i++
			continue
		}
		ns := i
		for i < len(b) && !isSpace(b[i]) && b[i] != '=' && b[i] != '>' && b[i] != '/' {
			i++
		}
		name := b[ns:i]
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '=' {
			continue
		}
		i = skipSpace(b, i+1)
		if i >= len(b) || (b[i] != '"' && b[i] != '\'') {
			continue
		}
		q := b[i]
		vs := i + 1
		ve := vs
		for ve < len(b) && b[ve] != q {
			ve++
		}
		value := b[vs:ve]
		i = ve + 1
		local := localName(name)
		isDecl := bytes.Equal(name, []byte("xmlns")) || bytes.HasPrefix(name, []byte("xmlns:"))
		plainNil := string(local) == "nil" && (string(value) == "true" || string(value) == "false")
		if member(w.p, local) || (secretElement && !isDecl && !plainNil) {
			w.collect(xmlText(value))
			if w.mask {
				star(value)
			}
		}
	}
	return len(b), false
}

// contentEnd finds the end tag that closes the element whose content
// starts at i: it returns where the content ends (the end tag's '<', or
// len(b) when it never comes) and where the end tag ends.
func contentEnd(b []byte, i int) (end, next int) {
	depth := 0
	for i < len(b) {
		lt := bytes.IndexByte(b[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		if bytes.HasPrefix(b[i:], []byte("</")) {
			close := after(b, i+2, ">")
			if depth == 0 {
				return i, close
			}
			depth--
			i = close
			continue
		}
		if skip := skipMarkup(b, i); skip > i {
			i = skip
			continue
		}
		// A child start tag: find its end, minding quoted attribute values.
		j := i + 1
		var q byte
		for j < len(b) && (q != 0 || b[j] != '>') {
			switch {
			case q != 0 && b[j] == q:
				q = 0
			case q == 0 && (b[j] == '"' || b[j] == '\''):
				q = b[j]
			}
			j++
		}
		if j < len(b) && b[j-1] != '/' {
			depth++
		}
		i = j + 1
	}
	return len(b), len(b)
}

// xmlSecret collects the text of a secret element's content (character
// data with entities decoded and CDATA, comments left out, at any depth)
// and masks the content: plain text keeps its ends, anything with markup
// or entities is starred whole.
func (w *walker) xmlSecret(content []byte) {
	var text strings.Builder
	for i := 0; i < len(content); {
		lt := bytes.IndexByte(content[i:], '<')
		if lt < 0 {
			text.WriteString(xmlText(content[i:]))
			break
		}
		text.WriteString(xmlText(content[i : i+lt]))
		i += lt
		if bytes.HasPrefix(content[i:], []byte("<![CDATA[")) {
			end := bytes.Index(content[i+9:], []byte("]]>"))
			if end < 0 {
				text.Write(content[i+9:])
				break
			}
			text.Write(content[i+9 : i+9+end])
			i += 9 + end + 3
			continue
		}
		if skip := skipMarkup(content, i); skip > i {
			i = skip
			continue
		}
		i = after(content, i+1, ">")
	}
	w.collect(text.String())
	if !w.mask {
		return
	}
	if !bytes.ContainsAny(content, "<&") {
		maskSpan(content)
	} else {
		star(content)
	}
}

// xmlText decodes the predefined and numeric character references of
// character data; an unknown reference is kept as it is.
func xmlText(raw []byte) string {
	if bytes.IndexByte(raw, '&') < 0 {
		return string(raw)
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] != '&' {
			b.WriteByte(raw[i])
			continue
		}
		semi := bytes.IndexByte(raw[i:], ';')
		if semi < 0 {
			b.Write(raw[i:])
			break
		}
		ref := string(raw[i+1 : i+semi])
		switch ref {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			var n uint64
			var err error
			switch {
			case strings.HasPrefix(ref, "#x"), strings.HasPrefix(ref, "#X"):
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			case strings.HasPrefix(ref, "#"):
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			default:
				err = strconv.ErrSyntax
			}
			if err != nil {
				b.WriteString("&" + ref + ";")
			} else {
				b.WriteRune(rune(n))
			}
		}
		i += semi
	}
	return b.String()
}

// ---- form and query

// maskPairs masks the values of credential parameters in a query string or
// a form body (name=value pairs joined by & or ;).
func maskPairs(b []byte, p *Policy, collect func(string), mask bool) {
	for start := 0; start < len(b); {
		end := start
		for end < len(b) && b[end] != '&' && b[end] != ';' {
			end++
		}
		pair := b[start:end]
		if eq := bytes.IndexByte(pair, '='); eq >= 0 {
			name, value := pair[:eq], pair[eq+1:]
			if p.Param(unescape(name)) {
				if collect != nil {
					collect(unescape(value))
					collect(string(value))
				}
				if mask {
					star(value)
				}
			}
		}
		start = end + 1
	}
}

func unescape(b []byte) string {
	s, err := url.QueryUnescape(string(b))
	if err != nil {
		return string(b)
	}
	return s
}
