package server

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
)

// conformanceClasses are the parts of OGC API - Features implemented.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
}

const (
	serviceTitle       = "protectmap"
	serviceDescription = "Protected civilian infrastructure (energy sites, hospitals, bridges) as OGC API - Features collections, with exact WGS84 geodesic proximity of strikes to them."
)

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
			{Href: base + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: mediaSchema, Title: "properties items can be filtered by"},
		},
		ItemType:   "feature",
		CRS:        []string{crs84URI},
		StorageCRS: crs84URI,
	}
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
	if err := checkParams(c); err != nil {
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
	return sendJSON(c, mediaJSON, struct {
		// DataVersion names the data served; it changes on every reload
		// that changes the data.
		DataVersion string          `json:"data_version"`
		Links       []link          `json:"links"`
		Collections []collectionDoc `json:"collections"`
	}{d.Version, []link{{Href: h.baseURL(c) + "/collections", Rel: "self", Type: mediaJSON, Title: "the collections"}}, docs}, true)
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
	ix, l, err := h.describedLayer(c)
	if err != nil {
		return err
	}
	return sendJSON(c, mediaJSON, h.describe(c, h.catalogFor(ix), l), true)
}

// queryables answers OGC API - Features Part 3: the properties that
// property=value filters accept, as a JSON Schema.
func (h *handlers) queryables(c echo.Context) error {
	ix, l, err := h.describedLayer(c)
	if err != nil {
		return err
	}
	m := h.catalogFor(ix).meta(l)
	props := map[string]any{}
	for _, q := range m.queryables {
		props[q.Name] = map[string]string{"title": q.Name, "type": q.Type}
	}
	if m.spans != nil {
		props[propDatetime] = map[string]string{"title": "when the feature is (the datetime parameter)", "type": "string", "format": "date-time"}
	}
	// Part 3 asks for application/schema+json; a client that names only
	// application/json (GDAL does) would refuse that type, so it gets its own.
	ctype := mediaSchema
	accept := c.Request().Header.Get(echo.HeaderAccept)
	if strings.Contains(accept, mediaJSON) && !strings.Contains(accept, mediaSchema) {
		ctype = mediaJSON
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	return sendJSON(c, ctype, map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  h.baseURL(c) + collectionPath(l.Name()) + "/queryables",
		"type":                 "object",
		"title":                l.Name(),
		"properties":           props,
		"additionalProperties": true,
	}, true)
}
