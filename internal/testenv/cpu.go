package testenv

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU is the CPU time the calling OS thread has used, to the
// nanosecond. On a shared machine it measures the work, where wall time
// also measures the neighbours; lock the goroutine to its thread
// (runtime.LockOSThread) around what is measured.
func ThreadCPU(t testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ts.Nano())
}
