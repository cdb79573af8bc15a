package store

import (
	"bytes"
	"io"
)

// Decoder reads strikes one at a time from an import file, so an import of
// any size holds only the record at hand (and, to catch repeats, the source
// event ids seen).
type Decoder interface {
	// Next returns the next strike, or io.EOF after the last. A bad record
	// is a *RecordError naming line and field; Next then reads on, so every
	// problem can be reported. Input that cannot be read on (broken JSON,
	// a bad CSV header) is a *RecordError too, after which Next returns
	// io.EOF. Any other error is the reader's own.
	Next() (Strike, error)
}

// lineCounter counts the lines of what a decoder reads, so that a decoder
// that buffers ahead can still tell on which line an offset it has reached
// lies. Memory is bounded by the decoder's read-ahead.
type lineCounter struct {
	r        io.Reader
	read     int64   // bytes read so far
	newlines []int64 // offsets of newlines read but not yet passed
	line     int     // the line of the last offset asked about
}

func newLineCounter(r io.Reader) *lineCounter { return &lineCounter{r: r, line: 1} }

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; {
		k := bytes.IndexByte(p[i:n], '\n')
		if k < 0 {
			break
		}
		c.newlines = append(c.newlines, c.read+int64(i+k))
		i += k + 1
	}
	c.read += int64(n)
	return n, err
}

// lineAt is the 1-based line of offset; offsets asked about must not decrease.
func (c *lineCounter) lineAt(offset int64) int {
	k := 0
	for k < len(c.newlines) && c.newlines[k] < offset {
		k++
	}
	c.line += k
	c.newlines = c.newlines[k:]
	return c.line
}
