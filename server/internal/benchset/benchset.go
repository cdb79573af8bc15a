// Package benchset builds the country-scale data set and the fixed lists of
// queries that the server's benchmarks and its load test share, so their
// figures describe the same work.
package benchset

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/synth"
)

// The benchmark set: a million generated sites, the same every run.
const (
	Features = 1_000_000
	Seed     = 2025
	// Collection is the set's collection id.
	Collection = "sites"
)

// Query shapes, as the performance targets state them.
const (
	BoxDegrees   = 0.1 // items: a 0.1° × 0.1° bbox, limit 100
	ItemsLimit   = 100
	RadiusMeters = 5000 // proximity: 5 km, limit 20
	NearbyLimit  = 20
)

// Index generates n sites from seed and indexes them as one collection,
// each with the name and kind properties a real layer carries.
func Index(n int, seed uint64) (*geo.Index, []synth.Site, error) {
	sites := synth.Sites(n, seed)
	features := make([]geo.Feature, len(sites))
	for i, s := range sites {
		props := append([]byte(`{"name":`), strconv.Quote(s.Name)...)
		props = append(append(append(props, `,"kind":`...), strconv.Quote(s.Kind)...), '}')
		features[i] = geo.Feature{ID: s.ID, Geometry: s.Geometry, Properties: props, Name: s.Name, Kind: s.Kind}
	}
	l, err := geo.NewLayer(Collection, "synthetic", features)
	if err != nil {
		return nil, nil, err
	}
	ix, err := geo.NewIndex(l)
	return ix, sites, err
}

// points are n query points near generated sites, where analysts' questions are.
func points(sites []synth.Site, n int, seed uint64) []orb.Point {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]orb.Point, n)
	for i := range out {
		c := sites[r.IntN(len(sites))].Geometry.Bound().Center()
		out[i] = orb.Point{c[0] + r.NormFloat64()*0.02, c[1] + r.NormFloat64()*0.015}
	}
	return out
}

// ItemsTargets are n request URIs for a page of items in a box.
func ItemsTargets(sites []synth.Site, n int, seed uint64) []string {
	out := make([]string, n)
	for i, p := range points(sites, n, seed) {
		h := BoxDegrees / 2
		out[i] = fmt.Sprintf("/collections/%s/items?bbox=%.5f,%.5f,%.5f,%.5f&limit=%d", Collection, p[0]-h, p[1]-h, p[0]+h, p[1]+h, ItemsLimit)
	}
	return out
}

// ProximityTargets are n request URIs for the sites near a point.
func ProximityTargets(sites []synth.Site, n int, seed uint64) []string {
	out := make([]string, n)
	for i, p := range points(sites, n, seed) {
		out[i] = fmt.Sprintf("/proximity?lon=%.5f&lat=%.5f&radius=%d&limit=%d", p[0], p[1], RadiusMeters, NearbyLimit)
	}
	return out
}
