package server

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/crs"
)

// Limits of the list parameters. A limit above its maximum is clamped, as
// OGC API - Features asks, rather than refused.
const (
	defaultItemsLimit     = 100
	maxItemsLimit         = 10_000
	defaultProximityLimit = 100
	maxProximityLimit     = 10_000
	defaultRadiusMeters   = 1000
	defaultNearestK       = 1
	maxNearestK           = 1000
)

// setter parses one parameter's value into a query; the error is the reason
// the value is refused, and the caller names the parameter.
type setter[Q any] func(q *Q, v string) error

// params maps the parameters an endpoint accepts to their setters.
type params[Q any] map[string]setter[Q]

// lift carries the setters of names in p to a query Q holding a P, which
// field reaches: an endpoint sharing another's parameters takes them from
// its table rather than repeating them.
func lift[Q, P any](p params[P], field func(*Q) *P, names ...string) params[Q] {
	out := make(params[Q], len(names))
	for _, name := range names {
		set := p[name]
		if set == nil {
			panic("server: lifting unknown parameter " + name)
		}
		out[name] = func(q *Q, v string) error { return set(field(q), v) }
	}
	return out
}

// with is p and more, which add to or replace p's setters.
func (p params[Q]) with(more params[Q]) params[Q] {
	out := make(params[Q], len(p)+len(more))
	maps.Copy(out, p)
	maps.Copy(out, more)
	return out
}

// except is p without names.
func (p params[Q]) except(names ...string) params[Q] {
	out := maps.Clone(p)
	for _, name := range names {
		delete(out, name)
	}
	return out
}

// queryPair is one name=value pair of a query string, unescaped.
type queryPair struct{ name, value string }

// parseQuery appends the pairs of the query string raw to dst, leaving out
// those url.ParseQuery refuses (a ';', a bad escape). Parsed into a
// caller's array, a query costs no allocation unless a pair is escaped,
// where url.Values costs a map and a slice for each name.
func parseQuery(dst []queryPair, raw string) []queryPair {
	// Most queries escape nothing and hold no ';': their pairs are taken
	// as they are, without looking at each again.
	plain := !strings.ContainsAny(raw, "%+;")
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || !plain && strings.Contains(pair, ";") {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		if plain {
			dst = append(dst, queryPair{name, value})
			continue
		}
		name, errName := unescapeQuery(name)
		value, errValue := unescapeQuery(value)
		if errName == nil && errValue == nil {
			dst = append(dst, queryPair{name, value})
		}
	}
	return dst
}

func unescapeQuery(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// pairValue is the first value of the parameter name among pairs, as
// url.Values.Get gives it; ok says whether it is there at all.
func pairValue(pairs []queryPair, name string) (value string, ok bool) {
	for _, p := range pairs {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// queryArg is the request's query parameter name, as echo.Context.QueryParam
// gives it, without building the url.Values that caches.
func queryArg(c echo.Context, name string) string {
	v, _ := pairValue(queryPairs(c), name)
	return v
}

// queryPairs are the pairs of c's query string, parsed once and kept in
// its pooled request: the middleware, the handler and its links each read
// them.
func queryPairs(c echo.Context) []queryPair {
	r, ok := c.(*request)
	if !ok {
		return parseQuery(nil, c.QueryString())
	}
	if !r.queryRead {
		r.query, r.queryRead = parseQuery(r.pairs[:0], c.QueryString()), true
	}
	return r.query
}

// parse applies the query string raw to q. Parameters are visited in name
// order so the same bad request always gets the same answer. A name missing
// from p goes to other, when given, which reports whether it took it;
// anything left is an unknown parameter, which OGC API - Features
// recommends refusing.
func (p params[Q]) parse(raw string, q *Q, other func(q *Q, name, v string) (bool, error)) error {
	var buf [16]queryPair // requests have few parameters: no allocation
	return p.parseSorted(parseQuery(buf[:0], raw), q, other)
}

// parsePairs is parse of a query string already split into pairs, which
// it leaves as they are.
func (p params[Q]) parsePairs(pairs []queryPair, q *Q, other func(q *Q, name, v string) (bool, error)) error {
	var buf [16]queryPair
	return p.parseSorted(append(buf[:0], pairs...), q, other)
}

// parseSorted is parse of the pairs values, which it sorts.
func (p params[Q]) parseSorted(values []queryPair, q *Q, other func(q *Q, name, v string) (bool, error)) error {
	slices.SortStableFunc(values, func(a, b queryPair) int { return strings.Compare(a.name, b.name) })
	for i := 0; i < len(values); {
		name, v := values[i].name, values[i].value
		n := 1
		for i+n < len(values) && values[i+n].name == name {
			n++
		}
		i += n
		if n > 1 {
			return paramError(name, "given %d times; give it once", n)
		}
		// An empty f names no format: refused here, as a 406 would blame
		// the Accept header.
		if name == "f" && v == "" {
			return paramError(name, "is empty; leave it out or name a format")
		}
		var err error
		if set, ok := p[name]; ok {
			err = set(q, v)
		} else {
			took := false
			if other != nil {
				took, err = other(q, name, v)
			}
			if !took && err == nil {
				return &ParamError{Param: name, Reason: "unknown parameter; " + p.known()}
			}
		}
		if err != nil {
			var (
				pe *ParamError
				na *notAcceptableError
			)
			if errors.As(err, &pe) {
				return pe
			}
			if errors.As(err, &na) {
				return na
			}
			return &ParamError{Param: name, Reason: userMessage(err)}
		}
	}
	return nil
}

func (p params[Q]) known() string {
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	slices.Sort(names)
	return "known: " + strings.Join(names, ", ")
}

// formatOnly accepts f=json, the only representation of most resources.
var formatOnly = params[struct{}]{"f": func(_ *struct{}, v string) error { return jsonFormat(v) }}

// docOnly accepts f=json and f=html, for resources also offered as HTML pages.
var docOnly = params[struct{}]{"f": func(_ *struct{}, v string) error { return docFormat(v) }}

// checkParams refuses any parameter but f=json.
func checkParams(c echo.Context) error {
	return formatOnly.parse(c.QueryString(), &struct{}{}, nil)
}

// featureFormat accepts f=json and f=geojson, both naming GeoJSON, and
// refuses any other with 406.
func featureFormat(v string) error {
	if v != "geojson" && v != "json" {
		return notAcceptable([]representation{asGeoJSON}, v)
	}
	return nil
}

// jsonFormat accepts f=json, and refuses any other with 406.
func jsonFormat(v string) error {
	if v != "json" {
		return notAcceptable([]representation{asJSON}, v)
	}
	return nil
}

// parseFloat reads a finite number, in JSON's syntax like every number
// the server reads (geo.ParseNumber).
func parseFloat(v string) (float64, error) {
	f, err := geo.ParseNumber(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a finite number", v)
	}
	return f, nil
}

// parseCount reads a positive integer, clamped to maximum.
func parseCount(v string, maximum int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(v), "-") {
			return maximum, nil
		}
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	if n < 1 {
		return 0, fmt.Errorf("%d is below the minimum of 1", n)
	}
	return min(n, maximum), nil
}

func parseLon(v string) (float64, error) {
	x, err := parseFloat(v)
	if err != nil {
		return x, err
	}
	return x, checkLon(x)
}

func parseLat(v string) (float64, error) {
	y, err := parseFloat(v)
	if err != nil {
		return y, err
	}
	return y, checkLat(y)
}

func checkLon(x float64) error {
	if !(x >= -180 && x <= 180) {
		return fmt.Errorf("longitude %v is outside [-180, 180]", x)
	}
	return nil
}

func checkLat(y float64) error {
	if !(y >= -90 && y <= 90) {
		return fmt.Errorf("latitude %v is outside [-90, 90]", y)
	}
	return nil
}

// parseMeters reads a distance in metres in [0, maximum].
func parseMeters(v string, maximum float64) (float64, error) {
	m, err := parseFloat(v)
	if err == nil && !(m >= 0 && m <= maximum) {
		err = fmt.Errorf("%v m is outside [0, %v]", m, maximum)
	}
	return m, err
}

// parseNames reads a comma-separated list of collection ids.
func parseNames(v string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if !geo.ValidLayerName(n) {
			return nil, fmt.Errorf("%q is not a collection id", n)
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// maxSources bounds the sources one strike query names.
const maxSources = 20

// parseSources reads a comma-separated list of strike sources, each as
// recorded (case and spaces count, but those around a comma).
func parseSources(v string) ([]string, error) {
	var sources []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, errors.New("an empty source; name sources as recorded, comma-separated")
		}
		if !slices.Contains(sources, s) {
			sources = append(sources, s)
		}
	}
	if len(sources) > maxSources {
		return nil, fmt.Errorf("%d sources, more than %d", len(sources), maxSources)
	}
	return sources, nil
}

// parseCRS reads a CRS served, by its URI or a short name (EPSG:3857).
func parseCRS(v string) (*crs.CRS, error) {
	c, err := crs.Lookup(v)
	if err != nil {
		return nil, fmt.Errorf("%q is not offered; use one of %s", v, strings.Join(crs.URIs(), ", "))
	}
	return c, nil
}

const crs84URI = crs.CRS84URI

// parseBBoxIn reads a bbox in c, whose corners are in c's axis order: a
// box in longitude/latitude when c's axes follow meridians and parallels
// (it may cross the antimeridian), else the outline of the box in
// longitude/latitude, for an exact spatial filter.
func parseBBoxIn(v string, c *crs.CRS) (geo.BBox, orb.Geometry, error) {
	if c == nil || c.IsCRS84() {
		b, err := geo.ParseBBox(v)
		return b, nil, err
	}
	var n []float64
	for part := range strings.SplitSeq(v, ",") {
		x, err := parseFloat(strings.TrimSpace(part))
		if err != nil {
			return geo.BBox{}, nil, err
		}
		n = append(n, x)
	}
	switch len(n) {
	case 4:
	case 6:
		n = []float64{n[0], n[1], n[3], n[4]}
	default:
		return geo.BBox{}, nil, fmt.Errorf("%d numbers; give the lower corner then the upper, in %s's axis order", len(n), c.URI)
	}
	lo, hi := orb.Point{n[0], n[1]}, orb.Point{n[2], n[3]}
	if !c.Rectilinear() {
		g, err := c.BoxToLonLat(lo, hi)
		return geo.BBox{}, g, err
	}
	a, err := c.ToLonLat(lo)
	if err != nil {
		return geo.BBox{}, nil, err
	}
	b, err := c.ToLonLat(hi)
	if err != nil {
		return geo.BBox{}, nil, err
	}
	box := geo.BBox{MinLon: a[0], MinLat: a[1], MaxLon: b[0], MaxLat: b[1]}
	return box, nil, box.Validate()
}
