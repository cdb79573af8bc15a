package server

import (
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/geojson"
)

// Media types of the responses.
const (
	mediaJSON    = "application/json"
	mediaGeoJSON = "application/geo+json"
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	mediaSchema  = "application/schema+json"
	mediaProblem = "application/problem+json"
	mediaHTML    = "text/html; charset=utf-8"
)

const headerIfNoneMatch = "If-None-Match"

// Header values every response of a kind shares, so setting one allocates
// nothing. net/http and echo only ever replace or append to a header's
// values, and an append to these (capacity as long as they are) copies them.
var (
	jsonValue         = []string{mediaJSON}
	geoJSONValue      = []string{mediaGeoJSON}
	cacheControlValue = []string{cacheControl}
	gzipValue         = []string{"gzip"}
)

// sharedVary are the Vary headers answers usually send: what they vary by
// (Accept, Accept-Encoding), after the Origin the CORS middleware names
// first for every request, or alone.
var sharedVary = [][]string{
	{echo.HeaderOrigin, echo.HeaderAccept},
	{echo.HeaderOrigin, echo.HeaderAcceptEncoding},
	{echo.HeaderOrigin, echo.HeaderAccept, echo.HeaderAcceptEncoding},
	{echo.HeaderAccept},
	{echo.HeaderAcceptEncoding},
	{echo.HeaderAccept, echo.HeaderAcceptEncoding},
}

// addVary adds name to the Vary header once, with the values shared for
// the usual ones.
func addVary(hdr http.Header, name string) {
	vary := hdr[echo.HeaderVary]
	if slices.Contains(vary, name) {
		return
	}
	for _, shared := range sharedVary {
		if len(shared) == len(vary)+1 && shared[len(vary)] == name && slices.Equal(shared[:len(vary)], vary) {
			hdr[echo.HeaderVary] = shared
			return
		}
	}
	hdr.Add(echo.HeaderVary, name)
}

// headerValue is the values of a Content-Type header, shared for the
// common media types.
func headerValue(ctype string) []string {
	switch ctype {
	case mediaGeoJSON:
		return geoJSONValue
	case mediaJSON:
		return jsonValue
	}
	return []string{ctype}
}

// gzipMin is the smallest body worth compressing: below about one packet
// gzip saves no round trip and costs CPU on both ends.
const gzipMin = 1400

// cacheControl lets clients and proxies reuse collection data briefly and
// then revalidate it with the ETag, so a reload is seen within a minute.
const cacheControl = "public, max-age=60"

// maxPooledBuffer keeps a rare huge response from pinning its buffer.
const maxPooledBuffer = 4 << 20

// pool is a typed sync.Pool.
type pool[T any] struct{ p sync.Pool }

func newPool[T any](fn func() T) *pool[T] {
	return &pool[T]{p: sync.Pool{New: func() any { return fn() }}}
}

func (p *pool[T]) get() T  { return p.p.Get().(T) }
func (p *pool[T]) put(v T) { p.p.Put(v) }

var buffers = newPool(func() *[]byte { b := make([]byte, 0, 64<<10); return &b })

// getBuffer returns an empty byte slice to append a response to.
func getBuffer() *[]byte {
	b := buffers.get()
	*b = (*b)[:0]
	return b
}

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		buffers.put(b)
	}
}

var copiesPool = newPool(func() *geojson.Copies { return new(geojson.Copies) })

// copiesFor returns an empty record of the kept bodies an answer copies,
// for a client that accepts gzip, whose answer is stitched from their
// segments; for any other, nil, as the record would never be read.
func copiesFor(c echo.Context) *geojson.Copies {
	if !acceptsGzip(c.Request()) {
		return nil
	}
	cs := copiesPool.get()
	cs.Reset()
	return cs
}

// putCopies returns what copiesFor gave.
func putCopies(cs *geojson.Copies) {
	if cs != nil {
		copiesPool.put(cs)
	}
}

var gzipWriters = newPool(func() *gzip.Writer {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
})

// send writes a 200 response. A cacheable one carries an ETag, which starts
// with the data version when the body was computed from the data, and
// Cache-Control; a matching If-None-Match gets 304 without a body.
// Bodies of gzipMin bytes or more are gzipped for clients that accept it.
func send(c echo.Context, ctype string, body []byte, cacheable bool) error {
	return sendKept(c, ctype, body, nil, nil, cacheable)
}

// sendKept is send for a body that holds the kept feature bodies copies
// records: when their kept segments make up at least half of it, its gzip
// form is stitched from them (geojson.Bodies.AppendGzip) rather than
// compressed as it is sent.
func sendKept(c echo.Context, ctype string, body []byte, bodies *geojson.Bodies, copies *geojson.Copies, cacheable bool) error {
	etag := ""
	if cacheable {
		etag = entityTag(versionOf(c), body)
	}
	return sendAs(c, ctype, body, gzipForm{bodies: bodies, copies: copies}, etag, cacheable)
}

// sendTagged is send for a body whose tag (and gzipped form, if any) is
// already known. With a gzipped form, body is only needed for clients that
// do not accept gzip.
func sendTagged(c echo.Context, ctype string, body, gzipped []byte, etag string, cacheable bool) error {
	return sendAs(c, ctype, body, gzipForm{ready: gzipped}, etag, cacheable)
}

// gzipForm is how a body's gzip form is made: ready, computed once;
// stitched from the kept bodies copies records; or, with neither,
// compressed as it is sent.
type gzipForm struct {
	ready  []byte
	bodies *geojson.Bodies
	copies *geojson.Copies
}

func sendAs(c echo.Context, ctype string, body []byte, gz gzipForm, etag string, cacheable bool) error {
	if err := acceptable(c, ctype); err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr[echo.HeaderContentType] = headerValue(ctype)
	compress := len(body) >= gzipMin || gz.ready != nil
	if compress {
		addVary(hdr, echo.HeaderAcceptEncoding)
		compress = acceptsGzip(c.Request())
	}
	if cacheable {
		if compress {
			// Each encoding is its own representation with its own tag. One
			// compressed per answer may come out in other bytes next time
			// (stitched from kept segments, or compressed whole once their
			// room is full), so its tag is weak.
			etag = etag[:len(etag)-1] + `-gzip"`
			if gz.ready == nil {
				etag = "W/" + etag
			}
		}
		hdr.Set("ETag", etag)
		hdr[echo.HeaderCacheControl] = cacheControlValue
		if matchesETag(c.Request().Header.Get(headerIfNoneMatch), etag) {
			c.Response().WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	if !compress {
		return writeBody(c, body)
	}
	hdr[echo.HeaderContentEncoding] = gzipValue
	if gz.ready != nil {
		return writeBody(c, gz.ready)
	}
	if gz.copies != nil {
		buf := getBuffer()
		defer putBuffer(buf)
		var stitched bool
		if *buf, stitched = gz.bodies.AppendGzip(*buf, body, gz.copies); stitched {
			return writeBody(c, *buf)
		}
	}
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	zw := gzipWriters.get()
	defer gzipWriters.put(zw)
	zw.Reset(c.Response())
	if _, err := zw.Write(body); err != nil {
		return err
	}
	return zw.Close()
}

// writeBody writes a 200 response of body with its length; a large one
// goes out in one write with its header (see oneWriteConn).
func writeBody(c echo.Context, body []byte) (err error) {
	r := c.Request()
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	if conn := heldConn(r, len(body)); conn != nil {
		conn.hold(body)
		defer func() {
			if serr := conn.send(); err == nil {
				err = serr
			}
		}()
		c.Response().WriteHeader(http.StatusOK)
		if _, err = c.Response().Write(body); err != nil {
			return err
		}
		// Out of net/http's buffers into the held writes.
		return http.NewResponseController(c.Response().Writer).Flush()
	}
	c.Response().WriteHeader(http.StatusOK)
	_, err = c.Response().Write(body)
	return err
}

// entityTag is a strong validator for body: the data version it was
// computed from, if any, then its length and CRC-32C, which the CPU
// computes at memory speed.
func entityTag(version string, body []byte) string {
	var buf [64]byte
	b := append(buf[:0], '"')
	if version != "" {
		b = append(append(b, version...), '.')
	}
	b = strconv.AppendUint(b, uint64(len(body)), 36)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64(crc32.Checksum(body, castagnoli)), 36)
	return string(append(b, '"'))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// matchesETag implements If-None-Match's weak comparison (RFC 9110 §13.1.2).
func matchesETag(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for t := range strings.SplitSeq(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (a "gzip;q=0" refuses it).
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get(echo.HeaderAcceptEncoding), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		return !ok || (q != "0" && strings.Trim(q, "0.") != "")
	}
	return false
}

// static is a fixed body served with its validator and gzipped form
// computed once.
type static struct {
	ctype      string
	body, gzip []byte
	etag       string
}

func newStatic(ctype string, body []byte) *static {
	s := &static{ctype: ctype, body: body, etag: entityTag("", body)}
	if len(body) >= gzipMin {
		var b strings.Builder
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(body) //nolint:errcheck // a strings.Builder never fails
		zw.Close()
		s.gzip = []byte(b.String())
	}
	return s
}

func (s *static) serve(c echo.Context) error {
	return sendTagged(c, s.ctype, s.body, s.gzip, s.etag, true)
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
