package xmlcodec_test

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/getkin/kin-openapi/openapi3"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

const (
	nsToken    = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"
	nsMessages = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"
)

var (
	docOnce sync.Once
	doc     *openapi3.T
	docErr  error
)

// schema returns a component schema of the embedded openapi.yaml.
func schema(t testing.TB, name string) *openapi3.Schema {
	t.Helper()
	docOnce.Do(func() { doc, docErr = openapi3.NewLoader().LoadFromData(tokenmock.Spec) })
	if docErr != nil {
		t.Fatalf("load spec: %v", docErr)
	}
	ref := doc.Components.Schemas[name]
	if ref == nil {
		t.Fatalf("spec has no schema %s", name)
	}
	return ref.Value
}

// The seed's request, exactly as the vendor's page prints it.
const seedRequest = `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">
    <AccountId>String</AccountId>
    <SecurityToken>String</SecurityToken>
  </Authentication>
</TokenRequest>`

func TestDecodeAccepts(t *testing.T) {
	s := schema(t, "TokenRequest")
	tests := []struct {
		name string
		doc  string
		want map[string]any // members of Authentication
	}{
		{"seed pretty", seedRequest, map[string]any{"AccountId": "String", "SecurityToken": "String"}},
		{"seed single line", strings.NewReplacer("\n", "", "  ", "").Replace(seedRequest), map[string]any{"AccountId": "String", "SecurityToken": "String"}},
		{"xml declaration", `<?xml version="1.0" encoding="utf-8"?>` + seedRequest, map[string]any{"AccountId": "String", "SecurityToken": "String"}},
		{"prefixed namespaces", `<t:TokenRequest xmlns:t="` + nsToken + `" xmlns:m="` + nsMessages + `"><m:Authentication><m:AccountId>42</m:AccountId></m:Authentication></t:TokenRequest>`,
			map[string]any{"AccountId": "42"}},
		{"prefix declared on the member, as WCF writes", `<TokenRequest xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><a:Authentication xmlns:a="` + nsMessages + `"><a:API i:nil="true"/><a:AccountId>1042</a:AccountId><a:Password i:nil="true"/><a:SecurityToken>tok</a:SecurityToken><a:Username i:nil="true"/></a:Authentication></TokenRequest>`,
			map[string]any{"API": nil, "AccountId": "1042", "Password": nil, "SecurityToken": "tok", "Username": nil}},
		{"empty element is the empty string", `<TokenRequest xmlns="` + nsToken + `"><Authentication xmlns="` + nsMessages + `"><AccountId/></Authentication></TokenRequest>`,
			map[string]any{"AccountId": ""}},
		{"escaped text and CDATA", `<TokenRequest xmlns="` + nsToken + `"><Authentication xmlns="` + nsMessages + `"><AccountId>a&amp;b&lt;c</AccountId><SecurityToken><![CDATA[x<y]]></SecurityToken></Authentication></TokenRequest>`,
			map[string]any{"AccountId": "a&b<c", "SecurityToken": "x<y"}},
		{"UTF-8 byte order mark", "\xEF\xBB\xBF" + `<?xml version="1.0" encoding="utf-8"?>` + seedRequest, map[string]any{"AccountId": "String", "SecurityToken": "String"}},
		{"UTF-16LE with byte order mark", utf16le(`<?xml version="1.0" encoding="utf-16"?>` + seedRequest), map[string]any{"AccountId": "String", "SecurityToken": "String"}},
		{"UTF-16BE with byte order mark", utf16be(`<?xml version="1.0" encoding="utf-16"?>` + seedRequest), map[string]any{"AccountId": "String", "SecurityToken": "String"}},
		{"comments are ignored", `<!-- c --><TokenRequest xmlns="` + nsToken + `"><!-- c --><Authentication xmlns="` + nsMessages + `"><AccountId>1</AccountId></Authentication></TokenRequest>`,
			map[string]any{"AccountId": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := xmlcodec.Decode([]byte(tc.doc), s, xmlcodec.Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			auth, ok := v.(map[string]any)["Authentication"].(map[string]any)
			if !ok {
				t.Fatalf("got %#v, want an Authentication object", v)
			}
			if len(auth) != len(tc.want) {
				t.Errorf("got members %v, want %v", auth, tc.want)
			}
			for k, want := range tc.want {
				if got, ok := auth[k]; !ok || got != want {
					t.Errorf("Authentication.%s: got %#v, want %#v", k, got, want)
				}
			}
			if err := s.VisitJSON(v); err != nil {
				t.Errorf("decoded value does not validate: %v", err)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	s := schema(t, "TokenRequest")
	auth := func(inner string) string {
		return `<TokenRequest xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Authentication xmlns="` + nsMessages + `">` + inner + `</Authentication></TokenRequest>`
	}
	tests := []struct {
		name     string
		doc      string
		path     string // the violation's location
		rule     string
		contains string
	}{
		{"wrong namespace on the root", `<TokenRequest xmlns="` + nsMessages + `"><Authentication xmlns="` + nsMessages + `"/></TokenRequest>`, "/TokenRequest", "namespace", nsToken},
		{"no namespace on the root", `<TokenRequest><Authentication/></TokenRequest>`, "/TokenRequest", "namespace", "(none)"},
		{"wrong root element", `<TokenResponse xmlns="` + nsToken + `"/>`, "/TokenResponse", "root", "TokenRequest"},
		{"Authentication in the root's namespace", `<TokenRequest xmlns="` + nsToken + `"><Authentication><AccountId>1</AccountId></Authentication></TokenRequest>`, "/TokenRequest/Authentication", "namespace", nsMessages},
		{"Authentication in no namespace", `<t:TokenRequest xmlns:t="` + nsToken + `"><Authentication/></t:TokenRequest>`, "/TokenRequest/Authentication", "namespace", "(none)"},
		{"member in the wrong namespace", auth(`<AccountId xmlns="` + nsToken + `">1</AccountId>`), "/TokenRequest/Authentication/AccountId", "namespace", nsMessages},
		{"unknown element", auth(`<AccountId>1</AccountId><Colour>red</Colour>`), "/TokenRequest/Authentication/Colour", "unknown", "not a member"},
		{"members out of order", auth(`<SecurityToken>t</SecurityToken><AccountId>1</AccountId>`), "/TokenRequest/Authentication/AccountId", "order", "must come before SecurityToken"},
		{"API after AccountId (ordinal order)", auth(`<AccountId>1</AccountId><API>k</API>`), "/TokenRequest/Authentication/API", "order", "must come before AccountId"},
		{"duplicate member", auth(`<AccountId>1</AccountId><AccountId>2</AccountId>`), "/TokenRequest/Authentication/AccountId", "duplicate", "twice"},
		{"element inside a string member", auth(`<AccountId><x/></AccountId>`), "/TokenRequest/Authentication/AccountId/x", "unknown", "holds a value"},
		{"text among members", auth(`oops<AccountId>1</AccountId>`), "/TokenRequest/Authentication", "text", "oops"},
		{"unexpected attribute", auth(`<AccountId id="3">1</AccountId>`), "/TokenRequest/Authentication/AccountId", "attribute", "id"},
		{"bad i:nil", auth(`<AccountId i:nil="yes"/>`), "/TokenRequest/Authentication/AccountId", "nil", "yes"},
		{"nil element with content", auth(`<AccountId i:nil="true">1</AccountId>`), "/TokenRequest/Authentication/AccountId", "nil", "empty"},
		{"undeclared prefix", `<TokenRequest xmlns="` + nsToken + `"><m:Authentication/></TokenRequest>`, "/TokenRequest/Authentication", "namespace", "not declared"},
		{"malformed", `<TokenRequest xmlns="` + nsToken + `"><Authentication>`, "", "syntax", "not well-formed"},
		{"not xml at all", `{"Authentication":{}}`, "", "syntax", ""},
		{"empty", ``, "", "syntax", "no document element"},
		{"two roots", `<TokenRequest xmlns="` + nsToken + `"/><TokenRequest xmlns="` + nsToken + `"/>`, "/TokenRequest", "syntax", "second document element"},
		{"text after the root", `<TokenRequest xmlns="` + nsToken + `"/>junk`, "", "syntax", "outside"},
		{"doctype", `<!DOCTYPE TokenRequest [<!ENTITY x "y">]><TokenRequest xmlns="` + nsToken + `"/>`, "", "doctype", "DOCTYPE"},
		{"invalid UTF-8", xmlAuthDoc("<AccountId>\xff\xfe</AccountId>"), "", "encoding", "not valid UTF-8"},
		{"utf-16 declared", `<?xml version="1.0" encoding="utf-16"?><TokenRequest xmlns="` + nsToken + `"/>`, "", "encoding", "utf-16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xmlcodec.Decode([]byte(tc.doc), s, xmlcodec.Limits{})
			list, ok := err.(problem.List)
			if !ok {
				t.Fatalf("got error %v (%T), want a problem.List", err, err)
			}
			for _, v := range list {
				if v.Location == tc.path && v.Rule == tc.rule && strings.Contains(v.Detail, tc.contains) {
					return
				}
			}
			t.Errorf("got %v, want a %q violation at %q mentioning %q", list, tc.rule, tc.path, tc.contains)
		})
	}
}

// Structural rules go to the decoder; the rest (required, nullable, types of
// JSON values) to kin-openapi's schema validation, as for JSON bodies.
func TestDecodedValueMeetsSchemaRules(t *testing.T) {
	s := schema(t, "TokenRequest")
	tests := []struct {
		name, doc, field string
	}{
		{"missing Authentication", `<TokenRequest xmlns="` + nsToken + `"/>`, "required"},
		{"Authentication nil", `<TokenRequest xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Authentication xmlns="` + nsMessages + `" i:nil="true"/></TokenRequest>`, "nullable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := xmlcodec.Decode([]byte(tc.doc), s, xmlcodec.Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			err = s.VisitJSON(v)
			se, ok := err.(*openapi3.SchemaError)
			if !ok {
				t.Fatalf("got %v, want a SchemaError", err)
			}
			if se.SchemaField != tc.field {
				t.Errorf("got rule %q, want %q", se.SchemaField, tc.field)
			}
		})
	}
}

func TestDecodeCollectsAllViolations(t *testing.T) {
	s := schema(t, "TokenRequest")
	doc := `<TokenRequest xmlns="` + nsToken + `"><Authentication xmlns="` + nsMessages + `"><SecurityToken>t</SecurityToken><AccountId>1</AccountId><Colour/></Authentication><Extra/></TokenRequest>`
	_, err := xmlcodec.Decode([]byte(doc), s, xmlcodec.Limits{})
	list, ok := err.(problem.List)
	if !ok {
		t.Fatalf("got %v, want a problem.List", err)
	}
	if got := len(list); got != 3 {
		t.Errorf("got %d violations %v, want 3 (order, unknown Colour, unknown Extra)", got, list)
	}
}

func TestDecodeTypes(t *testing.T) {
	s := schema(t, "Problem")
	doc := `<problem xmlns="urn:ietf:rfc:7807"><title>Bad Request</title><status>four</status></problem>`
	_, err := xmlcodec.Decode([]byte(doc), s, xmlcodec.Limits{})
	if err == nil || !strings.Contains(err.Error(), `"four" is not an integer`) {
		t.Fatalf("got %v, want a type violation for status", err)
	}
	v, err := xmlcodec.Decode([]byte(`<problem xmlns="urn:ietf:rfc:7807"><title>Bad Request</title><status>400</status></problem>`), s, xmlcodec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(map[string]any)["status"]; got != float64(400) {
		t.Errorf("status: got %#v, want 400", got)
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	s := schema(t, "TokenRequest")
	doc := `<TokenRequest xmlns="` + nsToken + `">` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</TokenRequest>`
	_, err := xmlcodec.Decode([]byte(doc), s, xmlcodec.Limits{MaxDepth: 10})
	if err == nil || !strings.Contains(err.Error(), "limit of 10") {
		t.Fatalf("got %v, want the depth limit named", err)
	}
}

func TestPath(t *testing.T) {
	s := schema(t, "TokenResponseXml")
	tests := []struct {
		ptr  []string
		want string
	}{
		{nil, "/TokenResponse"},
		{[]string{"Status"}, "/TokenResponse/Status"},
		{[]string{"Errors", "0", "Code"}, "/TokenResponse/Errors/Error[1]/Code"},
		{[]string{"Nope", "x"}, "/TokenResponse/Nope/x"},
	}
	for _, tc := range tests {
		if got := xmlcodec.Path(s, tc.ptr); got != tc.want {
			t.Errorf("Path(%v): got %s, want %s", tc.ptr, got, tc.want)
		}
	}
}

func utf16le(s string) string {
	out := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return string(out)
}

func utf16be(s string) string {
	out := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return string(out)
}

func xmlAuthDoc(inner string) string {
	return `<TokenRequest xmlns="` + nsToken + `"><Authentication xmlns="` + nsMessages + `">` + inner + `</Authentication></TokenRequest>`
}
