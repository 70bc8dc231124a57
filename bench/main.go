// Command bench is make bench: it builds mockserver and the bare-Echo
// baseline, loads each over loopback with the same three workloads (the
// seeds' bodies, fixed concurrency, fixed duration), and prints one table
// with throughput as a ratio of the baseline measured in the same run,
// latency percentiles, allocations per request (from BenchmarkServe),
// memory, and start-up time. Ratios, not absolute numbers, are what
// compare across machines.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type workload struct {
	name, method, path, ctype, body string
	header                          map[string]string
	bench                           string // BenchmarkServe case
	invalid                         string // a body the mock must reject with 400
	xml                             bool
}

const (
	seedRenew    = `{"deviceId": "build-agent-07", "sessionId": "QSDK 3f9a1c47e2b85d60c3a91f7e4b28d05a6c1e93f7b2a4d8c05e6f1a9b3c7d2e48"}`
	seedValidate = `{"Authentication":{"AccountId":"1042","SecurityToken":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}}`
	seedXML      = `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">
    <AccountId>1042</AccountId>
    <SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken>
  </Authentication>
</TokenRequest>`
)

var workloads = []workload{
	{name: "RenewLoginToken JSON", method: "POST", path: "/commandcenter/api/RenewLoginToken", ctype: "application/json", body: seedRenew,
		header: map[string]string{"Accept": "application/json", "Authtoken": "QSDK 3f9a1c47e2b85d60"}, bench: "RenewLoginToken-JSON", invalid: `{"deviceId": 7}`},
	{name: "ValidateToken JSON", method: "PUT", path: "/api/v1/token/request", ctype: "application/json", body: seedValidate,
		bench: "ValidateToken-JSON", invalid: `{"Authentication": null}`},
	{name: "ValidateToken XML", method: "PUT", path: "/api/v1/token/request", ctype: "application/xml", body: seedXML,
		bench: "ValidateToken-XML", invalid: `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><Authentication/></TokenRequest>`, xml: true},
}

type result struct {
	requests, errors int
	rps              float64
	p50, p99, p999   time.Duration
	elapsed          time.Duration
}

// gcServer is one garbage-collector setting of the GC comparison.
type gcServer struct {
	name string
	bin  string   // "" for the mockserver just built
	args []string // beyond -addr
}

func main() {
	duration := flag.Duration("duration", 15*time.Second, "load per workload and server")
	conc := flag.Int("concurrency", 32, "concurrent connections")
	out := flag.String("out", ".bench", "folder for binaries and results")
	startups := flag.Int("startup-runs", 7, "start-up measurements")
	gc := flag.Bool("gc", true, "compare the GC settings (small XML and heavy requests) against Go's default")
	gcOnly := flag.Bool("gc-only", false, "run the GC comparison alone")
	lifecycle := flag.Bool("lifecycle", true, "also load ValidateToken with -lifecycle adopt (a touch of a live token per request), beside the default off")
	var extra []gcServer
	flag.Func("gc-compare", "NAME=BINARY: another mockserver build to include in the GC comparison (e.g. an older release); repeatable", func(v string) error {
		name, bin, ok := strings.Cut(v, "=")
		if !ok || name == "" || bin == "" {
			return errors.New("want NAME=BINARY")
		}
		extra = append(extra, gcServer{name: name, bin: bin})
		return nil
	})
	flag.Parse()
	if *gcOnly {
		if err := runGCOnly(*duration, *out, extra); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*duration, *conc, *out, *startups, *gc, *lifecycle, extra); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, conc int, out string, startups int, gc, lifecycle bool, extra []gcServer) error {
	bin := filepath.Join(out, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	mock, base := filepath.Join(bin, "mockserver"), filepath.Join(bin, "baseline")
	for target, pkg := range map[string]string{mock: "./cmd/mockserver", base: "./bench/baseline"} {
		if b, err := exec.Command("go", "build", "-o", target, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
		}
	}
	fmt.Fprintln(os.Stderr, "micro-benchmarks (allocations per request)...")
	allocs, err := microBench()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "start-up...")
	starts, err := startup(mock, startups)
	if err != nil {
		return err
	}

	results := map[string]map[string]result{}
	var rss []string
	var peak int64
	servers := []string{"baseline", "mockserver"}
	if lifecycle {
		servers = append(servers, "adopt")
	}
	for _, server := range servers {
		path := map[string]string{"baseline": base, "mockserver": mock, "adopt": mock}[server]
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		args := []string{"-addr", addr} // default configuration: journal on, one log line per request (to /dev/null)
		if server == "adopt" {
			args = append(args, "-lifecycle", "adopt")
		}
		cmd := exec.Command(path, args...)
		if err := cmd.Start(); err != nil {
			return err
		}
		if err := waitUp("http://"+addr, 5*time.Second); err != nil {
			_ = cmd.Process.Kill()
			return fmt.Errorf("%s: %w", server, err)
		}
		results[server] = map[string]result{}
		total := 0
		for _, w := range workloads {
			if server == "adopt" && !strings.HasPrefix(w.name, "ValidateToken") {
				continue // a renewal revokes its token: the same request cannot be repeated
			}
			if server == "mockserver" {
				if err := assertRejects("http://"+addr, w); err != nil {
					_ = cmd.Process.Kill()
					return err
				}
			}
			fmt.Fprintf(os.Stderr, "%-10s %-22s %s...\n", server, w.name, duration)
			load("http://"+addr, w, conc, time.Second) // warm-up
			r := load("http://"+addr, w, conc, duration)
			results[server][w.name] = r
			total += r.requests
			if server == "mockserver" {
				kb, _ := procStatus(cmd.Process.Pid, "VmRSS")
				rss = append(rss, fmt.Sprintf("%.1f MiB after %d requests", float64(kb)/1024, total))
			}
		}
		if server == "mockserver" {
			peak, _ = procStatus(cmd.Process.Pid, "VmHWM")
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	report := render(results, allocs, starts, rss, peak, duration, conc)
	if lifecycle {
		report += renderLifecycle(results)
	}
	if gc {
		table, err := gcCompare(mock, duration, extra)
		if err != nil {
			return err
		}
		report += table
	}
	fmt.Print(report)
	stamp := time.Now().UTC().Format("20060102-150405")
	for _, name := range []string{"results-" + stamp + ".txt", "latest.txt"} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(report), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "written to %s\n", filepath.Join(out, "results-"+stamp+".txt"))
	return nil
}

func newRequest(base string, w workload, body string) *http.Request {
	req, _ := http.NewRequest(w.method, base+w.path, strings.NewReader(body))
	req.Header.Set("Content-Type", w.ctype)
	for k, v := range w.header {
		req.Header.Set(k, v)
	}
	return req
}

// assertRejects checks that validation is on: no number is made by
// skipping it.
func assertRejects(base string, w workload) error {
	resp, err := http.DefaultClient.Do(newRequest(base, w, w.invalid))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("%s: an invalid body got %d, want 400: validation is off", w.name, resp.StatusCode)
	}
	return nil
}

// load runs conc closed-loop clients for d, each on its own keep-alive
// connection, and measures each request. The client is a minimal
// HTTP/1.1 one writing prepared bytes: net/http's client costs several
// times what it measures, and it shares the machine with the server.
func load(base string, w workload, conc int, d time.Duration) result {
	raw := rawRequest(strings.TrimPrefix(base, "http://"), w, w.body)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			bad := 0
			var conn net.Conn
			var rd *bufio.Reader
			for ctx.Err() == nil {
				if conn == nil {
					c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
					if err != nil {
						bad++
						time.Sleep(time.Millisecond)
						continue
					}
					conn, rd = c, bufio.NewReaderSize(c, 16<<10)
				}
				t0 := time.Now()
				_ = conn.SetDeadline(t0.Add(10 * time.Second))
				status, err := roundTrip(conn, rd, raw)
				if err != nil || status != http.StatusOK {
					bad++
					conn.Close()
					conn = nil
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			if conn != nil {
				conn.Close()
			}
			mu.Lock()
			all = append(all, lat...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	return result{requests: len(all), errors: errs, rps: float64(len(all)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), p999: pct(0.999), elapsed: elapsed}
}

// rawRequest is the request of a workload as bytes on the wire.
func rawRequest(host string, w workload, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", w.method, w.path, host, w.ctype, len(body))
	for k, v := range w.header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

// roundTrip writes one request and reads its answer: the status line,
// the headers (for Content-Length) and the body.
func roundTrip(conn net.Conn, rd *bufio.Reader, raw []byte) (int, error) {
	if _, err := conn.Write(raw); err != nil {
		return 0, err
	}
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, errors.New("short status line")
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := -1
	chunked := false
	for {
		h, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if len(h) > 16 && strings.EqualFold(string(h[:15]), "Content-Length:") {
			length, err = strconv.Atoi(strings.TrimSpace(string(h[15:])))
			if err != nil {
				return 0, err
			}
		}
		if len(h) > 18 && strings.EqualFold(string(h[:18]), "Transfer-Encoding:") {
			chunked = strings.Contains(strings.ToLower(string(h[18:])), "chunked")
		}
	}
	if chunked {
		// A large answer comes in chunks: size line, data, CRLF; 0 ends.
		for {
			line, err := rd.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(string(line), ";")[0]), 16, 64)
			if err != nil {
				return 0, err
			}
			if _, err := rd.Discard(int(n) + 2); err != nil {
				return 0, err
			}
			if n == 0 {
				return status, nil
			}
		}
	}
	if length < 0 {
		return 0, errors.New("no Content-Length")
	}
	_, err = rd.Discard(length)
	return status, err
}

// microBench runs BenchmarkServe and returns allocations per request.
func microBench() (map[string]string, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "BenchmarkServe", "-benchmem", "-count", "1", "./mockserver")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %v\n%s", err, b)
	}
	out := map[string]string{}
	re := regexp.MustCompile(`BenchmarkServe/(\S+?)-\d+\s+\d+\s+(\d+) ns/op.*?(\d+) B/op\s+(\d+) allocs/op`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[4] + " (" + m[3] + " B)"
	}
	return out, nil
}

// startup measures launch to first 200, runs times; it returns the median
// and the worst.
func startup(bin string, runs int) ([2]time.Duration, error) {
	var ds []time.Duration
	w := workloads[0]
	for range runs {
		addr, err := freeAddr()
		if err != nil {
			return [2]time.Duration{}, err
		}
		t0 := time.Now()
		cmd := exec.Command(bin, "-addr", addr)
		if err := cmd.Start(); err != nil {
			return [2]time.Duration{}, err
		}
		client := &http.Client{Timeout: time.Second}
		for {
			resp, err := client.Do(newRequest("http://"+addr, w, w.body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(t0) > 10*time.Second {
				_ = cmd.Process.Kill()
				return [2]time.Duration{}, errors.New("start-up: no 200 within 10s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		ds = append(ds, time.Since(t0))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	slices.Sort(ds)
	return [2]time.Duration{ds[len(ds)/2], ds[len(ds)-1]}, nil
}

func waitUp(base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("not listening")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// procStatus reads a kB field of /proc/PID/status.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == field+":" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s", field)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func render(res map[string]map[string]result, allocs map[string]string, starts [2]time.Duration, rss []string, peakKB int64, d time.Duration, conc int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "make bench: %s, %d CPUs, %s, concurrency %d, %s per workload and server, %s\n\n",
		host, runtime.NumCPU(), runtime.Version(), conc, d, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "%-22s %-10s %10s %7s %9s %9s %9s %7s  %s\n", "workload", "server", "req/s", "ratio", "p50", "p99", "p99.9", "errors", "allocs/req")
	var verdicts []string
	for _, w := range workloads {
		baseR := res["baseline"][w.name]
		for _, server := range []string{"baseline", "mockserver"} {
			r := res[server][w.name]
			ratio := r.rps / baseR.rps
			a := ""
			if server == "mockserver" {
				a = allocs[w.bench]
			}
			fmt.Fprintf(&b, "%-22s %-10s %10.0f %7.2f %9s %9s %9s %7d  %s\n", w.name, server, r.rps, ratio, ms(r.p50), ms(r.p99), ms(r.p999), r.errors, a)
		}
		mr := res["mockserver"][w.name]
		target := 0.75
		if w.xml {
			target = 0.55
		}
		verdicts = append(verdicts, verdict(fmt.Sprintf("%s throughput ≥ %.0f%% of baseline", w.name, target*100), mr.rps/baseR.rps >= target, fmt.Sprintf("%.0f%%", 100*mr.rps/baseR.rps)))
		verdicts = append(verdicts, verdict(fmt.Sprintf("%s p99 ≤ 5 ms", w.name), mr.p99 <= 5*time.Millisecond, ms(mr.p99)))
	}
	fmt.Fprintf(&b, "\nstart-up to first 200 (embedded spec and fixtures): median %s, worst %s\n", ms(starts[0]), ms(starts[1]))
	fmt.Fprintf(&b, "mockserver RSS: %s; peak %.1f MiB\n", strings.Join(rss, ", "), float64(peakKB)/1024)
	verdicts = append(verdicts, verdict("start-up ≤ 20 ms", starts[0] <= 20*time.Millisecond, ms(starts[0])))
	verdicts = append(verdicts, verdict("RSS ≤ 30 MiB", peakKB <= 30*1024, fmt.Sprintf("peak %.1f MiB", float64(peakKB)/1024)))
	fmt.Fprintf(&b, "\ntargets:\n%s\n", strings.Join(verdicts, "\n"))
	return b.String()
}

func verdict(what string, ok bool, got string) string {
	mark := "met   "
	if !ok {
		mark = "MISSED"
	}
	return fmt.Sprintf("  %s %s (%s)", mark, what, got)
}

// runGCOnly builds mockserver and prints the GC comparison alone.
func runGCOnly(d time.Duration, out string, extra []gcServer) error {
	mock := filepath.Join(out, "bin", "mockserver")
	if b, err := exec.Command("go", "build", "-o", mock, "./cmd/mockserver").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, b)
	}
	table, err := gcCompare(mock, d, extra)
	if err != nil {
		return err
	}
	fmt.Printf("make bench (GC only): %d CPUs, %s, %s per workload and setting, %s\n%s", runtime.NumCPU(), runtime.Version(), d, time.Now().UTC().Format(time.RFC3339), table)
	return nil
}

// heavyToken makes the heavy workload: a valid ValidateToken XML request
// whose SecurityToken is 16 MiB, echoed back by the answer. Each request
// allocates tens of MiB that stay live while it runs, the case where a
// collector tuned for a small live heap used to run without pause.
var heavyToken = strings.Repeat("6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64", 16<<20/36)

var gcWorkloads = []struct {
	w    workload
	conc int
}{
	{workloads[2], 32},
	{workload{name: "heavy XML (16 MiB token)", method: "PUT", path: "/api/v1/token/request", ctype: "application/xml",
		body: strings.Replace(seedXML, "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64", heavyToken, 1), xml: true}, 8},
}

// gcRounds interleaves the settings: each loads for duration/gcRounds in
// turn, so that a change in the machine's load during the run falls on
// all of them alike.
const gcRounds = 5

// gcCompare loads each GC setting with a small and a heavy workload, in
// the same run, and reports throughput as a ratio of Go's default
// collector (-gc-headroom 0).
func gcCompare(mock string, d time.Duration, extra []gcServer) (string, error) {
	servers := append([]gcServer{
		{name: "Go default (-gc-headroom 0)", args: []string{"-gc-headroom", "0"}},
		{name: "-gc-headroom 12MiB (default)"},
	}, extra...)
	type cell struct {
		r    result
		peak int64
	}
	res := map[string]map[string]cell{}
	for _, srv := range servers {
		res[srv.name] = map[string]cell{}
	}
	for _, gw := range gcWorkloads {
		// Fresh processes per workload: each peak RSS is the workload's own.
		addrs := make([]string, len(servers))
		cmds := make([]*exec.Cmd, len(servers))
		stop := func() {
			for _, c := range cmds {
				if c != nil {
					_ = c.Process.Kill()
					_ = c.Wait()
				}
			}
		}
		for i, srv := range servers {
			bin := srv.bin
			if bin == "" {
				bin = mock
			}
			addr, err := freeAddr()
			if err != nil {
				stop()
				return "", err
			}
			cmd := exec.Command(bin, append([]string{"-addr", addr, "-max-body", "32MiB"}, srv.args...)...)
			if err := cmd.Start(); err != nil {
				stop()
				return "", err
			}
			addrs[i], cmds[i] = addr, cmd
			if err := waitUp("http://"+addr, 5*time.Second); err != nil {
				stop()
				return "", fmt.Errorf("%s: %w", srv.name, err)
			}
			load("http://"+addr, gw.w, gw.conc, time.Second) // warm-up
		}
		parts := make([][]result, len(servers))
		for round := range gcRounds {
			for k := range servers {
				i := (k + round) % len(servers)
				fmt.Fprintf(os.Stderr, "gc %-30s %-24s round %d...\n", servers[i].name, gw.w.name, round+1)
				parts[i] = append(parts[i], load("http://"+addrs[i], gw.w, gw.conc, d/gcRounds))
			}
		}
		for i, srv := range servers {
			peak, _ := procStatus(cmds[i].Process.Pid, "VmHWM")
			res[srv.name][gw.w.name] = cell{merge(parts[i]), peak}
		}
		stop()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nGC settings: the same mockserver workloads, %d interleaved rounds each, ratio of Go's default collector in this run:\n", gcRounds)
	fmt.Fprintf(&b, "%-26s %-30s %6s %10s %7s %9s %9s %7s %9s\n", "workload", "setting", "conc", "req/s", "ratio", "p50", "p99", "errors", "peak RSS")
	for _, gw := range gcWorkloads {
		base := res[servers[0].name][gw.w.name].r.rps
		for _, srv := range servers {
			c := res[srv.name][gw.w.name]
			fmt.Fprintf(&b, "%-26s %-30s %6d %10.1f %7.2f %9s %9s %7d %7.1f MiB\n", gw.w.name, srv.name, gw.conc, c.r.rps, c.r.rps/base, ms(c.r.p50), ms(c.r.p99), c.r.errors, float64(c.peak)/1024)
		}
	}
	return b.String(), nil
}

// merge adds up the rounds of one setting: requests per second over the
// time they ran; percentiles are the rounds' medians.
func merge(rs []result) result {
	var out result
	var secs float64
	var p50, p99, p999 []time.Duration
	for _, r := range rs {
		out.requests += r.requests
		out.errors += r.errors
		secs += r.elapsed.Seconds()
		p50, p99, p999 = append(p50, r.p50), append(p99, r.p99), append(p999, r.p999)
	}
	if secs > 0 {
		out.rps = float64(out.requests) / secs
	}
	med := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	out.p50, out.p99, out.p999 = med(p50), med(p99), med(p999)
	return out
}

// renderLifecycle compares ValidateToken with the token lifecycle in adopt
// mode (every request touches a live token) against the default off, in
// the same run.
func renderLifecycle(res map[string]map[string]result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\ntoken lifecycle (-lifecycle adopt against off, same run):\n")
	for _, w := range workloads {
		a, ok := res["adopt"][w.name]
		if !ok {
			continue
		}
		off := res["mockserver"][w.name]
		ratio := a.rps / off.rps
		fmt.Fprintf(&b, "  %-22s off %8.0f req/s, adopt %8.0f req/s: %.2f (errors %d)\n", w.name, off.rps, a.rps, ratio, a.errors)
		fmt.Fprintln(&b, verdict(fmt.Sprintf("%s: the lifecycle costs at most 10%%", w.name), ratio >= 0.90, fmt.Sprintf("%.0f%%", 100*(1-ratio))))
	}
	return b.String()
}
