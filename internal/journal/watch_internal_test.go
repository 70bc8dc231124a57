package journal

import (
	"testing"
)

// With nobody watching, adding an entry never reaches the watchers' code:
// the live feed costs the hot path nothing. A filter that counts its calls
// shows it: it is called while a watcher follows, and never again once it
// has closed.
func TestNoWatcherNoWork(t *testing.T) {
	j := New(4, 64)
	calls := 0
	w := j.Watch(0, func(*Entry) bool { calls++; return true })
	for range 10 { // 6 leave the ring unread: the filter sees each
		j.Add(Entry{}, nil, nil)
	}
	if calls != 6 {
		t.Fatalf("filter called %d times while watching, want 6", calls)
	}
	w.Close()
	calls = 0
	for range 100 {
		j.Add(Entry{}, nil, nil)
	}
	if calls != 0 || len(j.watchers) != 0 {
		t.Errorf("after Close: filter called %d times, %d watchers", calls, len(j.watchers))
	}
	if n := testing.AllocsPerRun(100, func() { j.Add(Entry{}, nil, nil) }); n > 1 {
		t.Errorf("Add allocates %v times with nobody watching, want at most 1 (the body's copy)", n)
	}
}
