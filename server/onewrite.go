package server

import (
	"net"
	"net/http"
)

// oneWriteConn is a TCP connection that can gather an answer's writes and
// send them in one. net/http buffers 4 KiB per connection: a larger
// answer goes out as that buffer, header and the body's start, then the
// rest of the body, two writes where one would do. On loopback each write
// also runs the receiving side's TCP and wakes the reader, which on a
// shared machine costs both ends CPU for every answer.
type oneWriteConn struct {
	*net.TCPConn
	// held gathers the writes while an answer is held; nil otherwise.
	held *[]byte
	// body is the held answer's body. net/http copies into its buffer
	// only what fits there with the header and hands on the rest of a
	// large body as it lies; that rest (tail) is sent from the body
	// itself, in the same write, rather than copied again.
	body, tail []byte
}

// wrapConn gathers a TCP connection's writes on request; other kinds
// of connection are served as they are.
func wrapConn(c net.Conn) net.Conn {
	if tc, ok := c.(*net.TCPConn); ok {
		return &oneWriteConn{TCPConn: tc}
	}
	return c
}

func (c *oneWriteConn) Write(p []byte) (int, error) {
	if c.held == nil {
		return c.TCPConn.Write(p)
	}
	if c.tail != nil {
		// Only the last write can be sent from where it lies.
		*c.held = append(*c.held, c.tail...)
		c.tail = nil
	}
	if endsWith(c.body, p) {
		c.tail = p
	} else {
		*c.held = append(*c.held, p...)
	}
	return len(p), nil
}

// endsWith reports whether p is the end of b itself, in the same memory,
// not a copy of it.
func endsWith(b, p []byte) bool {
	return len(p) > 0 && len(p) <= len(b) && &p[len(p)-1] == &b[len(b)-1]
}

// hold gathers the writes until send; body, the answer's body, must stay
// as it is until then.
func (c *oneWriteConn) hold(body []byte) { c.held, c.body = getBuffer(), body }

// send writes what was gathered since hold in one write, and writes
// straight through again.
func (c *oneWriteConn) send() error {
	b, tail := c.held, c.tail
	c.held, c.body, c.tail = nil, nil, nil
	defer putBuffer(b)
	if tail != nil {
		bufs := net.Buffers{*b, tail}
		_, err := bufs.WriteTo(c.TCPConn) // one writev
		return err
	}
	if len(*b) == 0 {
		return nil
	}
	_, err := c.TCPConn.Write(*b)
	return err
}

// oneWriteMin is the smallest body sent in one write with its header: a
// smaller one leaves room for the header in net/http's 4 KiB buffer, so
// it goes out in one write anyway.
const oneWriteMin = 2 << 10

// heldConn is the connection r came on, when a body of n bytes is worth
// holding its writes for; nil otherwise (a request served in process).
func heldConn(r *http.Request, n int) *oneWriteConn {
	if n < oneWriteMin || r.ProtoMajor != 1 {
		return nil
	}
	s, ok := r.Context().Value(connSlotKey{}).(connSlot)
	if !ok {
		return nil
	}
	c, _ := s.conn.(*oneWriteConn)
	return c
}
