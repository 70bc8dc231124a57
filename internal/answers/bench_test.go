package answers_test

import (
	"net/http"
	"testing"

	"github.com/tokenmock/tokenmock/internal/answers"
)

// BenchmarkRender: answer rendering, JSON and XML, with the echoed token.
func BenchmarkRender(b *testing.B) {
	req := answers.Request{Body: map[string]any{"Authentication": map[string]any{"SecurityToken": "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}, Header: http.Header{}}
	for _, tc := range []struct{ name, mt, src string }{
		{"JSON", "application/json", `{"DebugMessage":null,"Errors":[],"Status":1,"SecurityToken":"{{body:/Authentication/SecurityToken}}"}`},
		{"XML", "application/xml", `<TokenResponse xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DebugMessage xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages" i:nil="true"/><Errors xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"/><Status xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">Success</Status><SecurityToken>{{body:/Authentication/SecurityToken}}</SecurityToken></TokenResponse>`},
		{"Renew-token", "application/json", `{"token":"QSDK {{hex:64}}","error":{}}`},
	} {
		t, err := answers.ParseTemplate(tc.src, tc.mt)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = t.Render(req)
			}
		})
	}
}
