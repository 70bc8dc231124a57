package tokenmocktest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/tokenmocktest"
)

// validate sends AppSpace's ValidateToken for a token and an account, and
// returns the status and the X-Mock-Lifecycle header.
func validate(c *http.Client, base, token, account string) (int, string) {
	body := fmt.Sprintf(`{"Authentication":{"AccountId":%q,"SecurityToken":%q}}`, account, token)
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/token/request", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("X-Mock-Lifecycle")
}

// A client's token handling, tested against the mock with a clock the test
// moves: a token stays valid while it is used, and expires after 30
// minutes of inactivity.
func Example() {
	t := &testing.T{} // in a real test: the *testing.T of the test function
	srv := tokenmocktest.New(t, tokenmocktest.WithLifecycle("strict"))
	defer srv.Close()
	srv.SeedToken("appspace", "tok-1", "1042")

	fmt.Println(validate(srv.Client(), srv.URL, "tok-1", "1042"))
	srv.Advance(29 * time.Minute)
	fmt.Println(validate(srv.Client(), srv.URL, "tok-1", "1042"))
	srv.Advance(31 * time.Minute)
	fmt.Println(validate(srv.Client(), srv.URL, "tok-1", "1042"))
	fmt.Println(validate(srv.Client(), srv.URL, "tok-2", "1042"))

	for _, r := range srv.Requests("ValidateToken") {
		fmt.Println(r.Step, r.Status, r.Lifecycle)
	}
	// Output:
	// 200 live
	// 200 live
	// 401 expired
	// 401 unknown
	// 1 200 live
	// 2 200 live
	// 3 401 expired
	// 4 401 unknown
}

// A client that renews its Commvault session when told it has expired:
// the renewal gives a new token, and the old one is revoked.
func Example_renewal() {
	t := &testing.T{}
	srv := tokenmocktest.New(t, tokenmocktest.WithLifecycle("strict"), tokenmocktest.WithSeed(7))
	defer srv.Close()
	old := srv.SeedToken("commvault", "QSDK 0123456789abcdef", "agent-1")
	srv.Advance(45 * time.Minute) // idle: expired, but within the renewal window

	renew := func(token, device string) (int, string) {
		body := fmt.Sprintf(`{"deviceId":%q,"sessionId":%q}`, device, token)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/commandcenter/api/RenewLoginToken", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authtoken", token)
		res, err := srv.Client().Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, fmt.Sprint(res.Header.Get("X-Mock-Lifecycle"), " ", strings.HasPrefix(string(b), `{"token":"QSDK `))
	}
	fmt.Println(renew(old, "agent-2"))
	fmt.Println(renew(old, "agent-1"))
	fmt.Println(renew(old, "agent-1"))
	// Output:
	// 200 wrong-owner false
	// 200 renewed true
	// 401 revoked false
}
