package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

// generatedFilter is a CQL2 filter and the same test written in Go.
type generatedFilter struct {
	text string
	keep func(s *synth.Site) bool
}

// generateFilters makes n filters over the generated sites' kind, name
// and geometry: comparisons, IN, LIKE, CASEI, NOT and OR, most within a
// box given as BBOX or POLYGON, some of them S_DISJOINT from it, some of
// them related to it or to a site by S_CROSSES, S_OVERLAPS, S_EQUALS or
// S_TOUCHES.
func generateFilters(sites []synth.Site, n int, seed uint64) []generatedFilter {
	r := rand.New(rand.NewPCG(seed, 3))
	kinds := []string{"substation", "hospital", "line", "plant"}
	attr := func() generatedFilter {
		k, k2 := kinds[r.IntN(4)], kinds[r.IntN(4)]
		switch r.IntN(6) {
		case 0:
			return generatedFilter{fmt.Sprintf("kind = '%s'", k), func(s *synth.Site) bool { return s.Kind == k }}
		case 1:
			return generatedFilter{fmt.Sprintf("kind <> '%s'", k), func(s *synth.Site) bool { return s.Kind != k }}
		case 2:
			return generatedFilter{fmt.Sprintf("kind IN ('%s', '%s')", k, k2), func(s *synth.Site) bool { return s.Kind == k || s.Kind == k2 }}
		case 3:
			prefix := fmt.Sprintf("%s %d", k, 1+r.IntN(9))
			return generatedFilter{fmt.Sprintf("name LIKE '%s%%'", prefix), func(s *synth.Site) bool { return strings.HasPrefix(s.Name, prefix) }}
		case 4:
			return generatedFilter{fmt.Sprintf("CASEI(kind) = CASEI('%s')", strings.ToUpper(k)), func(s *synth.Site) bool { return s.Kind == k }}
		}
		return generatedFilter{fmt.Sprintf("NOT (kind = '%s')", k), func(s *synth.Site) bool { return s.Kind != k }}
	}
	out := make([]generatedFilter, n)
	for i := range out {
		a := attr()
		if r.IntN(3) == 0 {
			x, y := a, attr()
			a = generatedFilter{"(" + x.text + ") OR (" + y.text + ")", func(s *synth.Site) bool { return x.keep(s) || y.keep(s) }}
		}
		if r.IntN(10) == 0 {
			out[i] = a // no box: every feature is a candidate
			continue
		}
		c := sites[r.IntN(len(sites))].Geometry.Bound().Center()
		w, h := 0.02+r.Float64()*0.3, 0.02+r.Float64()*0.2
		box := orb.Bound{Min: orb.Point{c[0] - w, c[1] - h}, Max: orb.Point{c[0] + w, c[1] + h}}
		lit := fmt.Sprintf("BBOX(%g, %g, %g, %g)", box.Min[0], box.Min[1], box.Max[0], box.Max[1])
		if r.IntN(2) == 0 {
			lit = fmt.Sprintf("POLYGON((%g %g, %g %g, %g %g, %g %g, %g %g))", box.Min[0], box.Min[1], box.Max[0], box.Min[1],
				box.Max[0], box.Max[1], box.Min[0], box.Max[1], box.Min[0], box.Min[1])
		}
		if r.IntN(5) == 0 {
			out[i] = relationFilter(r, sites, a, lit, box.ToPolygon())
			continue
		}
		meets := func(s *synth.Site) bool { return boxMeets(box, s.Geometry) }
		if r.IntN(8) == 0 {
			out[i] = generatedFilter{"S_DISJOINT(geometry, " + lit + ") AND (" + a.text + ")", func(s *synth.Site) bool { return a.keep(s) && !meets(s) }}
			continue
		}
		out[i] = generatedFilter{"(" + a.text + ") AND S_INTERSECTS(geometry, " + lit + ")", func(s *synth.Site) bool { return a.keep(s) && meets(s) }}
	}
	return out
}

// relationFilter makes a filter of one of the DE-9IM relations: a lines
// or polygons crossing or overlapping box (written lit) and matching a, or
// a site's geometry equal to one of the sites' or touching one of its
// vertices. The brute force evaluates the relation on each site alone,
// without the R-tree; TestRelationsAgainstGEOS holds the relations to GEOS.
func relationFilter(r *rand.Rand, sites []synth.Site, a generatedFilter, lit string, box orb.Polygon) generatedFilter {
	site := func() orb.Geometry {
		for {
			if g := sites[r.IntN(len(sites))].Geometry; g.Dimensions() > 0 {
				return g
			}
		}
	}
	var op string
	var rel func(a, b orb.Geometry) bool
	var g orb.Geometry
	switch r.IntN(4) {
	case 0:
		op, rel, g = "S_CROSSES", cql2.Cross, box
	case 1:
		op, rel, g = "S_OVERLAPS", cql2.Overlap, box
	case 2:
		g = site()
		return generatedFilter{"S_EQUALS(geometry, " + wkt.MarshalString(g) + ")", func(s *synth.Site) bool { return cql2.Equal(s.Geometry, g) }}
	default:
		var v orb.Point
		switch site := site().(type) {
		case orb.LineString:
			v = site[len(site)-1]
		case orb.Polygon:
			v = site[0][r.IntN(len(site[0]))]
		}
		return generatedFilter{"S_TOUCHES(" + wkt.MarshalString(v) + ", geometry)", func(s *synth.Site) bool { return cql2.Touch(s.Geometry, v) }}
	}
	return generatedFilter{"(" + a.text + ") AND " + op + "(geometry, " + lit + ")", func(s *synth.Site) bool { return a.keep(s) && rel(s.Geometry, g) }}
}

// boxMeets reports whether g has a point in b, by clipping g to b: a
// different computation from the server's segment tests.
func boxMeets(b orb.Bound, g orb.Geometry) bool {
	if !b.Intersects(g.Bound()) {
		return false
	}
	if p, ok := g.(orb.Point); ok {
		return b.Contains(p)
	}
	// A line clips to a LineString or MultiLineString, an outline to a
	// Polygon; nothing left is nil or empty.
	switch c := clip.Geometry(b, orb.Clone(g)).(type) {
	case orb.LineString:
		return len(c) > 0
	case orb.MultiLineString:
		return len(c) > 0
	case orb.Polygon:
		return len(c) > 0 && len(c[0]) > 0
	}
	return false
}

// TestGeneratedFilters runs 200 generated CQL2 filters over the generated
// million sites and compares numberMatched and the first 1,000 matches
// with a brute-force evaluation of every site.
func TestGeneratedFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the million-site set; -short skips it")
	}
	ix, sites, err := benchset.Index(benchset.Features, benchset.Seed)
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	f := &fixture{ix: ix, current: &current, e: server.New(server.Config{Index: &current, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})}
	for n, gf := range generateFilters(sites, 200, benchset.Seed) {
		var want []string
		matched := 0
		for i := range sites {
			if gf.keep(&sites[i]) {
				matched++
				if len(want) < 1000 {
					want = append(want, sites[i].ID)
				}
			}
		}
		ids, got, _, _ := fetchPage(t, f, "/collections/"+benchset.Collection+"/items?limit=1000&filter="+url.QueryEscape(gf.text))
		if got != matched || !slices.Equal(ids, want) {
			t.Errorf("filter %d %s: numberMatched %d, want %d; first ids equal: %v", n, gf.text, got, matched, slices.Equal(ids, want))
		}
	}
}
