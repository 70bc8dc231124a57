// Package goclient_test uses the client oapi-codegen generates from
// openapi.yaml, as generated, against the mock: the spec gives Go users a
// client that compiles and reads every answer it documents.
package goclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/tokenmock/tokenmock/contracttests/goclient/gen"
	"github.com/tokenmock/tokenmock/mockserver"
)

func client(t *testing.T) *gen.ClientWithResponses {
	t.Helper()
	srv, err := mockserver.New(mockserver.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	c, err := gen.NewClientWithResponses(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func header(name, value string) gen.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set(name, value)
		return nil
	}
}

func TestRenewLoginToken(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	body := gen.RenewLoginTokenJSONRequestBody{DeviceId: "build-agent-07", SessionId: "QSDK 3f9a1c47e2b85d60"}

	resp, err := c.RenewLoginTokenWithResponse(ctx, body, header("Authtoken", "QSDK 3f9a1c47e2b85d60"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil {
		t.Fatalf("got %d %s, want 200", resp.StatusCode(), resp.Body)
	}
	if renewed, err := resp.JSON200.AsRenewedSession(); err != nil || !regexp.MustCompile(`^QSDK [0-9a-f]{64}$`).MatchString(renewed.Token) {
		t.Errorf("got %+v (%v), want a QSDK token", renewed, err)
	}

	resp, err = c.RenewLoginTokenWithResponse(ctx, body, header("Authtoken", "QSDK 1"), header("X-Mock-Scenario", "invalid-device"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil {
		t.Fatalf("invalid-device: got %d %s, want 200", resp.StatusCode(), resp.Body)
	}
	if refused, err := resp.JSON200.AsRenewalRefused(); err != nil || refused.Error.ErrorCode != 2 || refused.Error.ErrLogMessage == "" {
		t.Errorf("invalid-device: got %+v (%v), want the refusal with errorCode 2 and errLogMessage", refused, err)
	}

	resp, err = c.RenewLoginTokenWithResponse(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON401 == nil {
		t.Fatalf("no Authtoken: got %d %s, want a 401 the client reads", resp.StatusCode(), resp.Body)
	}
	if p, err := resp.JSON401.AsProblem(); err != nil || p.Status != 401 || p.Errors == nil || (*p.Errors)[0].Location != "Authtoken" {
		t.Errorf("no Authtoken: got %+v (%v), want the mock's Problem naming Authtoken", p, err)
	}

	resp, err = c.RenewLoginTokenWithResponse(ctx, body, header("Authtoken", "QSDK 1"), header("X-Mock-Scenario", "expired"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON401 == nil {
		t.Fatalf("expired: got %d %s, want 401", resp.StatusCode(), resp.Body)
	}
	if f, err := resp.JSON401.AsCommvaultFailure(); err != nil || f.ErrorCode != 1 {
		t.Errorf("expired: got %+v (%v), want Commvault's errorCode 1", f, err)
	}
}

func TestValidateToken(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	token := "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"
	account := "1042"
	body := gen.ValidateTokenJSONRequestBody{Authentication: gen.Authentication{AccountId: &account, SecurityToken: &token}}

	resp, err := c.ValidateTokenWithResponse(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.JSON200; r == nil || r.Status != gen.N1 || r.SecurityToken == nil || *r.SecurityToken != token {
		t.Fatalf("got %d %s, want 200 with Status 1 and the token", resp.StatusCode(), resp.Body)
	}

	resp, err = c.ValidateTokenWithResponse(ctx, body, header("X-Mock-Scenario", "expired"))
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.JSON401; r == nil || r.Status != gen.N0 || r.Errors == nil || *(*r.Errors)[0].Code != "TokenExpired" {
		t.Fatalf("expired: got %d %s, want 401 with the TokenExpired error", resp.StatusCode(), resp.Body)
	}

	resp, err = c.ValidateTokenWithResponse(ctx, body, header("X-Mock-Scenario", "server-error"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON500 == nil {
		t.Fatalf("server-error: got %d %s, want 500", resp.StatusCode(), resp.Body)
	}
	if r, err := resp.JSON500.AsTokenResponse(); err != nil || r.Errors == nil || *(*r.Errors)[0].Code != "InternalError" {
		t.Errorf("server-error: got %+v (%v), want AppSpace's InternalError", r, err)
	}
}
