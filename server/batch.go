package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
	"github.com/protectmap/protectmap/server/store"
)

// Bounds of one POST /proximity. The whole body is read and every strike
// answered before the first byte of the answer is sent, so a bad strike
// anywhere gets a clean 400 and a client still sending is never cut off.
// The answer is gathered in memory up to spoolMemory and in a temporary
// file beyond, so memory does not grow with the number of strikes.
const (
	maxStrikes   = 250_000
	maxBatchBody = 128 << 20
	spoolMemory  = 8 << 20
)

// batchParams are GET /proximity's parameters but the point, which each
// strike gives, and geometry, since a batch answers with sites' ids.
var batchParams = proximityParams.except("lon", "lat", "geometry")

// strike is one feature of a POST /proximity body.
type strike struct {
	Type     string          `json:"type"`
	ID       json.RawMessage `json:"id"`
	Geometry *struct {
		Type        string    `json:"type"`
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// batch is the state of one POST /proximity as it streams.
type batch struct {
	h     *handlers
	gone  *stopper // the request's
	ix    *geo.Index
	q     proximityQuery
	out   *spool
	props bytes.Buffer // the current strike's compact properties
	// The summary of all strikes.
	strikes, withHits, possiblyHit int
	// verdicts counts the strikes given a verdict, by outcome.
	verdicts map[agreement.Outcome]int
	disputed int // strikes whose agreements' readings disagree
}

// proximityBatch answers POST /proximity: a GeoJSON FeatureCollection of
// strike points in, each strike annotated with the sites near it out.
func (h *handlers) proximityBatch(c echo.Context) error {
	q := newProximityQuery()
	if err := batchParams.parse(c.QueryString(), &q, nil); err != nil {
		return err
	}
	ix := h.index(c)
	if err := q.resolveCollections(ix); err != nil {
		return err
	}
	b := &batch{h: h, gone: newStopper(c.Request().Context()), ix: ix, q: q, out: newSpool(), verdicts: map[agreement.Outcome]int{}}
	defer b.out.release()
	o := append(b.out.buf, `{"type":"FeatureCollection","query":{`...)
	b.out.buf = append(q.appendSearch(o), `,"features":[`...)

	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxBatchBody)
	if err := b.read(json.NewDecoder(body)); err != nil {
		return err
	}
	// The summary comes last and counts the strikes answered, so a client
	// that counts fewer features knows its answer was cut short.
	o = append(b.out.buf, `],"summary":{"strikes":`...)
	o = appendInt(o, b.strikes)
	o = append(o, `,"with_hits":`...)
	o = appendInt(o, b.withHits)
	o = append(o, `,"possibly_hit":`...)
	o = appendInt(o, b.possiblyHit)
	if len(b.verdicts) > 0 {
		o = append(o, `,"verdicts":{`...)
		for i, outcome := range agreement.Outcomes() {
			if i > 0 {
				o = append(o, ',')
			}
			o = geojson.AppendJSONString(o, string(outcome))
			o = appendInt(append(o, ':'), b.verdicts[outcome])
		}
		o = append(o, `},"disputed":`...)
		o = appendInt(o, b.disputed)
	}
	b.out.buf = append(o, "}}\n"...)
	return b.out.send(c, mediaGeoJSON)
}

// read walks the FeatureCollection, answering each strike as it comes.
func (b *batch) read(dec *json.Decoder) error {
	if err := expectDelim(dec, '{', "the body must be a GeoJSON FeatureCollection"); err != nil {
		return err
	}
	sawFeatures := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(dec, err)
		}
		switch key, _ := tok.(string); key {
		case "type":
			var typ string
			if err := dec.Decode(&typ); err != nil || typ != "FeatureCollection" {
				return paramError("type", `must be "FeatureCollection"`)
			}
		case "features":
			sawFeatures = true
			if err := b.features(dec); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return syntaxError(dec, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxError(dec, err)
	}
	// Reading on to the end also proves the body is whole.
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return paramError("body", "data after the FeatureCollection, at byte %d", dec.InputOffset())
		}
		return syntaxError(dec, err)
	}
	if !sawFeatures {
		return paramError("features", "missing: the body must be a GeoJSON FeatureCollection of strike points")
	}
	return nil
}

func (b *batch) features(dec *json.Decoder) error {
	if err := expectDelim(dec, '[', `"features" must be an array`); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		if i == maxStrikes {
			return paramError("features", "more than %d strikes; split them over several requests", maxStrikes)
		}
		if b.gone.stop() {
			return b.gone.err
		}
		var s strike
		if err := dec.Decode(&s); err != nil {
			if readFault(err) {
				return err
			}
			return &ParamError{Param: fmt.Sprintf("features[%d]", i), Reason: userReason(dec, err)}
		}
		if err := b.strike(i, &s); err != nil {
			return err
		}
		if err := b.out.maybeSpill(); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxError(dec, err)
	}
	return nil
}

// strike checks one strike, finds the sites near it and writes it out.
func (b *batch) strike(i int, s *strike) error {
	field := func(name string) string { return fmt.Sprintf("features[%d].%s", i, name) }
	if s.Type != "Feature" {
		return paramError(field("type"), `must be "Feature", not %q`, s.Type)
	}
	g := s.Geometry
	if g == nil || g.Type != "Point" || len(g.Coordinates) < 2 || len(g.Coordinates) > 3 {
		return paramError(field("geometry"), "must be a Point with [longitude, latitude]")
	}
	p := orb.Point{g.Coordinates[0], g.Coordinates[1]}
	if err := errors.Join(checkLon(p[0]), checkLat(p[1])); err != nil {
		return paramError(field("geometry"), "%v", err)
	}
	if len(s.ID) > 0 && s.ID[0] != '"' && s.ID[0] != 'n' && jsonKind(s.ID)&(seenInteger|seenNumber) == 0 {
		return paramError(field("id"), "must be a string or a number")
	}
	b.props.Reset()
	if len(s.Properties) > 0 && s.Properties[0] != 'n' {
		if s.Properties[0] != '{' {
			return paramError(field("properties"), "must be an object or null")
		}
		if d := jsonscan.Depth(s.Properties); d > store.MaxPropertyDepth {
			return paramError(field("properties"), "nested %d deep, more than %d", d, store.MaxPropertyDepth)
		}
		if err := jsonscan.CheckText(s.Properties); err != nil {
			return paramError(field("properties"), "%v", err)
		}
		json.Compact(&b.props, s.Properties) //nolint:errcheck // the decoder has validated it
	}
	q := b.q
	var err error
	jsonscan.EachMember(b.props.Bytes(), func(key, raw []byte) bool {
		switch string(key) {
		case "uncertainty_m":
			q.uncertainty, err = parseMeters(string(raw), geo.MaxRadiusMeters)
			if err == nil {
				err = q.checkUncertainty()
			}
			if err != nil {
				err = paramError(field("properties.uncertainty_m"), "%s", reasonOf(err))
			}
		case propDatetime:
			if s, ok := jsonscan.String(raw); !ok {
				err = paramError(field("properties.datetime"), "must be an RFC 3339 date-time string")
			} else if t, terr := time.Parse(time.RFC3339Nano, s); terr == nil {
				q.when, q.timed = t, true
			} else if _, perr := parseInstant(s); perr != nil {
				err = paramError(field("properties.datetime"), "%q is not an RFC 3339 date-time", s)
			} else {
				q.timed = false // a date alone fixes no instant to judge
			}
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	var hits []geo.Hit
	var v *agreement.Verdict
	if !q.timed {
		hits, err = b.ix.NearbyContext(b.gone.ctx, p, q.radius, q.limit, q.collections...)
	} else if v, err = b.h.verdict(b.gone.ctx, b.ix, &q, p); err == nil {
		hits = verdictHits(v)
		b.verdicts[v.Outcome]++
		if v.AgreementStatus == agreement.Disputed {
			b.disputed++
		}
	}
	if err != nil && b.gone.ctx.Err() == nil {
		return paramError(field("geometry"), "%s", reasonOf(err))
	} else if err != nil {
		return err
	}
	b.strikes++
	if len(hits) > 0 {
		b.withHits++
	}
	if !math.IsNaN(q.uncertainty) && possiblyHit(hits, q.uncertainty) > 0 {
		b.possiblyHit++
	}
	b.out.buf = b.appendStrike(b.out.buf, s, p, hits, q.uncertainty, v)
	return nil
}

// appendStrike writes the strike as it came, its properties extended with
// "hits" (each site as a Feature placed at its point nearest the strike)
// and a "summary" like GET /proximity's, with the verdict v when there is one.
func (b *batch) appendStrike(o []byte, s *strike, p orb.Point, hits []geo.Hit, uncertainty float64, v *agreement.Verdict) []byte {
	if b.strikes > 1 {
		o = append(o, ',')
	}
	o = append(o, `{"type":"Feature",`...)
	if len(s.ID) > 0 && s.ID[0] != 'n' {
		o = append(o, `"id":`...)
		o = append(o, bytes.TrimSpace(s.ID)...)
		o = append(o, ',')
	}
	o = append(o, `"geometry":`...)
	o = geojson.AppendGeometry(o, p)
	o = append(o, `,"properties":{`...)
	// The strike's own properties, but those the answer computes.
	jsonscan.EachMember(b.props.Bytes(), func(key, value []byte) bool {
		if !store.IsComputedProperty(string(key)) {
			o = append(geojson.AppendJSONString(o, string(key)), ':')
			o = append(append(o, value...), ',')
		}
		return true
	})
	o = append(o, `"hits":[`...)
	for i := range hits {
		if i > 0 {
			o = append(o, ',')
		}
		site := geo.Feature{ID: hits[i].Feature.ID, Geometry: hits[i].Nearest, Properties: hits[i].Feature.Properties}
		o = geojson.AppendHit(o, &site, &hits[i], hitMembers(&hits[i], uncertainty, v, i)...)
	}
	o = append(o, `],"summary":`...)
	o = appendSummary(o, hits, uncertainty, v)
	return append(o, "}}"...)
}

func expectDelim(dec *json.Decoder, want json.Delim, msg string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return paramError("body", "%s", msg)
	}
	return nil
}

// syntaxError says where the body stopped being JSON.
func syntaxError(dec *json.Decoder, err error) error {
	if readFault(err) {
		return err
	}
	return &ParamError{Param: "body", Reason: userReason(dec, err)}
}

func userReason(dec *json.Decoder, err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("the JSON ends early, at byte %d", dec.InputOffset())
	}
	return fmt.Sprintf("invalid JSON near byte %d: %v", dec.InputOffset(), err)
}

// reasonOf is an error's message without the parameter a ParamError names.
func reasonOf(err error) string {
	var pe *ParamError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return userMessage(err)
}

// spool gathers an answer whole before it is sent: in memory up to
// spoolMemory, then in an unnamed temporary file.
type spool struct {
	bufp *[]byte
	buf  []byte
	file *os.File
}

func newSpool() *spool {
	p := getBuffer()
	return &spool{bufp: p, buf: *p}
}

// maybeSpill moves the answer gathered so far to the file once it is
// larger than spoolMemory.
func (s *spool) maybeSpill() error {
	if len(s.buf) < spoolMemory {
		return nil
	}
	return s.spill()
}

func (s *spool) spill() error {
	if s.file == nil {
		f, err := os.CreateTemp("", "protectmap-answer-*")
		if err != nil {
			return fmt.Errorf("spooling an answer: %w", err)
		}
		// Unlinked at once, so nothing is left behind even by a crash.
		os.Remove(f.Name()) //nolint:errcheck
		s.file = f
	}
	if _, err := s.file.Write(s.buf); err != nil {
		return fmt.Errorf("spooling an answer: %w", err)
	}
	s.buf = s.buf[:0]
	return nil
}

// send answers 200 with the whole answer, gzipped when the client takes it.
func (s *spool) send(c echo.Context, ctype string) error {
	if s.file == nil {
		return send(c, ctype, s.buf, false)
	}
	if err := s.spill(); err != nil {
		return err
	}
	size, err := s.file.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, ctype)
	addVary(hdr, echo.HeaderAcceptEncoding)
	if !acceptsGzip(c.Request()) {
		hdr.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
		c.Response().WriteHeader(http.StatusOK)
		_, err := io.Copy(c.Response(), s.file)
		return err
	}
	hdr.Set(echo.HeaderContentEncoding, "gzip")
	c.Response().WriteHeader(http.StatusOK)
	zw := gzipWriters.get()
	defer gzipWriters.put(zw)
	zw.Reset(c.Response())
	if _, err := io.Copy(zw, s.file); err != nil {
		return err
	}
	return zw.Close()
}

func (s *spool) release() {
	if s.file != nil {
		s.file.Close() //nolint:errcheck
	}
	*s.bufp = s.buf[:0]
	putBuffer(s.bufp)
}
