package dashboard

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Pretty indents a JSON or XML body for reading. A body that does not
// parse (cut by the journal, or malformed: it is what the client sent) is
// returned as it is: the page shows bodies, it does not judge them.
func Pretty(body, mediaType string) string {
	trimmed := strings.TrimSpace(body)
	switch {
	case trimmed == "":
		return body
	case strings.Contains(mediaType, "json") || (mediaType == "" && (trimmed[0] == '{' || trimmed[0] == '[')):
		var b bytes.Buffer
		if json.Indent(&b, []byte(trimmed), "", "  ") == nil {
			return b.String()
		}
	case strings.Contains(mediaType, "xml") || (mediaType == "" && trimmed[0] == '<'):
		if s, err := indentXML(trimmed); err == nil {
			return s
		}
	}
	return body
}

// indentXML re-indents XML as written: prefixes, namespaces and attribute
// order are kept (RawToken resolves nothing), and an element that holds
// only text stays on one line.
func indentXML(s string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	var out strings.Builder
	depth := 0
	// open is a start tag not yet closed with '>': its content decides
	// whether it ends on this line (<a/>, <a>text</a>) or not.
	var open *xml.StartElement
	var text string
	// RawToken does not check that end tags match: the stack does.
	var stack []string
	indent := func() {
		if out.Len() > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(strings.Repeat("  ", depth))
	}
	flushOpen := func() {
		if open != nil {
			out.WriteByte('>')
			if text != "" {
				escape(&out, text)
			}
			open, text = nil, ""
		}
	}
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if open != nil {
				flushOpen()
				depth++
			}
			indent()
			out.WriteByte('<')
			out.WriteString(name(t.Name))
			for _, a := range t.Attr {
				out.WriteByte(' ')
				out.WriteString(name(a.Name))
				out.WriteString(`="`)
				escape(&out, a.Value)
				out.WriteByte('"')
			}
			e := t.Copy()
			open = &e
			stack = append(stack, name(t.Name))
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != name(t.Name) {
				return "", errors.New("unbalanced XML")
			}
			stack = stack[:len(stack)-1]
			switch {
			case open != nil && text == "":
				out.WriteString("/>")
				open = nil
			case open != nil:
				flushOpen()
				out.WriteString("</" + name(t.Name) + ">")
			default:
				depth--
				indent()
				out.WriteString("</" + name(t.Name) + ">")
			}
		case xml.CharData:
			if v := strings.TrimSpace(string(t)); v != "" {
				if open != nil {
					text += v
				} else {
					indent()
					escape(&out, v)
				}
			}
		case xml.Comment:
			if open != nil {
				flushOpen()
				depth++
			}
			indent()
			out.WriteString("<!--" + string(t) + "-->")
		case xml.ProcInst:
			indent()
			out.WriteString("<?" + t.Target + " " + string(t.Inst) + "?>")
		case xml.Directive:
			indent()
			out.WriteString("<!" + string(t) + ">")
		}
	}
	if len(stack) != 0 {
		return "", errors.New("unbalanced XML")
	}
	return out.String(), nil
}

func name(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func escape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s))
}
