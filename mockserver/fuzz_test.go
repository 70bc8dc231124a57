package mockserver_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenmock/tokenmock/mockserver"
)

// FuzzServe: whatever body, Content-Type and Accept a client sends to the
// token endpoints, the answer is never a 5xx and never a panic, and every
// 2xx answer matches the spec (an answer rendered from what the client
// sent stays valid whatever it sent).
func FuzzServe(f *testing.F) {
	for _, s := range [][3]string{
		{seedValidateXML, "application/xml", ""},
		{seedValidateJSON, "application/json", "application/xml"},
		{`{"Authentication":{"AccountId":"a","AccountId":"b"}}`, "application/json", ""},
		{`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`, "application/xml; charset=utf-16", "*/*"},
		{"\xff\xfe<\x00", "application/xml", "application/json;q=0"},
		{`{"deviceId":"d","sessionId":"expired-session"}`, "application/json", "text/*"},
		{`{"Authentication":{"SecurityToken":"\u0000<&\ud800]]>"}}`, "application/json", "application/xml"},
	} {
		f.Add([]byte(s[0]), s[1], s[2])
	}
	s, err := mockserver.New(mockserver.DefaultConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, ctype, accept string) {
		for _, target := range []struct{ op, method, path string }{{"ValidateToken", http.MethodPut, validatePath}, {"RenewLoginToken", http.MethodPost, renewPath}} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Accept", accept)
			req.Header.Set("Authtoken", "QSDK 1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q (%s, Accept %s): %d %s", target.method, target.path, body, ctype, accept, rec.Code, rec.Body)
			}
			if rec.Code/100 == 2 {
				if err := s.Contract().Operation(target.op).ValidateResponse(context.Background(), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
					t.Fatalf("%s %s with %q (%s, Accept %s): the %d answer breaks the spec: %v\n%s", target.method, target.path, body, ctype, accept, rec.Code, err, rec.Body)
				}
			}
		}
	})
}
