package main

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// FuzzResponseHeader: a saved report is its headers and body, or its body
// alone; whatever the headers hold, the body after them is left whole.
func FuzzResponseHeader(f *testing.F) {
	for _, s := range []string{"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n\r\n", "HTTP/2 200\r\nA: b\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\n", "HTTP/", "HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\nA b\n\n", ""} {
		f.Add(s, "id,verdict\r\ns1,no_protected_site\r\n")
	}
	f.Fuzz(func(t *testing.T, head, body string) {
		r := bufio.NewReader(strings.NewReader(head + "\r\n" + body))
		h, err := responseHeader(r)
		if err != nil {
			return
		}
		rest, _ := io.ReadAll(r)
		if h == nil && string(rest) != head+"\r\n"+body {
			t.Fatalf("%q: no headers, yet the body was read into", head)
		}
		if h != nil && !strings.HasSuffix(head+"\r\n"+body, string(rest)) {
			t.Fatalf("%q: the body left is %q", head, rest)
		}
	})
}
