// Package gctune makes the garbage collector run less often while the
// mock's live heap is small, and exactly as often as Go's default once it
// is not.
//
// The mock's live heap is small (the spec, fixtures, the journal) and its
// garbage is all per request, so Go's default, a collection each time the
// heap doubles, collects several dozen times a second under load. While
// the live heap is smaller than a headroom, the collector instead runs
// when the heap has grown by that headroom: GOGC is raised to
// 100 × headroom / live after every collection. Once the live heap is
// larger than the headroom (large requests in flight, a large journal),
// GOGC is Go's default, 100: the tuning never makes the collector run more
// often than Go's default, and sets no memory limit, so it cannot make the
// collector run without pause. The heap goal is max(live + headroom,
// 2 × live).
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// MaxPercent bounds GOGC when the live heap is tiny.
const MaxPercent = 10000

// Start tunes the collector with the given headroom, unless GOGC or
// GOMEMLIMIT is set in the environment (the user's choice wins) or
// headroom is 0. It returns a function that stops it and restores the
// default.
func Start(headroom int64) (stop func()) {
	if headroom <= 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	t := &tuner{headroom: headroom}
	// The live heap is known only after a collection: one now, while it is
	// small, rather than a first goal computed from nothing.
	runtime.GC()
	prev := debug.SetGCPercent(Percent(headroom))
	t.arm()
	return func() {
		t.mu.Lock()
		t.stopped = true
		t.mu.Unlock()
		debug.SetGCPercent(prev)
	}
}

type tuner struct {
	headroom int64
	mu       sync.Mutex
	stopped  bool
}

// sentinel is allocated so that its cleanup runs after the next
// collection; large enough to stay out of the tiny allocator, whose
// objects may never get their cleanups run.
type sentinel struct {
	_ [32]byte
	_ *int
}

// arm schedules a retune after the next collection.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) { t.retune() }, t)
}

func (t *tuner) retune() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	debug.SetGCPercent(Percent(t.headroom))
	t.arm()
}

var samples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/scan/stack:bytes"},
	{Name: "/gc/scan/globals:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
}

// Percent is the GOGC that sets the next heap goal at the live heap, as
// measured by the last collection, plus headroom, but never below 100
// (Go's goal is live + (live + stacks + globals) × GOGC / 100). The
// headroom counts memory, not objects: the heap's fragmentation comes out
// of it (a quarter of it is always left), so that the process grows by
// about headroom.
func Percent(headroom int64) int {
	s := make([]metrics.Sample, len(samples))
	copy(s, samples)
	metrics.Read(s)
	v := func(i int) int64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(s[i].Value.Uint64())
	}
	live := v(0)
	base := live + v(1) + v(2)
	if base <= 0 {
		return 100
	}
	growth := max(headroom-v(3), headroom/4)
	p := 100 * growth / base
	// Go never sets a goal below 4 MiB × GOGC/100 (its heap minimum): a
	// GOGC of 1000 for a 1 MiB live heap would mean a 40 MiB goal.
	p = min(p, 100*(live+growth)/heapMinimum)
	return int(min(max(p, 100), MaxPercent))
}

// heapMinimum is the runtime's smallest heap goal at GOGC=100.
const heapMinimum = 4 << 20
