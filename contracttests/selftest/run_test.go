package selftest_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// suiteBinary builds the contract suite as `make contract` does.
func suiteBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the suite's binary")
	}
	bin := filepath.Join(t.TempDir(), "contracttests")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "github.com/tokenmock/tokenmock/contracttests").CombinedOutput(); err != nil {
		t.Fatalf("build the suite: %v\n%s", err, out)
	}
	return bin
}

func runSuite(t *testing.T, bin string, env ...string) (string, time.Duration, error) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	return out.String(), time.Since(start), err
}

// Against a target nothing answers at, the suite says so in one line and
// stops at once; against the mock it closes with a count of its checks.
func TestSuiteRun(t *testing.T) {
	bin := suiteBinary(t)
	t.Run("unreachable target", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		out, took, err := runSuite(t, bin, "CONTRACT_BASE_URL="+closed)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("exit: %v, want status 2", err)
		}
		want := "contract suite: cannot reach " + closed + " (CONTRACT_BASE_URL): dial tcp " + strings.TrimPrefix(closed, "http://") + ": connect: connection refused\n"
		if out != want {
			t.Errorf("got\n%s\nwant the one line\n%s", out, want)
		}
		if took > 5*time.Second {
			t.Errorf("took %s to give up", took)
		}
	})
	t.Run("the mock", func(t *testing.T) {
		out, _, err := runSuite(t, bin, "CONTRACT_BASE_URL=")
		if err != nil {
			t.Fatalf("the suite fails against the mock: %v\n%s", err, out)
		}
		m := regexp.MustCompile(`(?m)^contract suite: (\d+) checks run against the mock, in-process\ncontract: (\d+) passed, 0 failed, (\d+) skipped$`).FindStringSubmatch(out)
		if m == nil || m[1] == "0" {
			t.Errorf("no count of the checks run in:\n%s", out)
		}
	})
	t.Run("contract checks only", func(t *testing.T) {
		// What `make contract` runs and `make contract-junit` reports.
		out, err := exec.Command(bin, "-test.list", ".*").Output() // the list is on stdout
		if err != nil {
			t.Fatal(err)
		}
		checks := "TestCompareTargets TestEveryDocumentedAnswer TestFixturesMatchTheSpec TestGeneratedRequests TestInvalidRequests TestValidRequests"
		listed := strings.Fields(string(out))
		slices.Sort(listed)
		if got := strings.Join(listed, " "); got != checks {
			t.Errorf("the suite holds %s, want the contract checks only: %s", got, checks)
		}
	})
}
