package geojson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// ZonesLayer is the layer holding zones and corridors. In it a line with a
// positive width_m property is a corridor, served as the area it covers (see
// DecodeLayer).
const ZonesLayer = "zones"

// widenCorridors turns each line of a zones layer that has a width_m
// property into the corridor it stands for: the area within width_m/2 of
// the line, so a strike inside a corridor is at distance 0 from it, as
// inside any zone, and tiles and exports draw its extent. A bad width is a
// *ParseError naming the feature; it returns the change in the number of
// positions a relocation copies.
func widenCorridors(file string, features []geo.Feature, bounds []orb.Bound) (int, error) {
	grown := 0
	var errs []error
	for i := range features {
		f := &features[i]
		switch f.Geometry.(type) {
		case orb.LineString, orb.MultiLineString:
		default:
			continue
		}
		var p struct {
			Width *json.RawMessage `json:"width_m"`
		}
		if len(f.Properties) == 0 || json.Unmarshal(f.Properties, &p) != nil || p.Width == nil {
			continue
		}
		var width float64
		if err := json.Unmarshal(*p.Width, &width); err != nil || !(width > 0 && width <= 2*geo.MaxRadiusMeters) {
			errs = append(errs, &geo.ParseError{File: file, Feature: i, ID: f.ID,
				Err: fmt.Errorf("width_m: %s is not a corridor width in metres, above 0 and at most %d", *p.Width, 2*geo.MaxRadiusMeters)})
			continue
		}
		area := corridor(f.Geometry, width/2)
		if err := geo.ValidGeometry(area); err != nil {
			errs = append(errs, &geo.ParseError{File: file, Feature: i, ID: f.ID, Err: fmt.Errorf("corridor of width_m %v: %w", width, err)})
			continue
		}
		grown += geo.RelocatedPoints(area) - geo.RelocatedPoints(f.Geometry)
		// Its envelope is geodesic, as every other feature's is: the
		// envelope of a layer's feature is always geodesy.Envelope of its
		// geometry, which a snapshot relies on.
		f.Geometry, bounds[i] = area, geodesy.Envelope(area)
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return grown, nil
}

// corridor is the area within halfMeters of a line or of each line of a
// MultiLineString: at each vertex the offset runs along the bisector of the
// turn, lengthened so the sides stay halfMeters from both edges (up to
// three times that at sharp turns); the ends are cut square.
func corridor(g orb.Geometry, halfMeters float64) orb.Geometry {
	switch g := g.(type) {
	case orb.LineString:
		return orb.Polygon{corridorRing(g, halfMeters)}
	case orb.MultiLineString:
		mp := make(orb.MultiPolygon, len(g))
		for i, l := range g {
			mp[i] = orb.Polygon{corridorRing(l, halfMeters)}
		}
		return mp
	}
	return g
}

// rad converts degrees to radians.
const rad = math.Pi / 180

func corridorRing(line orb.LineString, halfMeters float64) orb.Ring {
	n := len(line)
	left := make([]orb.Point, n)
	right := make([]orb.Point, n)
	for i, p := range line {
		var in, out float64 // azimuths of the edges arriving at and leaving p
		switch {
		case i == 0:
			_, out, _ = geodesy.Inverse(p, line[1])
			in = out
		case i == n-1:
			_, _, in = geodesy.Inverse(line[i-1], p)
			out = in
		default:
			_, _, in = geodesy.Inverse(line[i-1], p)
			_, out, _ = geodesy.Inverse(p, line[i+1])
		}
		turn := math.Remainder(out-in, 360)
		mid := in + turn/2
		reach := halfMeters / math.Max(math.Cos(turn/2*rad), 1.0/3)
		left[i], _ = geodesy.Direct(p, mid-90, reach)
		right[i], _ = geodesy.Direct(p, mid+90, reach)
	}
	// Counterclockwise, as RFC 7946 asks of exterior rings.
	ring := make(orb.Ring, 0, 2*n+1)
	ring = append(ring, right...)
	for i := n - 1; i >= 0; i-- {
		ring = append(ring, left[i])
	}
	return append(ring, right[0])
}
