package contract_test

import (
	"slices"
	"testing"

	"github.com/tokenmock/tokenmock/internal/contract"
)

// FuzzNegotiate: any Accept and Content-Type either pick an offer or give
// a 406, and never panic.
func FuzzNegotiate(f *testing.F) {
	for _, s := range [][2]string{
		{"application/json", "application/json"},
		{"application/xml;q=0.5, application/json;q=0.9", "application/xml"},
		{"*/*", "application/xml; charset=utf-8"},
		{"text/html,;;,q=,", "%%"},
		{"application/*;q=0", ""},
	} {
		f.Add(s[0], s[1])
	}
	offers := []string{"application/json", "application/xml"}
	f.Fuzz(func(t *testing.T, accept, requestType string) {
		got, p := contract.Negotiate(accept, requestType, offers)
		if p != nil {
			if p.Status != 406 {
				t.Fatalf("status %d, want 406", p.Status)
			}
			return
		}
		if !slices.Contains(offers, got) {
			t.Fatalf("picked %q, not an offer", got)
		}
		_ = contract.WantsXML(accept, requestType)
	})
}
