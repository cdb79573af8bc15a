package server

import (
	"bytes"
	"errors"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/export"
)

// maxDownloadBytes bounds the gzipped downloads kept, all together: a
// download that does not fit is streamed uncompressed each time, as
// before it was kept.
const maxDownloadBytes = 64 << 20

// downloadGzipLevel is the level a kept download is compressed at:
// within 4 % of the smallest body for a fifth of the CPU of the levels
// that give it, which the download's first client waits for
// (BenchmarkGzipLevels; see README's Performance).
const downloadGzipLevel = 6

// downloads keeps the gzipped export of whole collections: the same
// bytes for every client until the data reloads, so they are compressed
// once per data version, collection and format.
type downloads struct {
	mu      sync.Mutex
	version string // the data version of the entries; another clears them
	entries map[downloadKey]*download
	bytes   int
}

type downloadKey struct {
	collection string
	format     export.Format
}

// download is one kept export; ready closes once it is compressed.
type download struct {
	ready chan struct{}
	gzip  []byte // nil when it did not fit
	etag  string
	err   error
}

// get returns the gzipped export of every feature of collection in
// format at version, compressing it on first use (write writes it);
// nil, nil when it does not fit in what is left of maxDownloadBytes.
func (d *downloads) get(version, collection string, format export.Format, write func(export.Writer) error, opts export.Options) (*download, error) {
	key := downloadKey{collection, format}
	d.mu.Lock()
	if d.version != version || d.entries == nil {
		d.version, d.entries, d.bytes = version, map[downloadKey]*download{}, 0
	}
	e, ok := d.entries[key]
	if !ok {
		e = &download{ready: make(chan struct{})}
		d.entries[key] = e
	}
	room := maxDownloadBytes - d.bytes
	d.mu.Unlock()
	if ok {
		<-e.ready
		return e, e.err
	}
	defer close(e.ready)
	buf := &boundedBuffer{max: room}
	e.gzip, e.err = compressExport(buf, format, opts, write)
	if errors.Is(e.err, errTooLarge) {
		e.gzip, e.err = nil, nil
	}
	if e.gzip != nil {
		e.etag = entityTag(version, e.gzip)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.version == version {
		// Others compressed at the same time may have taken the room.
		if d.bytes+len(e.gzip) > maxDownloadBytes {
			e.gzip, e.etag = nil, ""
		}
		d.bytes += len(e.gzip)
		if e.err != nil {
			delete(d.entries, key) // a later request tries again
		}
	}
	return e, e.err
}

// compressExport writes an export through gzip into buf.
func compressExport(buf *boundedBuffer, format export.Format, opts export.Options, write func(export.Writer) error) ([]byte, error) {
	zw, err := gzip.NewWriterLevel(buf, downloadGzipLevel)
	if err != nil {
		return nil, err
	}
	w, err := export.NewWriter(zw, format, opts)
	if err != nil {
		return nil, err
	}
	if err := write(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

var errTooLarge = errors.New("server: larger than the room left for downloads")

// boundedBuffer is a bytes.Buffer that refuses to grow past max bytes.
type boundedBuffer struct {
	bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

// writeAll is an export of every feature of l.
func writeAll(l *geo.Layer) func(export.Writer) error {
	return func(w export.Writer) error {
		for i := range l.Len() {
			if err := w.Write(l.Feature(i)); err != nil {
				return err
			}
		}
		return nil
	}
}
