package journal_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
)

func add(j *journal.Journal, op string, status int) {
	j.Add(journal.Entry{Operation: op, Status: status, Method: "PUT", Path: "/x", Time: time.Now()}, nil, nil)
}

func next(t *testing.T, w *journal.Watcher, limit int) journal.Batch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := w.Next(ctx, limit)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return b
}

func ids(es []journal.Entry) []uint64 {
	out := []uint64{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// A client that reconnects with the last ID it saw gets every entry after
// it, in order, then the live ones, with none twice.
func TestWatchResumesAfterTheLastID(t *testing.T) {
	j := journal.New(100, 64)
	for range 5 {
		add(j, "A", 200)
	}
	w := j.Watch(2, nil)
	defer w.Close()
	add(j, "A", 200) // 6, added while catching up
	if got := ids(next(t, w, 100).Entries); !slices.Equal(got, []uint64{3, 4, 5, 6}) {
		t.Fatalf("after 2: got %v, want [3 4 5 6]", got)
	}
	done := make(chan journal.Batch)
	go func() { done <- next(t, w, 100) }()
	add(j, "A", 200)
	if b := <-done; !slices.Equal(ids(b.Entries), []uint64{7}) || b.Missed != 0 {
		t.Errorf("live: got %v missed %d, want [7]", ids(b.Entries), b.Missed)
	}
}

// A reconnection after the journal has let entries go is told how many.
func TestWatchTooLateIsToldWhatItMissed(t *testing.T) {
	j := journal.New(10, 64)
	for range 25 {
		add(j, "A", 200)
	}
	w := j.Watch(5, nil)
	defer w.Close()
	b := next(t, w, 100)
	if b.Missed != 10 || !b.MissedInexact {
		t.Errorf("missed %d (inexact %v), want 10 (entries 6..15 are gone)", b.Missed, b.MissedInexact)
	}
	if got := ids(b.Entries); !slices.Equal(got, []uint64{16, 17, 18, 19, 20, 21, 22, 23, 24, 25}) {
		t.Errorf("got %v, want 16..25", got)
	}
}

// A watcher that does not read while the ring turns over is told how many
// entries matching its filter went by, exactly, then gets the rest.
func TestWatchSlowReaderMissesAndIsTold(t *testing.T) {
	j := journal.New(10, 64)
	only401 := func(e *journal.Entry) bool { return e.Status == 401 }
	w := j.Watch(0, only401)
	defer w.Close()
	for i := range 30 {
		status := 200
		if i%3 == 0 {
			status = 401
		}
		add(j, "A", status) // IDs 1, 4, 7, ... are 401s
	}
	b := next(t, w, 100)
	// IDs 1..20 left the ring unread: 1, 4, ..., 19 are 401s (7 of them).
	if b.Missed != 7 || b.MissedInexact {
		t.Errorf("missed %d (inexact %v), want 7 exactly", b.Missed, b.MissedInexact)
	}
	if got := ids(b.Entries); !slices.Equal(got, []uint64{22, 25, 28}) {
		t.Errorf("got %v, want [22 25 28]", got)
	}
	if j.Watchers() != 1 {
		t.Errorf("%d watchers, want 1", j.Watchers())
	}
	w.Close()
	if j.Watchers() != 0 {
		t.Errorf("%d watchers after Close, want 0", j.Watchers())
	}
}

// Next gives at most limit entries; the rest come with the next call.
func TestWatchLimitAndOrder(t *testing.T) {
	j := journal.New(1000, 64)
	for range 600 {
		add(j, "A", 200)
	}
	w := j.Watch(0, nil)
	defer w.Close()
	var got []uint64
	for len(got) < 600 {
		b := next(t, w, 64)
		if len(b.Entries) > 64 {
			t.Fatalf("a batch of %d, limit 64", len(b.Entries))
		}
		got = append(got, ids(b.Entries)...)
	}
	for i, id := range got {
		if id != uint64(i+1) {
			t.Fatalf("entry %d has ID %d: out of order or lost", i, id)
		}
	}
}

// A filter that matches nothing of a long run does not leave the watcher
// asleep with entries still to look at.
func TestWatchScansPastManyNonMatching(t *testing.T) {
	j := journal.New(1000, 64)
	w := j.Watch(0, func(e *journal.Entry) bool { return e.Operation == "B" })
	defer w.Close()
	for range 900 {
		add(j, "A", 200)
	}
	add(j, "B", 200)
	if got := ids(next(t, w, 10).Entries); !slices.Equal(got, []uint64{901}) {
		t.Errorf("got %v, want [901]", got)
	}
}

func TestWatchSeesClear(t *testing.T) {
	j := journal.New(10, 64)
	add(j, "A", 200)
	w := j.Watch(0, nil)
	defer w.Close()
	next(t, w, 10)
	add(j, "A", 200)
	j.Clear()
	add(j, "A", 200)
	b := next(t, w, 10)
	if !b.Cleared || b.Missed != 0 || !slices.Equal(ids(b.Entries), []uint64{3}) {
		t.Errorf("got cleared %v missed %d entries %v, want cleared, 0, [3]", b.Cleared, b.Missed, ids(b.Entries))
	}
	// Reconnecting with an ID from before the clear: told it was cleared,
	// not that entries were missed.
	w2 := j.Watch(1, nil)
	defer w2.Close()
	b = next(t, w2, 10)
	if !b.Cleared || b.Missed != 0 || !slices.Equal(ids(b.Entries), []uint64{3}) {
		t.Errorf("reconnect: got cleared %v missed %d entries %v, want cleared, 0, [3]", b.Cleared, b.Missed, ids(b.Entries))
	}
}

func TestTailAndGet(t *testing.T) {
	j := journal.New(10, 64)
	for i := range 15 {
		add(j, []string{"A", "B"}[i%2], 200)
	}
	isB := func(e *journal.Entry) bool { return e.Operation == "B" }
	if got := j.Tail(2, isB); got != 11 { // B: 2, 4, ..., 14; the last two are 12 and 14
		t.Errorf("Tail(2, B) = %d, want 11", got)
	}
	if got := j.Tail(100, nil); got != 5 {
		t.Errorf("Tail(100) = %d, want 5 (the oldest held is 6)", got)
	}
	if e, ok := j.Get(12); !ok || e.ID != 12 || e.Operation != "B" {
		t.Errorf("Get(12) = %v %v", e.ID, ok)
	}
	for _, id := range []uint64{0, 5, 16} {
		if _, ok := j.Get(id); ok {
			t.Errorf("Get(%d) found an entry the journal does not hold", id)
		}
	}
}

func TestNextEndsWithItsContext(t *testing.T) {
	j := journal.New(10, 64)
	w := j.Watch(0, nil)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := w.Next(ctx, 10); err == nil {
		t.Fatal("Next returned with nothing to tell")
	}
}
