package journal_test

import (
	"runtime"
	"slices"
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
	all := j.List("", time.Time{})
	if len(all) != 500 {
		t.Fatalf("got %d entries, want 500", len(all))
	}
	if all[0].ID != 100_000-499 || all[499].ID != 100_000 {
		t.Errorf("ids %d..%d, want the last 500", all[0].ID, all[499].ID)
	}
	if all[0].Header["Authtoken"] != "QSDK*******6789" {
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
	tests := map[string]string{
		"QSDK 0123456789abcdef": "QSDK*************cdef",
		"short":                 "*****",
		`{"sessionId":"QSDK 0123456789","deviceId":"d"}`:                              `{"sessionId":"QSDK*******6789","deviceId":"d"}`,
		`<a:SecurityToken>6f1c2a9e-4b7d</a:SecurityToken>`:                            `<a:SecurityToken>6f1c*****4b7d</a:SecurityToken>`,
		`{"token" : "QSDK 0123\"456789", "x":1}`:                                      `{"token" : "QSDK*********6789", "x":1}`,
		`<SecurityToken xmlns="u">abcdefghij</SecurityToken><Password i:nil="true"/>`: `<SecurityToken xmlns="u">abcd**ghij</SecurityToken><Password i:nil="true"/>`,
		`{"tokenizer":"abcdefghijkl"}`:                                                `{"tokenizer":"abcdefghijkl"}`,
	}
	for in, want := range tests {
		got := journal.Mask(in)
		if in[0] == '{' || in[0] == '<' {
			got = journal.MaskBody(in)
		}
		if got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}
