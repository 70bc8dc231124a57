package contract_test

import (
	"testing"

	"github.com/tokenmock/tokenmock/internal/contract"
)

func TestNegotiate(t *testing.T) {
	both := []string{"application/json", "application/xml"}
	tests := []struct {
		name, accept, reqType string
		offers                []string
		want                  string // "" for 406
	}{
		{"no Accept, JSON request", "", "application/json", both, "application/json"},
		{"no Accept, XML request", "", "application/xml", both, "application/xml"},
		{"no Accept, no body", "", "", both, "application/json"},
		{"*/* keeps the request's format", "*/*", "application/xml", both, "application/xml"},
		{"application/* keeps the request's format", "application/*", "application/xml", both, "application/xml"},
		{"exact", "application/xml", "application/json", both, "application/xml"},
		{"q-values", "application/xml;q=0.4, application/json;q=0.8", "application/xml", both, "application/json"},
		{"specific range beats wildcard", "*/*;q=0.1, application/json;q=0", "application/json", both, "application/xml"},
		{"case and spaces", " Application/XML ; q=1 ", "", both, "application/xml"},
		{"nothing offered matches", "text/html", "application/json", both, ""},
		{"all refused", "application/json;q=0, application/xml;q=0", "", both, ""},
		{"garbage ranges are ignored", "%%%, application/json", "", both, "application/json"},
		{"only garbage is no Accept", "garbage", "application/xml", both, "application/xml"},
		{"a bad q alone is no Accept", "application/json;q=abc", "application/xml", both, "application/xml"},
		{"bad q is ignored", "application/xml;q=2, application/json", "", both, "application/json"},
		{"JSON only", "application/xml", "application/json", []string{"application/json"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, p := contract.Negotiate(tc.accept, tc.reqType, tc.offers)
			if tc.want == "" {
				if p == nil || p.Status != 406 {
					t.Fatalf("got %q, %v, want 406", got, p)
				}
				return
			}
			if p != nil || got != tc.want {
				t.Errorf("got %q, %v, want %q", got, p, tc.want)
			}
		})
	}
}
