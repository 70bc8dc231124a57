package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
)

// The -healthcheck mode exists for the container image: it is built FROM
// scratch, with no shell and no curl, so its HEALTHCHECK runs the binary
// itself against the server's /__mock/health.

// healthcheckUsage completes -help: the mode is not a server flag, so it
// is not in ParseConfig's flag set.
const healthcheckUsage = `
  -healthcheck URL
    	check a running server and exit, for a container's HEALTHCHECK (must be the
    	first argument): GET URL, exit 0 on 200, 1 otherwise, 2 on a usage mistake.
    	Sends Authorization: Bearer $MOCKSERVER_ADMIN_TOKEN when that is set.
    	Example: mockserver -healthcheck http://127.0.0.1:8080/__mock/health
`

// healthTimeout bounds one check. It stays under the Dockerfile's
// HEALTHCHECK --timeout, so that a slow server gets a message saying so
// rather than a killed check.
const healthTimeout = 3 * time.Second

// parseHealthcheck recognises `-healthcheck URL` (or --healthcheck,
// -healthcheck=URL) as the first argument. ok is false for a server
// command line.
func parseHealthcheck(args []string) (target string, ok bool, err error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return "", false, nil
	}
	name, value, hasValue := strings.Cut(strings.TrimPrefix(args[0][1:], "-"), "=")
	if name != "healthcheck" {
		return "", false, nil
	}
	rest := args[1:]
	if !hasValue {
		if len(rest) == 0 {
			return "", true, fmt.Errorf("-healthcheck needs a URL, such as http://127.0.0.1:8080/__mock/health")
		}
		value, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", true, fmt.Errorf("-healthcheck takes one URL and no other argument; got also %s", strings.Join(rest, " "))
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", true, fmt.Errorf("-healthcheck %q: want an http:// or https:// URL with a host", value)
	}
	return value, true, nil
}

// healthcheck GETs target once and says whether it answered 200.
func healthcheck(target string, getenv func(string) string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(stderr, "mockserver: healthcheck %s: %v\n", target, err)
		return 2
	}
	// The container gives the check the server's environment: a token set
	// there opens the admin API to the check too.
	if tok := getenv(mockserver.EnvPrefix + "ADMIN_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	// No proxy from the environment: the check is about this server.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "mockserver: healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "mockserver: healthcheck %s: %s, want 200 OK\n", target, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "healthy: %s %s\n", target, resp.Status)
	return 0
}
