package jsoncodec_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenmock/tokenmock/internal/jsoncodec"
	"github.com/tokenmock/tokenmock/internal/problem"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		rule     string // "" when accepted
		pointer  string
	}{
		{"object", `{"a":{"b":[1,"x",true,null]}}`, "", ""},
		{"whitespace around", " \n{\"a\":1}\n ", "", ""},
		{"duplicate member", `{"a":1,"b":{"c":1,"c":2}}`, "duplicate", "/b/c"},
		{"trailing garbage", `{"a":1} x`, "trailing", ""},
		{"two values", `{}{}`, "trailing", ""},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "encoding", ""},
		{"too deep", strings.Repeat("[", 65) + strings.Repeat("]", 65), "depth", "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"},
		{"64 deep is fine", strings.Repeat("[", 64) + strings.Repeat("]", 64), "", ""},
		{"syntax", `{"a":}`, "syntax", ""},
		{"truncated", `{"a":`, "syntax", ""},
		{"empty", ``, "syntax", ""},
		{"huge number", `{"a":1e999}`, "syntax", "/a"},
		{"escaped pointer", `{"a/b":{"x":1,"x":2}}`, "duplicate", "/a~1b/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jsoncodec.Decode([]byte(tc.in), jsoncodec.Limits{})
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				return
			}
			list, ok := err.(problem.List)
			if !ok {
				t.Fatalf("got %v, want a problem.List", err)
			}
			v := list[0]
			if v.Rule != tc.rule || v.Location != tc.pointer {
				t.Errorf("got %+v, want rule %s at %q", v, tc.rule, tc.pointer)
			}
		})
	}
}

// FuzzDecode: nothing panics, nothing invalid is accepted, and what is
// accepted survives a round trip.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"deviceId":"build-agent-07","sessionId":"QSDK 3f9a"}`,
		`{"Authentication":{"API":null,"AccountId":"1042","Password":null,"SecurityToken":"t","Username":null}}`,
		`{"a":1,"a":2}`, `{"a":1} x`, "{\"a\":\"\xff\"}", strings.Repeat("[", 100), `[1e999]`, `"\ud800"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := jsoncodec.Decode(data, jsoncodec.Limits{})
		if err != nil {
			if _, ok := err.(problem.List); !ok {
				t.Fatalf("error %T %v, want a problem.List", err, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q, cannot marshal %#v: %v", data, v, err)
		}
		if _, err := jsoncodec.Decode(out, jsoncodec.Limits{}); err != nil {
			t.Fatalf("round trip of %q: %v", data, err)
		}
	})
}
