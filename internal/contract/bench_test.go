package contract_test

import (
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/internal/contract"
)

const (
	seedJSON = `{"Authentication":{"AccountId":"1042","SecurityToken":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`
	seedXML  = `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"><AccountId>1042</AccountId><SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken></Authentication></TokenRequest>`
)

// BenchmarkValidateBody: request body validation alone, JSON and XML
// (decode, then kin-openapi's schema validation).
func BenchmarkValidateBody(b *testing.B) {
	c, err := contract.Load(tokenmock.Spec, "openapi.yaml")
	if err != nil {
		b.Fatal(err)
	}
	op := c.Operation("ValidateToken")
	for _, tc := range []struct{ name, mt, body string }{
		{"JSON", "application/json", seedJSON},
		{"XML", "application/xml", seedXML},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := []byte(tc.body)
			b.ReportAllocs()
			for b.Loop() {
				if _, p := op.ValidateBody(tc.mt, body); p != nil {
					b.Fatal(p)
				}
			}
		})
	}
}

// BenchmarkNegotiate: content negotiation with a q-valued Accept.
func BenchmarkNegotiate(b *testing.B) {
	offers := []string{"application/json", "application/xml"}
	b.ReportAllocs()
	for b.Loop() {
		if got, _ := contract.Negotiate("application/json;q=0.5, application/xml", "application/json", offers); got != "application/xml" {
			b.Fatal(got)
		}
	}
}
