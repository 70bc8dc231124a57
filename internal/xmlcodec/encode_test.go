package xmlcodec_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The encoder writes what the seed shows, in WCF's own form.
func TestEncodeTokenResponse(t *testing.T) {
	s := schema(t, "TokenResponseXml")
	v := map[string]any{
		"DebugMessage":  nil,
		"Errors":        []any{map[string]any{"Code": "E1", "Message": "a<b", "StackTrace": nil}},
		"Status":        "Success",
		"SecurityToken": "tok",
	}
	out, err := xmlcodec.Encode(v, s)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "token-response.xml", out)

	back, err := xmlcodec.Decode(out, s, xmlcodec.Limits{})
	if err != nil {
		t.Fatalf("the encoder's output does not decode: %v", err)
	}
	if err := s.VisitJSON(back); err != nil {
		t.Errorf("round trip does not validate: %v", err)
	}
	if got := back.(map[string]any)["Errors"].([]any)[0].(map[string]any)["Message"]; got != "a<b" {
		t.Errorf("Message: got %v, want a<b", got)
	}
}
