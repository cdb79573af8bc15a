package server

import (
	"container/list"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// errTokensBusy refuses a request that found no CPU token within its wait.
var errTokensBusy = errors.New("every CPU token is taken")

// cpuTokens bound the requests computing at once (see Limits.CPUTokens).
// Go's scheduler has no priorities: a goroutine woken by the network, a
// load balancer's probe among them, runs only after the goroutines found
// runnable before it, each for up to 10 ms at a time. A request waiting
// for a token is parked, not runnable, so however many requests are in
// flight, a probe waits behind a handful computing. Tokens go first come
// first served, but to a request that gave its token back while it
// waited on its client or a heavy slot before any request not yet
// started: it has work under way.
type cpuTokens struct {
	size int

	mu      sync.Mutex
	free    int
	waiting list.List // of *tokenWaiter, next served first

	waiters atomic.Int64  // requests waiting for a token, for /metrics
	refused atomic.Uint64 // requests refused after Limits.CPUTokenWait
}

// tokenWaiter is a request waiting for a token. granted is closed when a
// token is given to it; cpuTokens.mu guards given.
type tokenWaiter struct {
	granted chan struct{}
	given   bool
}

func newCPUTokens(l Limits) *cpuTokens { return &cpuTokens{size: l.CPUTokens, free: l.CPUTokens} }

// held is how many tokens requests hold.
func (t *cpuTokens) held() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.size - t.free
}

// take takes a token, waiting for one at most wait (no bound when wait is
// zero: a request under way is never refused halfway) or until ctx ends.
// ahead puts the request before those waiting to start. It fails with
// errTokensBusy when none came in time, and with ctx's error when the
// client goes first.
func (t *cpuTokens) take(ctx context.Context, wait time.Duration, ahead bool) error {
	t.mu.Lock()
	if t.free > 0 {
		t.free--
		t.mu.Unlock()
		return nil
	}
	w := &tokenWaiter{granted: make(chan struct{})}
	var e *list.Element
	if ahead {
		e = t.waiting.PushFront(w)
	} else {
		e = t.waiting.PushBack(w)
	}
	t.waiters.Add(1)
	t.mu.Unlock()
	defer t.waiters.Add(-1)

	var timeout <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	var err error
	select {
	case <-w.granted:
		return nil
	case <-timeout:
		err = errTokensBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	t.mu.Lock()
	if !w.given {
		t.waiting.Remove(e)
		t.mu.Unlock()
		return err
	}
	t.mu.Unlock()
	// The token came as the wait ended: it goes to the next.
	t.give()
	return err
}

// give hands a token to the first waiting, or back to the free ones.
func (t *cpuTokens) give() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.waiting.Front(); e != nil {
		w := t.waiting.Remove(e).(*tokenWaiter)
		w.given = true
		close(w.granted)
		return
	}
	t.free++
}

// cpuTurn is one request's hold on a CPU token, kept in its pooled
// request; only the request's own goroutine uses it.
type cpuTurn struct {
	tokens *cpuTokens
	held   bool
	ended  bool // the answer started: no token is taken again
}

// yield gives the token back while the request waits on something else
// than the processor; it reports whether there was one to give.
func (u *cpuTurn) yield() bool {
	if u == nil || !u.held {
		return false
	}
	u.held = false
	u.tokens.give()
	return true
}

// resume takes a token again after yield, ahead of the requests not yet
// started, waiting as long as ctx lasts.
func (u *cpuTurn) resume(ctx context.Context) error {
	if u == nil || u.held || u.ended {
		return nil
	}
	if err := u.tokens.take(ctx, 0, true); err != nil {
		return err
	}
	u.held = true
	return nil
}

// end gives the token back for good: the answer is being written, and
// writing to a slow client must not keep others from the processors.
func (u *cpuTurn) end() {
	u.yield()
	u.ended = true
}

// turnOf is the CPU turn of c's request; nil when it takes none.
func turnOf(c echo.Context) *cpuTurn {
	if r, ok := c.(*request); ok && r.turn.tokens != nil {
		return &r.turn
	}
	return nil
}

// takeTurns has every request but the operators' (/healthz, /readyz,
// /metrics) compute with a CPU token: taken before the handler runs,
// given back while it reads its body or waits for a heavy slot, and for
// good once its answer starts or it ends.
func (h *handlers) takeTurns(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, ok := c.(*request)
		if !ok || h.routes.of(c)&opsRoute != 0 {
			return next(c)
		}
		req := c.Request()
		switch err := h.cpu.take(req.Context(), h.limits.CPUTokenWait, false); {
		case errors.Is(err, errTokensBusy):
			h.cpu.refused.Add(1)
			return overloaded(c, http.StatusServiceUnavailable,
				"the server is busy computing other answers; retry in a moment")
		case err != nil:
			return err
		}
		r.turn = cpuTurn{tokens: h.cpu, held: true}
		defer r.turn.end()
		c.Response().Before(r.endTurn)
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = &turnBody{ReadCloser: req.Body, turn: &r.turn, ctx: req.Context()}
		}
		return next(c)
	}
}

// turnBody gives the request's token back while it reads its body, so a
// client sending slowly holds no token.
type turnBody struct {
	io.ReadCloser
	turn *cpuTurn
	ctx  context.Context
}

func (b *turnBody) Read(p []byte) (int, error) {
	yielded := b.turn.yield()
	n, err := b.ReadCloser.Read(p)
	if yielded {
		if terr := b.turn.resume(b.ctx); terr != nil && err == nil {
			err = terr
		}
	}
	return n, err
}
