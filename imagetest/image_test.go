package imagetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/fixtures"
)

// The image, built and run as the README says: healthy, non-root, on
// 0.0.0.0:8080, answering the README's requests as documented, with the
// embedded fixtures and then with fixtures mounted from the host.
func TestImage(t *testing.T) {
	p := requirePodman(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	examples := readmeExamples(t, filepath.Join(root, "README.md"))
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	// An image built elsewhere (Dockerfile.multistage, a registry's) is
	// tried as it is, and left in place.
	image := os.Getenv("TOKENMOCK_TEST_IMAGE")
	if image == "" {
		image = "localhost/tokenmock-imagetest:" + suffix
		start := time.Now()
		build := exec.Command("make", "-C", root, "image", "IMAGE="+image, "IMAGE_CONTEXT="+t.TempDir(), "CONTAINER=podman")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("make image: %v\n%s", err, out)
		}
		t.Cleanup(func() { _, _ = p.run("rmi", "-f", image) })
		t.Logf("make image: %v", time.Since(start).Round(time.Millisecond))
	}

	t.Run("image config", func(t *testing.T) {
		out, err := p.run("image", "inspect", "--format", "json", image)
		if err != nil {
			t.Fatal(err)
		}
		var inspect []struct {
			Size        int64
			Healthcheck *struct{ Test []string } // podman's place for it
			Config      struct {
				User         string
				Env          []string
				ExposedPorts map[string]any
				Entrypoint   []string
				Healthcheck  *struct{ Test []string }
			}
		}
		if err := json.Unmarshal([]byte(out), &inspect); err != nil || len(inspect) != 1 {
			t.Fatalf("podman image inspect: %v\n%s", err, out)
		}
		c := inspect[0].Config
		if c.Healthcheck == nil {
			c.Healthcheck = inspect[0].Healthcheck
		}
		t.Logf("image size: %d bytes (%.1f MiB)", inspect[0].Size, float64(inspect[0].Size)/(1<<20))
		if c.User != "10001:10001" {
			t.Errorf("User %q, want 10001:10001", c.User)
		}
		if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
			t.Errorf("ExposedPorts %v, want 8080/tcp", c.ExposedPorts)
		}
		if !slices.Contains(c.Env, "MOCKSERVER_ADDR=0.0.0.0:8080") {
			t.Errorf("Env %q, want MOCKSERVER_ADDR=0.0.0.0:8080", c.Env)
		}
		if c.Healthcheck == nil || !strings.Contains(strings.Join(c.Healthcheck.Test, " "), "/mockserver -healthcheck http://127.0.0.1:8080/__mock/health") {
			t.Errorf("Healthcheck %+v, want /mockserver -healthcheck .../__mock/health (built with --format docker?)", c.Healthcheck)
		}
		if inspect[0].Size > 30<<20 {
			t.Errorf("image of %d bytes, want a few MiB: a static binary FROM scratch", inspect[0].Size)
		}
	})

	t.Run("files in the image", func(t *testing.T) {
		name := "tokenmock-imagetest-files-" + suffix
		if _, err := p.run("create", "--name", name, image); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = p.run("rm", "-f", name) }()
		dir := t.TempDir()
		for _, f := range []string{"/etc/passwd", "/etc/group", "/etc/ssl/certs/ca-certificates.crt"} {
			if _, err := p.run("cp", name+":"+f, filepath.Join(dir, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
		passwd, _ := os.ReadFile(filepath.Join(dir, "passwd"))
		if !strings.HasPrefix(string(passwd), "mockserver:x:10001:10001:") {
			t.Errorf("/etc/passwd %q, want the user mockserver with UID 10001", passwd)
		}
		certs, _ := os.ReadFile(filepath.Join(dir, "ca-certificates.crt"))
		if n := bytes.Count(certs, []byte("-----BEGIN CERTIFICATE-----")); n < 10 {
			t.Errorf("/etc/ssl/certs/ca-certificates.crt holds %d certificates, want the CA bundle", n)
		}
	})

	t.Run("embedded defaults", func(t *testing.T) {
		c := p.start(t, "tokenmock-imagetest-default-"+suffix, image, nil)
		if got := c.top(t); got != "mockserver 10001" {
			t.Errorf("process runs as %q (user, host UID), want mockserver 10001", got)
		}
		c.healthcheck(t)
		for _, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				got := c.curl(t, ex.command)
				if err := sameAnswer(ex.want, got); err != nil {
					t.Errorf("README %s:\n%s\n%v", ex.name, ex.command, err)
				}
			})
		}
		logs := c.logs(t)
		for _, want := range []string{"msg=listening addr=[::]:8080", "the admin API is open to anyone who can reach [::]:8080: set -admin-token (or MOCKSERVER_ADMIN_TOKEN)"} {
			if !strings.Contains(logs, want) {
				t.Errorf("log lacks %q:\n%s", want, logs)
			}
		}
		c.stop(t)
	})

	t.Run("fixtures mounted from the host", func(t *testing.T) {
		const edited = "Expired, says the fixture mounted from the host."
		dir := editedFixtures(t, "ValidateToken.yaml", "The security token has expired. Request a new token.", edited)
		const adminToken = "imagetest-admin-token-0123456789"
		c := p.start(t, "tokenmock-imagetest-fixtures-"+suffix, image,
			[]string{"-v", dir + ":/fixtures:ro", "-e", "MOCKSERVER_ADMIN_TOKEN=" + adminToken}, "-fixtures", "/fixtures")
		// The admin API asks for the token; the HEALTHCHECK finds it in
		// the container's environment.
		resp, err := http.Get(c.base + "/__mock/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/__mock/health without the token: %d, want 401", resp.StatusCode)
		}
		c.healthcheck(t)

		ex := examples.find(t, "X-Mock-Scenario: expired")
		got := c.curl(t, ex.command)
		if !strings.Contains(got, edited) || !strings.HasPrefix(got, "HTTP/1.1 401") {
			t.Errorf("README %s with the edited fixture mounted: got\n%s\nwant a 401 saying %q", ex.name, got, edited)
		}

		// -watch is on with -fixtures: an edit on the host reaches the
		// running container through the bind mount.
		const reedited = "Expired, says the fixture edited while the container runs."
		file := filepath.Join(dir, "ValidateToken.yaml")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		edit := time.Now()
		if err := os.WriteFile(file, bytes.ReplaceAll(b, []byte(edited), []byte(reedited)), 0o644); err != nil {
			t.Fatal(err)
		}
		for !strings.Contains(c.curl(t, ex.command), reedited) {
			if time.Since(edit) > 10*time.Second {
				t.Fatalf("the fixture edited on the host is not served 10 s later\n%s", c.logs(t))
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("fixture edited on the host served %v later", time.Since(edit).Round(time.Millisecond))

		if logs := c.logs(t); strings.Contains(logs, "admin API is open") {
			t.Errorf("warning about the open admin API although MOCKSERVER_ADMIN_TOKEN is set:\n%s", logs)
		}
		c.stop(t)
	})
}

// podman runs podman with the runtime that works here: runc when present
// (crun fails on hybrid cgroups), or TOKENMOCK_OCI_RUNTIME.
type podman struct{ global []string }

func requirePodman(t *testing.T) podman {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds and runs a container image")
	}
	if os.Getenv("TOKENMOCK_IMAGE_TEST") == "" {
		t.Skip("builds and runs the container image with podman (about a minute); run by make image-test, or set TOKENMOCK_IMAGE_TEST=1")
	}
	for _, tool := range []string{"podman", "make", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s in PATH: this test needs an OCI runtime (apt-get install podman runc), make and curl", tool)
		}
	}
	var p podman
	if rt := os.Getenv("TOKENMOCK_OCI_RUNTIME"); rt != "" {
		p.global = []string{"--runtime", rt}
	} else if _, err := exec.LookPath("runc"); err == nil {
		p.global = []string{"--runtime", "runc"}
	}
	return p
}

// run returns podman's standard output; its error carries the standard error.
func (p podman) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", append(append([]string{}, p.global...), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// container is one running container of the image, published on a free
// port of 127.0.0.1.
type container struct {
	p    podman
	name string
	base string // http://127.0.0.1:PORT
}

func (p podman) start(t *testing.T, name, image string, runArgs []string, args ...string) *container {
	t.Helper()
	t.Cleanup(func() { _, _ = p.run("rm", "-f", name) })
	began := time.Now()
	runCmd := append([]string{"run", "-d", "--name", name, "-p", "127.0.0.1::8080"}, runArgs...)
	if _, err := p.run(append(append(runCmd, image), args...)...); err != nil {
		t.Fatal(err)
	}
	out, err := p.run("port", name, "8080/tcp")
	if err != nil {
		t.Fatal(err)
	}
	c := &container{p: p, name: name, base: "http://" + strings.TrimSpace(out)}
	// The first 200 of /__mock/health, or for a token-protected admin API
	// its first 401: both say the server answers.
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get(c.base + "/__mock/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				t.Logf("first answer from %s %v after podman run", name, time.Since(began).Round(time.Millisecond))
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no answer at %s/__mock/health within 30 s (last: %v)\n%s", name, c.base, err, c.logs(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// healthcheck runs the image's HEALTHCHECK once, as the runtime would
// (podman's timer for it needs systemd): exit status 0 means healthy.
func (c *container) healthcheck(t *testing.T) {
	t.Helper()
	if out, err := c.p.run("healthcheck", "run", c.name); err != nil {
		t.Errorf("podman healthcheck run: %s %v, want healthy", strings.TrimSpace(out), err)
	}
}

// top reports the server process's user name (from the image's
// /etc/passwd) and its UID on the host.
func (c *container) top(t *testing.T) string {
	t.Helper()
	out, err := c.p.run("top", c.name, "user", "huser")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}

func (c *container) logs(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "podman", append(append([]string{}, c.p.global...), "logs", c.name)...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman logs: %v\n%s", err, out)
	}
	return string(out)
}

// stop sends SIGTERM, as `podman stop` does: the server, PID 1, must shut
// down by itself and exit 0, well before podman's 10 s turn to SIGKILL.
func (c *container) stop(t *testing.T) {
	t.Helper()
	began := time.Now()
	if _, err := c.p.run("stop", "-t", "10", c.name); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("podman stop took %v: SIGTERM was not handled", d)
	}
	out, err := c.p.run("inspect", "--format", "{{.State.ExitCode}}", c.name)
	if err != nil {
		t.Fatal(err)
	}
	if code := strings.TrimSpace(out); code != "0" {
		t.Errorf("exit status %s after SIGTERM, want 0\n%s", code, c.logs(t))
	}
}

// curl runs a README command against the container: the README's
// 127.0.0.1:8080 becomes the published address.
func (c *container) curl(t *testing.T, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	command = strings.ReplaceAll(command, "http://127.0.0.1:8080", c.base)
	out, err := exec.CommandContext(ctx, "sh", "-c", command).Output()
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return string(out)
}

// editedFixtures copies the shipped fixtures into a directory the
// container's user can read, with old replaced by replacement in file.
func editedFixtures(t *testing.T, file, old, replacement string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fixtures")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir is 0700, but only the mounted directory itself must be
	// readable by UID 10001: the container does not see its parents.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := fixtures.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fixtures.FS.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == file {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%s does not contain %q any more: update the test", file, old)
			}
			b = bytes.ReplaceAll(b, []byte(old), []byte(replacement))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// example is a curl command of the README followed by the answer it shows.
type example struct {
	name    string // section and request line, for failure messages
	command string
	want    string
}

type examples []example

func (xs examples) find(t *testing.T, substr string) example {
	t.Helper()
	for _, x := range xs {
		if strings.Contains(x.command, substr) {
			return x
		}
	}
	t.Fatalf("no README example with %q", substr)
	return example{}
}

// exampleSections are the README sections whose curl commands the image
// must answer as shown: their answers depend on nothing but the request.
var exampleSections = map[string]bool{"Try it": true, "Two rejected requests": true, "Choosing the answer": true, "Container image": true}

// readmeExamples collects the one-curl sh blocks of exampleSections that
// are followed by the answer they get, and checks that they cover what
// the image must be tried with.
func readmeExamples(t *testing.T, path string) examples {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		xs      examples
		section string
		lines   = strings.Split(string(data), "\n")
	)
	block := func(i int) (lang, body string, end int) { // lines[i] opens a fence
		lang = strings.TrimPrefix(lines[i], "```")
		var b []string
		for end = i + 1; end < len(lines) && !strings.HasPrefix(lines[end], "```"); end++ {
			b = append(b, lines[end])
		}
		return lang, strings.Join(b, "\n"), end
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		if !strings.HasPrefix(line, "```") {
			continue
		}
		lang, body, end := block(i)
		i = end
		if lang != "sh" || !exampleSections[section] || !strings.HasPrefix(body, "curl ") || strings.Count(body, "curl ") != 1 {
			continue
		}
		next := end + 1
		for next < len(lines) && strings.TrimSpace(lines[next]) == "" {
			next++
		}
		if next >= len(lines) || !strings.HasPrefix(lines[next], "```") || lines[next] == "```sh" {
			continue // a command without its answer
		}
		_, want, wantEnd := block(next)
		i = wantEnd
		first, _, _ := strings.Cut(body, "\n")
		xs = append(xs, example{name: section + ": " + strings.TrimSuffix(strings.TrimSpace(first), " \\"), command: body, want: want})
	}
	for _, must := range []string{"RenewLoginToken", `-d '{"Authentication"`, "<TokenRequest", "X-Mock-Scenario: expired"} {
		xs.find(t, must)
	}
	return xs
}

var randomToken = regexp.MustCompile(`QSDK [0-9a-f]{16,}`)

// sameAnswer compares an answer with the README's: the status line and
// the headers the README shows, and the body, with minted tokens masked.
func sameAnswer(want, got string) error {
	want = randomToken.ReplaceAllString(strings.TrimSpace(want), "QSDK <minted>")
	got = randomToken.ReplaceAllString(strings.TrimSpace(strings.ReplaceAll(got, "\r\n", "\n")), "QSDK <minted>")
	if !strings.HasPrefix(want, "HTTP/") {
		if got != want {
			return fmt.Errorf("got  %s\nwant %s", got, want)
		}
		return nil
	}
	wantHead, wantBody, _ := strings.Cut(want, "\n\n")
	gotHead, gotBody, _ := strings.Cut(got, "\n\n")
	var errs []string
	wantLines, gotLines := strings.Split(wantHead, "\n"), strings.Split(gotHead, "\n")
	if wantLines[0] != gotLines[0] {
		errs = append(errs, fmt.Sprintf("status %q, want %q", gotLines[0], wantLines[0]))
	}
	headers := http.Header{}
	for _, l := range gotLines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			headers.Add(k, strings.TrimSpace(v))
		}
	}
	for _, l := range wantLines[1:] {
		k, v, _ := strings.Cut(l, ":")
		if got := headers.Get(k); got != strings.TrimSpace(v) {
			errs = append(errs, fmt.Sprintf("header %s: %q, want %q", k, got, strings.TrimSpace(v)))
		}
	}
	if strings.TrimSpace(gotBody) != strings.TrimSpace(wantBody) {
		errs = append(errs, fmt.Sprintf("body\n got  %s\n want %s", strings.TrimSpace(gotBody), strings.TrimSpace(wantBody)))
	}
	if errs != nil {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}
