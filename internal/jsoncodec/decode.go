// Package jsoncodec decodes JSON request and answer bodies for kin-openapi
// more strictly than encoding/json does: invalid UTF-8, a member given
// twice, content after the value, and nesting deeper than a limit are each
// reported as a violation with its place, instead of being accepted
// silently (duplicates, bad UTF-8) or reported without one.
package jsoncodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-openapi/jsonpointer"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/tokenmock/tokenmock/internal/problem"
)

// DefaultMaxDepth is deeper than any body of the token APIs.
const DefaultMaxDepth = 64

// Limits bound the work a hostile document can cause.
type Limits struct {
	MaxDepth int // nesting of objects and arrays; 0 means DefaultMaxDepth
}

// NewBodyDecoder returns an openapi3filter.BodyDecoder with the limits.
func NewBodyDecoder(lim Limits) openapi3filter.BodyDecoder {
	return func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		data, err := readAll(body)
		if err != nil {
			return nil, fmt.Errorf("read json body: %w", err)
		}
		return Decode(data, lim)
	}
}

// Decode parses one JSON value into map[string]any, []any, string,
// float64, bool or nil, the forms kin-openapi validates. Its error is a
// problem.List, each violation located by JSON pointer and named by its
// rule (encoding, syntax, depth, duplicate, trailing).
func Decode(data []byte, lim Limits) (any, error) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	// The fast path: a scan that counts members and nesting without
	// allocating, then encoding/json. When the scan and the decoded value
	// agree (no member lost to a duplicate) and nothing failed, the value
	// is the answer; otherwise the token-by-token path below says why.
	if keys, ok := scan(data, lim.MaxDepth); ok && utf8.Valid(data) {
		var v any
		if json.Unmarshal(data, &v) == nil && countKeys(v) == keys {
			return v, nil
		}
	}
	d := &decoder{lim: lim}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		d.add("", "encoding", fmt.Sprintf("the body is not valid UTF-8 (byte %d)", i))
		return nil, d.err()
	}
	d.dec = json.NewDecoder(bytes.NewReader(data))
	d.dec.UseNumber()
	v, ok := d.value("", 0)
	if !ok {
		return nil, d.err()
	}
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		d.add("", "trailing", fmt.Sprintf("content after the JSON value, at byte %d", d.dec.InputOffset()))
	}
	if d.violations.Len() > 0 {
		return v, d.err()
	}
	return v, nil
}

// decoder collects violations: at most problem.MaxViolations are kept
// and the rest counted.
type decoder struct {
	dec        *json.Decoder
	lim        Limits
	violations problem.Collector
}

func (d *decoder) add(ptr, rule, detail string) {
	d.violations.Add(ptr, rule, detail)
}

func (d *decoder) err() error {
	return d.violations.Err()
}

// syntax records a syntax error; it ends decoding.
func (d *decoder) syntax(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		d.add("", "syntax", "the body ends before the JSON value does")
		return
	}
	msg := strings.TrimPrefix(err.Error(), "invalid character ")
	if se, ok := err.(*json.SyntaxError); ok {
		d.add("", "syntax", fmt.Sprintf("not valid JSON at byte %d: %s", se.Offset, msg))
		return
	}
	d.add("", "syntax", "not valid JSON: "+err.Error())
}

// value reads one value; false when decoding cannot go on.
func (d *decoder) value(ptr string, depth int) (any, bool) {
	tok, err := d.dec.Token()
	if err != nil {
		d.syntax(err)
		return nil, false
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth+1 > d.lim.MaxDepth {
			d.add(ptr, "depth", fmt.Sprintf("objects and arrays nest deeper than the limit of %d", d.lim.MaxDepth))
			return nil, false
		}
		if t == '{' {
			return d.object(ptr, depth+1)
		}
		return d.array(ptr, depth+1)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			// The number itself is not quoted: it may be a credential.
			d.add(ptr, "syntax", fmt.Sprintf("a number of %d digits is out of the range of a 64-bit float", len(t)))
			return nil, false
		}
		return f, true
	}
	return tok, true // string, bool, nil
}

func (d *decoder) object(ptr string, depth int) (any, bool) {
	out := map[string]any{}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			d.syntax(err)
			return nil, false
		}
		key, _ := tok.(string)
		kptr := ptr + "/" + jsonpointer.Escape(key)
		v, ok := d.value(kptr, depth)
		if !ok {
			return nil, false
		}
		if _, dup := out[key]; dup {
			d.add(kptr, "duplicate", fmt.Sprintf("member %s appears more than once", strconv.Quote(problem.Cut(key, problem.QuoteMax))))
			continue
		}
		out[key] = v
	}
	if _, err := d.dec.Token(); err != nil { // the closing brace
		d.syntax(err)
		return nil, false
	}
	return out, true
}

func (d *decoder) array(ptr string, depth int) (any, bool) {
	out := []any{}
	for i := 0; d.dec.More(); i++ {
		v, ok := d.value(ptr+"/"+strconv.Itoa(i), depth)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	if _, err := d.dec.Token(); err != nil {
		d.syntax(err)
		return nil, false
	}
	return out, true
}

// scan counts the object members of a JSON document and checks its
// nesting against maxDepth. It does not validate: encoding/json does.
func scan(data []byte, maxDepth int) (keys int, ok bool) {
	stack := make([]byte, 0, 16)
	expectKey := false
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			if expectKey {
				keys++
				expectKey = false
			}
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if len(stack) >= maxDepth {
				return 0, false
			}
			stack = append(stack, data[i])
			expectKey = data[i] == '{'
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
		}
	}
	return keys, true
}

// countKeys counts the members of every object in a decoded value.
func countKeys(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := len(t)
		for _, e := range t {
			n += countKeys(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range t {
			n += countKeys(e)
		}
		return n
	}
	return 0
}

// readAll reads a body; from a *bytes.Buffer (what the server hands over)
// it takes the bytes as they are, without a copy.
func readAll(r io.Reader) ([]byte, error) {
	if b, ok := r.(*bytes.Buffer); ok {
		return b.Bytes(), nil
	}
	return io.ReadAll(r)
}

// DecodeStrict decodes data into v as strictly as a request body: one
// value, valid UTF-8, no member twice, nothing after the value, and no
// member v does not have. For the admin API's bodies.
func DecodeStrict(data []byte, v any) error {
	if _, err := Decode(data, Limits{}); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
