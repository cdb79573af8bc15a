package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an http.Server that takes new connections from its listener
// no faster than it answers them (see Limits.MaxNewConns).
type Server struct {
	*http.Server
	// ConnStats, when set before Serve, counts the new connections the
	// gate refuses and those waiting to be let in; given also as
	// Config.ConnStats, /metrics reports them.
	ConnStats *ConnStats
	gate      *connGate
}

// Serve accepts connections on ln through the server's gate and serves
// them; it returns as http.Server.Serve does.
func (s *Server) Serve(ln net.Listener) error {
	stats := s.ConnStats
	if stats == nil {
		stats = new(ConnStats)
	}
	return s.Server.Serve(newGatedListener(ln, s.gate, stats))
}

// ConnStats counts what a Server's gate did with new connections not let
// in; its zero value counts from nothing.
type ConnStats struct {
	// refusedWaited were answered 503 after waiting longer than
	// Limits.NewConnWait; refusedFull were closed at once, finding
	// Limits.MaxNewConnsWaiting waiting.
	refusedWaited, refusedFull atomic.Uint64
	waiting                    atomic.Int64
}

// connGate holds a slot for each connection let in and not yet answered
// once. Under a flood of new connections, the ones not let in wait in the
// listener's queue (see gatedListener), costing the server a socket
// each; let in, each would be a goroutine waiting to run, and the
// scheduler, which has no priorities, runs a kept-alive connection's
// request (a load balancer's probe) only after the goroutines it found
// waiting before it.
type connGate struct {
	slots chan struct{}
	hold  time.Duration
	// wait and maxWaiting bound the connections waiting to be let in
	// (see gatedListener); refusal is what those beyond are sent.
	wait       time.Duration
	maxWaiting int
	refusal    []byte

	mu   sync.Mutex
	held map[net.Conn]*time.Timer // the connections holding a slot, and the timers that free them
}

func newConnGate(l Limits) *connGate {
	return &connGate{slots: make(chan struct{}, l.MaxNewConns), hold: l.NewConnHold, held: map[net.Conn]*time.Timer{},
		wait: l.NewConnWait, maxWaiting: l.MaxNewConnsWaiting, refusal: refusal(l.NewConnWait)}
}

// refusal is the whole answer to a connection that waited longer than
// wait to be let in: the 503 problem document a refused request gets,
// with Retry-After, its connection closed.
func refusal(wait time.Duration) []byte {
	p, _ := problemFor(&overloadError{status: http.StatusServiceUnavailable,
		detail: fmt.Sprintf("the server let this connection in to no request for %v, answering those before it; retry in a moment", wait)})
	body, err := json.Marshal(p)
	if err != nil {
		panic(err) // a problem of strings and an int always encodes
	}
	body = append(body, '\n')
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: %s\r\nRetry-After: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		mediaProblem, retryAfterSeconds, len(body), body)
}

// refuseTimeout bounds reading a refused connection's request and
// writing its refusal: the request came with the connection, so a client
// sending nothing is closed on soon.
const refuseTimeout = 5 * time.Millisecond

// refuseAll sends each of conns the refusal and closes it. Its request is
// read first: closing a connection with bytes unread resets it, and the
// reset can overtake the answer.
func (g *connGate) refuseAll(conns []net.Conn) {
	if len(conns) == 0 {
		return
	}
	request := make([]byte, 4<<10)
	for _, c := range conns {
		c.SetDeadline(time.Now().Add(refuseTimeout)) //nolint:errcheck // a closed conn fails below
		c.Read(request)                              //nolint:errcheck // the answer is the same
		c.Write(g.refusal)                           //nolint:errcheck // the client went away
		c.Close()
	}
}

// admit records that c holds a slot, for at most the gate's hold, so
// that clients connecting and sending nothing cannot keep others out.
func (g *connGate) admit(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held[c] = time.AfterFunc(g.hold, func() { g.free(c) })
}

// free gives c's slot back, if it still holds one.
func (g *connGate) free(c net.Conn) {
	g.mu.Lock()
	t, ok := g.held[c]
	delete(g.held, c)
	g.mu.Unlock()
	if ok {
		t.Stop()
		<-g.slots
	}
}

// connState is the server's http.Server.ConnState: a connection's slot
// is freed once its first answer is written (it turns idle, or closes),
// or it is hijacked.
func (g *connGate) connState(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateIdle, http.StateHijacked, http.StateClosed:
		g.free(c)
	}
}

// connSlot is a connection's hold on its gate, in the context of its
// requests (see http.Server.ConnContext).
type connSlot struct {
	gate *connGate
	conn net.Conn
}

type connSlotKey struct{}

// connContext is the server's http.Server.ConnContext.
func (g *connGate) connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connSlotKey{}, connSlot{g, c})
}

// freeConnSlot gives back the gate slot of the connection of ctx's
// request, if it holds one: a heavy request waiting for a slot of its own
// (see Limits.MaxHeavy) is parked, and would only keep others out.
func freeConnSlot(ctx context.Context) {
	if s, ok := ctx.Value(connSlotKey{}).(connSlot); ok {
		s.gate.free(s.conn)
	}
}

// gatedListener lets a connection in to the server only once the gate
// has a slot free. Until then it waits in the listener's own queue, first
// come first served: accepted at once, so that one waiting longer than
// Limits.NewConnWait, or finding Limits.MaxNewConnsWaiting waiting
// already, is refused as soon as that is so, rather than left in the
// kernel's listen queue for as long as the connections before it take.
type gatedListener struct {
	net.Listener
	gate   *connGate
	stats  *ConnStats
	closed chan struct{}
	once   sync.Once
	errs   chan error // the inner listener's, to Accept

	mu      sync.Mutex
	shut    bool          // closed: nothing more waits
	waiting []waitingConn // oldest first
	ready   chan struct{} // holds a token while waiting may have one
	sweep   *time.Timer   // refuses the oldest once they wait too long
}

// waitingConn is a connection accepted and not yet let in.
type waitingConn struct {
	net.Conn
	since time.Time
}

func newGatedListener(ln net.Listener, gate *connGate, stats *ConnStats) *gatedListener {
	l := &gatedListener{Listener: ln, gate: gate, stats: stats, closed: make(chan struct{}), errs: make(chan error), ready: make(chan struct{}, 1)}
	l.sweep = time.AfterFunc(time.Hour, l.refuseStale)
	l.sweep.Stop()
	go l.acceptAll()
	return l
}

// acceptAll accepts every connection as it comes, into the waiting queue.
func (l *gatedListener) acceptAll() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			// Serve backs off after an error it can retry, and closes
			// the listener after any other.
			select {
			case l.errs <- err:
				continue
			case <-l.closed:
				return
			}
		}
		l.mu.Lock()
		if l.shut {
			l.mu.Unlock()
			c.Close()
			return
		}
		full := len(l.waiting) >= l.gate.maxWaiting
		if !full {
			if len(l.waiting) == 0 {
				l.sweep.Reset(l.gate.wait)
			}
			l.waiting = append(l.waiting, waitingConn{c, time.Now()})
			l.stats.waiting.Add(1)
		}
		l.mu.Unlock()
		if full {
			l.stats.refusedFull.Add(1)
			// Refused at once: the client sees its connection end.
			c.Close()
			continue
		}
		select {
		case l.ready <- struct{}{}:
		default:
		}
	}
}

// Accept takes a slot of the gate, then the longest waiting connection
// still in its time, refusing those before it that waited too long.
func (l *gatedListener) Accept() (net.Conn, error) {
	select {
	case l.gate.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	for {
		c, ok := l.next()
		if ok {
			c = wrapConn(c)
			l.gate.admit(c)
			return c, nil
		}
		select {
		case <-l.ready:
		case err := <-l.errs:
			<-l.gate.slots
			return nil, err
		case <-l.closed:
			<-l.gate.slots
			return nil, net.ErrClosed
		}
	}
}

// next takes the oldest waiting connection, once those waiting too long
// are refused; false when none waits.
func (l *gatedListener) next() (net.Conn, bool) {
	if stale := l.takeStale(); len(stale) > 0 {
		// Refused beside, not in, Accept: a refused client sending
		// nothing costs its read's timeout, and a queue of them would
		// hold up every connection let in behind them.
		go l.gate.refuseAll(stale)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waiting) == 0 {
		return nil, false
	}
	c := l.waiting[0].Conn
	l.waiting[0] = waitingConn{}
	l.waiting = l.waiting[1:]
	l.stats.waiting.Add(-1)
	if len(l.waiting) > 0 {
		// Another may be taken by the next Accept.
		select {
		case l.ready <- struct{}{}:
		default:
		}
	}
	return c, true
}

// takeStale removes the connections that waited longer than the gate's
// wait from the queue, and arms the sweep for the oldest left.
func (l *gatedListener) takeStale() []net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var stale []net.Conn
	for len(l.waiting) > 0 && now.Sub(l.waiting[0].since) >= l.gate.wait {
		stale = append(stale, l.waiting[0].Conn)
		l.waiting[0] = waitingConn{}
		l.waiting = l.waiting[1:]
	}
	if len(l.waiting) > 0 {
		l.sweep.Reset(l.waiting[0].since.Add(l.gate.wait).Sub(now))
	}
	l.stats.waiting.Add(-int64(len(stale)))
	l.stats.refusedWaited.Add(uint64(len(stale)))
	return stale
}

// refuseStale refuses the connections that waited too long, while no slot
// frees to look at them.
func (l *gatedListener) refuseStale() { l.gate.refuseAll(l.takeStale()) }

// Close also ends an Accept waiting for a slot, and the connections
// waiting to be let in.
func (l *gatedListener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.sweep.Stop()
		l.mu.Lock()
		l.shut = true
		for _, c := range l.waiting {
			c.Close()
		}
		l.stats.waiting.Add(-int64(len(l.waiting)))
		l.waiting = nil
		l.mu.Unlock()
	})
	return l.Listener.Close()
}
