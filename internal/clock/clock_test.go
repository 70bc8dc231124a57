package clock

import (
	"testing"
	"time"
)

func TestAdvanceNeverRunsBackwards(t *testing.T) {
	c := New(nil)
	before := c.Now()
	c.Advance(2562047 * time.Hour)
	after := c.Advance(2562047 * time.Hour)
	if after.Before(before) {
		t.Errorf("time ran backwards through Advance")
	}
}
