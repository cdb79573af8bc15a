// Package benchset builds the country-scale data set and the fixed lists of
// queries that the server's benchmarks and its load test share, so their
// figures describe the same work.
package benchset

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/synthlayer"
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
	// The largest proximity answer a client may ask for: the largest
	// radius, and the largest limit.
	LargestLimit = 10_000
	// Vector tiles: the zooms a map shows a country's sites at, street to city.
	MinTileZoom = 10
	MaxTileZoom = 14
)

// Index generates n sites from seed and indexes them as one collection,
// each with the name and kind properties a real layer carries.
func Index(n int, seed uint64) (*geo.Index, []synth.Site, error) {
	sites := synth.Sites(n, seed)
	l, err := geo.NewLayer(Collection, "synthetic", synthlayer.Features(sites))
	if err != nil {
		return nil, nil, err
	}
	ix, err := geo.NewIndex(l)
	return ix, sites, err
}

// points are n query points near generated sites, where analysts' questions are.
func points(sites []synth.Site, n int, seed uint64) []orb.Point {
	return near(len(sites), func(i int) orb.Geometry { return sites[i].Geometry }, n, seed)
}

// LayerPoints are n query points near the features of l, drawn as the
// points near generated sites are: for a layer loaded from a file of them.
func LayerPoints(l *geo.Layer, n int, seed uint64) []orb.Point {
	return near(l.Len(), func(i int) orb.Geometry { return l.Feature(i).Geometry }, n, seed)
}

// near are n points scattered around the centres of geometries drawn at
// random from count.
func near(count int, geometry func(int) orb.Geometry, n int, seed uint64) []orb.Point {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]orb.Point, n)
	for i := range out {
		c := geometry(r.IntN(count)).Bound().Center()
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

// FilterTargets are n request URIs for a page of items chosen by a CQL2
// filter of one equality and one S_INTERSECTS over the same boxes as
// ItemsTargets: what a GIS client sends for "substations here".
func FilterTargets(sites []synth.Site, n int, seed uint64) []string {
	out := make([]string, n)
	kinds := []string{"substation", "hospital", "line", "plant"}
	for i, p := range points(sites, n, seed) {
		h := BoxDegrees / 2
		filter := fmt.Sprintf("kind = '%s' AND S_INTERSECTS(geometry, BBOX(%.5f, %.5f, %.5f, %.5f))", kinds[i%len(kinds)], p[0]-h, p[1]-h, p[0]+h, p[1]+h)
		out[i] = fmt.Sprintf("/collections/%s/items?filter=%s&limit=%d", Collection, url.QueryEscape(filter), ItemsLimit)
	}
	return out
}

// ProximityTargets are n request URIs for the sites near a point.
func ProximityTargets(sites []synth.Site, n int, seed uint64) []string {
	return ProximityTargetsAt(points(sites, n, seed))
}

// ProximityTargetsAt are request URIs for the sites near each point.
func ProximityTargetsAt(ps []orb.Point) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("/proximity?lon=%.5f&lat=%.5f&radius=%d&limit=%d", p[0], p[1], RadiusMeters, NearbyLimit)
	}
	return out
}

// LargestProximityTargets are n request URIs for the largest proximity
// answer there is, around points near generated sites.
func LargestProximityTargets(sites []synth.Site, n int, seed uint64) []string {
	out := make([]string, n)
	for i, p := range points(sites, n, seed) {
		out[i] = fmt.Sprintf("/proximity?lon=%.5f&lat=%.5f&radius=%d&limit=%d", p[0], p[1], geo.MaxRadiusMeters, LargestLimit)
	}
	return out
}

// TileTargets are n request URIs for the vector tile under a point, at a
// zoom from MinTileZoom to MaxTileZoom.
func TileTargets(sites []synth.Site, n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 2))
	return tileTargets(sites, n, seed, func() maptile.Zoom { return maptile.Zoom(MinTileZoom + r.IntN(MaxTileZoom-MinTileZoom+1)) })
}

// TileTargetsAt are n request URIs for the vector tile under a point, all
// at zoom: a country's view (6) or a city's (10), whose tiles differ in size.
func TileTargetsAt(sites []synth.Site, n int, seed uint64, zoom maptile.Zoom) []string {
	return tileTargets(sites, n, seed, func() maptile.Zoom { return zoom })
}

func tileTargets(sites []synth.Site, n int, seed uint64, zoom func() maptile.Zoom) []string {
	out := make([]string, n)
	for i, p := range points(sites, n, seed) {
		t := maptile.At(p, zoom())
		out[i] = fmt.Sprintf("/collections/%s/tiles/%d/%d/%d.mvt", Collection, t.Z, t.X, t.Y)
	}
	return out
}

// StrikeFeatures are n GeoJSON strike Features for POST /strikes, one a
// line, near generated sites; they carry no event id, so each is recorded
// as a new strike however often it is posted.
func StrikeFeatures(sites []synth.Site, n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 3))
	start := time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC)
	out := make([]string, n)
	for i, p := range points(sites, n, seed) {
		when := start.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		out[i] = fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%.5f,%.5f]},`+
			`"properties":{"datetime":%q,"uncertainty_m":%d,"source":"load test"}}`, p[0], p[1], when.Format(time.RFC3339), 50+r.IntN(1000))
	}
	return out
}
