package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestAddVary: each name is listed once, after the Origin the CORS
// middleware names, and the usual lists are shared rather than built for
// every response, yet a name added after them leaves them as they were.
func TestAddVary(t *testing.T) {
	hdr := http.Header{}
	hdr.Add(echo.HeaderVary, echo.HeaderOrigin)
	for _, name := range []string{echo.HeaderAccept, echo.HeaderAcceptEncoding, echo.HeaderAccept} {
		addVary(hdr, name)
	}
	want := []string{echo.HeaderOrigin, echo.HeaderAccept, echo.HeaderAcceptEncoding}
	if got := hdr[echo.HeaderVary]; !slices.Equal(got, want) {
		t.Fatalf("Vary %q, want %q", got, want)
	}
	addVary(hdr, "Cookie")
	if got := hdr[echo.HeaderVary]; !slices.Equal(got, append(want, "Cookie")) {
		t.Fatalf("Vary %q, want %q and Cookie", got, want)
	}
	addVary(http.Header{}, echo.HeaderAccept)
	if got := sharedVary[2]; !slices.Equal(got, want) {
		t.Fatalf("a shared Vary list became %q", got)
	}
	origin := []string{echo.HeaderOrigin}
	if allocs := testing.AllocsPerRun(100, func() {
		hdr[echo.HeaderVary] = origin
		addVary(hdr, echo.HeaderAccept)
		addVary(hdr, echo.HeaderAcceptEncoding)
	}); allocs != 0 {
		t.Errorf("%v allocations adding the usual names", allocs)
	}
}

// TestHeldWrites: a held answer goes out in one piece and in order, the
// end of its body sent from the body itself, whatever follows it copied
// after it, and a copy of the body's end, or a write of its start, never
// mistaken for the body.
func TestHeldWrites(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// A write lost would leave a read waiting.
	if err := client.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()
	c := wrapConn(accepted).(*oneWriteConn)
	body := []byte(strings.Repeat("body of the answer ", 500))
	copied := slices.Clone(body)
	for _, tc := range []struct {
		name   string
		writes [][]byte
		tail   bool // whether the last write is left where it lies
	}{
		{"header and start, then the body's end", [][]byte{[]byte("header\r\n\r\n"), body[:300], body[300:]}, true},
		{"the body's end, then more", [][]byte{[]byte("header"), body[300:], []byte("trailer")}, false},
		{"a copy of the body's end", [][]byte{[]byte("header"), copied[300:]}, false},
		{"the body's start", [][]byte{[]byte("header"), body[:300]}, false},
		{"the whole body", [][]byte{body}, true},
	} {
		c.hold(body)
		var want []byte
		for _, w := range tc.writes {
			if n, err := c.Write(w); n != len(w) || err != nil {
				t.Fatalf("%s: Write %d bytes: %d, %v", tc.name, len(w), n, err)
			}
			want = append(want, w...)
		}
		last := tc.writes[len(tc.writes)-1]
		if kept := c.tail != nil && &c.tail[0] == &last[0]; kept != tc.tail {
			t.Errorf("%s: last write sent from where it lies %v, want %v", tc.name, kept, tc.tail)
		}
		if err := c.send(); err != nil {
			t.Fatalf("%s: send: %v", tc.name, err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(client, got); err != nil {
			t.Fatalf("%s: read: %v", tc.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: the client read %q, want %q", tc.name, got, want)
		}
	}
	// Released, the connection writes straight through.
	if _, err := c.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "after" {
		t.Fatalf("after send: read %q, %v", got, err)
	}
}
