package lifecycle

import (
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/answers"
)

// Expire while a reload drops the realm: no panic (the admin API would
// answer 500).
func TestExpireRacingAReload(t *testing.T) {
	form, err := answers.ParseTemplate("{{uuid}}", "")
	if err != nil {
		t.Fatal(err)
	}
	rm := &Realm{Name: "a", Form: form, IdleTimeout: time.Hour, RenewalWindow: time.Hour, Tokens: []Seeded{{Token: "tok", Owner: "o"}}}
	with := &Config{Realms: map[string]*Realm{"a": rm}, Names: []string{"a"}, Bindings: map[string]*Binding{}}
	without := &Config{Realms: map[string]*Realm{}, Bindings: map[string]*Binding{}}
	g, err := New(with, Options{Mode: Strict})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	panics := 0
	var mu sync.Mutex
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						mu.Lock()
						panics++
						mu.Unlock()
					}
				}()
				g.Expire("a", "tok")
			}()
		}
	})
	for range 20000 {
		g.Swap(without)
		g.Swap(with)
	}
	close(stop)
	wg.Wait()
	if panics > 0 {
		t.Errorf("Expire panicked %d times racing a reload that drops the realm", panics)
	}
}
