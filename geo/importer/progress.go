package importer

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Progress is told how a long import advances. Calls never overlap: Start,
// then Update any number of times from a background goroutine, then Finish.
type Progress interface {
	// Start begins a phase that reads totalBytes of input (0 if unknown).
	Start(phase string, totalBytes int64)
	// Update reports the bytes read and the items found so far in the phase.
	Update(bytesRead, found int64)
	// Finish ends the phase, after a last Update with its final figures.
	Finish()
}

// updateEvery is how often a phase's figures are passed to Progress.
const updateEvery = 200 * time.Millisecond

// meter counts a phase's bytes and finds; the readers and decoders that
// advance it may run on other goroutines.
type meter struct {
	read, found atomic.Int64
}

// countingReader adds what it reads to a meter.
type countingReader struct {
	r io.Reader
	m *meter
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.m.read.Add(int64(n))
	return n, err
}

// track starts a phase on p and feeds it m's figures until the returned
// function is called. A nil p costs nothing.
func track(p Progress, phase string, totalBytes int64, m *meter) (stop func()) {
	if p == nil {
		return func() {}
	}
	p.Start(phase, totalBytes)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(updateEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.Update(m.read.Load(), m.found.Load())
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		p.Update(m.read.Load(), m.found.Load())
		p.Finish()
	}
}

// PeakRSS is the process's peak resident memory in bytes (VmHWM, Linux),
// or 0 where the system does not say.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
