package server

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/geo/crs"
	"github.com/protectmap/protectmap/geo/export"
)

// conformanceClasses are the parts of OGC API - Features implemented.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
}

const (
	serviceTitle       = "protectmap"
	serviceDescription = "Protected civilian infrastructure (energy sites, hospitals, bridges) as OGC API - Features collections, with exact WGS84 geodesic proximity of strikes to them."
)

// Link relations beyond IANA's plain ones.
const (
	relQueryables = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
	// relDescribedBy is IANA's describedby: RFC 8288 compares relation
	// types case-insensitively, and GDAL before 3.7 reads a schema only
	// under this spelling.
	relDescribedBy = "describedBy"
)

// itemsAlternates links the items at href in every other format offered.
func itemsAlternates(href string, formats []export.Format) []link {
	links := make([]link, 0, len(formats))
	for _, f := range formats {
		if f != export.GeoJSON {
			links = append(links, link{Href: href + "?f=" + string(f), Rel: "alternate", Type: f.ContentType(), Title: "the items as " + strings.ToUpper(string(f))})
		}
	}
	return links
}

// sendJSON encodes v and sends it; metadata is cold, so encoding/json does.
func sendJSON(c echo.Context, ctype string, v any, cacheable bool) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return send(c, ctype, append(body, '\n'), cacheable)
}

func (h *handlers) landingJSON(c echo.Context) error {
	base := h.baseURL(c)
	return sendJSON(c, mediaJSON, struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Links       []link `json:"links"`
	}{serviceTitle, serviceDescription, []link{
		{Href: base + "/?f=json", Rel: "self", Type: mediaJSON, Title: "this document"},
		{Href: base + "/", Rel: "alternate", Type: "text/html", Title: "the map"},
		{Href: base + "/api", Rel: "service-desc", Type: mediaOpenAPI, Title: "the API definition (OpenAPI 3.0)"},
		{Href: base + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "conformance classes implemented"},
		{Href: base + "/collections", Rel: "data", Type: mediaJSON, Title: "the collections of protected sites"},
	}}, true)
}

func (h *handlers) conformance(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	if err := acceptsOnly(c, asJSON); err != nil {
		return err
	}
	return sendJSON(c, mediaJSON, struct {
		ConformsTo []string `json:"conformsTo"`
	}{conformanceClasses}, true)
}

// collectionDoc is a collection's description.
type collectionDoc struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Links      []link   `json:"links"`
	Extent     *extent  `json:"extent,omitempty"`
	ItemType   string   `json:"itemType"`
	CRS        []string `json:"crs"`
	StorageCRS string   `json:"storageCrs"`
}

type extent struct {
	Spatial  *spatialExtent  `json:"spatial,omitempty"`
	Temporal *temporalExtent `json:"temporal,omitempty"`
}

type spatialExtent struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

type temporalExtent struct {
	Interval [][2]any `json:"interval"`
	TRS      string   `json:"trs"`
}

func (h *handlers) describe(c echo.Context, cat *catalog, l *geo.Layer) collectionDoc {
	base := h.baseURL(c) + collectionPath(l.Name())
	d := collectionDoc{
		ID:    l.Name(),
		Title: l.Name(),
		Links: []link{
			{Href: base, Rel: "self", Type: mediaJSON, Title: "this collection"},
			{Href: base + "/items", Rel: "items", Type: mediaGeoJSON, Title: l.Name() + " (" + strconv.Itoa(l.Len()) + " features)"},
			{Href: base + "/queryables", Rel: relQueryables, Type: mediaSchema, Title: "properties items can be filtered by"},
			{Href: base + "/schema", Rel: relDescribedBy, Type: mediaSchema, Title: "the schema of the features: every property and its type"},
			{Href: base + "?f=html", Rel: "alternate", Type: "text/html", Title: "this collection as a web page"},
		},
		ItemType:   "feature",
		CRS:        crs.URIs(),
		StorageCRS: crs84URI,
	}
	d.Links = append(d.Links, itemsAlternates(base+"/items", itemsOffer())...)
	if l.Len() > 0 {
		b := l.Bound()
		d.Extent = &extent{Spatial: &spatialExtent{BBox: [][4]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}, CRS: crs84URI}}
		if m := cat.meta(l); m.spans != nil && !m.extent.empty() {
			d.Extent.Temporal = &temporalExtent{
				Interval: [][2]any{{formatTime(m.extent.start), formatTime(m.extent.end)}},
				TRS:      "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
			}
		}
	}
	return d
}

func (h *handlers) collections(c echo.Context) error {
	if err := docOnly.parse(c.QueryString(), &struct{}{}, nil); err != nil {
		return err
	}
	html, err := htmlAsked(c, asJSON)
	if err != nil {
		return err
	}
	d := h.dataset(c)
	ix := d.Index
	cat := h.catalogFor(ix)
	docs := make([]collectionDoc, 0, len(ix.Layers()))
	for _, l := range ix.Layers() {
		docs = append(docs, h.describe(c, cat, l))
	}
	if h.cfg.Store != nil {
		docs = append(docs, h.strikesCollectionDoc(c))
	}
	if html {
		return h.sendPage(c, "collections", htmlPage{Title: "collections", Trail: h.trail(c, "")[:1], Content: collectionRows(docs)})
	}
	return sendJSON(c, mediaJSON, struct {
		// DataVersion names the data served; it changes on every reload
		// that changes the data.
		DataVersion string          `json:"data_version"`
		Links       []link          `json:"links"`
		Collections []collectionDoc `json:"collections"`
	}{d.Version, []link{
		{Href: h.baseURL(c) + "/collections", Rel: "self", Type: mediaJSON, Title: "the collections"},
		{Href: h.baseURL(c) + "/collections?f=html", Rel: "alternate", Type: "text/html", Title: "the collections as a web page"},
	}, docs}, true)
}

// describedLayer resolves the collection of a metadata resource, which
// takes no parameters but f=json.
func (h *handlers) describedLayer(c echo.Context) (*geo.Index, *geo.Layer, error) {
	ix, l, err := h.layerOf(c)
	if err == nil {
		err = checkParams(c)
	}
	return ix, l, err
}

func (h *handlers) collection(c echo.Context) error {
	ix, l, err := h.layerOf(c)
	if err != nil {
		return err
	}
	if err := docOnly.parse(c.QueryString(), &struct{}{}, nil); err != nil {
		return err
	}
	html, err := htmlAsked(c, asJSON)
	if err != nil {
		return err
	}
	d := h.describe(c, h.catalogFor(ix), l)
	if html {
		return h.sendPage(c, "collection", htmlPage{
			Title: l.Name(), Trail: h.trail(c, "")[:2],
			MapSrc: h.baseURL(c) + collectionPath(l.Name()) + "/items?f=json", Content: d,
		})
	}
	return sendJSON(c, mediaJSON, d, true)
}

// queryables answers OGC API - Features Part 3: the properties that
// property=value filters accept, as a JSON Schema.
func (h *handlers) queryables(c echo.Context) error {
	ix, l, err := h.describedLayer(c)
	if err != nil {
		return err
	}
	m := h.catalogFor(ix).meta(l)
	return sendSchema(c, queryablesSchema(h.baseURL(c)+collectionPath(l.Name())+"/queryables", l.Name(), m.queryables, m.spans != nil))
}

// queryablesSchema lists the queryables of a collection, and datetime when
// its features have times.
func queryablesSchema(id, title string, queryables []queryable, timed bool) map[string]any {
	props := map[string]any{}
	for _, q := range queryables {
		props[q.Name] = map[string]string{"title": q.Name, "type": q.Type}
	}
	if timed {
		props[propDatetime] = map[string]string{"title": "when the feature is (the datetime parameter)", "type": "string", "format": "date-time"}
	}
	props[cql2.GeometryProperty] = map[string]string{"title": "the geometry, for spatial filters", "format": "geometry-any", "x-ogc-role": "primary-geometry"}
	return map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  id,
		"type":                 "object",
		"title":                title,
		"properties":           props,
		"additionalProperties": true,
	}
}
