package gctune_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/gctune"
)

// sink keeps the test's live heap reachable.
var sink []byte

// percentAfterGC collects, lets the tuner's cleanup run, and reads GOGC.
func percentAfterGC(t *testing.T) int {
	t.Helper()
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // cleanups run on their own goroutine
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// While the live heap is small, GOGC puts the next collection a headroom
// above it; once it is larger than the headroom, GOGC is Go's default and
// no memory limit is set: the collector never runs more often than by
// default.
func TestTunesOnlyWhileTheLiveHeapIsSmall(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	const headroom = 64 << 20
	sink = make([]byte, 4<<20)
	stop := gctune.Start(headroom)
	defer stop()
	if p := percentAfterGC(t); p < 500 {
		t.Errorf("live heap about 4 MiB, headroom 64 MiB: GOGC %d, want about 1000+", p)
	}
	sink = make([]byte, 256<<20)
	if p := percentAfterGC(t); p != 100 {
		t.Errorf("live heap 256 MiB, above the headroom: GOGC %d, want Go's default 100", p)
	}
	sink = make([]byte, 4<<20)
	if p := percentAfterGC(t); p <= 100 {
		t.Errorf("live heap small again: GOGC %d, want it tuned again", p)
	}
	if limit := debug.SetMemoryLimit(-1); limit < 1<<62 {
		t.Errorf("memory limit %d set: a limit near the live heap makes the collector run without pause", limit)
	}
	stop()
	if p := percentAfterGC(t); p != 100 {
		t.Errorf("after stop: GOGC %d, want 100", p)
	}
	sink = nil
}

func TestUserSettingsWin(t *testing.T) {
	t.Setenv("GOGC", "100")
	before := percentAfterGC(t)
	stop := gctune.Start(4 << 20)
	defer stop()
	if got := percentAfterGC(t); got != before {
		t.Errorf("GOGC changed to %d with GOGC set", got)
	}
}
