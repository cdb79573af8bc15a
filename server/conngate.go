package server

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is an http.Server that takes new connections from its listener
// no faster than it answers them (see Limits.MaxNewConns).
type Server struct {
	*http.Server
	gate *connGate
}

// Serve accepts connections on ln through the server's gate and serves
// them; it returns as http.Server.Serve does.
func (s *Server) Serve(ln net.Listener) error {
	return s.Server.Serve(&gatedListener{Listener: ln, gate: s.gate, closed: make(chan struct{})})
}

// connGate holds a slot for each connection let in and not yet answered
// once. Under a flood of new connections, the ones not let in wait in the
// kernel's listen queue, first come first served, costing the server
// nothing; let in, each would be a goroutine waiting to run, and the
// scheduler, which has no priorities, runs a kept-alive connection's
// request (a load balancer's probe) only after the goroutines it found
// waiting before it.
type connGate struct {
	slots chan struct{}
	hold  time.Duration

	mu   sync.Mutex
	held map[net.Conn]*time.Timer // the connections holding a slot, and the timers that free them
}

func newConnGate(l Limits) *connGate {
	return &connGate{slots: make(chan struct{}, l.MaxNewConns), hold: l.NewConnHold, held: map[net.Conn]*time.Timer{}}
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

// gatedListener accepts a connection only once the gate has a slot free.
type gatedListener struct {
	net.Listener
	gate   *connGate
	closed chan struct{}
	once   sync.Once
}

func (l *gatedListener) Accept() (net.Conn, error) {
	select {
	case l.gate.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.gate.slots
		return nil, err
	}
	l.gate.admit(c)
	return c, nil
}

// Close also ends an Accept waiting for a slot.
func (l *gatedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}
