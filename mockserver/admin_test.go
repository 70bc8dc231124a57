package mockserver_test

import (
	"context"
	"net/http"
	"testing"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/internal/contract"
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
		{"ListRequests", http.MethodGet, "/__mock/requests?lifecycle=expired", "", 200},
		{"ListRequests", http.MethodGet, "/__mock/requests?lifecycle=stale", "", 400},
		{"ListRequests", http.MethodGet, "/__mock/requests?colour=red", "", 400},
		{"ListRequests", http.MethodGet, "/__mock/requests?operation=Nope", "", 400},
		{"ClearRequests", http.MethodDelete, "/__mock/requests", "", 204},
		{"GetClock", http.MethodGet, "/__mock/clock", "", 200},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"advance":"31m"}`, 200},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"set":"2026-12-02T10:00:00Z"}`, 200},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"advance":"-1m"}`, 400},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"advance":"soon"}`, 400},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"set":"tomorrow"}`, 400},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"advance":"1m","advance":"2m"}`, 400},
		{"MoveClock", http.MethodPost, "/__mock/clock", `{"advance":"1m"} {}`, 400},
		{"ResetClock", http.MethodDelete, "/__mock/clock", "", 200},
		{"SeedToken", http.MethodPost, "/__mock/tokens", `{"realm":"appspace","owner":"1042","token":"tok-admin-test-0001"}`, 201},
		{"SeedToken", http.MethodPost, "/__mock/tokens", `{"realm":"commvault","owner":"agent"}`, 201},
		{"SeedToken", http.MethodPost, "/__mock/tokens", `{"realm":"nope"}`, 400},
		{"ListTokens", http.MethodGet, "/__mock/tokens", "", 200},
		{"ListTokens", http.MethodGet, "/__mock/tokens?realm=appspace&state=live", "", 200},
		{"ListTokens", http.MethodGet, "/__mock/tokens?state=old", "", 400},
		{"ListTokens", http.MethodGet, "/__mock/tokens?limit=1", "", 200},
		{"ListTokens", http.MethodGet, "/__mock/tokens?limit=0", "", 400},
		{"ExpireToken", http.MethodPost, "/__mock/tokens/expire", `{"realm":"appspace","token":"tok-admin-test-0001"}`, 200},
		{"RevokeToken", http.MethodPost, "/__mock/tokens/revoke", `{"realm":"appspace","token":"tok-admin-test-0001"}`, 200},
		{"RevokeToken", http.MethodPost, "/__mock/tokens/revoke", `{"realm":"appspace","token":"never-seen"}`, 404},
		{"ExpireToken", http.MethodPost, "/__mock/tokens/expire", `{"realm":"appspace","id":99999}`, 404},
		{"ExpireToken", http.MethodPost, "/__mock/tokens/expire", `{"realm":"appspace"}`, 400},
		{"StreamRequests", http.MethodGet, "/__mock/requests/stream?colour=red", "", 400},
		{"DashboardPanel", http.MethodGet, "/__mock/ui/panels/nope", "", 404},
		{"DashboardRequest", http.MethodGet, "/__mock/ui/requests/x", "", 400},
		{"DashboardStatic", http.MethodGet, "/__mock/ui/static/nope.js", "", 404},
		{"ClearTokens", http.MethodDelete, "/__mock/tokens", "", 204},
		{"ReloadStatus", http.MethodGet, "/__mock/reload", "", 200},
		{"Reload", http.MethodPost, "/__mock/reload", "", 200},
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

// A wrong method on an admin path is a 405 with Allow, as on the mocked
// paths; an unknown admin path a 404 problem.
func TestAdminWrongMethodAndPath(t *testing.T) {
	_, ts := newServer(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPut, "/__mock/health", 405, "GET"},
		{http.MethodGet, "/__mock/scenarios/slow/activate", 405, "POST"},
		{http.MethodPatch, "/__mock/clock", 405, "DELETE, GET, POST"},
		{http.MethodGet, "/__mock/nothing", 404, ""},
		{http.MethodPut, "/__mock/ui", 405, "GET"},
		{http.MethodPost, "/__mock/requests/stream", 405, "GET"},
	}
	for _, tc := range tests {
		got := do(t, ts, request{tc.method, tc.path, "", nil})
		if got.status != tc.status || got.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: got %d Allow %q, want %d Allow %q", tc.method, tc.path, got.status, got.header.Get("Allow"), tc.status, tc.allow)
		}
	}
}
