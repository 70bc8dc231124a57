package tokenmocktest_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenmock/tokenmock/tokenmocktest"
)

// Inside a synctest bubble the server's clock is the bubble's fake clock:
// a test that sleeps 31 minutes of fake time sees its token expire.
func TestInsideSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := tokenmocktest.New(t, tokenmocktest.WithLifecycle("strict"), tokenmocktest.WithInMemory())
		srv.SeedToken("appspace", "tok-bubble-000001", "1042")
		if status, life := validate(srv.Client(), srv.URL, "tok-bubble-000001", "1042"); status != 200 {
			t.Fatalf("before: %d %s", status, life)
		}
		time.Sleep(31 * time.Minute) // fake time: instant
		if status, life := validate(srv.Client(), srv.URL, "tok-bubble-000001", "1042"); status != 401 || life != "expired" {
			t.Errorf("after 31 fake minutes: %d %s, want 401 expired", status, life)
		}
		srv.Close()
	})
}

// In memory, outside a bubble too: the same answers as over TCP.
func TestInMemory(t *testing.T) {
	srv := tokenmocktest.New(t, tokenmocktest.WithInMemory())
	if status, _ := validate(srv.Client(), srv.URL, "6f1c2a9e", "1042"); status != 200 {
		t.Errorf("got %d, want 200", status)
	}
}
