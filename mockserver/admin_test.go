package mockserver_test

import (
	"context"
	"net/http"
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/mockserver/contract"
)

// Every admin answer is one admin.yaml documents.
func TestAdminAnswersMatchAdminSpec(t *testing.T) {
	admin, err := contract.Load(tokenmock.AdminSpec, "admin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newServer(t)
	do(t, ts, renew(seedRenewJSON, nil))
	do(t, ts, validate(`{}`, ctJSON))
	tests := []struct {
		op, method, path, body string
		status                 int
	}{
		{"Health", http.MethodGet, "/__mock/health", "", 200},
		{"ListScenarios", http.MethodGet, "/__mock/scenarios", "", 200},
		{"ActivateScenario", http.MethodPost, "/__mock/scenarios/slow/activate", `{"times":2}`, 200},
		{"ActivateScenario", http.MethodPost, "/__mock/scenarios/outage/activate", ``, 200},
		{"ActivateScenario", http.MethodPost, "/__mock/scenarios/nope/activate", ``, 404},
		{"ActivateScenario", http.MethodPost, "/__mock/scenarios/slow/activate", `{"times":0}`, 400},
		{"ActivateScenario", http.MethodPost, "/__mock/scenarios/slow/activate", `{"colour":"red"}`, 400},
		{"ActivateScenario", http.MethodPost, "/__mock/scenarios/invalid-device/activate", `{"operation":"ValidateToken"}`, 400},
		{"ListActive", http.MethodGet, "/__mock/scenarios/active", "", 200},
		{"ClearActive", http.MethodDelete, "/__mock/scenarios/active", "", 204},
		{"ListRequests", http.MethodGet, "/__mock/requests", "", 200},
		{"ListRequests", http.MethodGet, "/__mock/requests?since=x", "", 400},
		{"ClearRequests", http.MethodDelete, "/__mock/requests", "", 204},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			h := map[string]string{}
			if tc.body != "" {
				h["Content-Type"] = "application/json"
			}
			got := do(t, ts, request{tc.method, tc.path, tc.body, h})
			if got.status != tc.status {
				t.Fatalf("got %d %s, want %d", got.status, got.body, tc.status)
			}
			if err := admin.Operation(tc.op).ValidateResponse(context.Background(), got.status, got.header, []byte(got.body)); err != nil {
				t.Errorf("answer breaks admin.yaml: %v\n%s", err, got.body)
			}
		})
	}
}
