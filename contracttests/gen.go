package contracttests

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"pgregory.net/rapid"

	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// GenBody draws a valid request body for a media type from its schema:
// optional members present or absent, null where nullable, strings with
// Unicode, markup characters and long values.
func GenBody(t *rapid.T, schema *openapi3.Schema, mediaType string) []byte {
	xmlSafe := contract.IsXML(mediaType)
	v := genValue(t, schema, xmlSafe, "body")
	if xmlSafe {
		b, err := xmlcodec.Encode(v, schema)
		if err != nil {
			t.Fatalf("encode generated value: %v", err)
		}
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal generated value: %v", err)
	}
	return b
}

func genValue(t *rapid.T, s *openapi3.Schema, xmlSafe bool, label string) any {
	if s.Nullable && rapid.IntRange(0, 4).Draw(t, label+" null?") == 0 {
		return nil
	}
	if len(s.Enum) > 0 {
		return rapid.SampledFrom(s.Enum).Draw(t, label)
	}
	switch {
	case isObject(s):
		out := map[string]any{}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			required := false
			for _, r := range s.Required {
				required = required || r == name
			}
			if !required && !rapid.Bool().Draw(t, label+"."+name+" present?") {
				continue
			}
			out[name] = genValue(t, s.Properties[name].Value, xmlSafe, label+"."+name)
		}
		return out
	case s.Type.Is(openapi3.TypeArray):
		n := rapid.IntRange(0, 3).Draw(t, label+" items")
		out := make([]any, n)
		for i := range out {
			out[i] = genValue(t, s.Items.Value, xmlSafe, label+"[]")
		}
		return out
	case s.Type.Is(openapi3.TypeInteger):
		lo, hi := int64(-1<<31), int64(1<<31)
		if s.Min != nil {
			lo = int64(*s.Min)
		}
		if s.Max != nil {
			hi = int64(*s.Max)
		}
		return float64(rapid.Int64Range(lo, hi).Draw(t, label))
	case s.Type.Is(openapi3.TypeNumber):
		return rapid.Float64Range(-1e9, 1e9).Draw(t, label)
	case s.Type.Is(openapi3.TypeBoolean):
		return rapid.Bool().Draw(t, label)
	}
	return genString(t, s, xmlSafe, label)
}

// genString draws strings a client may really send: plain, Unicode,
// markup-heavy, long.
func genString(t *rapid.T, s *openapi3.Schema, xmlSafe bool, label string) string {
	var str string
	switch rapid.IntRange(0, 3).Draw(t, label+" kind") {
	case 0:
		str = rapid.StringMatching(`[A-Za-z0-9 _.-]{0,40}`).Draw(t, label)
	case 1:
		str = rapid.String().Draw(t, label)
	case 2:
		str = rapid.StringOf(rapid.SampledFrom([]rune(`&<>"'; ]]>QSDK é漢字🙂`))).Draw(t, label)
	default:
		str = strings.Repeat(rapid.StringMatching(`[a-f0-9]{1,8}`).Draw(t, label+" unit"), rapid.IntRange(100, 600).Draw(t, label+" repeat"))
	}
	if xmlSafe {
		str = strings.Map(func(r rune) rune {
			// XML 1.0 has no way to carry these characters, and parsers turn
			// \r into \n: a client could not send them either.
			if r == '\r' || (r < 0x20 && r != '\t' && r != '\n') || (r >= 0xFFFE && r <= 0xFFFF) || (r >= 0xD800 && r <= 0xDFFF) {
				return -1
			}
			return r
		}, str)
	}
	if !utf8.ValidString(str) {
		str = strings.ToValidUTF8(str, "")
	}
	if s.MaxLength != nil && uint64(len([]rune(str))) > *s.MaxLength {
		str = string([]rune(str)[:*s.MaxLength])
	}
	for uint64(len([]rune(str))) < s.MinLength {
		str += "x"
	}
	return str
}
