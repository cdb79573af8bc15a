package importer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// CSVMapping says how the columns of a CSV file of sites become features.
// Column names are matched without regard to case.
type CSVMapping struct {
	// Layer receives the features.
	Layer string
	// Lon and Lat name the coordinate columns (WGS84 degrees). When both are
	// empty and WKT is too, the first of lon, longitude, lng, x and of lat,
	// latitude, y are used.
	Lon, Lat string
	// WKT names a column of WKT geometries, instead of Lon and Lat.
	WKT string
	// ID names the column of stable ids, each prefixed by IDPrefix. Without
	// it a row's id is "LAYER:h-" and 16 hex digits of a SHA-256 over its
	// geometry and properties.
	ID, IDPrefix string
	// Name names the column of the name property; default: "name" if present.
	Name string
	// Kind is the kind of every feature, unless KindColumn names a column
	// holding it (default: "kind" if present and Kind is empty).
	Kind, KindColumn string
	// Source and Licence are set as the source and licence properties of
	// rows that have none of their own; they do not enter hashed ids.
	Source, Licence string
	// Columns lists the columns kept as string properties; nil keeps every
	// column not used above. Empty cells are left out.
	Columns []string
	// Comma is the field separator; 0 means ','.
	Comma rune
	// Progress, if set, is told how the reading advances.
	Progress Progress
}

var (
	lonNames = []string{"lon", "longitude", "lng", "x"}
	latNames = []string{"lat", "latitude", "y"}
)

// csvTable reads a CSV file with a header row and knows its columns.
type csvTable struct {
	r      *csv.Reader
	header []string
	col    map[string]int // lower-case name → first column with it
}

func newCSVTable(r io.Reader, comma rune) (*csvTable, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	if comma != 0 {
		cr.Comma = comma
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("line 1: the file is empty; a header row is needed")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	header = slices.Clone(header)
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	t := &csvTable{r: cr, header: header, col: map[string]int{}}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.col[k]; !dup {
			t.col[k] = i
		}
	}
	cr.FieldsPerRecord = len(header)
	cr.ReuseRecord = true
	return t, nil
}

// column finds a column by name; "" gives -1 without error.
func (t *csvTable) column(name, flag string) (int, error) {
	if name == "" {
		return -1, nil
	}
	i, ok := t.col[strings.ToLower(name)]
	if !ok {
		return -1, fmt.Errorf("%s: no column %q in the header (%s)", flag, name, strings.Join(t.header, ", "))
	}
	return i, nil
}

// first returns the first of names that is a column, or -1.
func (t *csvTable) first(names []string) int {
	for _, n := range names {
		if i, ok := t.col[n]; ok {
			return i
		}
	}
	return -1
}

// rows calls fn with each record and its line number. A row with the wrong
// number of fields is skipped and reported; any other CSV error stops.
func (t *csvTable) rows(ctx context.Context, res *Result, fn func(rec []string, line int)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := t.r.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			res.skip(lineItem(pe.StartLine), fmt.Sprintf("has %d fields, the header has %d", len(rec), len(t.header)))
			continue
		case err != nil:
			return err
		}
		line, _ := t.r.FieldPos(0)
		fn(rec, line)
	}
}

func lineItem(line int) string { return "line " + strconv.Itoa(line) }

// parseDegrees reads a coordinate and checks its range; the error names the column.
func parseDegrees(s, column string, limit float64) (float64, error) {
	v, err := geo.ParseNumber(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", column, s)
	}
	if v < -limit || v > limit {
		return 0, fmt.Errorf("%s: %v is out of range ±%v", column, v, limit)
	}
	return v, nil
}

// pointAt reads a row's position from its lon and lat columns.
func (t *csvTable) pointAt(rec []string, lon, lat int) (orb.Point, error) {
	if strings.TrimSpace(rec[lon]) == "" && strings.TrimSpace(rec[lat]) == "" {
		return orb.Point{}, fmt.Errorf("%s, %s: no coordinates", t.header[lon], t.header[lat])
	}
	x, err := parseDegrees(rec[lon], t.header[lon], 180)
	if err != nil {
		return orb.Point{}, err
	}
	y, err := parseDegrees(rec[lat], t.header[lat], 90)
	if err != nil {
		return orb.Point{}, err
	}
	return orb.Point{x, y}, nil
}

// input is an input file being read, its reading reported to a Progress.
type input struct {
	io.Reader
	m    meter
	f    *os.File
	stop func()
}

// openInput checks the name of the layer to import into, opens file and
// starts a progress phase; close ends both.
func openInput(file, layer, phase string, p Progress) (*input, error) {
	if !geo.ValidLayerName(layer) {
		return nil, fmt.Errorf("%q is not a valid layer name (letters, digits, '_', '-', '.')", layer)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	in := &input{f: f}
	in.Reader = countingReader{f, &in.m}
	in.stop = track(p, phase, st.Size(), &in.m)
	return in, nil
}

func (in *input) close() {
	in.stop()
	in.f.Close()
}

// csvColumns is a CSVMapping resolved against a header.
type csvColumns struct {
	lon, lat, wkt, id, name, kind int
	keep                          []int
}

func (m *CSVMapping) resolve(t *csvTable) (csvColumns, error) {
	var c csvColumns
	var err error
	lookups := []struct {
		dst        *int
		name, flag string
	}{
		{&c.lon, m.Lon, "lon"}, {&c.lat, m.Lat, "lat"}, {&c.wkt, m.WKT, "wkt"},
		{&c.id, m.ID, "id"}, {&c.name, m.Name, "name"}, {&c.kind, m.KindColumn, "kind column"},
	}
	for _, l := range lookups {
		if *l.dst, err = t.column(l.name, l.flag); err != nil {
			return c, err
		}
	}
	switch {
	case c.wkt >= 0 && (c.lon >= 0 || c.lat >= 0):
		return c, errors.New("give either a WKT column or lon and lat columns, not both")
	case c.wkt < 0 && (c.lon < 0) != (c.lat < 0):
		return c, errors.New("give both the lon and the lat column")
	case c.wkt < 0 && c.lon < 0:
		c.lon, c.lat = t.first(lonNames), t.first(latNames)
		if c.lon < 0 || c.lat < 0 {
			return c, fmt.Errorf("no coordinate columns: name them (lon and lat, or wkt); the header has %s", strings.Join(t.header, ", "))
		}
	}
	if c.name < 0 {
		c.name = t.first([]string{"name"})
	}
	if c.kind < 0 && m.Kind == "" {
		c.kind = t.first([]string{"kind"})
	}
	if m.Columns != nil {
		for _, name := range m.Columns {
			i, err := t.column(name, "columns")
			if err != nil {
				return c, err
			}
			c.keep = append(c.keep, i)
		}
		return c, nil
	}
	used := []int{c.lon, c.lat, c.wkt, c.id, c.name, c.kind}
	for i, h := range t.header {
		k := strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(used, i) && k != "" && !slices.Contains(reservedProperties, k) {
			c.keep = append(c.keep, i)
		}
	}
	return c, nil
}

// CSV imports a CSV file of sites with a header row into m.Layer. Rows
// without a usable geometry are skipped and reported by line and column.
func CSV(ctx context.Context, file string, m CSVMapping) (*Result, error) {
	in, err := openInput(file, m.Layer, "rows", m.Progress)
	if err != nil {
		return nil, err
	}
	defer in.close()
	res, err := readCSV(ctx, in, m, &in.m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return res, nil
}

func readCSV(ctx context.Context, r io.Reader, m CSVMapping, mt *meter) (*Result, error) {
	t, err := newCSVTable(r, m.Comma)
	if err != nil {
		return nil, err
	}
	c, err := m.resolve(t)
	if err != nil {
		return nil, err
	}
	res := newResult()
	res.layer(m.Layer)
	err = t.rows(ctx, res, func(rec []string, line int) {
		f, err := m.row(t, c, rec)
		if err != nil {
			res.skip(lineItem(line), err.Error())
			return
		}
		mt.found.Add(1)
		f.Properties = withDefaults(f.Properties, "source", m.Source, "licence", m.Licence)
		res.add(m.Layer, newFeature{Feature: f, origin: lineItem(line)})
	})
	return res, err
}

// row turns one record into a feature.
func (m *CSVMapping) row(t *csvTable, c csvColumns, rec []string) (geo.Feature, error) {
	var f geo.Feature
	var err error
	if c.wkt >= 0 {
		if strings.TrimSpace(rec[c.wkt]) == "" {
			return f, fmt.Errorf("%s: no geometry", t.header[c.wkt])
		}
		if f.Geometry, err = wkt.Unmarshal(rec[c.wkt]); err != nil {
			return f, fmt.Errorf("%s: %v", t.header[c.wkt], err)
		}
	} else if f.Geometry, err = t.pointAt(rec, c.lon, c.lat); err != nil {
		return f, err
	}
	f.Kind = m.Kind
	if c.kind >= 0 {
		f.Kind = strings.TrimSpace(rec[c.kind])
	}
	var o jsonObject
	if c.name >= 0 {
		o.str("name", strings.TrimSpace(rec[c.name]))
	}
	o.str("kind", f.Kind)
	for _, i := range c.keep {
		o.str(t.header[i], rec[i])
	}
	f.Properties = o.bytes()
	if c.id >= 0 {
		id := strings.TrimSpace(rec[c.id])
		if id == "" {
			return f, fmt.Errorf("%s: empty id", t.header[c.id])
		}
		f.ID = m.IDPrefix + id
	} else {
		h := sha256.New()
		h.Write(geojson.AppendGeometry(nil, f.Geometry))
		h.Write(f.Properties)
		f.ID = m.Layer + ":h-" + hex.EncodeToString(h.Sum(nil)[:8])
	}
	return f, nil
}
