// Package strictyaml reads the mock's own YAML files (fixtures, scenarios)
// into structs for a person to correct: every field the struct does not
// know and every value of the wrong kind is reported with its line, its
// place in the file and what is expected there, never with Go's type names.
package strictyaml

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// Decode reads data into v, a pointer to a struct whose fields carry yaml
// tags. where names the file in messages. Every mistake is reported, each
// as "where: line N: place: what is wrong"; an empty document leaves v as
// it is.
func Decode(data []byte, where string, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %s", where, syntax(err))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	c := &checker{where: where}
	c.check(doc.Content[0], reflect.TypeOf(v).Elem(), "")
	if len(c.errs) > MaxErrors {
		c.errs = append(c.errs[:MaxErrors], fmt.Errorf("%s: and %d more mistakes", where, len(c.errs)-MaxErrors))
	}
	if len(c.errs) > 0 {
		return errors.Join(c.errs...)
	}
	if err := doc.Content[0].Decode(v); err != nil {
		// Left for Decode after the checks: values out of range, such
		// as a status of 1e30.
		return fmt.Errorf("%s: %s", where, syntax(err))
	}
	return nil
}

// syntax words a parse error of the YAML library with the line where the
// parser found the problem; the library's own message gives the line where
// the enclosing block starts, often far above.
func syntax(err error) string {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		msg := le.Message
		if msg == "did not find expected key" && le.ContextMark.Line > 0 {
			msg = fmt.Sprintf("this line does not fit the block that starts at line %d: check its indentation", le.ContextMark.Line)
		}
		return fmt.Sprintf("line %d: %s", le.Mark.Line, msg)
	}
	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 0 {
		parts := make([]string, len(les.Errors))
		for i, e := range les.Errors {
			parts[i] = fmt.Sprintf("line %d: %s", e.Mark.Line, e.Message)
		}
		return strings.Join(parts, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

type checker struct {
	where string
	errs  []error
}

func (c *checker) fail(n *yaml.Node, place, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if place != "" {
		msg = place + ": " + msg
	}
	c.errs = append(c.errs, fmt.Errorf("%s: line %d: %s", c.where, n.Line, msg))
}

// check compares a node with the Go type it is to be read into.
func (c *checker) check(n *yaml.Node, t reflect.Type, place string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value: the zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.fail(n, place, "want a mapping of %s, not %s", strings.Join(fieldNames(t), ", "), describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			f, ok := field(t, key.Value)
			if !ok {
				c.fail(key, place, "unknown field %s (known: %s)", keyName(key.Value), strings.Join(fieldNames(t), ", "))
				continue
			}
			c.check(val, f.Type, join(place, key.Value))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.fail(n, place, "want a mapping, not %s", describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode {
				c.fail(key, place, "want a name as key, not %s", describe(key))
				continue
			}
			c.check(val, t.Elem(), join(place, key.Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.fail(n, place, "want a list ([a, b] or lines starting with -), not %s", describe(n))
			return
		}
		for i, item := range n.Content {
			c.check(item, t.Elem(), fmt.Sprintf("%s[%d]", place, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.fail(n, place, "want a text, not %s", describe(n))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			c.fail(n, place, "want a whole number, not %s", describe(n))
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			c.fail(n, place, "want a number, not %s", describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			c.fail(n, place, "want true or false, not %s", describe(n))
		}
	}
}

func join(place, key string) string {
	key = cut(key)
	if place == "" {
		return key
	}
	return place + "." + key
}

// A file that is not what it should be (a link to /etc/shadow, a file of
// a pull request) must not come back whole in the messages about it: at
// most MaxErrors mistakes per file, keys named only when they look like
// names, values and keys quoted cut to QuoteMax bytes.
const (
	MaxErrors = 10
	QuoteMax  = 40
)

// keyName names an unknown key: as it is when it looks like a name (a
// typo to correct), else only by its size.
func keyName(key string) string {
	if len(key) <= QuoteMax && isName(key) {
		return key
	}
	return fmt.Sprintf("(a key of %d bytes that is no name)", len(key))
}

func isName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return s != ""
}

// cut shortens a key or value quoted in a message, on a UTF-8 boundary.
func cut(s string) string {
	if len(s) <= QuoteMax {
		return s
	}
	n := QuoteMax
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// describe names what a node holds, for a person.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", cut(n.Value))
}

// field finds the struct field a YAML key names.
func field(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range fields(t) {
		if name(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldNames lists the keys a struct accepts, in its order.
func fieldNames(t reflect.Type) []string {
	var out []string
	for f := range fields(t) {
		out = append(out, name(f))
	}
	return slices.Compact(out)
}

func fields(t reflect.Type) func(func(reflect.StructField) bool) {
	return func(yield func(reflect.StructField) bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && f.Tag.Get("yaml") != "-" && !yield(f) {
				return
			}
		}
	}
}

func name(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if n == "" {
		return strings.ToLower(f.Name)
	}
	return n
}
