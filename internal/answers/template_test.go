package answers_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/tokenmock/tokenmock/internal/answers"
)

func TestTemplate(t *testing.T) {
	req := answers.Request{
		Body:   map[string]any{"Authentication": map[string]any{"SecurityToken": `a"<&>`, "Nil": nil}, "list": []any{"x", 2.5}, "a/b~c": "escaped"},
		Header: http.Header{"X-Id": {"h<1>"}},
	}
	tests := []struct {
		name, src, media, want string // want is a regexp
	}{
		{"static", `{"a":1}`, "application/json", `^\{"a":1\}$`},
		{"body, JSON escaped", `{"t":"{{body:/Authentication/SecurityToken}}"}`, "application/json", `^\{"t":"a\\"\\u003c\\u0026\\u003e"\}$`},
		{"body, XML escaped", `<t>{{body:/Authentication/SecurityToken}}</t>`, "application/xml", `^<t>a&#34;&lt;&amp;&gt;</t>$`},
		{"null is empty", `<t>{{body:/Authentication/Nil}}</t>`, "application/xml", `^<t></t>$`},
		{"absent is empty", `<t>{{body:/Nope/x}}</t>`, "application/xml", `^<t></t>$`},
		{"array index and number", `{{body:/list/0}}{{body:/list/1}}`, "text/plain", `^x2\.5$`},
		{"escaped pointer", `{{body:/a~1b~0c}}`, "text/plain", `^escaped$`},
		{"header", `<t>{{ header:x-id }}</t>`, "application/xml", `^<t>h&lt;1&gt;</t>$`},
		{"hex", `QSDK {{hex:7}}`, "text/plain", `^QSDK [0-9a-f]{7}$`},
		{"uuid", `{{uuid}}`, "text/plain", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := answers.ParseTemplate(tc.src, tc.media)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tpl.Render(req)); !regexp.MustCompile(tc.want).MatchString(got) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, src := range []string{`{{nope}}`, `{{hex:0}}`, `{{hex:x}}`, `{{body:Authentication}}`, `{{header:}}`, `{{uuid`} {
		if _, err := answers.ParseTemplate(src, "application/json"); err == nil {
			t.Errorf("%s: parsed, want an error", src)
		}
	}
}
