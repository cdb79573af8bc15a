package server

import (
	"math"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// proximityQuery is a parsed GET /proximity request (and the shared
// parameters of POST /proximity). New filters, such as a time or the scope
// of an agreement, are a field here and an entry in proximityParams.
type proximityQuery struct {
	lon, lat float64
	hasLon   bool
	hasLat   bool
	// radius is in metres; radiusSet records that the client chose it.
	radius    float64
	radiusSet bool
	limit     int
	// collections are the layers searched; nil means all.
	collections []string
	// uncertainty is the strike location's error radius in metres; NaN
	// when not given. A site within it is possibly hit.
	uncertainty float64
}

var proximityParams = params[proximityQuery]{
	"lon": func(q *proximityQuery, v string) (err error) {
		q.lon, err = parseLon(v)
		q.hasLon = true
		return err
	},
	"lat": func(q *proximityQuery, v string) (err error) {
		q.lat, err = parseLat(v)
		q.hasLat = true
		return err
	},
	"radius": func(q *proximityQuery, v string) (err error) {
		q.radius, err = parseMeters(v, geo.MaxRadiusMeters)
		q.radiusSet = true
		return err
	},
	"limit": func(q *proximityQuery, v string) (err error) {
		q.limit, err = parseCount(v, maxProximityLimit)
		return err
	},
	"collections": func(q *proximityQuery, v string) (err error) {
		q.collections, err = parseNames(v)
		return err
	},
	"uncertainty": func(q *proximityQuery, v string) (err error) {
		q.uncertainty, err = parseMeters(v, geo.MaxRadiusMeters)
		return err
	},
	"f": func(_ *proximityQuery, v string) error { return featureFormat(v) },
}

func newProximityQuery() proximityQuery {
	return proximityQuery{radius: defaultRadiusMeters, limit: defaultProximityLimit, uncertainty: math.NaN()}
}

// parseProximity reads a GET /proximity query.
func parseProximity(values url.Values) (proximityQuery, error) {
	q := newProximityQuery()
	if err := proximityParams.parse(values, &q, nil); err != nil {
		return q, err
	}
	if err := q.requirePoint(); err != nil {
		return q, err
	}
	return q, q.checkUncertainty()
}

// requirePoint refuses a query without its point.
func (q *proximityQuery) requirePoint() error {
	if !q.hasLon {
		return paramError("lon", "required: the longitude of the point, degrees east")
	}
	if !q.hasLat {
		return paramError("lat", "required: the latitude of the point, degrees north")
	}
	return nil
}

// checkUncertainty widens the default radius to the uncertainty, and
// refuses an explicit radius that would hide sites possibly hit.
func (q *proximityQuery) checkUncertainty() error {
	if math.IsNaN(q.uncertainty) || q.uncertainty <= q.radius {
		return nil
	}
	if q.radiusSet {
		return paramError("uncertainty", "%v m exceeds the radius of %v m: sites possibly hit would be missed; raise radius", q.uncertainty, q.radius)
	}
	q.radius = q.uncertainty
	return nil
}

// resolveCollections checks the requested collections against the index;
// none requested means all of them.
func resolveCollections(ix *geo.Index, names []string) ([]string, error) {
	if names == nil {
		names = make([]string, 0, len(ix.Layers()))
		for _, l := range ix.Layers() {
			names = append(names, l.Name())
		}
		return names, nil
	}
	for _, n := range names {
		if _, ok := ix.Layer(n); !ok {
			return nil, paramError("collections", "no collection %q; GET /collections lists them", n)
		}
	}
	return names, nil
}

func (h *handlers) proximity(c echo.Context) error {
	q, err := parseProximity(c.QueryParams())
	if err != nil {
		return err
	}
	return h.answer(c, &q, q.appendJSON, func(ix *geo.Index, p orb.Point) ([]geo.Hit, error) {
		return ix.Nearby(p, q.radius, q.limit, q.collections...)
	})
}

// answer runs a search around the query's point on the current index and
// sends the sites found.
func (h *handlers) answer(c echo.Context, q *proximityQuery, echoQuery func([]byte) []byte, search func(*geo.Index, orb.Point) ([]geo.Hit, error)) error {
	ix := h.index()
	var err error
	if q.collections, err = resolveCollections(ix, q.collections); err != nil {
		return err
	}
	hits, err := search(ix, orb.Point{q.lon, q.lat})
	if err != nil {
		return err
	}
	return sendHits(c, echoQuery, hits, q.uncertainty)
}

// nearestQuery is a parsed GET /nearest request.
type nearestQuery struct {
	proximityQuery
	k int
}

var nearestParams = params[nearestQuery]{
	"k": func(q *nearestQuery, v string) (err error) {
		q.k, err = parseCount(v, maxNearestK)
		return err
	},
}

func init() {
	for _, name := range []string{"lon", "lat", "collections", "uncertainty", "f"} {
		set := proximityParams[name]
		nearestParams[name] = func(q *nearestQuery, v string) error { return set(&q.proximityQuery, v) }
	}
}

// parseNearest reads a GET /nearest query.
func parseNearest(values url.Values) (nearestQuery, error) {
	q := nearestQuery{proximityQuery: newProximityQuery(), k: defaultNearestK}
	if err := nearestParams.parse(values, &q, nil); err != nil {
		return q, err
	}
	return q, q.requirePoint()
}

func (h *handlers) nearest(c echo.Context) error {
	q, err := parseNearest(c.QueryParams())
	if err != nil {
		return err
	}
	return h.answer(c, &q.proximityQuery, q.appendJSON, func(ix *geo.Index, p orb.Point) ([]geo.Hit, error) {
		return ix.Nearest(p, q.k, q.collections...)
	})
}

// appendJSON echoes the query as the server understood it.
func (q *proximityQuery) appendJSON(b []byte) []byte {
	return q.appendSearch(q.appendPoint(b))
}

func (q *nearestQuery) appendJSON(b []byte) []byte {
	b = append(q.appendPoint(b), `"k":`...)
	b = appendInt(b, q.k)
	return q.appendRest(append(b, ','))
}

func (q *proximityQuery) appendPoint(b []byte) []byte {
	b = append(b, `{"lon":`...)
	b = appendFloat(b, q.lon)
	b = append(b, `,"lat":`...)
	return append(appendFloat(b, q.lat), ',')
}

// appendSearch writes the search parameters and closes the object.
func (q *proximityQuery) appendSearch(b []byte) []byte {
	b = append(b, `"radius":`...)
	b = appendFloat(b, q.radius)
	b = append(b, `,"limit":`...)
	b = appendInt(b, q.limit)
	return q.appendRest(append(b, ','))
}

func (q *proximityQuery) appendRest(b []byte) []byte {
	b = append(b, `"collections":[`...)
	for i, n := range q.collections {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	b = append(b, `],"uncertainty":`...)
	b = appendFloat(b, q.uncertainty)
	return append(b, '}')
}

// sendHits answers a proximity question: the sites found, nearest first,
// each with its distance, bearing, nearest point and collection (and
// whether it is possibly hit, when an uncertainty was given), the query
// as understood, and a summary.
func sendHits(c echo.Context, query func([]byte) []byte, hits []geo.Hit, uncertainty float64) error {
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"type":"FeatureCollection","query":`...)
	b = query(b)
	b = append(b, `,"summary":`...)
	b = appendSummary(b, hits, uncertainty)
	b = append(b, `,"features":[`...)
	for i := range hits {
		if i > 0 {
			b = append(b, ',')
		}
		b = geo.AppendFeature(b, hits[i].Feature, hitMembers(&hits[i], uncertainty)...)
	}
	*buf = append(b, "]}\n"...)
	return send(c, mediaGeoJSON, *buf, false)
}

// hitMembers are the properties added to a site found: geo's, plus
// possibly_hit when the strike's uncertainty is known.
func hitMembers(h *geo.Hit, uncertainty float64) []geo.Member {
	m := geo.HitMembers(h)
	if !math.IsNaN(uncertainty) {
		m = append(m, geo.Member{Key: "possibly_hit", Value: h.Meters <= uncertainty})
	}
	return m
}

// appendSummary writes {"count","possibly_hit","nearest_m"}; possibly_hit
// is null without an uncertainty and nearest_m null without hits.
func appendSummary(b []byte, hits []geo.Hit, uncertainty float64) []byte {
	b = append(b, `{"count":`...)
	b = appendInt(b, len(hits))
	b = append(b, `,"possibly_hit":`...)
	if math.IsNaN(uncertainty) {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, possiblyHit(hits, uncertainty))
	}
	b = append(b, `,"nearest_m":`...)
	nearest := math.NaN()
	if len(hits) > 0 {
		nearest = roundMillimetre(hits[0].Meters)
	}
	b = appendFloat(b, nearest)
	return append(b, '}')
}

func possiblyHit(hits []geo.Hit, uncertainty float64) int {
	n := 0
	for i := range hits {
		if hits[i].Meters <= uncertainty {
			n++
		}
	}
	return n
}

// roundMillimetre rounds a distance as geo.HitMembers does for distance_m,
// so the summary and the nearest site agree.
func roundMillimetre(m float64) float64 { return math.Round(m*1000) / 1000 }

// appendFloat writes a finite number in its shortest form, and NaN or an
// infinity as null.
func appendFloat(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, x, 'f', -1, 64)
}
