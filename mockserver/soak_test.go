package mockserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/scenario"
	"github.com/tokenmock/tokenmock/mockserver"
)

// soakDuration is how long TestSoak runs: SOAK_DURATION (make soak), or
// skip.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SOAK_DURATION")
	if v == "" {
		t.Skip("set SOAK_DURATION (make soak) to run the soak test")
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("SOAK_DURATION: %v", err)
	}
	return d
}

type soakKind struct {
	name   string
	weight int
	req    func() *http.Request
	fault  bool // the client is meant to see an error, not an answer
	want   func(status int) bool
}

// TestSoak: 64 clients mix valid JSON and XML, invalid and hostile bodies
// and fault scenarios while the admin API is flipped. Every request is
// accounted for, no 5xx comes that a scenario did not ask for, no data
// race, goroutines and heap are back where they were.
func TestSoak(t *testing.T) {
	dur := soakDuration(t)
	dir := copyFixtures(t)
	// The shipped scenarios, faster: the soak wants many requests.
	data, err := os.ReadFile(filepath.Join(dir, "scenarios.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fast := strings.NewReplacer("delay: 2s", "delay: 20ms", "duration: 3s", "duration: 50ms").Replace(string(data))
	write(t, filepath.Join(dir, "scenarios.yaml"), fast)
	cfg := mockserver.DefaultConfig()
	cfg.FixturesDir, cfg.TimeoutMax = dir, 200*time.Millisecond
	s, base, logs := openServer(t, cfg, slog.LevelWarn)

	mk := func(method, path, ctype, body string, h ...string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			for i := 0; i+1 < len(h); i += 2 {
				req.Header.Set(h[i], h[i+1])
			}
			return req
		}
	}
	ok2xx := func(st int) bool { return st/100 == 2 }
	is := func(codes ...int) func(int) bool {
		return func(st int) bool {
			for _, c := range codes {
				if st == c {
					return true
				}
			}
			return false
		}
	}
	okOrActivated := func(st int) bool { return st/100 == 2 || st == 503 }
	kinds := []soakKind{
		{"renew JSON", 10, mk("POST", renewPath, "application/json", seedRenewJSON, "Authtoken", "QSDK 1"), false, okOrActivated},
		{"validate JSON", 10, mk("PUT", validatePath, "application/json", seedValidateJSON), false, okOrActivated},
		{"validate XML", 10, mk("PUT", validatePath, "application/xml", seedValidateXML), false, okOrActivated},
		{"validate XML→JSON", 5, mk("PUT", validatePath, "application/xml", seedValidateXML, "Accept", "application/json"), false, okOrActivated},
		{"invalid JSON", 5, mk("PUT", validatePath, "application/json", `{"Authentication":null}`), false, is(400)},
		{"invalid XML", 5, mk("PUT", validatePath, "application/xml", `<TokenRequest xmlns="`+nsToken+`"><Authentication/></TokenRequest>`), false, is(400)},
		{"no Authtoken", 3, mk("POST", renewPath, "application/json", seedRenewJSON), false, is(401)},
		{"billion laughs", 2, mk("PUT", validatePath, "application/xml", billionLaughs), false, is(400)},
		{"deep JSON", 2, mk("PUT", validatePath, "application/json", strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), false, is(400)},
		{"garbage", 2, mk("PUT", validatePath, "application/json", "\x00\xff\x13garbage"), false, is(400)},
		{"unknown path", 2, mk("GET", "/nope", "", ""), false, is(404)},
		{"server-error", 2, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "server-error"), false, is(500)},
		{"unavailable", 2, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "unavailable"), false, is(503)},
		{"slow", 1, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "slow"), false, okOrActivated},
		{"malformed", 2, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "malformed"), false, ok2xx},
		{"slow-body", 1, mk("PUT", validatePath, "application/xml", seedValidateXML, scenario.HeaderScenario, "slow-body"), false, ok2xx},
		{"reset", 1, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "reset"), true, nil},
		{"empty", 1, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "empty"), true, nil},
		{"truncated", 1, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "truncated"), true, nil},
		{"timeout", 1, mk("PUT", validatePath, "application/json", seedValidateJSON, scenario.HeaderScenario, "timeout"), true, nil},
	}
	var table []int
	for i, k := range kinds {
		for range k.weight {
			table = append(table, i)
		}
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	fire := func(k soakKind) (status int, err error) {
		resp, err := client.Do(k.req())
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode >= 500 && resp.Header.Get(scenario.HeaderApplied) == "" {
			return resp.StatusCode, fmt.Errorf("%d without %s", resp.StatusCode, scenario.HeaderApplied)
		}
		return resp.StatusCode, err
	}

	// Warm up, then take the baselines.
	for range 200 {
		_, _ = fire(kinds[0])
	}
	client.CloseIdleConnections()
	runtime.GC()
	var warm runtime.MemStats
	runtime.ReadMemStats(&warm)
	goroutines := runtime.NumGoroutine()

	var sent, answered, faults, unexpected atomic.Int64
	var mu sync.Mutex
	problems := map[string]int{}
	note := func(msg string) {
		mu.Lock()
		problems[msg]++
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				k := kinds[table[rng.IntN(len(table))]]
				sent.Add(1)
				st, err := fire(k)
				switch {
				case k.fault && err != nil:
					faults.Add(1)
				case k.fault:
					unexpected.Add(1)
					note(fmt.Sprintf("%s: answered %d, want a network fault", k.name, st))
				case err != nil:
					unexpected.Add(1)
					note(fmt.Sprintf("%s: %v", k.name, err))
				case !k.want(st):
					unexpected.Add(1)
					note(fmt.Sprintf("%s: status %d", k.name, st))
				default:
					answered.Add(1)
				}
			}
		}()
	}
	// The admin API flips activations all along.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			_ = s.Engine().Activate("unavailable", "", 3)
			time.Sleep(20 * time.Millisecond)
			s.Engine().Clear()
			_ = s.Journal().List(journal.Filter{Operation: "ValidateToken", Since: time.Now().Add(-time.Second)})
			time.Sleep(20 * time.Millisecond)
		}
	}()
	wg.Wait()
	client.CloseIdleConnections()

	t.Logf("%d requests in %s (%.0f/s): %d answered as expected, %d faults as asked, %d unexpected",
		sent.Load(), dur, float64(sent.Load())/dur.Seconds(), answered.Load(), faults.Load(), unexpected.Load())
	if sent.Load() != answered.Load()+faults.Load() {
		t.Errorf("accounting: %d sent != %d answered + %d faults; unexpected:\n%v", sent.Load(), answered.Load(), faults.Load(), problems)
	}

	// Goroutines back to their baseline (connections and timers wind down).
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines+2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after, %d before\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("heap after warm-up %d KiB, after the soak %d KiB", warm.HeapAlloc>>10, after.HeapAlloc>>10)
	if after.HeapAlloc > 3*warm.HeapAlloc+8<<20 {
		t.Errorf("heap grew from %d to %d bytes", warm.HeapAlloc, after.HeapAlloc)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", firstLines(logs.String(), "level=ERROR", 5))
	}
}

func firstLines(s, with string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, with) && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
