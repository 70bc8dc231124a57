package lifecycle

import (
	"container/list"
	"time"
)

// DefaultMaxTokens bounds the store when no limit is given.
const DefaultMaxTokens = 100_000

// record is one token of a realm.
type record struct {
	id                  uint64 // the store's number for it: the admin API names a token by it without showing it
	realm, value, owner string
	issued, last        time.Time
	forced              time.Time // expired through the admin API; zero: not
	revoked             bool
	el                  *list.Element // in store.live or store.dead
	dead                bool
}

type key struct{ realm, value string }

// store holds the tokens of every realm, bounded: at the limit, revoked
// and force-expired tokens are evicted first, then the least recently
// active (which is where tokens expired by inactivity are). It is not
// safe for concurrent use: Gate holds its lock.
type store struct {
	max    int
	tokens map[key]*record
	byID   map[uint64]*record
	seq    uint64
	live   list.List // front: most recently active
	dead   list.List // revoked or force-expired, oldest at the back
}

func newStore(max int) *store {
	if max <= 0 {
		max = DefaultMaxTokens
	}
	return &store{max: max, tokens: map[key]*record{}, byID: map[uint64]*record{}}
}

func (s *store) get(realm, value string) *record { return s.tokens[key{realm, value}] }

// add registers a token, evicting one first when the store is full. A
// token already present is replaced.
func (s *store) add(realm, value, owner string, now time.Time) *record {
	if old := s.get(realm, value); old != nil {
		s.remove(old)
	}
	for len(s.tokens) >= s.max {
		back := s.dead.Back()
		if back == nil {
			back = s.live.Back()
		}
		s.remove(back.Value.(*record))
	}
	s.seq++
	r := &record{id: s.seq, realm: realm, value: value, owner: owner, issued: now, last: now}
	r.el = s.live.PushFront(r)
	s.tokens[key{realm, value}] = r
	s.byID[r.id] = r
	return r
}

func (s *store) remove(r *record) {
	if r.dead {
		s.dead.Remove(r.el)
	} else {
		s.live.Remove(r.el)
	}
	delete(s.tokens, key{r.realm, r.value})
	delete(s.byID, r.id)
}

// touch records activity on a live token.
func (s *store) touch(r *record, now time.Time) {
	r.last = now
	if !r.dead {
		s.live.MoveToFront(r.el)
	}
}

// kill moves a revoked or force-expired token to the eviction list.
func (s *store) kill(r *record) {
	if r.dead {
		return
	}
	s.live.Remove(r.el)
	r.el, r.dead = s.dead.PushFront(r), true
}

func (s *store) clear() {
	s.tokens = map[key]*record{}
	s.byID = map[uint64]*record{}
	s.live.Init()
	s.dead.Init()
}

// expires is when a token stops being live under a realm's rules.
func (r *record) expires(rm *Realm) time.Time {
	t := r.last.Add(rm.IdleTimeout)
	if rm.Lifetime > 0 {
		if end := r.issued.Add(rm.Lifetime); end.Before(t) {
			t = end
		}
	}
	if !r.forced.IsZero() && r.forced.Before(t) {
		t = r.forced
	}
	return t
}

// state is live, expired or revoked; an idle time equal to the timeout is
// expired.
func (r *record) state(rm *Realm, now time.Time) string {
	switch {
	case r.revoked:
		return Revoked
	case !now.Before(r.expires(rm)):
		return Expired
	}
	return Live
}
