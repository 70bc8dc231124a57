package strictyaml_test

import (
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/internal/strictyaml"
)

type answer struct {
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers"`
	Body    map[string]string `yaml:"body"`
}

type file struct {
	Answers map[string]answer `yaml:"answers"`
	Names   []string          `yaml:"names"`
	Rate    float64           `yaml:"rate"`
	When    *struct {
		Equals *string `yaml:"equals"`
	} `yaml:"when"`
}

func TestDecodeNamesMistakesForAPerson(t *testing.T) {
	// 20 answers, so that the mis-indented line sits far below the start
	// of its block.
	var long strings.Builder
	long.WriteString("answers:\n")
	for i := range 20 {
		long.WriteString("  a" + string(rune('a'+i)) + ":\n    status: 200\n")
	}
	long.WriteString("  bad:\n    status: 200\n   body: {}\n")

	tests := []struct {
		name, doc string
		want      []string // each a whole line of the error
	}{
		{"unknown field", "answers:\n  default:\n    statuss: 200\n",
			[]string{"f.yaml: line 3: answers.default: unknown field statuss (known: status, headers, body)"}},
		{"two mistakes, two lines", "answers:\n  a: {statuss: 1}\n  b: {status: many}\n",
			[]string{"f.yaml: line 2: answers.a: unknown field statuss (known: status, headers, body)",
				`f.yaml: line 3: answers.b.status: want a whole number, not "many"`}},
		{"a mapping where a text goes", "answers:\n  a:\n    body:\n      application/json: {token: x}\n",
			[]string{"f.yaml: line 4: answers.a.body.application/json: want a text, not a mapping"}},
		{"a text where a list goes", "names: a\n",
			[]string{`f.yaml: line 1: names: want a list ([a, b] or lines starting with -), not "a"`}},
		{"a text where a mapping goes", "answers: yes\n",
			[]string{`f.yaml: line 1: answers: want a mapping, not "yes"`}},
		{"unknown top-level field", "answer: {}\n",
			[]string{"f.yaml: line 1: unknown field answer (known: answers, names, rate, when)"}},
		{"mis-indented line far down", long.String(),
			[]string{"f.yaml: line 44: this line does not fit the block that starts at line 2: check its indentation"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f file
			err := strictyaml.Decode([]byte(tc.doc), "f.yaml", &f)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", err, strings.Join(tc.want, "\n"))
			}
			if strings.Contains(err.Error(), "struct") || strings.Contains(err.Error(), "map[") {
				t.Errorf("a Go type name leaks: %s", err)
			}
		})
	}
}

func TestDecodeReadsValidFiles(t *testing.T) {
	var f file
	doc := "answers:\n  default:\n    status: 200\n    headers: {Retry-After: '1'}\n    body:\n      application/json: '{}'\nnames: [a, b]\nrate: 0.5\nwhen: {equals: 5}\n"
	if err := strictyaml.Decode([]byte(doc), "f.yaml", &f); err != nil {
		t.Fatal(err)
	}
	a := f.Answers["default"]
	if a.Status != 200 || a.Headers["Retry-After"] != "1" || a.Body["application/json"] != "{}" || len(f.Names) != 2 || f.Rate != 0.5 || *f.When.Equals != "5" {
		t.Errorf("got %+v", f)
	}
	var empty file
	if err := strictyaml.Decode(nil, "f.yaml", &empty); err != nil || empty.Answers != nil {
		t.Errorf("empty document: %v, %+v", err, empty)
	}
}
