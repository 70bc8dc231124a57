package contracttests_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tokenmock/tokenmock/contracttests"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/scenario"
	"github.com/tokenmock/tokenmock/mockserver"
)

// suite is the suite against the target of this run.
var suite *contracttests.Suite

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	c, err := contracttests.LoadContract()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract:", err)
		return 2
	}
	base := os.Getenv(contracttests.EnvBaseURL)
	mock := base == ""
	if !mock {
		// One line and a quick stop when the target cannot be reached,
		// rather than the same network error from every check.
		if err := contracttests.Probe(base, 10*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "contract suite: cannot reach %s (%s): %v\n", base, contracttests.EnvBaseURL, err)
			return 2
		}
	}
	if mock {
		cfg := mockserver.DefaultConfig()
		cfg.SpecFile = os.Getenv(contracttests.EnvSpec)
		srv, err := mockserver.New(cfg, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start the mock:", err)
			return 2
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		base = ts.URL
	}
	suite, err = contracttests.New(c, base, mock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract suite:", err)
		return 2
	}
	target := base + " (" + contracttests.EnvBaseURL + ")"
	if mock {
		target = "the mock, in-process"
	}
	hint := ""
	if mock {
		hint = " (set " + contracttests.EnvBaseURL + " to check another server)"
	}
	var roots []string
	for _, r := range suite.Oracle.Roots() {
		roots = append(roots, r.Local)
	}
	fmt.Fprintf(os.Stderr, "contract suite\n  target:  %s%s\n  spec:    %s\n  oracle:  XML as .NET writes %s (contracttests/testdata/dotnet)\n  %s: %s\n  %s: %s\n  samples: %d\n",
		target, hint, specName(), strings.Join(roots, ", "), contracttests.EnvAuthtoken, setOrNot(contracttests.EnvAuthtoken),
		contracttests.EnvCompareURL, setOrNot(contracttests.EnvCompareURL), len(suite.Samples))
	code := m.Run()
	checks := "checks"
	if tally.run.Load() == 1 {
		checks = "check"
	}
	fmt.Fprintf(os.Stderr, "contract suite: %d %s run against %s\ncontract: %d passed, %d failed, %d skipped\n",
		tally.run.Load(), checks, target, tally.passed.Load(), tally.failed.Load(), tally.skipped.Load())
	return code
}

// tally counts the checks run, for the closing line.
var tally struct{ run, passed, failed, skipped atomic.Int64 }

// count adds the check t to the tally when it ends.
func count(t *testing.T) {
	tally.run.Add(1)
	t.Cleanup(func() {
		switch {
		case t.Skipped():
			tally.skipped.Add(1)
		case t.Failed():
			tally.failed.Add(1)
		default:
			tally.passed.Add(1)
		}
	})
}

func specName() string {
	if p := os.Getenv(contracttests.EnvSpec); p != "" {
		return p + " (" + contracttests.EnvSpec + ")"
	}
	return "openapi.yaml (embedded; set " + contracttests.EnvSpec + " for another)"
}

func setOrNot(env string) string {
	if os.Getenv(env) != "" {
		return "set"
	}
	return "not set"
}

func runChecks(t *testing.T, checks []contracttests.Check) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.Name, func(t *testing.T) {
			count(t)
			if c.MockOnly != "" && !suite.Mock {
				t.Skipf("skipped against %s: %s", suite.BaseURL, c.MockOnly)
			}
			c.Run(t)
		})
	}
}

// Every sample request, answered in every media type: documented status,
// negotiated Content-Type, a body and headers that match the spec.
func TestValidRequests(t *testing.T) { runChecks(t, suite.Positive()) }

// Requests generated to break the contract get a documented 4xx.
func TestInvalidRequests(t *testing.T) { runChecks(t, suite.Negative()) }

// Every answer the fixtures hold, asked for with Prefer: code=N (mock only).
func TestEveryDocumentedAnswer(t *testing.T) { runChecks(t, suite.MockOnly()) }

// Property-based: valid requests generated from the request schemas get a
// 2xx (from the mock; a documented answer from another server) that
// validates; a generated request broken in one way gets a documented 4xx.
// A failure prints the seed that reproduces it (-rapid.seed).
func TestGeneratedRequests(t *testing.T) {
	seen := map[string]bool{}
	for _, sm := range suite.Samples {
		key := sm.Op.ID + " " + sm.MediaType
		if sm.MediaType == "" || seen[key] {
			continue
		}
		seen[key] = true
		schema := sm.Op.RequestSchemas[sm.MediaType]
		accepts := sm.Op.ResponseTypes
		t.Run(key+"/valid", func(t *testing.T) {
			count(t)
			rapid.Check(t, func(rt *rapid.T) {
				body := contracttests.GenBody(rt, schema, sm.MediaType)
				req := contracttests.Request{Op: sm.Op, ContentType: sm.MediaType, Accept: rapid.SampledFrom(accepts).Draw(rt, "accept"), Body: body, What: "generated"}
				resp, err := suite.Do(context.Background(), req)
				if err != nil {
					rt.Fatalf("%s: %v", contracttests.Describe(req), err)
				}
				want := 0
				if suite.Mock {
					want = 2
				} else if resp.Status >= 500 {
					rt.Errorf("%s: status %d for a valid request", contracttests.Describe(req), resp.Status)
				}
				suite.CheckAnswer(rt, req, resp, want)
			})
		})
		t.Run(key+"/invalid", func(t *testing.T) {
			count(t)
			rapid.Check(t, func(rt *rapid.T) {
				body := contracttests.GenBody(rt, schema, sm.MediaType)
				muts := contracttests.Mutations(body, schema, sm.MediaType)
				if len(muts) == 0 {
					rt.Skip("nothing to break")
				}
				m := rapid.SampledFrom(muts).Draw(rt, "mutation")
				req := contracttests.Request{Op: sm.Op, ContentType: sm.MediaType, Accept: accepts[0], Body: m.Body, What: "generated, " + m.What}
				resp, err := suite.Do(context.Background(), req)
				if err != nil {
					rt.Fatalf("%s: %v", contracttests.Describe(req), err)
				}
				suite.CheckAnswer(rt, req, resp, 4)
			})
		})
	}
}

// Fixture lint: every fixture answer, sample request and scenario matches
// the spec in use.
func TestFixturesMatchTheSpec(t *testing.T) {
	count(t)
	fx, err := answers.Load(fixtures.FS, "fixtures", suite.Contract)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fixtures.FS.ReadFile(answers.ScenariosFile)
	if err != nil {
		t.Fatal(err)
	}
	set, err := scenario.Load(data, "fixtures/"+answers.ScenariosFile, fx)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Names) == 0 {
		t.Error("no scenarios")
	}
	for _, op := range suite.Contract.Operations {
		fo := fx.Operation(op.ID)
		if fo == nil || fo.Answers[answers.DefaultAnswer] == nil {
			t.Errorf("%s has no default answer", op.ID)
		}
	}
}

// Drift: the same requests to CONTRACT_BASE_URL and CONTRACT_COMPARE_URL
// must get answers of the same shape.
func TestCompareTargets(t *testing.T) {
	count(t)
	other := os.Getenv(contracttests.EnvCompareURL)
	if other == "" {
		t.Skipf("set %s (and %s) to compare two servers", contracttests.EnvCompareURL, contracttests.EnvBaseURL)
	}
	second, err := contracttests.New(suite.Contract, other, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range contracttests.Compare(suite, second) {
		t.Errorf("%s", d)
	}
}
