package server

import (
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/crs"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// shape is what of each feature a response carries: the properties named
// by properties= (every one unless selected) and the geometry unless
// skipGeometry=true.
type shape struct {
	selected     bool
	props        []string
	skipGeometry bool
	// crs is the CRS of the geometries (crs=); nil for CRS84.
	crs *crs.CRS
}

// whole is true when features go out as they are.
func (s *shape) whole() bool { return !s.selected && !s.skipGeometry && !s.projects() }

// projects is true when geometries go out in a CRS other than CRS84.
func (s *shape) projects() bool { return s.crs != nil && !s.crs.IsCRS84() }

// setContentCRS says which CRS the response's coordinates are in, as
// OGC API - Features Part 2 asks of every feature response.
func (s *shape) setContentCRS(c echo.Context) {
	uri := crs84URI
	if s.crs != nil {
		uri = s.crs.URI
	}
	c.Response().Header().Set("Content-Crs", "<"+uri+">")
}

// parseProperties reads properties=: property names separated by commas;
// an empty value selects none.
func parseProperties(v string) []string {
	names := []string{}
	for n := range strings.SplitSeq(v, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// checkProperties refuses a selected property that known says the
// collection's features do not carry.
func (s *shape) checkProperties(known func(name string) bool) error {
	for _, n := range s.props {
		if !known(n) {
			return paramError("properties", "%q is not a property of this collection; its schema (rel=describedby) lists them", n)
		}
	}
	return nil
}

// keeps reports whether the shape keeps property name.
func (s *shape) keeps(name string) bool { return !s.selected || slices.Contains(s.props, name) }

// apply returns f as the shape has it, its properties written to *scratch,
// which the result uses until the next call.
func (s *shape) apply(f *geo.Feature, scratch *[]byte) geo.Feature {
	out := *f
	if s.skipGeometry {
		out.Geometry = nil
	} else if s.projects() {
		out.Geometry = s.crs.Project(out.Geometry)
	}
	if s.selected {
		b := append((*scratch)[:0], '{')
		jsonscan.EachMember(f.Properties, func(key, raw []byte) bool {
			if slices.Contains(s.props, string(key)) {
				if len(b) > 1 {
					b = append(b, ',')
				}
				b = append(geojson.AppendJSONString(b, string(key)), ':')
				b = append(b, raw...)
			}
			return true
		})
		*scratch = append(b, '}')
		out.Properties = *scratch
	}
	return out
}

// members keeps the computed members the shape keeps.
func (s *shape) members(ms []geojson.Member) []geojson.Member {
	if !s.selected {
		return ms
	}
	return slices.DeleteFunc(ms, func(m geojson.Member) bool { return !s.keeps(m.Key) })
}

// appendFeatures appends the features of l at the given indexes, shaped,
// as bodies.AppendFeatures does: whole features are copied from bodies
// when it keeps them, and recorded in copies.
func (s *shape) appendFeatures(b []byte, bodies *geojson.Bodies, copies *geojson.Copies, l *geo.Layer, at []int32) []byte {
	if s.whole() {
		return bodies.AppendFeatures(b, l, at, copies)
	}
	l.Touch(at)
	scratch := getBuffer()
	defer putBuffer(scratch)
	for k, i := range at {
		if k > 0 {
			b = append(b, ',')
		}
		f := s.apply(l.Feature(int(i)), scratch)
		b = geojson.AppendFeature(b, &f)
	}
	return b
}
