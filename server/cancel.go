package server

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// checkEvery is how many features a loop handles between looks at its
// request's context: well under a millisecond of work, so an answer for a
// client that has gone stops at once, against a look that takes a lock.
const checkEvery = 256

// stopper ends the loops of one request when its client goes away (or
// its deadline passes): call stop once per feature.
type stopper struct {
	ctx context.Context
	n   int
	err error // the context's, once seen
}

func newStopper(ctx context.Context) *stopper { return &stopper{ctx: ctx} }

// stop reports whether the work should end, looking at the context every
// checkEvery calls.
func (s *stopper) stop() bool {
	if s.n++; s.err == nil && s.n%checkEvery == 0 {
		s.err = s.ctx.Err()
	}
	return s.err != nil
}

// errClientGone is a write to a client's connection that failed other
// than by its deadline: the client closed the connection.
var errClientGone = errors.New("the client closed the connection")

// writeFault is a failed write to the client's connection as
// errClientGone, or nil when the write ran out of time (the server's
// fault) or failed before reaching the connection (encoding).
func writeFault(err error) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Timeout() {
		return nil
	}
	return fmt.Errorf("%w: %v", errClientGone, err)
}

// statusClientClosed is logged and counted for a request whose client
// went away before its answer was complete (nginx's 499): nothing reads it.
const statusClientClosed = 499

// clientGone reports whether err is a request's context cancelled by its
// client leaving, as opposed to its deadline, or a write to a client that
// left.
func clientGone(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, errClientGone)
}

// goneProblem is what a request whose client left is logged as.
func goneProblem() problem {
	return problem{Type: "about:blank", Title: "Client Closed Request", Status: statusClientClosed,
		Detail: "the client closed the connection before the answer was complete"}
}
