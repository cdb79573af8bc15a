package store

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// ACLEDSource is the Source of strikes read from ACLED-style CSV; with the
// event_id_cnty column it makes re-imports of an export idempotent.
const ACLEDSource = "ACLED"

// geoPrecisionMeters turns ACLED's geo_precision code into an uncertainty.
// ACLED codes 1 when the source names the town and its coordinates are
// used, 2 when the event was near a town or in a small part of a region
// (coded to a nearby town or the area's centre), 3 when only a larger
// region is known (coded to its centre or capital). The radii: 5 km covers
// the built-up area of all but the largest cities from their centre; 25 km
// a district (raion) around its town; 100 km an oblast around its centre.
var geoPrecisionMeters = map[string]float64{"1": 5_000, "2": 25_000, "3": 100_000}

// acledDateLayouts are the event_date forms accepted: ACLED's API and newer
// exports, its older exports (day first, never month first), and a full
// RFC 3339 time for files that know the hour. A date alone is 00:00 UTC.
var acledDateLayouts = []string{"2006-01-02", "2 January 2006", "02-01-2006", time.RFC3339}

// The columns CSVDecoder reads into a strike's fields; event_id_cnty,
// event_date, latitude, longitude and geo_precision are required.
const (
	colEventID   = "event_id_cnty"
	colDate      = "event_date"
	colLatitude  = "latitude"
	colLongitude = "longitude"
	colPrecision = "geo_precision"
	colSubEvent  = "sub_event_type"
	colNotes     = "notes"
)

// CSVDecoder reads strikes from ACLED-style CSV: a header row, then one
// event a row. Source is ACLEDSource and SourceEventID event_id_cnty; the
// uncertainty follows geo_precision (see geoPrecisionMeters); Weapon is
// sub_event_type (such as "Air/drone strike") and Notes notes. Every other
// non-empty column, geo_precision, event_type and sub_event_type included,
// is kept as text in Extra under "acled", so nothing of the row is lost.
type CSVDecoder struct {
	r       *csv.Reader
	header  []string
	col     map[string]int
	started bool
	done    bool
	seen    seenKeys
}

// NewCSVDecoder reads CSV from r.
func NewCSVDecoder(r io.Reader) *CSVDecoder {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	return &CSVDecoder{r: cr, col: map[string]int{}, seen: seenKeys{}}
}

// Next implements Decoder.
func (d *CSVDecoder) Next() (Strike, error) {
	if d.done {
		return Strike{}, io.EOF
	}
	if !d.started {
		d.started = true
		if err := d.readHeader(); err != nil {
			d.done = true
			return Strike{}, err
		}
	}
	rec, err := d.r.Read()
	if err == io.EOF {
		d.done = true
		return Strike{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return Strike{}, &RecordError{Line: pe.StartLine, Err: fmt.Errorf("%d fields, but the header has %d", len(rec), len(d.header))}
		}
		d.done = true
		return Strike{}, &RecordError{Line: pe.Line, Err: pe.Err}
	} else if err != nil {
		d.done = true
		return Strike{}, err
	}
	line, _ := d.r.FieldPos(0)
	return d.record(rec, line)
}

func (d *CSVDecoder) readHeader() error {
	rec, err := d.r.Read()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return &RecordError{Line: 1, Err: errors.New("empty: want a header row")}
	case errors.As(err, &pe):
		return &RecordError{Line: pe.Line, Err: pe.Err}
	case err != nil:
		return err
	}
	d.header = make([]string, len(rec))
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF") // a byte-order mark from spreadsheet exports
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := d.col[name]; dup {
			return &RecordError{Line: 1, Field: name, Err: errors.New("column given twice")}
		}
		d.header[i], d.col[name] = name, i
	}
	var missing []string
	for _, name := range []string{colEventID, colDate, colLatitude, colLongitude, colPrecision} {
		if _, ok := d.col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &RecordError{Line: 1, Err: fmt.Errorf("the header lacks %s", strings.Join(missing, ", "))}
	}
	return nil
}

// csvField is the column each strike field comes from, for messages.
var csvField = map[string]string{propTime: colDate, propEventID: colEventID, propWeapon: colSubEvent,
	propNotes: colNotes, "properties": "row"}

func (d *CSVDecoder) record(rec []string, line int) (Strike, error) {
	get := func(col string) string {
		if i, ok := d.col[col]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	fail := func(col string, err error) (Strike, error) {
		return Strike{}, &RecordError{Line: line, Field: col, Err: err}
	}
	s := Strike{Source: ACLEDSource, SourceEventID: get(colEventID), Weapon: get(colSubEvent), Notes: get(colNotes)}
	if s.SourceEventID == "" {
		return fail(colEventID, errors.New("required"))
	}
	date := get(colDate)
	dated := false
	for _, layout := range acledDateLayouts {
		if t, err := time.Parse(layout, date); err == nil {
			s.Time, dated = t, true
			break
		}
	}
	if !dated {
		return fail(colDate, fmt.Errorf("%q is not a date like 2025-03-20 or 20 March 2025", date))
	}
	for _, c := range []struct {
		col   string
		dst   *float64
		check func(float64) error
	}{{colLongitude, &s.Point[0], checkLongitude}, {colLatitude, &s.Point[1], checkLatitude}} {
		v, err := geo.ParseNumber(get(c.col))
		if err != nil {
			return fail(c.col, fmt.Errorf("%q is not a number", get(c.col)))
		}
		if err := c.check(v); err != nil {
			return fail(c.col, err)
		}
		*c.dst = v
	}
	m, ok := geoPrecisionMeters[get(colPrecision)]
	if !ok {
		return fail(colPrecision, fmt.Errorf("%q is not 1, 2 or 3", get(colPrecision)))
	}
	s.UncertaintyMeters = m
	s.Extra = d.extra(rec)
	if fe := check(&s); fe != nil {
		return fail(csvField[fe.field], fe.err)
	}
	if first, dup := d.seen.repeat(&s, line); dup {
		return fail(colEventID, fmt.Errorf("the same event as line %d", first))
	}
	return s, nil
}

// extra is {"acled": {column: value, ...}} for the columns not read into
// the strike's own fields, in header order; nil when all are empty.
func (d *CSVDecoder) extra(rec []string) []byte {
	out := []byte(`{"acled":{`)
	n := len(out)
	for i, name := range d.header {
		switch name {
		case colEventID, colDate, colLatitude, colLongitude, colNotes:
			continue
		}
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		if len(out) > n {
			out = append(out, ',')
		}
		out = geojson.AppendJSONString(out, name)
		out = append(out, ':')
		out = geojson.AppendJSONString(out, v)
	}
	if len(out) == n {
		return nil
	}
	return append(out, "}}"...)
}
