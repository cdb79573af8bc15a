package server

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// FuzzUTF8Body: read in pieces of any size, a body passes whole exactly
// when it is UTF-8; otherwise the reader gets only the bytes before the
// first bad one, and a *ParamError.
func FuzzUTF8Body(f *testing.F) {
	for _, s := range []string{"", "plain", "Київ ✓ 🚀", "\xff", "ab\xc3", "\xc3\x28", "\xe2\x82", "\xf0\x9f\x9a\x80x", "\xed\xa0\x80"} {
		for piece := range uint8(4) {
			f.Add([]byte(s), piece)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, piece uint8) {
		var r io.Reader = bytes.NewReader(body)
		switch piece % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			// The last bytes come with io.EOF, as many readers send them.
			r = iotest.DataErrReader(iotest.HalfReader(r))
		}
		b := &utf8Body{ReadCloser: io.NopCloser(r)}
		got, err := io.ReadAll(b)
		if utf8.Valid(body) {
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%q: got %q, %v", body, got, err)
			}
			return
		}
		if _, ok := err.(*ParamError); !ok {
			t.Fatalf("%q: error %v, want a *ParamError", body, err)
		}
		if !bytes.HasPrefix(body, got) {
			t.Fatalf("%q: passed %q, not a prefix", body, got)
		}
		// Only a split character may be passed on before its fault shows.
		if valid := validPrefix(body); len(got) > valid+utf8.UTFMax-1 || len(got) < valid {
			t.Fatalf("%q: passed %d bytes, %d are UTF-8", body, len(got), valid)
		}
	})
}

// validPrefix is the length of the longest UTF-8 prefix of b.
func validPrefix(b []byte) int {
	n := 0
	for n < len(b) {
		r, size := utf8.DecodeRune(b[n:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		n += size
	}
	return n
}
