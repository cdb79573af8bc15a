package store

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// Sources of strikes read from the conflict-event data sets' CSV; with the
// source's event id they make re-imports of a file idempotent.
const (
	ACLEDSource = "ACLED"
	UCDPSource  = "UCDP"
)

// csvDialect is one published CSV layout: the columns that tell it and
// that every row needs, and how a row becomes a strike.
type csvDialect struct {
	name string
	// required are the columns the header must have; the first tells the
	// dialect apart from the others.
	required []string
	// extraKey names the object in Extra that keeps the row's other
	// non-empty columns, as text.
	extraKey string
	// own are the columns read into the strike's fields, left out of Extra.
	own []string
	// columns names the column each strike field (by its GeoJSON property)
	// comes from, for messages; "properties" is the row's other columns.
	columns map[string]string
	// read fills a strike from a row; an error names the column.
	read func(row csvRow, s *Strike) *fieldError
}

// csvDialects are tried in order; a header is read by the first whose
// distinguishing column it has.
var csvDialects = []*csvDialect{acledDialect, ucdpDialect}

// ACLED exports: event_id_cnty, event_date, latitude, longitude and
// geo_precision are required; Weapon is sub_event_type (such as
// "Air/drone strike") and Notes notes.
var acledDialect = &csvDialect{
	name:     ACLEDSource,
	required: []string{"event_id_cnty", "event_date", "latitude", "longitude", "geo_precision"},
	extraKey: "acled",
	own:      []string{"event_id_cnty", "event_date", "latitude", "longitude", "notes"},
	columns: map[string]string{propTime: "event_date", propEventID: "event_id_cnty", propWeapon: "sub_event_type",
		propNotes: "notes", "properties": "row"},
	read: func(row csvRow, s *Strike) *fieldError {
		s.Source, s.SourceEventID = ACLEDSource, row.get("event_id_cnty")
		s.Weapon, s.Notes = row.get("sub_event_type"), row.get("notes")
		if s.SourceEventID == "" {
			return failf("event_id_cnty", "required")
		}
		var fe *fieldError
		if s.Time, fe = row.date("event_date", acledDateLayouts, "2025-03-20 or 20 March 2025"); fe != nil {
			return fe
		}
		if fe := row.point(s, "longitude", "latitude"); fe != nil {
			return fe
		}
		return row.precision("geo_precision", geoPrecisionMeters, "1, 2 or 3", &s.UncertaintyMeters)
	},
}

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

// UCDP's Georeferenced Event Dataset and its candidate events, as
// published: id, date_start, date_end, latitude, longitude and where_prec
// are required. UCDP dates an event by days, so it is the window from
// date_start, 00:00 UTC, to the end of date_end: its End is the next
// midnight. side_a, side_b, dyad_name and the rest stay in Extra under
// "ucdp". Copies that add the dates in ISO form beside month-first ones
// (date_start_iso, date_end_iso) must agree with them; being read, they
// are not kept, so such a copy keeps the columns the file as published does.
var ucdpDialect = &csvDialect{
	name:     UCDPSource,
	required: []string{"where_prec", "id", "date_start", "date_end", "latitude", "longitude"},
	extraKey: "ucdp",
	own:      []string{"id", "date_start", "date_end", "latitude", "longitude", "date_start_iso", "date_end_iso"},
	columns: map[string]string{propTime: "date_start", propEnd: "date_end", propEventID: "id",
		"properties": "row"},
	read: func(row csvRow, s *Strike) *fieldError {
		s.Source, s.SourceEventID = UCDPSource, row.get("id")
		if s.SourceEventID == "" {
			return failf("id", "required")
		}
		var fe *fieldError
		if s.Time, fe = row.date("date_start", ucdpDateLayouts, "2022-03-20 or 3/20/2022 12:00:00 AM"); fe != nil {
			return fe
		}
		end, fe := row.date("date_end", ucdpDateLayouts, "2022-03-20 or 3/20/2022 12:00:00 AM")
		if fe != nil {
			return fe
		}
		if end.Before(s.Time) {
			return failf("date_end", "%s is before date_start", row.get("date_end"))
		}
		for _, d := range []struct {
			column string
			want   time.Time
		}{{"date_start_iso", s.Time}, {"date_end_iso", end}} {
			if row.get(d.column) == "" {
				continue
			}
			iso, fe := row.date(d.column, ucdpDateLayouts[:1], "2022-03-20")
			if fe != nil {
				return fe
			}
			if !iso.Equal(d.want) {
				return failf(d.column, "%s is not the day of %s, %s", row.get(d.column), strings.TrimSuffix(d.column, "_iso"), d.want.Format(time.DateOnly))
			}
		}
		s.End = end.AddDate(0, 0, 1)
		if fe := row.point(s, "longitude", "latitude"); fe != nil {
			return fe
		}
		return row.precision("where_prec", wherePrecMeters, "a whole number from 1 to 7", &s.UncertaintyMeters)
	},
}

// wherePrecMeters turns UCDP's where_prec code into an uncertainty, by what
// the GED codebook says each code locates: 1, the place named (a town's
// built-up area: 5 km, as ACLED's 1); 2, within about 25 km of a known
// point (UCDP's own radius); 3, a second-order division, a raion, coded to
// its centroid (Ukraine's raions before 2020, which GED uses, average some
// 1,200 km²: 25 km reaches their edges); 4, a first-order division, an
// oblast (some 24,000 km² each: 100 km); 5, a linear feature or a part of
// the country ("eastern Ukraine"); 6, the country; 7, international waters
// or airspace. The last three are held at the largest uncertainty a strike
// may have, 200 km, which understates them, but all three, like 4, are far
// beyond the coarsest location judged, so their verdict is
// location_too_coarse either way.
var wherePrecMeters = map[string]float64{"1": 5_000, "2": 25_000, "3": 25_000, "4": 100_000,
	"5": geo.MaxRadiusMeters, "6": geo.MaxRadiusMeters, "7": geo.MaxRadiusMeters}

// ucdpDateLayouts are the date forms UCDP ships: ISO dates (with a time of
// day in its CSV downloads) and, in files that passed through a
// spreadsheet, US month-first dates with or without seconds and AM/PM.
// Parsing accepts one- or two-digit months, days and hours, and a
// fraction of a second. A date alone is 00:00 UTC.
var ucdpDateLayouts = []string{"2006-01-02", "2006-01-02 15:04:05", "1/2/2006 3:04:05 PM", "1/2/2006 15:04", "1/2/2006", time.RFC3339}

// CSVDecoder reads strikes from CSV as the conflict-event data sets
// publish it, telling which by the header: ACLED exports (event_id_cnty,
// event_date, ...) or UCDP GED and candidate events (id, date_start,
// where_prec, ...). Each strike keeps its data set's name as Source and
// its event id, and every column not read into one of its fields is kept
// as text in Extra under "acled" or "ucdp", so nothing of the row is lost.
type CSVDecoder struct {
	r       *csv.Reader
	header  []string
	col     map[string]int
	dialect *csvDialect
	started bool
	done    bool
	seen    seenKeys
}

// NewCSVDecoder reads CSV from r.
func NewCSVDecoder(r io.Reader) *CSVDecoder {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	return &CSVDecoder{r: cr, col: map[string]int{}}
}

// NewMappedCSVDecoder reads CSV of any other layout from r, its columns
// named by c.
func NewMappedCSVDecoder(r io.Reader, c Columns) *CSVDecoder {
	d := NewCSVDecoder(r)
	d.dialect = c.dialect()
	return d
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
	return d.record(csvRow{d, rec}, line)
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
	for _, dialect := range csvDialects {
		if _, ok := d.col[dialect.required[0]]; ok && d.dialect == nil {
			d.dialect = dialect
		}
	}
	if d.dialect == nil {
		var want []string
		for _, dialect := range csvDialects {
			want = append(want, fmt.Sprintf("%s's (%s)", dialect.name, strings.Join(dialect.required, ", ")))
		}
		return &RecordError{Line: 1, Err: fmt.Errorf("the header has neither %s columns", strings.Join(want, " nor "))}
	}
	var missing []string
	for _, name := range d.dialect.required {
		if _, ok := d.col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &RecordError{Line: 1, Err: fmt.Errorf("the header lacks %s for %s", strings.Join(missing, ", "), d.dialect.name)}
	}
	return nil
}

func (d *CSVDecoder) record(row csvRow, line int) (Strike, error) {
	var s Strike
	fe := d.dialect.read(row, &s)
	if fe == nil {
		s.Extra = d.extra(row.rec)
		if fe = check(&s); fe != nil {
			fe.field = d.dialect.columns[fe.field]
		}
	}
	if fe == nil {
		if first, dup := d.seen.repeat(&s, line); dup {
			fe = failf(d.dialect.columns[propEventID], "the same event as line %d", first)
		}
	}
	if fe != nil {
		return Strike{}, fe.at(line, "")
	}
	return s, nil
}

// extra is {key: {column: value, ...}} for the columns not read into the
// strike's own fields, in header order; nil when all are empty.
func (d *CSVDecoder) extra(rec []string) []byte {
	out := append([]byte(`{`), geojson.AppendJSONString(nil, d.dialect.extraKey)...)
	out = append(out, ":{"...)
	n := len(out)
	for i, name := range d.header {
		if slices.Contains(d.dialect.own, name) {
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

// csvRow is one row with its decoder's header.
type csvRow struct {
	d   *CSVDecoder
	rec []string
}

// get is the trimmed value of col, empty when the header lacks it or col
// names no column.
func (r csvRow) get(col string) string {
	if i, ok := r.d.col[col]; ok && col != "" {
		return strings.TrimSpace(r.rec[i])
	}
	return ""
}

// date parses col by the first of layouts that fits.
func (r csvRow) date(col string, layouts []string, like string) (time.Time, *fieldError) {
	v := r.get(col)
	for _, layout := range layouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, failf(col, "%q is not a date like %s", v, like)
}

// point reads the longitude and latitude columns into s.Point.
func (r csvRow) point(s *Strike, lonCol, latCol string) *fieldError {
	for _, c := range []struct {
		col   string
		dst   *float64
		check func(float64) error
	}{{lonCol, &s.Point[0], checkLongitude}, {latCol, &s.Point[1], checkLatitude}} {
		v, err := geo.ParseNumber(r.get(c.col))
		if err != nil {
			return failf(c.col, "%q is not a number", r.get(c.col))
		}
		if err := c.check(v); err != nil {
			return &fieldError{c.col, err}
		}
		*c.dst = v
	}
	return nil
}

// precision looks col's code up in meters.
func (r csvRow) precision(col string, meters map[string]float64, codes string, dst *float64) *fieldError {
	m, ok := meters[r.get(col)]
	if !ok {
		return failf(col, "%q is not %s", r.get(col), codes)
	}
	*dst = m
	return nil
}

// Columns names the columns of a CSV that no data set this package knows
// lays out, for NewMappedCSVDecoder. Lat, Lon and Time are required; an
// unnamed field is left empty (an uncertainty of 0). Source names the
// column giving each row's source; without one, every row's is
// SourceName. The columns not named are kept in Extra under "csv".
type Columns struct {
	Lat, Lon, Time, End, ID, Uncertainty, Source, Weapon, Notes string
	SourceName                                                  string
}

// DefaultCSVSource is the source of strikes read through Columns with
// neither a source column nor a SourceName.
const DefaultCSVSource = "CSV"

// columnKeys are the fields ParseColumns maps, in the order it lists them.
var columnKeys = []string{"lat", "lon", "time", "end", "id", "uncertainty", "source", "weapon", "notes"}

func (c *Columns) field(key string) *string {
	return map[string]*string{"lat": &c.Lat, "lon": &c.Lon, "time": &c.Time, "end": &c.End, "id": &c.ID,
		"uncertainty": &c.Uncertainty, "source": &c.Source, "weapon": &c.Weapon, "notes": &c.Notes}[key]
}

// ParseColumns reads a mapping like "lat=y,lon=x,time=date,id=event":
// field=column pairs, the fields among lat, lon, time (all three
// required), end, id, uncertainty (metres), source, weapon and notes.
// Column names are matched in any case, as headers are.
func ParseColumns(spec string) (Columns, error) {
	var c Columns
	for pair := range strings.SplitSeq(spec, ",") {
		key, col, ok := strings.Cut(pair, "=")
		key, col = strings.ToLower(strings.TrimSpace(key)), strings.ToLower(strings.TrimSpace(col))
		dst := c.field(key)
		switch {
		case !ok || col == "":
			return Columns{}, fmt.Errorf("%q: want field=column", pair)
		case dst == nil:
			return Columns{}, fmt.Errorf("%q: no field %q; fields are %s", pair, key, strings.Join(columnKeys, ", "))
		case *dst != "":
			return Columns{}, fmt.Errorf("field %q given twice", key)
		}
		*dst = col
	}
	var missing []string
	for _, key := range columnKeys[:3] {
		if *c.field(key) == "" {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return Columns{}, fmt.Errorf("no column for %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// mappedDateLayouts are the times a mapped CSV may give: RFC 3339, or an
// ISO 8601 date or date and time without an offset, read as UTC. Slashed
// dates are refused: whether 03/05 is March or May is a guess.
var mappedDateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

const mappedDateLike = "2025-03-20, 2025-03-20 04:10:00 or 2025-03-20T04:10:00+02:00"

func (c Columns) dialect() *csvDialect {
	source := cmp.Or(c.SourceName, DefaultCSVSource)
	var required []string
	for _, key := range columnKeys {
		if col := *c.field(key); col != "" && !slices.Contains(required, col) {
			required = append(required, col)
		}
	}
	return &csvDialect{
		name:     "the columns given",
		required: required,
		extraKey: "csv",
		own:      required,
		columns: map[string]string{propTime: c.Time, propEnd: c.End, propEventID: c.ID, propUncertainty: c.Uncertainty,
			propSource: c.Source, propWeapon: c.Weapon, propNotes: c.Notes, "properties": "row"},
		read: func(row csvRow, s *Strike) *fieldError {
			s.Source, s.SourceEventID, s.Weapon, s.Notes = source, row.get(c.ID), row.get(c.Weapon), row.get(c.Notes)
			if c.Source != "" {
				if s.Source = row.get(c.Source); s.Source == "" {
					return failf(c.Source, "required: the source of the strike")
				}
			}
			var fe *fieldError
			if s.Time, fe = row.date(c.Time, mappedDateLayouts, mappedDateLike); fe != nil {
				return fe
			}
			if c.End != "" && row.get(c.End) != "" {
				if s.End, fe = row.date(c.End, mappedDateLayouts, mappedDateLike); fe != nil {
					return fe
				}
			}
			if fe := row.point(s, c.Lon, c.Lat); fe != nil {
				return fe
			}
			if v := row.get(c.Uncertainty); c.Uncertainty != "" && v != "" {
				m, err := geo.ParseNumber(v)
				if err != nil {
					return failf(c.Uncertainty, "%q is not a number of metres", v)
				}
				s.UncertaintyMeters = m
			}
			return nil
		},
	}
}
