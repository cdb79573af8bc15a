// Package procs chooses how many processors (GOMAXPROCS) Go runs
// goroutines on in the server's process.
package procs

import (
	"os"
	"runtime"
)

// atStart is GOMAXPROCS as the runtime chose it when the program started:
// the CPUs the process may use, or the GOMAXPROCS environment variable.
var atStart = runtime.GOMAXPROCS(0)

// CPUs is how many CPUs the process may use, as the runtime saw them at
// start (or the GOMAXPROCS environment variable, when set).
func CPUs() int { return atStart }

// Default is the processors a server runs on: twice its CPUs, unless the
// GOMAXPROCS environment variable chooses. Go's scheduler has no
// priorities and runs a goroutine for up to 10 ms before another; with a
// processor for each CPU, a request woken under load (a load balancer's
// probe) waits behind every goroutine queued before it, while with more
// processors than CPUs it waits for the kernel's time slices instead,
// a few milliseconds each.
func Default() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return atStart
	}
	return 2 * atStart
}
