// Package clock is the one source of time of a server: real time plus an
// offset that tests move. Token expiry, scenario schedules, journal times
// and the admin API all read the same clock, so a test that advances it by
// 31 minutes sees every time-based behaviour move together, without
// sleeping.
package clock

import (
	"math"
	"sync/atomic"
	"time"
)

// Clock is real time (or a base function of it) shifted by an offset. It
// is safe for concurrent use; the zero value is not: use New.
type Clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds added to base
}

// New returns a clock on base (time.Now when nil).
func New(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// Offset is how far the clock is from its base.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Advance moves the clock forward by d and returns the new time. Time
// never runs backwards through Advance: d must not be negative.
func (c *Clock) Advance(d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	for {
		old := c.offset.Load()
		next := old + int64(d)
		if next < old {
			next = math.MaxInt64 // saturate: time never wraps round to the past
		}
		if c.offset.CompareAndSwap(old, next) {
			return c.Now()
		}
	}
}

// Set moves the clock to t (forwards or backwards) and returns the new
// offset.
func (c *Clock) Set(t time.Time) time.Duration {
	off := t.Sub(c.base())
	c.offset.Store(int64(off))
	return off
}

// Reset puts the clock back on its base.
func (c *Clock) Reset() { c.offset.Store(0) }
