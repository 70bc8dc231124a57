package gctune_test

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/mockserver/gctune"
)

func TestStartSetsALimitAboveTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	sink = make([]byte, 8<<20) // live heap
	runtime.GC()               // the live heap is measured by collections
	runtime.GC()
	stop := gctune.Start(4<<20, 10*time.Millisecond)
	defer stop()
	limit := debug.SetMemoryLimit(-1)
	if limit < 12<<20 || limit > 1<<30 {
		t.Errorf("limit %d, want live (8 MiB and more) + 4 MiB", limit)
	}
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GOGC %d, want off", p)
	}
}

// sink keeps the test's live heap reachable.
var sink []byte

func TestUserSettingsWin(t *testing.T) {
	t.Setenv("GOGC", "100")
	before := debug.SetMemoryLimit(-1)
	stop := gctune.Start(4<<20, time.Second)
	defer stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit changed to %d with GOGC set", got)
	}
}
