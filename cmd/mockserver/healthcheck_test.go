package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The -healthcheck mode against servers that answer in each way a
// container's HEALTHCHECK can meet.
func TestHealthcheck(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/__mock/health" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer healthy.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens there any more

	tests := []struct {
		name   string
		args   []string
		code   int
		output string // expected in stdout+stderr
	}{
		{"200", []string{"-healthcheck", healthy.URL + "/__mock/health"}, 0, "healthy: " + healthy.URL + "/__mock/health 200 OK"},
		{"--healthcheck=URL", []string{"--healthcheck=" + healthy.URL + "/__mock/health"}, 0, "200 OK"},
		{"404", []string{"-healthcheck", healthy.URL + "/elsewhere"}, 1, "404 Not Found, want 200 OK"},
		{"503", []string{"-healthcheck", failing.URL}, 1, "503 Service Unavailable"},
		{"nothing listening", []string{"-healthcheck", gone.URL}, 1, "connection refused"},
		{"no URL", []string{"-healthcheck"}, 2, "-healthcheck needs a URL"},
		{"not a URL", []string{"-healthcheck", "127.0.0.1:8080"}, 2, `-healthcheck "127.0.0.1:8080": want an http:// or https:// URL`},
		{"more arguments", []string{"-healthcheck", healthy.URL, "-addr", ":1"}, 2, "got also -addr :1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, func(string) string { return "" }, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.output) {
				t.Errorf("got %d and %q, want %d and %q", code, out.String(), tc.code, tc.output)
			}
		})
	}
}

// Against the real server with -admin-token: the check passes only with
// the token in MOCKSERVER_ADMIN_TOKEN, as the container's environment
// gives it.
func TestHealthcheckRealServerWithAdminToken(t *testing.T) {
	_, addr, _ := start(t, "-admin-token", "s3cret-admin-token")
	target := "http://" + addr + "/__mock/health"
	tests := []struct {
		name  string
		token string
		code  int
		want  string
	}{
		{"token from the environment", "s3cret-admin-token", 0, "200 OK"},
		{"no token", "", 1, "401 Unauthorized"},
		{"wrong token", "guess", 1, "401 Unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := func(k string) string {
				if k == "MOCKSERVER_ADMIN_TOKEN" {
					return tc.token
				}
				return ""
			}
			var out bytes.Buffer
			code := run([]string{"-healthcheck", target}, env, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Errorf("got %d and %q, want %d and %q", code, out.String(), tc.code, tc.want)
			}
		})
	}
}

// -help mentions the mode, which is not one of the server's flags.
func TestHelpShowsHealthcheck(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-help"}, func(string) string { return "" }, &out, &out); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if !strings.Contains(out.String(), "-healthcheck URL") {
		t.Errorf("-help does not mention -healthcheck:\n%s", out.String())
	}
}
