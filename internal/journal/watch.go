package journal

import (
	"context"
)

// A Watcher follows the journal as entries are added: the live feed of the
// dashboard. It holds no entries of its own. It is a cursor into the
// journal's ring, which is the one bounded buffer; a watcher that reads
// slower than requests come loses the entries that leave the ring before
// it reads them, and is told how many of them matched its filter. So a
// slow reader costs the server neither memory nor waiting.
//
// Adding an entry costs nothing more while nobody watches (one length
// check under the lock Add takes anyway); with watchers, one channel send
// each that never blocks, and the filter of each for an entry that leaves
// the ring unread.
type Watcher struct {
	j     *Journal
	match func(*Entry) bool
	wake  chan struct{}
	buf   []Entry // Batch.Entries, reused from one Read to the next

	// Guarded by j.mu.
	cursor  uint64 // the ID of the last entry read or passed over
	missed  uint64 // entries that matched and left the ring unread
	inexact bool   // missed counts entries gone before Watch, filter unknown
	cleared bool   // Clear emptied the journal since the last Next
}

// Batch is what Next gives, in this order: the journal was emptied,
// Missed matching entries went by unread, then Entries, oldest first.
type Batch struct {
	Cleared bool
	Missed  uint64
	// MissedInexact is set when Missed counts entries that had left the
	// journal before the watcher started (a reconnection too late): those
	// may not all have matched the filter.
	MissedInexact bool
	Entries       []Entry
}

// Watch starts following the journal after the entry whose ID is after
// (0: from the oldest entry held), keeping the entries match accepts (nil:
// all). match is called under the journal's lock: it must be quick and
// must not call the journal. Close the watcher when done.
//
// A client that reconnects with the last ID it saw loses nothing the
// journal still holds; what it no longer holds is reported as missed.
func (j *Journal) Watch(after uint64, match func(*Entry) bool) *Watcher {
	if match == nil {
		match = func(*Entry) bool { return true }
	}
	w := &Watcher{j: j, match: match, wake: make(chan struct{}, 1)}
	j.mu.Lock()
	defer j.mu.Unlock()
	// An ID from the future (another run of the server) starts from now.
	after = min(after, j.seq)
	if after > 0 && after < j.clearedThrough {
		w.cleared, after = true, j.clearedThrough
	}
	oldest := j.seq + 1
	if j.n > 0 {
		oldest = j.at(0).ID
	}
	if after > 0 && oldest > after+1 {
		w.missed, w.inexact = oldest-after-1, true
	}
	w.cursor = max(after, oldest-1)
	j.watchers = append(j.watchers, w)
	return w
}

// Tail is the ID after which the last n entries that match begin: Watch
// from it to start with them.
func (j *Journal) Tail(n int, match func(*Entry) bool) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if n <= 0 {
		return j.seq
	}
	for i := j.n - 1; i >= 0; i-- {
		e := j.at(i)
		if match == nil || match(e) {
			if n--; n == 0 {
				return e.ID - 1
			}
		}
	}
	if j.n == 0 {
		return j.seq
	}
	return j.at(0).ID - 1
}

// Get returns the entry of an ID while the journal holds it.
func (j *Journal) Get(id uint64) (Entry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.n == 0 {
		return Entry{}, false
	}
	oldest := j.at(0).ID
	if id < oldest || id > j.seq {
		return Entry{}, false
	}
	return j.at(int(id - oldest)).Listed(), true
}

// Watchers is the number of watchers following the journal.
func (j *Journal) Watchers() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.watchers)
}

// leaving is called with mu as an entry leaves the ring: the watchers that
// have not read it yet count it as missed if it matched.
func (j *Journal) leaving(e *Entry) {
	for _, w := range j.watchers {
		if e.ID > w.cursor {
			if w.match(e) {
				w.missed++
			}
			w.cursor = e.ID
		}
	}
}

func (j *Journal) wakeWatchers() {
	for _, w := range j.watchers {
		select {
		case w.wake <- struct{}{}:
		default: // already woken: it reads everything there is
		}
	}
}

func (j *Journal) clearedForWatchers() {
	for _, w := range j.watchers {
		w.cleared, w.cursor = true, j.seq
	}
	j.wakeWatchers()
}

// scanMax bounds the entries one Next looks at under the journal's lock,
// so that a watcher far behind holds up no request for long.
const scanMax = 256

// Next waits until there is something to tell, then returns at most limit
// entries (and what happened before them). It returns ctx's error when ctx
// ends first. The batch's entries are valid until the next call.
func (w *Watcher) Next(ctx context.Context, limit int) (Batch, error) {
	for {
		b, more := w.Read(limit)
		if !b.Empty() {
			return b, nil
		}
		if more {
			continue
		}
		select {
		case <-w.Ready():
		case <-ctx.Done():
			return Batch{}, ctx.Err()
		}
	}
}

// Empty reports whether the batch tells nothing.
func (b *Batch) Empty() bool { return !b.Cleared && b.Missed == 0 && len(b.Entries) == 0 }

// Ready receives when entries have been added (or the journal emptied)
// since the last Read: for a caller that waits on other things too.
func (w *Watcher) Ready() <-chan struct{} { return w.wake }

// Read takes what there is to tell now, without waiting: at most limit
// entries. more is set when entries are left that it did not look at. The
// batch's entries are valid until the next call.
func (w *Watcher) Read(limit int) (b Batch, more bool) {
	j := w.j
	j.mu.Lock()
	defer j.mu.Unlock()
	b = Batch{Cleared: w.cleared, Missed: w.missed, MissedInexact: w.inexact && w.missed > 0, Entries: w.buf[:0]}
	defer func() { w.buf = b.Entries }()
	w.cleared, w.missed, w.inexact = false, 0, false
	if j.n == 0 || w.cursor >= j.seq {
		return b, false
	}
	oldest := j.at(0).ID
	// The entries left are contiguous: IDs oldest..seq.
	for i, n := int(w.cursor+1-oldest), 0; i < j.n && n < scanMax && len(b.Entries) < limit; i, n = i+1, n+1 {
		e := j.at(i)
		w.cursor = e.ID
		if w.match(e) {
			b.Entries = append(b.Entries, *e)
		}
	}
	return b, w.cursor < j.seq
}

// Close stops following the journal.
func (w *Watcher) Close() {
	j := w.j
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, o := range j.watchers {
		if o == w {
			j.watchers = append(j.watchers[:i], j.watchers[i+1:]...)
			return
		}
	}
}
