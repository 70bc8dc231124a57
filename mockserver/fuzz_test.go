package mockserver_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenmock/tokenmock/mockserver"
)

// FuzzServe: whatever body, Content-Type and Accept a client sends to the
// token endpoints, the answer is never a 5xx and never a panic.
func FuzzServe(f *testing.F) {
	for _, s := range [][3]string{
		{seedValidateXML, "application/xml", ""},
		{seedValidateJSON, "application/json", "application/xml"},
		{`{"Authentication":{"AccountId":"a","AccountId":"b"}}`, "application/json", ""},
		{`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`, "application/xml; charset=utf-16", "*/*"},
		{"\xff\xfe<\x00", "application/xml", "application/json;q=0"},
		{`{"deviceId":"d","sessionId":"expired-session"}`, "application/json", "text/*"},
	} {
		f.Add([]byte(s[0]), s[1], s[2])
	}
	s, err := mockserver.New(mockserver.DefaultConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, ctype, accept string) {
		for _, target := range []struct{ method, path string }{{http.MethodPut, validatePath}, {http.MethodPost, renewPath}} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Accept", accept)
			req.Header.Set("Authtoken", "QSDK 1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q (%s, Accept %s): %d %s", target.method, target.path, body, ctype, accept, rec.Code, rec.Body)
			}
		}
	})
}
