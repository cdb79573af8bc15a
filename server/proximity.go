package server

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
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
	// when is the strike's instant: with it, the answer carries a verdict
	// (see agreement.AgreementSet.Verdict) when timed. The zero time is an
	// instant like any other (0001-01-01T00:00:00Z), so timed says whether
	// one was given.
	when  time.Time
	timed bool
	// scope names collections a hypothetical agreement covers (see
	// agreement.VerdictQuery.Scope).
	scope []string
	// geometry is what of each site's geometry the answer carries.
	geometry geometryMode
}

// geometryMode is what of each site's geometry a proximity answer carries
// (geometry=): a phone asking what is near it needs no plant's outline to
// the centimetre.
type geometryMode uint8

const (
	geometryFull geometryMode = iota
	geometrySimplified
	geometryNone
)

// simplifyDegrees is geometry=simplified's Douglas-Peucker tolerance: about
// 11 m, finer than a phone's position fix.
const simplifyDegrees = 1e-4

// parseGeometryMode reads geometry=.
func parseGeometryMode(v string) (geometryMode, error) {
	switch v {
	case "full":
		return geometryFull, nil
	case "simplified":
		return geometrySimplified, nil
	case "none":
		return geometryNone, nil
	}
	return geometryFull, fmt.Errorf("%q is not full, simplified or none", v)
}

// shape returns g as the mode has it. A site smaller than the tolerance,
// which simplifying would erase, keeps its geometry.
func (m geometryMode) shape(g orb.Geometry) orb.Geometry {
	switch m {
	case geometryNone:
		return nil
	case geometrySimplified:
		if s := simplify.DouglasPeucker(simplifyDegrees).Simplify(orb.Clone(g)); s != nil {
			return s
		}
	}
	return g
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
	"datetime": func(q *proximityQuery, v string) (err error) {
		q.when, err = parseDateTime(v)
		q.timed = err == nil
		return err
	},
	"scope": func(q *proximityQuery, v string) (err error) {
		q.scope, err = parseNames(v)
		return err
	},
	"geometry": func(q *proximityQuery, v string) (err error) {
		q.geometry, err = parseGeometryMode(v)
		return err
	},
	"f":            func(_ *proximityQuery, v string) error { return featureFormat(v) },
	"data_version": func(*proximityQuery, string) error { return nil }, // read by atVersion
}

// parseDateTime reads an RFC 3339 date-time: a verdict is about an instant,
// so a date alone is refused.
func parseDateTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, fmt.Errorf("%q is not an RFC 3339 date-time with an offset, like 2025-03-20T04:10:00+02:00", v)
	}
	return t, nil
}

func newProximityQuery() proximityQuery {
	return proximityQuery{radius: defaultRadiusMeters, limit: defaultProximityLimit, uncertainty: math.NaN()}
}

// parse reads the pairs of a GET /proximity query string into q, which
// holds the defaults (newProximityQuery).
func (q *proximityQuery) parse(pairs []queryPair) error {
	if err := proximityParams.parsePairs(pairs, q, nil); err != nil {
		return err
	}
	if err := q.requirePoint(); err != nil {
		return err
	}
	if err := q.checkScope(); err != nil {
		return err
	}
	return q.checkUncertainty()
}

// checkScope refuses a scope without the instant its verdict is about.
func (q *proximityQuery) checkScope() error {
	if q.scope != nil && !q.timed {
		return paramError("scope", "needs datetime: the instant the verdict is about")
	}
	return nil
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

// resolveCollections checks the requested collections, and the scope,
// against the index; no collections requested means all of them.
func (q *proximityQuery) resolveCollections(ix *geo.Index) error {
	if err := checkCollections(ix, "scope", q.scope); err != nil {
		return err
	}
	if q.collections != nil {
		return checkCollections(ix, "collections", q.collections)
	}
	q.collections = ix.Names()
	return nil
}

// checkCollections refuses a name in the parameter param that is no collection.
func checkCollections(ix *geo.Index, param string, names []string) error {
	for _, n := range names {
		if _, ok := ix.Layer(n); !ok {
			return paramError(param, "no collection %q; GET /collections lists them", n)
		}
	}
	return nil
}

// proximityQueries keeps parsed queries for reuse: a query's parameters
// are set through a table of functions, which moves it to the heap.
var proximityQueries = newPool(func() *proximityQuery { return new(proximityQuery) })

func (h *handlers) proximity(c echo.Context) error {
	q := proximityQueries.get()
	defer proximityQueries.put(q)
	*q = newProximityQuery()
	if err := q.parse(queryPairs(c)); err != nil {
		return err
	}
	return h.answer(c, q, q.limit, q.appendJSON, nearby)
}

// nearby is proximity's search: the n nearest sites within q.radius,
// appended to dst.
func nearby(ctx context.Context, dst []geo.Hit, ix *geo.Index, p orb.Point, q *proximityQuery, n int) ([]geo.Hit, error) {
	return ix.AppendNearby(ctx, dst, p, q.radius, n, q.collections...)
}

// verdict decides whether a strike at p at q.when hit a site protected by
// the agreements (or the scope) at that instant, among q's collections:
// the sites listed are those within q.radius, widened to the reach of
// every agreement in force.
func (h *handlers) verdict(ctx context.Context, ix *geo.Index, q *proximityQuery, p orb.Point) (*agreement.Verdict, error) {
	set, err := h.agreementsFor(ix)
	if err != nil {
		return nil, err
	}
	u := q.uncertainty
	if math.IsNaN(u) {
		u = 0
	}
	return set.VerdictContext(ctx, agreement.VerdictQuery{
		Strike:       agreement.Strike{Point: p, Time: q.when, UncertaintyMeters: u},
		Scope:        q.scope,
		RadiusMeters: q.radius,
		Layers:       q.collections,
		Limit:        q.limit,
	})
}

// verdictHits are the sites a verdict lists, as proximity found them.
func verdictHits(v *agreement.Verdict) []geo.Hit {
	hits := make([]geo.Hit, len(v.Sites))
	for i := range v.Sites {
		hits[i] = v.Sites[i].Hit
	}
	return hits
}

// answer runs a search around the query's point on the current index and
// sends the sites found, at most sites of them: their room is reserved
// (reserveSites) while the answer is built. The search and the encoding
// stop when the client goes away. The search is a function of q rather
// than a closure over it, which would move every query to the heap.
func (h *handlers) answer(c echo.Context, q *proximityQuery, sites int, echoQuery func([]byte) []byte,
	search func(ctx context.Context, dst []geo.Hit, ix *geo.Index, p orb.Point, q *proximityQuery, n int) ([]geo.Hit, error)) error {
	reserved, err := h.reserveSites(c, sites)
	if err != nil {
		return err
	}
	defer reserved.release()
	ix := h.index(c)
	if err := q.resolveCollections(ix); err != nil {
		return err
	}
	p := orb.Point{q.lon, q.lat}
	if q.timed {
		v, err := h.verdict(c.Request().Context(), ix, q, p)
		if err != nil {
			return err
		}
		return sendHits(c, h.dataset(c).bodies, echoQuery, verdictHits(v), q, v)
	}
	hits, err := search(c.Request().Context(), hitRoom(c), ix, p, q, sites)
	defer keepHitRoom(c, hits)
	if err != nil {
		return err
	}
	return sendHits(c, h.dataset(c).bodies, echoQuery, hits, q, nil)
}

// nearestQuery is a parsed GET /nearest request.
type nearestQuery struct {
	proximityQuery
	k int
}

var nearestParams = lift(proximityParams, func(q *nearestQuery) *proximityQuery { return &q.proximityQuery },
	"lon", "lat", "collections", "uncertainty", "f").with(params[nearestQuery]{
	"k": func(q *nearestQuery, v string) (err error) {
		q.k, err = parseCount(v, maxNearestK)
		return err
	},
})

// parseNearest reads a GET /nearest query.
func parseNearest(raw string) (nearestQuery, error) {
	q := nearestQuery{proximityQuery: newProximityQuery(), k: defaultNearestK}
	if err := nearestParams.parse(raw, &q, nil); err != nil {
		return q, err
	}
	return q, q.requirePoint()
}

func (h *handlers) nearest(c echo.Context) error {
	q, err := parseNearest(c.QueryString())
	if err != nil {
		return err
	}
	return h.answer(c, &q.proximityQuery, q.k, q.appendJSON, nearest)
}

// nearest is nearest's search: the n nearest sites however far, appended
// to dst.
func nearest(ctx context.Context, dst []geo.Hit, ix *geo.Index, p orb.Point, q *proximityQuery, n int) ([]geo.Hit, error) {
	return ix.AppendNearest(ctx, dst, p, n, q.collections...)
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
	b = geojson.AppendNumber(b, q.lon)
	b = append(b, `,"lat":`...)
	return append(geojson.AppendNumber(b, q.lat), ',')
}

// appendSearch writes the search parameters and closes the object.
func (q *proximityQuery) appendSearch(b []byte) []byte {
	b = append(b, `"radius":`...)
	b = geojson.AppendNumber(b, q.radius)
	b = append(b, `,"limit":`...)
	b = appendInt(b, q.limit)
	return q.appendRest(append(b, ','))
}

func (q *proximityQuery) appendRest(b []byte) []byte {
	b = append(b, `"collections":`...)
	b = appendStrings(b, q.collections)
	b = append(b, `,"uncertainty":`...)
	b = geojson.AppendNumber(b, q.uncertainty)
	if q.timed {
		b = append(b, `,"datetime":`...)
		b = geojson.AppendJSONString(b, q.when.Format(time.RFC3339Nano))
	}
	if q.scope != nil {
		b = append(b, `,"scope":`...)
		b = appendStrings(b, q.scope)
	}
	return append(b, '}')
}

// appendStrings writes a JSON array of strings.
func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = geojson.AppendJSONString(b, s)
	}
	return append(b, ']')
}

// sendHits answers a proximity question: the sites found, nearest first,
// each with its distance, bearing, nearest point and collection (and
// whether it is possibly hit, when q gives an uncertainty, and what
// protected it, with a verdict v), the query as understood, and a summary.
// With v, hits are its sites. Their GeoJSON is what bodies keeps, when it
// does and q asks for whole geometries.
func sendHits(c echo.Context, bodies *geojson.Bodies, query func([]byte) []byte, hits []geo.Hit, q *proximityQuery, v *agreement.Verdict) error {
	uncertainty := q.uncertainty
	buf := getBuffer()
	defer putBuffer(buf)
	copies := copiesFor(c)
	defer putCopies(copies)
	b := append(*buf, `{"type":"FeatureCollection","query":`...)
	b = query(b)
	b = append(b, `,"summary":`...)
	b = appendSummary(b, hits, uncertainty, v)
	b = append(b, `,"features":[`...)
	gone := newStopper(c.Request().Context())
	if q.geometry == geometryFull {
		bodies.TouchHits(hits)
	}
	for i := range hits {
		if gone.stop() {
			return gone.err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHit(b, bodies, copies, &hits[i], q.geometry, hitMembers(&hits[i], uncertainty, v, i)...)
	}
	*buf = append(b, "]}\n"...)
	return sendKept(c, mediaGeoJSON, *buf, bodies, copies, false)
}

// appendHit writes the site h found with its geometry as mode has it:
// the body bodies keeps when whole, recorded in copies.
func appendHit(b []byte, bodies *geojson.Bodies, copies *geojson.Copies, h *geo.Hit, mode geometryMode, extra ...geojson.Member) []byte {
	if mode == geometryFull {
		return bodies.AppendHit(b, h, copies, extra...)
	}
	f := *h.Feature
	f.Geometry = mode.shape(f.Geometry)
	return geojson.AppendHit(b, &f, h, extra...)
}

// hitMembers are the properties added to site i found after geojson.AppendHit's:
// possibly_hit when the strike's uncertainty is known, and protected_by
// with a verdict.
func hitMembers(h *geo.Hit, uncertainty float64, v *agreement.Verdict, i int) []geojson.Member {
	var m []geojson.Member
	if !math.IsNaN(uncertainty) {
		m = append(m, geojson.Member{Key: "possibly_hit", Value: h.Meters <= uncertainty})
	}
	if v != nil {
		m = append(m, geojson.Member{Key: "protected_by", Value: v.Sites[i].ProtectedBy})
	}
	return m
}

// appendSummary writes {"count","possibly_hit","nearest_m"}; possibly_hit
// is null without an uncertainty and nearest_m null without hits. A
// verdict v adds its outcome ("verdict", and "verdict_without_scope" with
// a scope), the agreements in force, the radius it searched, and the
// verdict under each reading (see appendReadings).
func appendSummary(b []byte, hits []geo.Hit, uncertainty float64, v *agreement.Verdict) []byte {
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
		nearest = geojson.RoundTo(hits[0].Meters, 3) // as distance_m, so the summary and the nearest site agree
	}
	b = geojson.AppendNumber(b, nearest)
	if v != nil {
		b = append(b, `,"verdict":`...)
		b = geojson.AppendJSONString(b, string(v.Outcome))
		if v.WithoutScope != "" {
			b = append(b, `,"verdict_without_scope":`...)
			b = geojson.AppendJSONString(b, string(v.WithoutScope))
		}
		b = append(b, `,"agreements_in_force":`...)
		b = appendStrings(b, v.InForce)
		b = append(b, `,"radius_m":`...)
		b = geojson.AppendNumber(b, v.RadiusMeters)
		b = appendReadings(append(b, ','), v)
	}
	return append(b, '}')
}

// appendReadings writes the members that give v under each reading:
// "agreement_status", "disputes" when there are any, and "readings".
func appendReadings(b []byte, v *agreement.Verdict) []byte {
	b = append(b, `"agreement_status":`...)
	b = geojson.AppendJSONString(b, string(v.AgreementStatus))
	if len(v.Disputes) > 0 {
		b = append(b, `,"disputes":[`...)
		for i, d := range v.Disputes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"agreement":`...)
			b = geojson.AppendJSONString(b, d.Agreement)
			b = append(b, `,"how":`...)
			b = append(geojson.AppendJSONString(b, d.How), '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"readings":[`...)
	for i := range v.Readings {
		r := &v.Readings[i]
		if i > 0 {
			b = append(b, ',')
		}
		sep := byte('{')
		for _, m := range [...][2]string{{"agreement", r.Agreement}, {"reading", r.Reading}, {"party", r.Party},
			{"verdict", string(r.Verdict)}, {"status", string(r.Status)}, {"why", r.Why}} {
			b = append(b, sep)
			sep = ','
			b = append(geojson.AppendJSONString(b, m[0]), ':')
			b = geojson.AppendJSONString(b, m[1])
		}
		b = append(b, '}')
	}
	return append(b, ']')
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
