package journal_test

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver/journal"
)

func TestBoundedAfterManyRequests(t *testing.T) {
	j := journal.New(500, 64)
	body := make([]byte, 10000)
	var before runtime.MemStats
	for i := range 100_000 {
		if i == 1000 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		header := map[string][]string{"Authtoken": {"QSDK 0123456789"}}
		j.Add(journal.Entry{Operation: "RenewLoginToken", Time: time.Now()}, header, slices.Clone(body))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	all := j.List(journal.Filter{})
	if len(all) != 500 {
		t.Fatalf("got %d entries, want 500", len(all))
	}
	if all[0].ID != 100_000-499 || all[499].ID != 100_000 {
		t.Errorf("ids %d..%d, want the last 500", all[0].ID, all[499].ID)
	}
	if all[0].Header["Authtoken"] != "***************" {
		t.Errorf("Authtoken kept as %q", all[0].Header["Authtoken"])
	}
	if !all[0].BodyCut || len(all[0].Body) != 64 {
		t.Errorf("body kept %d bytes, want 64", len(all[0].Body))
	}
	if growth := int64(after.HeapAlloc) - int64(before.HeapAlloc); growth > 1<<20 {
		t.Errorf("heap grew %d bytes from request 1000 to 100000, want flat", growth)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"QSDK 0123456789abcdef", "QSDK*************cdef"},
		{"short", "*****"},
		{"QSDK 1a2b", "*********"},
		{`{"sessionId":"QSDK 0123456789abc","deviceId":"d"}`, `{"sessionId":"QSDK**********9abc","deviceId":"d"}`},
		{`{"sessionId":"QSDK 0123","deviceId":"d"}`, `{"sessionId":"*********","deviceId":"d"}`},
		{`{"token" : "QSDK 0123\"456789abcd", "x":1}`, `{"token" : "QSDK*************abcd", "x":1}`},
		{`{"tokenizer":"abcdefghijklmnopq"}`, `{"tokenizer":"abcdefghijklmnopq"}`},
		{`<a:SecurityToken>6f1c2a9e-4b7d-4e23</a:SecurityToken>`, `<a:SecurityToken>6f1c**********4e23</a:SecurityToken>`},
		{`<SecurityToken xmlns="u">abcdefghijklmnop</SecurityToken>`, `<SecurityToken xmlns="u">abcd********mnop</SecurityToken>`},
		{"<SecurityToken\n>abcdefghij</SecurityToken>", "<SecurityToken\n>**********</SecurityToken>"},
		{`<a:SecurityToken><![CDATA[6f1c2a9e-4b7d-4e23]]></a:SecurityToken>`, `<a:SecurityToken><![CDATA[6f1c**********4e23]]></a:SecurityToken>`},
		{`<Password i:nil="true"/>`, `<Password i:nil="true"/>`},
	}
	for _, tc := range tests {
		got := journal.Mask(tc.in)
		if tc.in[0] == '{' || tc.in[0] == '<' {
			got = journal.MaskBody(tc.in)
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// An entry keeps at most bodyMax bytes of a body, in a copy of its own.
func TestKeepsOnlyTheCutOfALargeBody(t *testing.T) {
	j := journal.New(10, 16)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		j.Add(journal.Entry{}, map[string][]string{"X-Big": {strings.Repeat("v", 64<<10)}}, make([]byte, 1<<20))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("10 entries of 1 MiB bodies and 64 KiB headers keep %d bytes", grew)
	}
	if e := j.List(journal.Filter{}); len(e[0].Header["X-Big"]) > 300 {
		t.Errorf("a 64 KiB header value kept whole")
	}
}
