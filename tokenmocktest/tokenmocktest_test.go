package tokenmocktest_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver"
	"github.com/tokenmock/tokenmock/tokenmocktest"
)

// Servers in one process share nothing: 64 parallel tests, each with its
// own scenario, clock and tokens, see only their own.
func TestServersAreIsolated(t *testing.T) {
	for i := range 64 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			srv := tokenmocktest.New(t, tokenmocktest.WithLifecycle("strict"), tokenmocktest.WithSeed(int64(i)))
			token := fmt.Sprintf("tok-%02d-abcdefghijkl", i)
			srv.SeedToken("appspace", token, "1042")
			if i%2 == 0 {
				srv.Activate("unavailable", 1, "ValidateToken")
			}
			srv.Advance(time.Duration(i) * time.Minute)
			status, life := validate(srv.Client(), srv.URL, token, "1042")
			want := 200
			if i%2 == 0 {
				want = 503
			} else if i >= 30 {
				want = 401
			}
			if status != want {
				t.Errorf("server %d: got %d (%s), want %d", i, status, life, want)
			}
			// Another server's token is unknown here.
			other := fmt.Sprintf("tok-%02d-abcdefghijkl", (i+1)%64)
			if status, life := validate(srv.Client(), srv.URL, other, "1042"); status != 401 || life != "unknown" {
				t.Errorf("server %d sees server %d's token: %d %s", i, (i+1)%64, status, life)
			}
			if n := len(srv.Requests()); n != 2 {
				t.Errorf("server %d: journal has %d entries, want its own 2", i, n)
			}
		})
	}
}

// A failed New leaves no trace: a server made after it, and one made
// before it, keep their own limits.
func TestFailedNewLeavesNoTrace(t *testing.T) {
	before := tokenmocktest.New(t)
	if _, err := mockserver.NewWith(func() mockserver.Config {
		c := mockserver.DefaultConfig()
		c.MaxDepth = 2 // the fixtures nest deeper: the load fails
		return c
	}(), nil, mockserver.Options{}); err == nil {
		t.Fatal("New with MaxDepth 2 loaded the shipped fixtures; want a failure")
	}
	after := tokenmocktest.New(t)
	for name, srv := range map[string]*tokenmocktest.Server{"before": before, "after": after} {
		xml := `<TokenRequest xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token"><Authentication xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"><AccountId>1042</AccountId><SecurityToken>6f1c2a9e</SecurityToken></Authentication></TokenRequest>`
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/token/request", strings.NewReader(xml))
		req.Header.Set("Content-Type", "application/xml")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("server made %s the failed New: %d %s", name, res.StatusCode, b)
		}
	}
}

// New reports a mistake through the test, naming the file and place.
func TestNewFailsTheTest(t *testing.T) {
	ft := &fatalTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		tokenmocktest.New(ft, tokenmocktest.WithLifecycle("sometimes"))
	}()
	if !strings.Contains(ft.msg, `-lifecycle "sometimes"`) {
		t.Errorf("got %q, want the flag and its value named", ft.msg)
	}
}

type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
func (f *fatalTB) Helper() {}

// Close ends a timeout fault at once, behind httptest too.
func TestCloseEndsFaults(t *testing.T) {
	srv := tokenmocktest.New(t, tokenmocktest.WithConfig(func(c *mockserver.Config) { c.TimeoutMax = time.Minute }))
	srv.Activate("timeout", -1)
	var wg sync.WaitGroup
	wg.Add(1)
	started := make(chan struct{})
	go func() {
		defer wg.Done()
		close(started)
		validate(srv.Client(), srv.URL, "6f1c2a9e", "1042")
	}()
	<-started
	// Wait until the request is held by the fault: it is journaled only
	// when it ends, so watch the engine's count of the activation instead.
	deadline := time.Now().Add(5 * time.Second)
	for srv.Server().Engine().Active()[0].Remaining != -1 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	done := make(chan struct{})
	go func() { srv.Close(); wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the timeout fault (one minute)")
	}
}

// BenchmarkNewServe is what a test pays for its own server: New, the first
// answer, Close.
func BenchmarkNewServe(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		srv := tokenmocktest.New(b)
		if status, _ := validate(srv.Client(), srv.URL, "6f1c2a9e", "1042"); status != 200 {
			b.Fatalf("status %d", status)
		}
		srv.Close()
	}
}

// Servers that were closed are collected: 200 of them keep well under
// 1 MiB each.
func TestClosedServersAreCollected(t *testing.T) {
	tokenmocktest.New(t).Close() // the shared contract is parsed here, once
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 200 {
		srv := tokenmocktest.New(t)
		validate(srv.Client(), srv.URL, "6f1c2a9e", "1042")
		srv.Close()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("200 closed servers: heap %+d KiB (%.1f KiB each)", grown>>10, float64(grown)/200/1024)
	if grown > 200<<20/10 { // 100 KiB each is far above what a closed server may keep
		t.Errorf("200 closed servers keep %d KiB of heap", grown>>10)
	}
}
