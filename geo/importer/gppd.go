package importer

import (
	"context"
	"fmt"
	"strings"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// gppdSourceProperty and gppdLicence are the source and licence
// properties of every GPPD feature.
const (
	gppdSourceProperty = "Global Power Plant Database (WRI et al., CC BY 4.0)"
	gppdLicence        = "CC-BY-4.0"
)

// GPPDOptions configures a Global Power Plant Database import.
type GPPDOptions struct {
	// Country keeps the rows of one country (ISO 3166-1 alpha-3, e.g. "UKR");
	// empty keeps all.
	Country string
	// Layer receives the plants; empty means "energy".
	Layer string
	// Progress, if set, is told how the reading advances.
	Progress Progress
}

// GPPD imports the Global Power Plant Database CSV (v1.x columns) as points
// of kind "plant" with ids "gppd:<gppd_idnr>" and the properties name, kind,
// fuel (primary_fuel, lower case), other_fuels, capacity_mw,
// commissioning_year, owner, country, gppd_idnr and source. Rows of other
// countries are counted as ignored; rows with bad values are skipped and
// reported by line and column.
func GPPD(ctx context.Context, file string, opt GPPDOptions) (*Result, error) {
	if opt.Layer == "" {
		opt.Layer = "energy"
	}
	in, err := openInput(file, opt.Layer, "power plants", opt.Progress)
	if err != nil {
		return nil, err
	}
	defer in.close()
	t, err := newCSVTable(in, ',')
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	cols := map[string]int{}
	for _, name := range []string{"gppd_idnr", "name", "latitude", "longitude", "country", "primary_fuel", "capacity_mw"} {
		i, ok := t.col[name]
		if !ok {
			return nil, fmt.Errorf("%s: not a Global Power Plant Database file: no column %q", file, name)
		}
		cols[name] = i
	}
	for _, name := range []string{"other_fuel1", "other_fuel2", "other_fuel3", "commissioning_year", "owner"} {
		if i, ok := t.col[name]; ok {
			cols[name] = i
		}
	}
	res := newResult()
	res.layer(opt.Layer)
	res.ignoredWhat = "rows of other countries"
	err = t.rows(ctx, res, func(rec []string, line int) {
		if opt.Country != "" && !strings.EqualFold(strings.TrimSpace(rec[cols["country"]]), opt.Country) {
			res.ignored++
			return
		}
		f, err := gppdPlant(t, cols, rec)
		if err != nil {
			res.skip(lineItem(line), err.Error())
			return
		}
		in.m.found.Add(1)
		res.add(opt.Layer, newFeature{Feature: f, origin: lineItem(line)})
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return res, nil
}

func gppdPlant(t *csvTable, cols map[string]int, rec []string) (geo.Feature, error) {
	get := func(name string) string {
		if i, ok := cols[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var f geo.Feature
	idnr := get("gppd_idnr")
	if idnr == "" {
		return f, fmt.Errorf("gppd_idnr: empty")
	}
	p, err := t.pointAt(rec, cols["longitude"], cols["latitude"])
	if err != nil {
		return f, err
	}
	var o jsonObject
	o.str("name", get("name"))
	o.str("kind", "plant")
	o.str("fuel", strings.ToLower(get("primary_fuel")))
	var others []byte
	for _, c := range []string{"other_fuel1", "other_fuel2", "other_fuel3"} {
		if v := get(c); v != "" {
			others = geojson.AppendJSONString(append(others, ','), strings.ToLower(v))
		}
	}
	if others != nil {
		others[0] = '['
		o.raw("other_fuels", append(others, ']'))
	}
	for _, c := range []string{"capacity_mw", "commissioning_year"} {
		v := get(c)
		if v == "" {
			continue
		}
		x, err := geo.ParseNumber(v)
		if err != nil || x < 0 {
			return f, fmt.Errorf("%s: %q is not a non-negative number", c, v)
		}
		o.num(c, x)
	}
	o.str("owner", get("owner"))
	o.str("country", get("country"))
	o.str("gppd_idnr", idnr)
	o.str("source", gppdSourceProperty)
	o.str("licence", gppdLicence)
	return geo.Feature{ID: "gppd:" + idnr, Geometry: orb.Point(p), Properties: o.bytes(), Kind: "plant"}, nil
}
