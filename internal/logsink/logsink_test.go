package logsink_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/logsink"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFlushesOnTimeAndOnClose(t *testing.T) {
	var out lockedBuffer
	w := logsink.New(&out, 4096, 20*time.Millisecond)
	_, _ = w.Write([]byte("one\n"))
	deadline := time.Now().Add(2 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "one\n" {
		t.Fatalf("after the interval: %q", out.String())
	}
	_, _ = w.Write([]byte("two\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\n" {
		t.Errorf("after Close: %q", out.String())
	}
}
