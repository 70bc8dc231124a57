package tokenmock_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// rapid writes a failure file under testdata/rapid/ of the package whose
// property failed, at any depth of the tree: none may show as untracked.
func TestGitignoreRapidFailuresAtAnyDepth(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout")
	}
	for _, p := range []string{
		"testdata/rapid/TestX/TestX-20260101-000000-1.fail",
		"contracttests/testdata/rapid/TestGeneratedRequests/a.fail",
		"mockserver/scenario/testdata/rapid/TestY/b.fail",
	} {
		if err := exec.Command("git", "check-ignore", "-q", "--no-index", p).Run(); err != nil {
			t.Errorf("%s is not ignored by .gitignore", p)
		}
	}
}

// make run passes -addr only when ADDR is given, so that MOCKSERVER_ADDR
// in the environment is honoured as for every other flag.
func TestMakeRunHonoursTheEnvironment(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dryRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("make", append([]string{"-n", "run"}, args...)...)
		cmd.Env = append(os.Environ(), "MOCKSERVER_ADDR=127.0.0.1:18081")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n run %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := dryRun(); strings.Contains(out, "-addr") {
		t.Errorf("make run passes -addr without ADDR, hiding MOCKSERVER_ADDR:\n%s", out)
	}
	if out := dryRun("ADDR=127.0.0.1:18082"); !strings.Contains(out, "-addr 127.0.0.1:18082") {
		t.Errorf("make run ADDR=127.0.0.1:18082 does not pass it:\n%s", out)
	}
}
