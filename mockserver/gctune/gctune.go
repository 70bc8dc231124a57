// Package gctune trades a few MiB of memory for far fewer garbage
// collections. The mock's live heap is small (the spec, fixtures, the
// journal) and its garbage is all per request, so Go's default, a
// collection each time the heap doubles, collects several dozen times a
// second under load. Instead the collector runs when the heap is a fixed
// headroom above what is live: memory stays bounded by live + headroom
// whatever the load, and the limit follows the live heap as it grows, so a
// large journal never makes the collector run without pause.
package gctune

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Start switches the collector to a headroom above the live heap, checked
// every interval, unless GOGC or GOMEMLIMIT is set in the environment (the
// user's choice wins) or headroom is 0. It returns a function that stops
// it and restores the defaults.
func Start(headroom int64, every time.Duration) (stop func()) {
	if headroom <= 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prevPercent := debug.SetGCPercent(-1)
	prevLimit := debug.SetMemoryLimit(Limit(headroom))
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				debug.SetMemoryLimit(Limit(headroom))
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		debug.SetMemoryLimit(prevLimit)
		debug.SetGCPercent(prevPercent)
	}
}

var samples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

// Limit is the memory limit that leaves headroom above the live heap and
// the runtime's own memory (stacks, metadata).
func Limit(headroom int64) int64 {
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
	nonHeap := v(1) - v(2) - v(3) - v(4) - v(5)
	return live + max(nonHeap, 0) + headroom
}
