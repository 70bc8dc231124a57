package xmlcodec_test

import (
	"testing"

	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// FuzzDecode: no input panics or hangs the decoder, and whatever it
// accepts it can write back and read again.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		seedRequest,
		`<TokenRequest xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><a:Authentication xmlns:a="` + nsMessages + `"><a:API i:nil="true"/><a:AccountId>1042</a:AccountId></a:Authentication></TokenRequest>`,
		`<TokenResponse xmlns="` + nsToken + `" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DebugMessage xmlns="` + nsMessages + `" i:nil="true"/><Errors xmlns="` + nsMessages + `"><Error><Code>c</Code></Error></Errors><Status xmlns="` + nsMessages + `">Success</Status><SecurityToken>t</SecurityToken></TokenResponse>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`,
		"\xFF\xFE<\x00a\x00/\x00>\x00",
		"\xEF\xBB\xBF<a/>",
		`<?xml version="1.0" encoding="latin1"?><a/>`,
		`<a><b><c><d/></c></b></a>`,
		`<a xmlns:p="u"><p:b/></a>junk`,
	} {
		f.Add([]byte(seed))
	}
	schemas := []string{"TokenRequest", "TokenResponseXml", "Problem"}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range schemas {
			s := schema(t, name)
			v, err := xmlcodec.Decode(data, s, xmlcodec.Limits{})
			if err != nil {
				if _, ok := err.(problem.List); !ok {
					t.Fatalf("%s: error %T %v, want a problem.List", name, err, err)
				}
				continue
			}
			out, err := xmlcodec.Encode(v, s)
			if err != nil {
				t.Fatalf("%s: accepted %q but cannot encode %#v: %v", name, data, v, err)
			}
			if _, err := xmlcodec.Decode(out, s, xmlcodec.Limits{}); err != nil {
				t.Fatalf("%s: accepted %q, encoded %q, which does not decode: %v", name, data, out, err)
			}
		}
	})
}
