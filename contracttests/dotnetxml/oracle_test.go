package dotnetxml_test

import (
	"encoding/xml"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tokenmock/tokenmock/contracttests/dotnetxml"
)

const (
	nsToken    = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"
	nsMessages = "http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"
	goldenDir  = "../testdata/dotnet"
)

var tokenResponse = xml.Name{Space: nsToken, Local: "TokenResponse"}

func load(t *testing.T) *dotnetxml.Oracle {
	t.Helper()
	o, err := dotnetxml.Load(os.DirFS(goldenDir))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lines(fs []dotnetxml.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return strings.Join(out, "\n")
}

// Every body .NET wrote passes the oracle learnt from all of them, and
// the oracle knows both contracts' document elements.
func TestGoldensPassTheOracle(t *testing.T) {
	o := load(t)
	var roots []string
	for _, r := range o.Roots() {
		roots = append(roots, r.Space+" "+r.Local)
	}
	if got, want := strings.Join(roots, "\n"), nsToken+" TokenRequest\n"+nsToken+" TokenResponse"; got != want {
		t.Errorf("roots:\n%s\nwant\n%s", got, want)
	}
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.xml"))
	if len(files) < 8 {
		t.Fatalf("%d golden bodies, want the 8 make dotnet-golden writes", len(files))
	}
	for _, f := range files {
		body, _ := os.ReadFile(f)
		root, ok := dotnetxml.RootOf(body)
		if !ok {
			t.Fatalf("%s: no document element", f)
		}
		if got := o.Check(body, root); len(got) > 0 {
			t.Errorf("%s fails its own oracle:\n%s", filepath.Base(f), lines(got))
		}
	}
}

// Each way a body can differ from what .NET writes is found, located and
// named; what .NET reads the same (other prefixes, indentation) is not.
func TestFindings(t *testing.T) {
	o := load(t)
	success := golden(t, "TokenResponse.success.xml")
	invalid := golden(t, "TokenResponse.invalid-token.xml")
	const (
		debug  = `<DebugMessage i:nil="true" xmlns="` + nsMessages + `"/>`
		status = `<Status xmlns="` + nsMessages + `">Success</Status>`
		token  = `<SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken>`
		order  = ".NET writes DebugMessage, Errors, Status, SecurityToken in that order (TokenResponse.all-null.xml)"
	)
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"as .NET writes it", success, nil},
		{"other prefixes, indented", `<?xml version="1.0" encoding="utf-8"?>
<t:TokenResponse xmlns:t="` + nsToken + `" xmlns:x="http://www.w3.org/2001/XMLSchema-instance" xmlns:m="` + nsMessages + `">
  <m:DebugMessage x:nil="true"/>
  <m:Errors/>
  <m:Status>Success</m:Status>
  <t:SecurityToken>abc</t:SecurityToken>
</t:TokenResponse>`, nil},
		{"a member moved first", strings.Replace(strings.Replace(success, token, "", 1), debug, token+debug, 1),
			[]string{"/TokenResponse/SecurityToken: written before DebugMessage: " + order + " [dotnet:order]"}},
		{"a member moved last", strings.Replace(strings.Replace(success, debug, "", 1), token, token+debug, 1),
			[]string{"/TokenResponse/DebugMessage: written after SecurityToken: " + order + " [dotnet:order]"}},
		{"a base-class member in the root's namespace", strings.Replace(success, debug, `<DebugMessage i:nil="true"/>`, 1),
			[]string{"/TokenResponse/DebugMessage: in namespace " + nsToken + ", .NET writes it in namespace " + nsMessages + " (TokenResponse.all-null.xml) [dotnet:namespace]"}},
		{"a member in no namespace", strings.Replace(success, token, `<SecurityToken xmlns="">x</SecurityToken>`, 1),
			[]string{"/TokenResponse/SecurityToken: in no namespace, .NET writes it in namespace " + nsToken + " (TokenResponse.all-null.xml) [dotnet:namespace]"}},
		{"an undeclared prefix", strings.Replace(success, debug, `<a:DebugMessage i:nil="true"/>`, 1),
			[]string{"/TokenResponse/DebugMessage: in namespace a, .NET writes it in namespace " + nsMessages + " (TokenResponse.all-null.xml) [dotnet:namespace]"}},
		{"Status as a number", strings.Replace(success, ">Success<", ">1<", 1),
			[]string{`/TokenResponse/Status: "1" is not a name of the enum: .NET writes one of Failure, Success (Nexus.AppSpace.Service.Contract.Messages.xsd) [dotnet:enum]`}},
		{"Status in lower case", strings.Replace(success, ">Success<", ">success<", 1),
			[]string{`/TokenResponse/Status: "success" is not a name of the enum: .NET writes one of Failure, Success (Nexus.AppSpace.Service.Contract.Messages.xsd) [dotnet:enum]`}},
		{"Status nil", strings.Replace(success, status, `<Status i:nil="true" xmlns="`+nsMessages+`"/>`, 1),
			[]string{`/TokenResponse/Status: i:nil="true", but .NET never writes Status as nil: every golden gives it a value (TokenResponse.all-null.xml) [dotnet:nil]`}},
		{"nil without its namespace", strings.Replace(success, token, `<SecurityToken nil="true"/>`, 1),
			[]string{"/TokenResponse/SecurityToken: a nil attribute in no namespace, not in " + dotnetxml.XSI + ": .NET would not read the member as null [dotnet:attribute]"}},
		{"nil false", strings.Replace(success, `i:nil="true"`, `i:nil="false"`, 1),
			[]string{`/TokenResponse/DebugMessage: i:nil="false": .NET writes only i:nil="true" [dotnet:attribute]`}},
		{"nil with content", strings.Replace(success, token, `<SecurityToken i:nil="true">x</SecurityToken>`, 1),
			[]string{`/TokenResponse/SecurityToken: i:nil="true" with content [dotnet:nil]`}},
		{"an unknown member", strings.Replace(success, "</TokenResponse>", "<Unexpected>x</Unexpected></TokenResponse>", 1),
			[]string{"/TokenResponse/Unexpected: TokenResponse has no member Unexpected: .NET writes DebugMessage, Errors, Status, SecurityToken (TokenResponse.all-null.xml) [dotnet:unknown]"}},
		{"a member missing", strings.Replace(success, token, "", 1),
			[]string{`/TokenResponse/SecurityToken: missing: .NET writes every member, an unset one as i:nil="true" (TokenResponse.all-null.xml) [dotnet:missing]`}},
		{"a member twice", strings.Replace(success, status, status+status, 1),
			[]string{"/TokenResponse/Status: Status written again: .NET writes each member once (TokenResponse.all-null.xml) [dotnet:duplicate]"}},
		{"text where a list is", strings.Replace(success, `<Errors xmlns="`+nsMessages+`"/>`, `<Errors xmlns="`+nsMessages+`">none</Errors>`, 1),
			[]string{`/TokenResponse/Errors: text "none" where .NET writes only elements (TokenResponse.all-null.xml) [dotnet:text]`}},
		{"an element where text is", strings.Replace(success, ">Success<", "><Name>Success</Name><", 1),
			[]string{"/TokenResponse/Status: element Name where .NET writes text (TokenResponse.all-null.xml) [dotnet:text]"}},
		{"an error's members swapped", strings.Replace(invalid, `<Code>InvalidToken</Code><Message>The security token is not valid.</Message>`, `<Message>The security token is not valid.</Message><Code>InvalidToken</Code>`, 1),
			[]string{"/TokenResponse/Errors/Error[1]/Code: written after Message: .NET writes Code, Message, StackTrace in that order (TokenResponse.invalid-token.xml) [dotnet:order]"}},
		{"a second error's member missing", strings.Replace(golden(t, "TokenResponse.two-errors.xml"), `<Code>TokenExpired</Code>`, ``, 1),
			[]string{`/TokenResponse/Errors/Error[2]/Code: missing: .NET writes every member, an unset one as i:nil="true" (TokenResponse.invalid-token.xml) [dotnet:missing]`}},
		{"another attribute", strings.Replace(success, "<SecurityToken>", `<SecurityToken i:type="string">`, 1),
			[]string{"/TokenResponse/SecurityToken: attribute {" + dotnetxml.XSI + "}type: .NET writes none here [dotnet:attribute]"}},
		{"a wrong document element", strings.ReplaceAll(success, "TokenResponse", "TokenResult"),
			[]string{"/TokenResult: document element {" + nsToken + "}TokenResult, .NET writes {" + nsToken + "}TokenResponse (TokenResponse.all-null.xml) [dotnet:root]"}},
		{"the document element in no namespace", strings.Replace(success, `xmlns="`+nsToken+`" `, "", 1),
			[]string{"/TokenResponse: document element TokenResponse, .NET writes {" + nsToken + "}TokenResponse (TokenResponse.all-null.xml) [dotnet:root]"}},
		{"cut short", success[:len(success)/2],
			[]string{"(document): line 1, column 287: XML syntax error on line 1: unexpected EOF [dotnet:syntax]"}},
		{"a DOCTYPE", `<!DOCTYPE TokenResponse>` + success,
			[]string{"(document): <!DOCTYPE TokenResponse>: .NET writes no DOCTYPE [dotnet:doctype]"}},
		{"text after the document element", success + "trailing",
			[]string{`(document): text "trailing" outside the document element [dotnet:syntax]`}},
		{"a second document element", success + success,
			[]string{"(document): a second document element TokenResponse [dotnet:syntax]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(o.Check([]byte(tc.body), tokenResponse))
			if want := strings.Join(tc.want, "\n"); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// Goldens that disagree with each other, or with the schema .NET
// exported, stop the oracle from loading: it cannot judge by them.
func TestLoadRefusesGoldensThatDisagree(t *testing.T) {
	schema := []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:a" targetNamespace="urn:a" elementFormDefault="qualified">
  <xs:complexType name="R"><xs:sequence><xs:element name="S" type="tns:S"/></xs:sequence></xs:complexType>
  <xs:simpleType name="S"><xs:restriction base="xs:string"><xs:enumeration value="On"/><xs:enumeration value="Off"/></xs:restriction></xs:simpleType>
</xs:schema>`)
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"no bodies", fstest.MapFS{}, "no golden bodies (*.xml)"},
		{"two orders", fstest.MapFS{
			"R.a.xml": {Data: []byte(`<R xmlns="urn:a"><A/><B/></R>`)},
			"R.b.xml": {Data: []byte(`<R xmlns="urn:a"><B/><A/></R>`)},
		}, "golden R.b.xml: under R: members in another order than other goldens: B before A"},
		{"two namespaces", fstest.MapFS{
			"R.a.xml": {Data: []byte(`<R xmlns="urn:a"><A>x</A></R>`)},
			"R.b.xml": {Data: []byte(`<R xmlns="urn:a"><A xmlns="urn:b">x</A></R>`)},
		}, "golden R.b.xml: A in namespace urn:b, another golden (R.a.xml) has it in urn:a"},
		{"an enum value the schema does not name", fstest.MapFS{
			"R.a.xml":  {Data: []byte(`<R xmlns="urn:a"><S>Maybe</S></R>`)},
			"a.xsd":    {Data: schema},
			"R.b.xml":  {Data: []byte(`<R xmlns="urn:a"><S>On</S></R>`)},
			"README":   {Data: []byte("not read")},
			"R.c.json": {Data: []byte("{}")},
		}, `/R/S: a golden writes "Maybe", not one of the enum's names in a.xsd (On, Off)`},
		{"a body not well-formed", fstest.MapFS{"R.a.xml": {Data: []byte(`<R xmlns="urn:a"><S>`)}},
			"golden R.a.xml: (document): line 1, column 21: XML syntax error on line 1: unexpected EOF [dotnet:syntax]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dotnetxml.Load(tc.files)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

// The oracle is independent of the mock by construction: it imports the
// standard library only, so neither the mock's XML decoder
// (mockserver/xmlcodec), nor etree under it, nor the spec can reach it.
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.GoFiles) == 0 {
		t.Fatal("no Go files")
	}
	for _, imp := range pkg.Imports {
		p, err := build.Import(imp, "", build.FindOnly)
		if err != nil || !p.Goroot {
			t.Errorf("the oracle imports %s, outside the standard library", imp)
		}
	}
}

// A list's items come together; learnt from goldens that repeat a member.
func TestListItemsTogether(t *testing.T) {
	o, err := dotnetxml.Load(fstest.MapFS{
		"R.a.xml": {Data: []byte(`<R xmlns="urn:a"><A>1</A><A>2</A><B>x</B></R>`)},
		"R.b.xml": {Data: []byte(`<R xmlns="urn:a"><B>x</B></R>`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	root := xml.Name{Space: "urn:a", Local: "R"}
	for body, want := range map[string]string{
		`<R xmlns="urn:a"><B>x</B></R>`:                         "",
		`<R xmlns="urn:a"><A>1</A><A>2</A><A>3</A><B>x</B></R>`: "",
		`<R xmlns="urn:a"><A>1</A><B>x</B><A>2</A></R>`:         "/R/A[2]: an item of R apart from the others: .NET writes a list's items together [dotnet:order]",
		`<R xmlns="urn:a"><A>1</A></R>`:                         `/R/B: missing: .NET writes every member, an unset one as i:nil="true" (R.a.xml) [dotnet:missing]`,
	} {
		if got := lines(o.Check([]byte(body), root)); got != want {
			t.Errorf("%s:\ngot  %s\nwant %s", body, got, want)
		}
	}
}
