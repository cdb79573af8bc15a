package main

import (
	"io"
	"sync"
	"time"
)

// logBatchBytes is the most request lines a batch gathers before it is
// written without waiting for the interval.
const logBatchBytes = 64 << 10

// logBatch writes the server's log to w, the request log's lines in
// batches: one write an interval, or sooner once a batch reaches
// logBatchBytes, where each line had a write of its own. Into a pipe (a
// container runtime's, journald's) those writes cost the server a fifth of
// its requests a second on /healthz. Every other line is written at once,
// after the request lines gathered before it, so the order holds. A
// process killed outright loses at most an interval of request lines;
// Close writes what is gathered.
type logBatch struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte
	stop    chan struct{}
	done    chan struct{}
}

// newLogBatch writes the gathered request lines every interval.
func newLogBatch(w io.Writer, interval time.Duration) *logBatch {
	b := &logBatch{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

func (b *logBatch) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.mu.Lock()
			b.flush()
			b.mu.Unlock()
		case <-b.stop:
			return
		}
	}
}

// flush writes the gathered lines; b.mu must be held. A failed write is
// dropped, as slog drops its own.
func (b *logBatch) flush() {
	if len(b.pending) > 0 {
		b.w.Write(b.pending) //nolint:errcheck // see above
		b.pending = b.pending[:0]
	}
}

// Write writes p at once, after the request lines gathered before it, in
// the same write.
func (b *logBatch) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		return b.w.Write(p)
	}
	b.pending = append(b.pending, p...)
	_, err := b.w.Write(b.pending)
	b.pending = b.pending[:0]
	return len(p), err
}

// Requests is the writer of the request log, whose lines b gathers.
func (b *logBatch) Requests() io.Writer { return requestLines{b} }

type requestLines struct{ b *logBatch }

func (r requestLines) Write(p []byte) (int, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, p...)
	if len(b.pending) >= logBatchBytes {
		b.flush()
	}
	return len(p), nil
}

// Close writes the gathered lines and stops the interval's writes.
func (b *logBatch) Close() error {
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flush()
	return nil
}
