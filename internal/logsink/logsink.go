// Package logsink batches log output: a busy server logs one line per
// request, and one write system call per line costs more than the line.
// Lines are written out when the buffer fills and at least every interval.
package logsink

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Writer is a buffered, periodically flushed io.Writer, safe for
// concurrent use.
type Writer struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// New returns a Writer over w that flushes every interval.
func New(w io.Writer, size int, interval time.Duration) *Writer {
	s := &Writer{buf: bufio.NewWriterSize(w, size), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = s.Flush()
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

func (s *Writer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// Flush writes out what is buffered.
func (s *Writer) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Flush()
}

// Close stops the periodic flush and flushes.
func (s *Writer) Close() error {
	close(s.stop)
	<-s.done
	return s.Flush()
}
