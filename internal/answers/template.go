package answers

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-openapi/jsonpointer"

	"github.com/tokenmock/tokenmock/internal/contract"
)

// Template is a fixture body with placeholders, split once at load time so
// that rendering is a walk over its parts.
//
// Placeholders sit inside string values and are replaced by text escaped
// for the body's media type:
//
//	{{body:/json/pointer}}  a value of the request body (JSON pointer, for
//	                        XML bodies too: /Authentication/SecurityToken)
//	{{header:Name}}         a request header
//	{{hex:N}}               N random hexadecimal digits (1..1024)
//	{{uuid}}                a random UUID (version 4)
//	{{token}}               the token the token lifecycle gives the answer
//	                        (a renewal's new token), in its realm's form
//
// Random placeholders draw from the request's generator (Request.Rand),
// which the server derives from its seed and the request's step: a seed
// replays the same answers.
//
// A missing or null value renders as the empty string.
type Template struct {
	parts  []part
	escape func(*bytes.Buffer, string)
	size   int    // bytes of literal text
	static []byte // the whole body when it has no placeholders
}

type part struct {
	text string // literal text, or the placeholder's argument
	kind string // "" for literal text; "body", "header", "hex", "uuid"
	ptr  []string
	n    int
}

// Request is what placeholders can read of a request.
type Request struct {
	Body   any // the validated body value
	Header http.Header
	Rand   *mrand.Rand // for {{hex}} and {{uuid}}; a random one when nil
	Token  string      // for {{token}}
}

// ParseTemplate splits src into literal text and placeholders.
func ParseTemplate(src, mediaType string) (*Template, error) {
	t := &Template{escape: escaperFor(mediaType)}
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{text: rest})
			}
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("placeholder at byte %d has no closing }}", len(src)-len(rest)+i)
		}
		p, err := parsePlaceholder(strings.TrimSpace(rest[i+2 : i+j]))
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, p)
		rest = rest[i+j+2:]
	}
	for _, p := range t.parts {
		t.size += len(p.text)
	}
	if len(t.parts) == 0 || (len(t.parts) == 1 && t.parts[0].kind == "") {
		t.static = []byte(src)
	}
	return t, nil
}

func parsePlaceholder(s string) (part, error) {
	name, arg, _ := strings.Cut(s, ":")
	switch name {
	case "body":
		if arg != "" && !strings.HasPrefix(arg, "/") {
			return part{}, fmt.Errorf("placeholder {{%s}}: a body pointer starts with /", s)
		}
		ptr, _ := jsonpointer.New(arg) // it starts with /: it parses
		return part{kind: "body", text: arg, ptr: ptr.DecodedTokens()}, nil
	case "header":
		if arg == "" {
			return part{}, fmt.Errorf("placeholder {{%s}}: name the header", s)
		}
		return part{kind: "header", text: http.CanonicalHeaderKey(arg)}, nil
	case "hex":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 1024 {
			return part{}, fmt.Errorf("placeholder {{%s}}: want {{hex:N}} with N from 1 to 1024", s)
		}
		return part{kind: "hex", n: n}, nil
	case "uuid":
		return part{kind: "uuid"}, nil
	case "token":
		return part{kind: "token"}, nil
	}
	return part{}, fmt.Errorf("unknown placeholder {{%s}}: known are body:/pointer, header:Name, hex:N, uuid, token", s)
}

// Random reports whether rendering draws random values ({{hex}},
// {{uuid}}): only then does the caller need to give a generator.
func (t *Template) Random() bool {
	for _, p := range t.parts {
		if p.kind == "hex" || p.kind == "uuid" {
			return true
		}
	}
	return false
}

// Render writes the body for one request.
func (t *Template) Render(r Request) []byte {
	if t.static != nil {
		return t.static
	}
	var b bytes.Buffer
	b.Grow(t.size + 64)
	rng := r.Rand
	for _, p := range t.parts {
		if rng == nil && (p.kind == "hex" || p.kind == "uuid") {
			rng = mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
		}
		switch p.kind {
		case "":
			b.WriteString(p.text)
		case "body":
			v, _ := Lookup(r.Body, p.ptr)
			t.escape(&b, v)
		case "header":
			t.escape(&b, r.Header.Get(p.text))
		case "hex":
			// Mock tokens need to differ and to replay from a seed, not to
			// resist an attacker: a seeded generator, not crypto/rand.
			const digits = "0123456789abcdef"
			for i := 0; i < p.n; i += 16 {
				r := rng.Uint64()
				for j := i; j < min(i+16, p.n); j++ {
					b.WriteByte(digits[r&15])
					r >>= 4
				}
			}
		case "uuid":
			b.WriteString(uuid(rng))
		case "token":
			t.escape(&b, r.Token)
		}
	}
	return b.Bytes()
}

// Lookup follows a JSON pointer into a decoded body and returns the value
// as text; false when it is absent or null.
func Lookup(v any, ptr []string) (string, bool) {
	for _, seg := range ptr {
		switch t := v.(type) {
		case map[string]any:
			v = t[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return "", false
			}
			v = t[i]
		default:
			return "", false
		}
	}
	switch t := v.(type) {
	case nil:
		return "", false
	case string:
		return t, true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

func uuid(rng *mrand.Rand) string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func escaperFor(mediaType string) func(*bytes.Buffer, string) {
	switch {
	case contract.IsJSON(mediaType):
		return func(b *bytes.Buffer, s string) {
			q, _ := json.Marshal(s)
			b.Write(q[1 : len(q)-1])
		}
	case contract.IsXML(mediaType):
		return func(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }
	}
	return func(b *bytes.Buffer, s string) { b.WriteString(s) }
}
