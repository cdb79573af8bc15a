package server

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/crs"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/geo/tile"
	"github.com/protectmap/protectmap/server/store"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// openAPI answers GET /api: an OpenAPI 3.0 document of this server as it
// stands, one set of paths per collection so that each lists the property
// filters it accepts (GDAL reads them from there).
func (h *handlers) openAPI(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	return sendJSON(c, mediaOpenAPI, h.apiDocument(h.index(c), h.baseURL(c)), true)
}

func (h *handlers) apiDocument(ix *geo.Index, base string) obj {
	cat := h.catalogFor(ix)
	paths := obj{
		"/": obj{"get": op("getLandingPage", "The landing page: links to the API, conformance and collections; browsers get the map.",
			[]any{ref("fLanding")}, ok("the landing page", mediaJSON, "landingPage", "text/html", nil))},
		"/conformance": obj{"get": op("getConformance", "The conformance classes implemented.",
			[]any{ref("f")}, ok("the conformance classes", mediaJSON, "confClasses"))},
		"/api": obj{"get": op("getAPI", "This document.",
			[]any{ref("f")}, ok("the API definition", mediaOpenAPI, nil))},
		"/collections": obj{"get": op("getCollections", "The collections of protected sites.",
			[]any{ref("f")}, ok("the collections", mediaJSON, "collections"))},
		"/proximity": obj{
			"get": op("getProximity", "The protected sites within radius metres of a point, nearest first, with the exact geodesic distance (WGS84) to each site's real geometry, the bearing to it and its nearest point.",
				[]any{ref("lon"), ref("lat"), ref("radius"), ref("proximityLimit"), ref("collections"), ref("uncertainty"), ref("verdictDatetime"), ref("scope"), ref("dataVersion"), ref("fFeatures")},
				ok("the sites found", mediaGeoJSON, "proximity")),
			"post": withBody(op("postProximity", fmt.Sprintf("Each strike of a FeatureCollection annotated with the protected sites near it: up to %d strikes and %d MiB per request. The whole body is read and every strike answered before the answer starts, so a bad strike anywhere is a 400 and never a cut answer; summary.strikes, last in the answer, counts the strikes answered. Strike properties may carry uncertainty_m (metres) and datetime (RFC 3339): a strike with a date-time (its own, else the datetime parameter) gets a verdict; a date alone fixes no instant and gets none.", maxStrikes, maxBatchBody>>20),
				[]any{ref("radius"), ref("proximityLimit"), ref("collections"), ref("uncertainty"), ref("verdictDatetime"), ref("scope"), ref("fFeatures")},
				ok("the strikes with their hits", mediaGeoJSON, "proximityBatch")), "strikes"),
		},
		"/nearest": obj{"get": op("getNearest", "The k protected sites nearest to a point, whatever their distance.",
			[]any{ref("lon"), ref("lat"), ref("k"), ref("collections"), ref("uncertainty"), ref("fFeatures")},
			ok("the sites found", mediaGeoJSON, "proximity"))},
		"/healthz": obj{"get": op("getHealth", "Liveness, with the number of features served.",
			[]any{ref("f")}, ok("the server is up", mediaJSON, "health"))},
		"/readyz": obj{"get": readinessOp()},
		"/metrics": obj{"get": op("getMetrics", "Prometheus metrics: requests by route and status, latencies, features per layer, the data version and reloads.",
			nil, ok("the metrics, in the Prometheus text format", "text/plain", nil))},
		"/map-config.json": obj{"get": op("getMapConfig", "Settings of the map app: the raster tile URL template (empty means offline) and its attribution.",
			[]any{ref("f")}, ok("the map settings", mediaJSON, "mapConfig"))},
	}
	if h.basemap != nil {
		paths["/basemap.geojson"] = obj{"get": op("getBasemap", "The offline basemap: simplified outlines as a FeatureCollection.",
			[]any{ref("f")}, ok("the basemap", mediaGeoJSON, "featureCollection"))}
	}
	for _, l := range ix.Layers() {
		h.collectionPaths(paths, l, cat.meta(l))
	}
	h.agreementPaths(paths, ix)
	if h.cfg.Store != nil {
		strikePaths(paths)
	}
	if h.cfg.Reloader != nil {
		reload := op("reloadData", "Load the data again and swap it in at once; on an error the data served stays as it was.",
			nil, ok("the data now served", mediaJSON, "reload"))
		reload["security"] = []any{obj{"bearer": []any{}}}
		paths["/admin/reload"] = obj{"post": reload}
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       serviceTitle,
			"version":     "1.0.0",
			"description": serviceDescription,
			"license":     obj{"name": "MIT"},
		},
		"servers":    []any{obj{"url": base}},
		"paths":      paths,
		"components": components(),
	}
}

// collectionPaths describes one collection's resources.
func (h *handlers) collectionPaths(paths obj, l *geo.Layer, m *layerMeta) {
	p, id := collectionPath(l.Name()), l.Name()
	paths[p] = obj{"get": op("describeCollection_"+id, "The "+id+" collection: its extent and links.",
		[]any{ref("f")}, ok("the collection", mediaJSON, "collection"))}
	paths[p+"/queryables"] = obj{"get": op("getQueryables_"+id, "The properties of "+id+" that items can be filtered by (property=value).",
		[]any{ref("f")}, ok("the queryables", mediaSchema, "queryables", mediaJSON, "queryables"))}
	paths[p+"/schema"] = obj{"get": op("getSchema_"+id, "The JSON Schema of a feature of "+id+": every property any feature carries, with its type, and the geometry type.",
		[]any{ref("f")}, ok("the schema", mediaSchema, "queryables", mediaJSON, "queryables"))}

	params := []any{ref("fItems"), ref("bbox"), ref("bbox-crs"), ref("crs"), ref("limit"), ref("cursor"), ref("offset"), ref("datetime"), ref("filter"), ref("filter-lang"), ref("filter-crs"), ref("sortby"), ref("properties"), ref("skipGeometry")}
	for _, q := range m.queryables {
		params = append(params, obj{
			"name": q.Name, "in": "query", "required": false,
			"description": "Only features whose " + q.Name + " property equals this value.",
			"schema":      obj{"type": q.Type},
		})
	}
	paths[p+"/items"] = obj{"get": op("getFeatures_"+id, "The features of "+id+", a page at a time: follow the next link until there is none.",
		params, ok("a page of features", mediaGeoJSON, "featureCollection"))}

	featureID := obj{"name": "featureId", "in": "path", "required": true, "description": "The feature's id.", "schema": obj{"type": "string"}}
	if l.Len() > 0 {
		featureID["example"] = l.Feature(0).ID
	}
	paths[p+"/items/{featureId}"] = obj{"get": op("getFeature_"+id, "One feature of "+id+".",
		[]any{featureID, ref("fFeatures"), ref("crs")}, ok("the feature", mediaGeoJSON, "feature"))}

	paths[p+"/tiles"] = obj{"get": op("getTileJSON_"+id, "A TileJSON 3.0.0 document for the vector tiles of "+id+".",
		nil, ok("the TileJSON document", mediaJSON, nil))}
	// The example tile holds the collection's first feature.
	z, x, y := "6", "", ""
	if l.Len() > 0 {
		t := maptile.At(l.Feature(0).Geometry.Bound().Center(), 6)
		x, y = strconv.FormatUint(uint64(t.X), 10), strconv.FormatUint(uint64(t.Y), 10)+".mvt"
	}
	tileOp := op("getTile_"+id, "A Mapbox Vector Tile of "+id+" in WebMercatorQuad, rendered from the index; y may end in .mvt or .pbf.",
		[]any{tileParam("z", "Zoom level, 0 to 22.", z), tileParam("x", "Column.", x), tileParam("y", "Row, optionally followed by .mvt or .pbf.", y)},
		ok("the tile", tile.ContentType, nil))
	tileOp["responses"].(obj)["204"] = obj{"description": "no feature touches the tile"}
	paths[p+"/tiles/{z}/{x}/{y}"] = obj{"get": tileOp}
}

func tileParam(name, description, example string) obj {
	p := obj{"name": name, "in": "path", "required": true, "description": description, "schema": obj{"type": "string"}}
	if example != "" {
		p["example"] = example
	}
	return p
}

// op is an operation whose errors are problem documents.
func op(id, summary string, params []any, success obj) obj {
	o := obj{
		"operationId": id,
		"summary":     summary,
		"responses": obj{
			"200":     success,
			"304":     obj{"description": "not modified since the ETag given in If-None-Match"},
			"default": obj{"$ref": "#/components/responses/problem"},
		},
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	return o
}

func withBody(o obj, schema string) obj {
	o["requestBody"] = obj{"required": true, "content": obj{
		mediaGeoJSON: obj{"schema": schemaRef(schema)},
		mediaJSON:    obj{"schema": schemaRef(schema)},
	}}
	return o
}

// ok is a 200 response offering each media type with its schema (a
// component name, or nil for none).
func ok(description string, typesAndSchemas ...any) obj {
	content := obj{}
	for i := 0; i+1 < len(typesAndSchemas); i += 2 {
		media := obj{}
		if name, isName := typesAndSchemas[i+1].(string); isName {
			media["schema"] = schemaRef(name)
		}
		content[typesAndSchemas[i].(string)] = media
	}
	return obj{"description": description, "content": content}
}

func ref(param string) obj      { return obj{"$ref": "#/components/parameters/" + param} }
func schemaRef(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
func arrayOf(items any) obj     { return obj{"type": "array", "items": items} }

// object is a schema of an object with these properties, of which required
// must be present.
func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
func nullable(typ string) obj    { return obj{"type": typ, "nullable": true} }
func str(description string) obj { return obj{"type": "string", "description": description} }

func queryParam(name, description string, required bool, schema obj, extra ...any) obj {
	p := obj{"name": name, "in": "query", "required": required, "description": description, "schema": schema}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i].(string)] = extra[i+1]
	}
	return p
}

func components() obj {
	number := obj{"type": "number"}
	meters := func(def float64) obj {
		s := obj{"type": "number", "minimum": 0, "maximum": geo.MaxRadiusMeters}
		if def > 0 {
			s["default"] = def
		}
		return s
	}
	count := func(def, maximum int) obj {
		return obj{"type": "integer", "minimum": 1, "maximum": maximum, "default": def}
	}
	links := arrayOf(schemaRef("link"))
	hitProperties := object([]string{"distance_m", "bearing_deg", "nearest_point", "collection"}, obj{
		"distance_m":    obj{"type": "number", "minimum": 0, "description": "geodesic distance on WGS84 to the site's nearest point, metres"},
		"bearing_deg":   obj{"type": "number", "nullable": true, "description": "azimuth towards that point, degrees clockwise from north; null at distance 0"},
		"nearest_point": obj{"type": "array", "items": number, "minItems": 2, "maxItems": 2},
		"collection":    obj{"type": "string"},
		"possibly_hit":  obj{"type": "boolean", "description": "distance_m is within the uncertainty; present when one is given"},
		"protected_by":  arrayOf(schemaRef("protection")),
	})
	hit := obj{"allOf": []any{schemaRef("feature"), object(nil, obj{"properties": hitProperties})}}
	summary := object([]string{"count", "possibly_hit", "nearest_m"}, obj{
		"count":                 obj{"type": "integer", "minimum": 0},
		"possibly_hit":          obj{"type": "integer", "minimum": 0, "nullable": true},
		"nearest_m":             nullable("number"),
		"verdict":               schemaRef("outcome"),
		"verdict_without_scope": schemaRef("outcome"),
		"agreements_in_force":   arrayOf(obj{"type": "string"}),
		"radius_m":              obj{"type": "number", "description": "the radius the verdict searched: the radius asked for, widened to the reach of every agreement in force"},
		"agreement_status":      schemaRef("agreementStatus"),
		"disputes":              arrayOf(schemaRef("dispute")),
		"readings":              arrayOf(schemaRef("readingVerdict")),
	})
	search := obj{
		"radius":      number,
		"limit":       obj{"type": "integer"},
		"collections": arrayOf(obj{"type": "string"}),
		"uncertainty": nullable("number"),
		"datetime":    obj{"type": "string", "format": "date-time"},
		"scope":       arrayOf(obj{"type": "string"}),
	}
	proximityQuery := object([]string{"collections"}, obj{"lon": number, "lat": number, "k": obj{"type": "integer"}})
	for k, v := range search {
		proximityQuery["properties"].(obj)[k] = v
	}

	return obj{
		"parameters": obj{
			"f": queryParam("f", "The representation: JSON.", false,
				obj{"type": "string", "enum": []string{"json"}}),
			"fFeatures": queryParam("f", "The representation: GeoJSON (json and geojson both name it).", false,
				obj{"type": "string", "enum": []string{"json", "geojson"}}),
			"fItems": queryParam("f", "The representation: GeoJSON pages (json and geojson both name it), or the whole selection streamed as newline-delimited GeoJSON (ndjson), CSV with a WKT column (csv) or KML (kml); the Accept header chooses too.", false,
				obj{"type": "string", "enum": []string{"json", "geojson", "ndjson", "csv", "kml"}}),
			"fLanding": queryParam("f", "The representation: json for the landing page, html for the map (which browsers get by default).", false,
				obj{"type": "string", "enum": []string{"json", "html"}}),
			"limit": queryParam("limit", "Features per page; a larger value is clamped to the maximum.", false,
				count(defaultItemsLimit, maxItemsLimit), "style", "form", "explode", false),
			"bbox": queryParam("bbox", "Only features whose geometry intersects this box: minLon,minLat,maxLon,maxLat in CRS84 degrees. A box with minLon > maxLon crosses the antimeridian.", false,
				obj{"type": "array", "items": number, "minItems": 4, "maxItems": 6}, "style", "form", "explode", false),
			"bbox-crs": queryParam("bbox-crs", "The bbox's coordinate reference system (OGC API - Features Part 2): its corners in that CRS's axis order (EPSG:4326 latitude first). A UTM box is its outline, sampled 256 times a side, as an exact spatial filter; the strike log takes CRS84, EPSG:4326 and EPSG:3857 only. Short names such as EPSG:3857 are read too.", false,
				obj{"type": "string", "enum": crs.URIs(), "default": crs84URI}),
			"crs": queryParam("crs", "The coordinate reference system of the response's geometries (OGC API - Features Part 2), named in its Content-Crs header: CRS84 (the default), EPSG:4326 (latitude, longitude), EPSG:3857 (Web Mercator, latitudes clamped to ±85.0511°) or UTM zones 34N-37N (EPSG:32634-32637). GeoJSON only.", false,
				obj{"type": "string", "enum": crs.URIs(), "default": crs84URI}),
			"cursor": queryParam("cursor", "Where a page starts; take it from a next or prev link.", false, obj{"type": "string"}),
			"filter": queryParam("filter", "A CQL2 filter (OGC API - Features Part 3) in filter-lang: comparisons, AND/OR/NOT, IS NULL, LIKE, BETWEEN, IN, CASEI, TIMESTAMP/DATE, S_INTERSECTS/S_DISJOINT/S_WITHIN/S_CONTAINS with the geometry property and a WKT or BBOX literal, and DWITHIN(geometry, POINT(lon lat), metres), geodesic. A filter that does not parse gets 400 naming the position and what was expected.", false,
				obj{"type": "string"}, "example", "kind = 'substation' AND S_INTERSECTS(geometry, BBOX(30.3, 50.3, 30.8, 50.6))"),
			"filter-lang": queryParam("filter-lang", "The filter's language: cql2-text (the default) or cql2-json; cql-text is read as cql2-text.", false,
				obj{"type": "string", "enum": filterLangs, "default": langText}),
			"filter-crs": queryParam("filter-crs", "The CRS of the filter's geometries, in its axis order; each vertex is converted to longitude/latitude (a BBOX in UTM becomes its outline).", false,
				obj{"type": "string", "enum": crs.URIs(), "default": crs84URI}),
			"offset": queryParam("offset", "Skip this many matching features first; not with cursor. Links to other pages carry a cursor instead.", false,
				obj{"type": "integer", "minimum": 0, "default": 0}),
			"sortby": queryParam("sortby", "Sort the matching features: queryables (or datetime) separated by commas, each ascending or, after a -, descending; ties go by the collection's order, so pages never overlap. Features without a value come after the others ascending, before them descending. A sorted selection pages by offset: the next and prev links carry it. GeoJSON pages only.", false,
				obj{"type": "string"}, "example", "-voltage_kv,name"),
			"strikesSortby": queryParam("sortby", "datetime (the default, oldest first) or -datetime (latest first); the next link keeps the order.", false,
				obj{"type": "string", "enum": []string{"datetime", "+datetime", "-datetime"}}),
			"properties": queryParam("properties", "Only these properties of each feature, separated by commas (each one the schema lists); empty for none. GeoJSON pages only.", false,
				obj{"type": "string"}, "example", "name,voltage_kv"),
			"skipGeometry": queryParam("skipGeometry", "true writes each feature's geometry as null. GeoJSON pages only.", false,
				obj{"type": "boolean", "default": false}),
			"datetime": queryParam("datetime", "Only features whose time (datetime, or start_datetime to end_datetime) meets this instant, date or interval (start/end, '..' for an open end).", false,
				obj{"type": "string"}),
			"lon":            queryParam("lon", "Longitude of the point, degrees east.", true, obj{"type": "number", "minimum": -180, "maximum": 180}, "example", 30.5234),
			"lat":            queryParam("lat", "Latitude of the point, degrees north.", true, obj{"type": "number", "minimum": -90, "maximum": 90}, "example", 50.4501),
			"radius":         queryParam("radius", "Search radius in metres; it defaults to 1000, or to the uncertainty when that is larger.", false, meters(defaultRadiusMeters)),
			"proximityLimit": queryParam("limit", "At most this many sites per point; a larger value is clamped to the maximum.", false, count(defaultProximityLimit, maxProximityLimit)),
			"k":              queryParam("k", "How many sites; a larger value is clamped to the maximum.", false, count(defaultNearestK, maxNearestK)),
			"collections": queryParam("collections", "Comma-separated collection ids to search; all by default.", false,
				arrayOf(obj{"type": "string"}), "style", "form", "explode", false),
			"uncertainty": queryParam("uncertainty", "The strike location's error radius in metres: a site within it is possibly hit.", false, meters(0)),
			"verdictDatetime": queryParam("datetime", "The strike's instant, RFC 3339 with an offset: each site then lists the agreements protecting it at that instant (protected_by) and the summary gives the verdict. POST /proximity uses it for strikes without a datetime of their own.", false,
				obj{"type": "string", "format": "date-time"}, "example", "2025-03-20T04:10:00+02:00"),
			"scope": queryParam("scope", "Comma-separated collections a hypothetical agreement covers (all their sites, at all times, no buffer), judged beside the real ones and listed as agreement \"scope\"; verdict_without_scope keeps the real agreements' verdict. Needs datetime on GET /proximity.", false,
				arrayOf(obj{"type": "string"}), "style", "form", "explode", false),
			"fStrikes": queryParam("f", "The representation: GeoJSON (json, geojson) or CSV pages; or ndjson (newline-delimited GeoJSON) or kml, an export of every strike matching, not paged. Without f, the Accept header chooses.", false,
				obj{"type": "string", "enum": []string{"json", "geojson", "csv", "ndjson", "kml"}}),
			"strikesDatetime": queryParam("datetime", "Only strikes at this instant, on this date, or in this interval (start/end, '..' for an open end), ends included.", false,
				obj{"type": "string"}),
			"strikeCursor": queryParam("cursor", "Where a page starts; take it from a next link.", false, obj{"type": "string"}),
			"strikeId":     obj{"name": "featureId", "in": "path", "required": true, "description": "The strike's id, as the store assigned it.", "schema": obj{"type": "string"}},
			"from":         queryParam("from", "The report's first instant (RFC 3339) or day, included.", false, obj{"type": "string"}),
			"to":           queryParam("to", "The report's last instant (RFC 3339) or day, included.", false, obj{"type": "string"}),
			"agreement":    queryParam("agreement", "Judge by this agreement alone; the window then defaults to the agreement's.", false, obj{"type": "string"}),
			"strikeSource": queryParam("source", "Only strikes from these sources, comma-separated, named as recorded (such as UCDP,ACLED); up to 20.", false, obj{"type": "string"}),
			"dataVersion":  queryParam("data_version", "Judge against this earlier data version (layers and agreements) as kept in the strike store, rebuilt exactly, instead of the data served now; GET /versions lists those kept. One not kept: 404.", false, obj{"type": "string"}),
			"auditFrom":    queryParam("from", "Only events at or after this instant (RFC 3339) or day.", false, obj{"type": "string"}),
			"auditTo":      queryParam("to", "Only events at or before this instant (RFC 3339) or day.", false, obj{"type": "string"}),
			"auditCursor":  queryParam("cursor", "Where a page starts; take it from a next link.", false, obj{"type": "string"}),
			"fReport": queryParam("f", "The representation: GeoJSON (json, geojson) or CSV; without f, Accept: text/csv gets CSV.", false,
				obj{"type": "string", "enum": []string{"json", "geojson", "csv"}}),
		},
		"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
			"description": "A token from the server's --tokens-file or PROTECTMAP_TOKENS. Missing, malformed or unknown: 401 with a WWW-Authenticate challenge; writes disabled (no tokens configured): 403."}},
		"responses": obj{"problem": obj{
			"description": "an error, as RFC 9457 problem details",
			"content":     obj{mediaProblem: obj{"schema": schemaRef("problem")}},
		}},
		"schemas": obj{
			"link":        object([]string{"href", "rel"}, obj{"href": str("absolute URL"), "rel": obj{"type": "string"}, "type": obj{"type": "string"}, "title": obj{"type": "string"}}),
			"landingPage": object([]string{"links"}, obj{"title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links}),
			"confClasses": object([]string{"conformsTo"}, obj{"conformsTo": arrayOf(obj{"type": "string"})}),
			"collections": object([]string{"links", "collections"}, obj{"links": links, "collections": arrayOf(schemaRef("collection"))}),
			"collection": object([]string{"id", "links"}, obj{
				"id": obj{"type": "string"}, "title": obj{"type": "string"}, "links": links,
				"extent": object(nil, obj{
					"spatial":  object(nil, obj{"bbox": arrayOf(obj{"type": "array", "items": number, "minItems": 4, "maxItems": 6}), "crs": obj{"type": "string"}}),
					"temporal": object(nil, obj{"interval": arrayOf(obj{"type": "array", "items": nullable("string"), "minItems": 2, "maxItems": 2}), "trs": obj{"type": "string"}}),
				}),
				"itemType": obj{"type": "string"}, "crs": arrayOf(obj{"type": "string"}), "storageCrs": obj{"type": "string"},
			}),
			"queryables": object([]string{"type", "properties"}, obj{"$schema": obj{"type": "string"}, "$id": obj{"type": "string"}, "type": obj{"type": "string"}, "title": obj{"type": "string"}, "properties": obj{"type": "object"}}),
			"geometry": object([]string{"type"}, obj{
				"type":        obj{"type": "string", "enum": []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}},
				"coordinates": arrayOf(obj{}),
				"geometries":  arrayOf(schemaRef("geometry")),
			}),
			"feature": object([]string{"type", "geometry", "properties"}, obj{
				"type":       obj{"type": "string", "enum": []string{"Feature"}},
				"id":         obj{"oneOf": []any{obj{"type": "string"}, number}},
				"geometry":   schemaRef("geometry"),
				"properties": nullable("object"),
				"links":      links,
			}),
			"featureCollection": object([]string{"type", "features"}, obj{
				"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
				"features":       arrayOf(schemaRef("feature")),
				"links":          links,
				"numberMatched":  obj{"type": "integer", "minimum": 0},
				"numberReturned": obj{"type": "integer", "minimum": 0},
			}),
			"proximity": object([]string{"type", "query", "summary", "features"}, obj{
				"type":     obj{"type": "string", "enum": []string{"FeatureCollection"}},
				"query":    proximityQuery,
				"summary":  summary,
				"features": arrayOf(hit),
			}),
			"strikes": object([]string{"type", "features"}, obj{
				"type": obj{"type": "string", "enum": []string{"FeatureCollection"}},
				"features": arrayOf(object([]string{"type", "geometry"}, obj{
					"type":     obj{"type": "string", "enum": []string{"Feature"}},
					"geometry": object([]string{"type", "coordinates"}, obj{"type": obj{"type": "string", "enum": []string{"Point"}}, "coordinates": obj{"type": "array", "items": number, "minItems": 2, "maxItems": 3}}),
					"properties": object(nil, obj{
						"uncertainty_m": meters(0),
						"datetime":      obj{"type": "string", "format": "date-time"},
					}),
				})),
			}),
			"proximityBatch": object([]string{"type", "query", "features", "summary"}, obj{
				"type":  obj{"type": "string", "enum": []string{"FeatureCollection"}},
				"query": object([]string{"radius", "limit", "collections"}, search),
				"features": arrayOf(obj{"allOf": []any{schemaRef("feature"), object(nil, obj{"properties": object([]string{"hits", "summary"}, obj{
					"hits":    obj{"type": "array", "items": hit, "description": "the sites found, each placed at its point nearest the strike"},
					"summary": summary,
				})})}}),
				"summary": object([]string{"strikes", "with_hits", "possibly_hit"}, obj{
					"strikes": obj{"type": "integer", "description": "the strikes answered: as many as features, else the answer was cut short"}, "with_hits": obj{"type": "integer"}, "possibly_hit": obj{"type": "integer"},
				}),
			}),
			"problem": object([]string{"type", "title", "status"}, obj{
				"type": obj{"type": "string"}, "title": obj{"type": "string"}, "status": obj{"type": "integer"},
				"detail": obj{"type": "string"}, "instance": obj{"type": "string"},
				"invalid-params": arrayOf(object([]string{"name", "reason"}, obj{"name": obj{"type": "string"}, "reason": obj{"type": "string"}})),
			}),
			"outcome": obj{"type": "string", "enum": outcomeNames(),
				"description": "protected_site_hit: the strike cannot have missed the site's buffer; possible_protected_site_hit: its uncertainty disc only overlaps it; location_too_coarse: uncertainty beyond 25 km, never judged a hit"},
			"readingOutcome": obj{"type": "string", "description": "not_in_force outside the reading's window or when it is suspended",
				"enum": append(outcomeNames(), string(agreement.NotInForce))},
			"agreementStatus": obj{"type": "string", "enum": []string{string(agreement.Agreed), string(agreement.Disputed)},
				"description": "disputed when some agreement's readings give different verdicts, or find a site hit or nearby only conditionally where another does not"},
			"dispute": object([]string{"agreement", "how"}, obj{"agreement": obj{"type": "string"},
				"how": str("each reading's verdict, as \"ru: protected_site_hit; ua: not_in_force\"")}),
			"readingVerdict": object([]string{"agreement", "reading", "party", "verdict", "status", "why"}, obj{
				"agreement": obj{"type": "string"}, "reading": obj{"type": "string"}, "party": obj{"type": "string"},
				"verdict": schemaRef("readingOutcome"),
				"status": obj{"type": "string", "enum": []string{string(agreement.InForce), string(agreement.Conditional), string(agreement.Suspended), string(agreement.OutsideWindow)},
					"description": "the reading's state at the instant: its declared status within its window, not_in_force outside it"},
				"why": str("the clause that decided: the window, the site or zone hit or nearest and its energy class, a class left out, the condition"),
				"window": obj{"type": "string", "enum": []string{string(agreement.WholeWindow), string(agreement.PartWindow), string(agreement.NoWindow)},
					"description": "for an event reported over a window (a strike with an end): whether the reading was in force for all of it, part of it or none; the event is judged under every reading in force at any instant of it"},
			}),
			"reading": object([]string{"id", "party", "start", "end", "status", "sources", "buffer_m"}, readingProperties()),
			"protection": object([]string{"agreement", "reading", "buffer_m", "reach_m", "hit"}, obj{
				"agreement": obj{"type": "string"}, "hypothetical": obj{"type": "boolean"},
				"reading":  str("the reading under which the site is protected (\"terms\" for an agreement written without readings, \"scope\" for a scope)"),
				"party":    obj{"type": "string"},
				"buffer_m": number, "reach_m": obj{"type": "number", "description": "the strike's uncertainty plus the buffer: the uncertainty disc reaches a site this close"},
				"hit":          obj{"type": "boolean", "description": "the strike cannot have missed the site: its whole uncertainty disc lies within the buffer, or its uncertainty is at most 100 m"},
				"possible_hit": obj{"type": "boolean", "description": "the uncertainty disc reaches the site, but not wholly within its buffer"},
			}),
			"agreement":  object([]string{"id", "title", "start", "end", "readings", "links"}, agreementProperties(links)),
			"agreements": object([]string{"agreements", "links"}, obj{"agreements": arrayOf(schemaRef("agreement")), "links": links}),
			"verdict": object([]string{"verdict", "datetime", "uncertainty_m", "radius_m", "agreements_in_force", "readings", "agreement_status", "sites_within_radius", "sites"}, obj{
				"verdict": schemaRef("outcome"), "verdict_without_scope": schemaRef("outcome"),
				"readings": arrayOf(schemaRef("readingVerdict")), "agreement_status": schemaRef("agreementStatus"), "disputes": arrayOf(schemaRef("dispute")),
				"datetime": obj{"type": "string", "format": "date-time"}, "uncertainty_m": number, "radius_m": number,
				"end":   obj{"type": "string", "format": "date-time", "description": "the end of the strike's window, when it has one"},
				"scope": arrayOf(obj{"type": "string"}), "agreements_in_force": arrayOf(obj{"type": "string"}),
				"sites_within_radius":     obj{"type": "integer", "minimum": 0},
				"protected_sites_in_disc": obj{"type": "integer", "minimum": 0, "description": "with location_too_coarse only: protected sites the uncertainty disc reaches"},
				"sites": arrayOf(object([]string{"collection", "id", "distance_m", "protected_by"}, obj{
					"collection": obj{"type": "string"}, "id": obj{"type": "string"}, "name": obj{"type": "string"},
					"distance_m": number, "protected_by": arrayOf(schemaRef("protection")),
				})),
			}),
			"strike": obj{"allOf": []any{schemaRef("feature"), object(nil, obj{"properties": object([]string{"datetime", "uncertainty_m", "created_at", "updated_at"}, obj{
				"datetime": obj{"type": "string", "format": "date-time"}, "uncertainty_m": meters(0),
				"end":    obj{"type": "string", "format": "date-time", "description": "for an event reported over a window from datetime: the first instant after it; absent for one instant"},
				"source": obj{"type": "string"}, "event_id": nullable("string"), "weapon": obj{"type": "string"}, "notes": obj{"type": "string"},
				"created_at": obj{"type": "string", "format": "date-time"}, "updated_at": obj{"type": "string", "format": "date-time"},
			})})}},
			"strikeVerdict": obj{"allOf": []any{schemaRef("strike"), object(nil, obj{"properties": object(nil, obj{
				"verdict":          schemaRef("verdict"),
				"verdict_error":    str("why no verdict could be computed: the uncertainty plus a buffer reaches too far"),
				"verdict_recorded": obj{"allOf": []any{schemaRef("judgedVerdict")}, "nullable": true, "description": "the verdict stored with the strike when it was recorded (or back-filled when an older store was upgraded); null for a strike recorded without one"},
				"verdict_now":      obj{"allOf": []any{schemaRef("judgedVerdict")}, "description": "the verdict against the data served now, or the data_version asked for"},
				"verdict_changed":  obj{"type": "boolean", "description": "true when verdict_now differs from verdict_recorded in outcome, agreements in force or protected sites"},
			}), "summary": object([]string{"verdict", "agreement_status", "readings"}, obj{
				"verdict": schemaRef("outcome"), "agreement_status": schemaRef("agreementStatus"),
				"disputes": arrayOf(schemaRef("dispute")), "readings": arrayOf(schemaRef("readingVerdict")),
			})})}},
			"judgedVerdict": object([]string{"data_version"}, obj{
				"data_version":        str("the data (layers and agreements) judged against; GET /versions lists those kept"),
				"judged_at":           obj{"type": "string", "format": "date-time", "description": "when the verdict was recorded"},
				"backfilled":          obj{"type": "boolean", "description": "recorded when an older store was upgraded, against the data served then"},
				"verdict":             schemaRef("outcome"),
				"agreements_in_force": arrayOf(obj{"type": "string"}),
				"readings":            arrayOf(schemaRef("readingVerdict")),
				"agreement_status":    schemaRef("agreementStatus"),
				"protected_sites": arrayOf(object([]string{"collection", "id", "distance_m", "protected_by"}, obj{
					"collection": obj{"type": "string"}, "id": obj{"type": "string"}, "name": obj{"type": "string"},
					"distance_m": number, "protected_by": arrayOf(schemaRef("protection")),
				})),
				"verdict_error": str("why no verdict could be computed"),
			}),
			"strikeEvent": object([]string{"seq", "time", "actor", "action", "strike", "record", "hash"}, obj{
				"seq":    obj{"type": "integer", "minimum": 1, "description": "the event's place in the audit log, from 1, without gaps"},
				"time":   obj{"type": "string", "format": "date-time"},
				"actor":  str("the name of the token that made the change"),
				"action": obj{"type": "string", "enum": []string{store.ActionCreate, store.ActionUpdate, store.ActionDelete}},
				"strike": str("the strike's id"),
				"record": obj{"type": "object", "description": "the strike after the change (before it for a delete, with deleted_at), as the canonical JSON hashed: keys sorted, no spaces; backfilled: true marks an event written when an older store was upgraded"},
				"hash":   str(`hex SHA-256 over the previous event's hash (32 bytes; nothing before event 1) and the canonical bytes {"action":A,"actor":B,"record":R,"seq":N,"strike":S,"time":T}`),
			}),
			"versions": object([]string{"versions", "links"}, obj{"links": links, "versions": arrayOf(object([]string{"data_version", "first_served", "last_served", "serving", "layers", "agreements_digest", "bytes", "stored_bytes"}, obj{
				"data_version":      obj{"type": "string"},
				"first_served":      obj{"type": "string", "format": "date-time", "description": "when a server first served it"},
				"last_served":       obj{"type": "string", "format": "date-time", "description": "the last time a server started serving it"},
				"serving":           obj{"type": "boolean", "description": "this server serves it now"},
				"layers":            arrayOf(object([]string{"name", "features"}, obj{"name": obj{"type": "string"}, "features": obj{"type": "integer"}})),
				"agreements_digest": str("hex SHA-256 of its agreements as kept"),
				"bytes":             obj{"type": "integer", "description": "its layers (GeoJSON) and agreements, uncompressed"},
				"stored_bytes":      obj{"type": "integer", "description": "what they take in the store, compressed (chunks shared with other versions counted in each)"},
			}))}),
			"strikeHistory": object([]string{"strike", "events", "links"}, obj{"strike": obj{"type": "string"}, "events": arrayOf(schemaRef("strikeEvent")), "links": links}),
			"auditPage": object([]string{"events", "head", "links"}, obj{"events": arrayOf(schemaRef("strikeEvent")),
				"head": schemaRef("auditHead"), "links": links}),
			"auditHead": object([]string{"seq", "hash"}, obj{
				"seq":  obj{"type": "integer", "minimum": 0, "description": "the newest event of the whole audit log (0 when it is empty)"},
				"hash": str("its hash, covering every event up to it; keep it elsewhere, and protectmap audit verify --head SEQ:HASH proves no event was cut from the log's end since"),
			}),
			"strikeInput": obj{"description": "A GeoJSON Feature with a Point geometry, or a FeatureCollection of them; properties: datetime (required, RFC 3339), end (for an event over a window, the first instant after it; after datetime), uncertainty_m, source, event_id, weapon, notes, and any others.",
				"type": "object", "required": []string{"type"}, "properties": obj{"type": obj{"type": "string", "enum": []string{"Feature", "FeatureCollection"}}}},
			"strikePut": object([]string{"strikes", "created", "updated", "unchanged", "links"}, obj{
				"strikes": arrayOf(object([]string{"id", "status", "href"}, obj{
					"id": obj{"type": "string"}, "status": obj{"type": "string", "enum": []string{"created", "updated", "unchanged"}}, "href": obj{"type": "string"},
				})),
				"created": obj{"type": "integer", "minimum": 0}, "updated": obj{"type": "integer", "minimum": 0}, "unchanged": obj{"type": "integer", "minimum": 0}, "links": links,
			}),
			"strikeLog": object([]string{"type", "features", "links"}, obj{
				"type": obj{"type": "string", "enum": []string{"FeatureCollection"}}, "features": arrayOf(schemaRef("strike")),
				"numberReturned": obj{"type": "integer", "minimum": 0}, "timeStamp": obj{"type": "string", "format": "date-time"}, "links": links,
			}),
			"report": object([]string{"type", "query", "summary", "features", "manifest"}, obj{
				"manifest": object([]string{"data_version", "agreements_digest", "protectmap_version", "generated_at", "body_sha256", "audit_head"}, obj{
					"data_version":       str("the data version judged against, kept in the strike store (GET /versions)"),
					"agreements_digest":  str("hex SHA-256 of that version's agreements as kept"),
					"protectmap_version": str("the protectmap that wrote the report"),
					"generated_at":       obj{"type": "string", "format": "date-time"},
					"body_sha256":        str(`hex SHA-256 over the bytes of the "features" array as sent; a CSV report carries the manifest as Protectmap-* headers and Content-Digest instead`),
					"audit_head":         schemaRef("auditHead"),
					"agreement":          str("the one agreement judged by, when the report was asked for one"),
				}),
				"type": obj{"type": "string", "enum": []string{"FeatureCollection"}},
				"query": object(nil, obj{"from": nullable("string"), "to": nullable("string"), "agreement": nullable("string"),
					"source": obj{"type": "array", "items": obj{"type": "string"}, "nullable": true}}),
				"summary": object([]string{"strikes"}, obj{"strikes": obj{"type": "integer"}, string(agreement.ProtectedSiteHit): obj{"type": "integer"},
					string(agreement.PossibleProtectedSiteHit): obj{"type": "integer"}, string(agreement.ProtectedSiteNearby): obj{"type": "integer"},
					string(agreement.NoProtectedSite): obj{"type": "integer"}, string(agreement.LocationTooCoarse): obj{"type": "integer"},
					"disputed": obj{"type": "integer", "description": "strikes whose agreements' readings disagree"}}),
				"features": arrayOf(obj{"allOf": []any{schemaRef("strike"), object(nil, obj{"properties": object([]string{"verdict", "agreements_in_force", "agreements_breached", "agreement_status", "readings", "protected_sites"}, obj{
					"verdict": schemaRef("outcome"), "agreements_in_force": arrayOf(obj{"type": "string"}), "agreements_breached": arrayOf(obj{"type": "string"}),
					"agreement_status": schemaRef("agreementStatus"), "readings": arrayOf(schemaRef("readingVerdict")),
					"protected_sites": arrayOf(object([]string{"collection", "id", "distance_m", "protected_by"}, obj{
						"collection": obj{"type": "string"}, "id": obj{"type": "string"}, "name": obj{"type": "string"},
						"distance_m": number, "protected_by": arrayOf(schemaRef("protection")),
					})),
				})})}}),
			}),
			"health": object([]string{"status", "features"}, obj{"status": obj{"type": "string"}, "features": obj{"type": "integer"}}),
			"readiness": object([]string{"status", "features", "layers"}, obj{
				"status": obj{"type": "string", "enum": []string{"ready", "not ready"}}, "detail": obj{"type": "string"},
				"data_version": obj{"type": "string"}, "features": obj{"type": "integer"}, "layers": obj{"type": "integer"},
				"last_reload": object([]string{"at", "ok", "data_version"}, obj{"at": obj{"type": "string", "format": "date-time"},
					"ok": obj{"type": "boolean"}, "error": obj{"type": "string"}, "data_version": obj{"type": "string"}}),
			}),
			"reload": object([]string{"data_version", "features", "layers"}, obj{
				"data_version": obj{"type": "string"}, "features": obj{"type": "integer"},
				"layers": arrayOf(object([]string{"id", "features"}, obj{"id": obj{"type": "string"}, "features": obj{"type": "integer"}})),
			}),
			"mapConfig": object([]string{"tileURL", "tileAttribution"}, obj{"tileURL": obj{"type": "string"}, "tileAttribution": obj{"type": "string"}}),
		},
	}
}

// readinessOp describes GET /readyz, which answers 503 with the same body
// while the server cannot serve.
func readinessOp() obj {
	o := op("getReadiness", "Readiness: the data is loaded and the strike store (if any) answers; the last reload's outcome.",
		[]any{ref("f")}, ok("ready to serve", mediaJSON, "readiness"))
	o["responses"].(obj)["503"] = obj{"description": "not ready", "content": obj{mediaJSON: obj{"schema": schemaRef("readiness")}}}
	return o
}

// termsProperties are the schema properties of an agreement's or a
// reading's window and scope, plus more.
func termsProperties(more obj) obj {
	p := obj{
		"start":          obj{"type": "string", "format": "date-time", "description": "the first instant in force"},
		"end":            obj{"type": "string", "format": "date-time", "nullable": true, "description": "the first instant no longer in force; null when open-ended"},
		"collections":    arrayOf(obj{"type": "string"}),
		"filters":        arrayOf(object([]string{"property", "in"}, obj{"property": obj{"type": "string"}, "in": arrayOf(obj{"type": "string"})})),
		"energy_classes": arrayOf(obj{"type": "string", "enum": agreement.EnergyClasses(), "description": "narrows the energy collection to sites of these classes"}),
		"sites":          arrayOf(object([]string{"collection", "id"}, obj{"collection": obj{"type": "string"}, "id": obj{"type": "string"}})),
		"zones":          arrayOf(str("a feature id of the zones collection: an area or a corridor")),
		"buffer_m":       obj{"type": "number", "minimum": 0, "description": "metres around each covered site within which a strike counts as a hit"},
	}
	maps.Copy(p, more)
	return p
}

// readingProperties are the schema properties of a reading.
func readingProperties() obj {
	return termsProperties(obj{
		"id": obj{"type": "string"}, "party": str("who holds the reading: ru, ua, us, a monitor"),
		"status":     obj{"type": "string", "enum": []string{string(agreement.InForce), string(agreement.Conditional), string(agreement.Suspended)}},
		"conditions": str("what the reading makes the agreement depend on, in words"),
		"sources": arrayOf(object([]string{"title"}, obj{"title": obj{"type": "string"}, "url": obj{"type": "string"},
			"date": obj{"type": "string", "format": "date"}})),
		"notes": str("the judgement calls made in reading the sources"),
	})
}

// agreementProperties are the schema properties of an agreement as served.
func agreementProperties(links obj) obj {
	return termsProperties(obj{
		"id": obj{"type": "string"}, "title": obj{"type": "string"}, "source": str("where the terms come from: a URL or a citation"),
		"notes":    obj{"type": "string"},
		"readings": arrayOf(schemaRef("reading")),
		"links":    links,
	})
}

// agreementPaths describes the agreements; GET /agreements/{id} has the
// first one's id as its example.
func (h *handlers) agreementPaths(paths obj, ix *geo.Index) {
	paths["/agreements"] = obj{"get": op("getAgreements", "The agreements verdicts judge strikes by (ceasefires protecting sites for a time), by start then id.",
		[]any{ref("f")}, ok("the agreements", mediaJSON, "agreements"))}
	id := obj{"name": "agreementId", "in": "path", "required": true, "description": "The agreement's id.", "schema": obj{"type": "string"}}
	if set, err := h.agreementsFor(ix); err == nil && len(set.Agreements()) > 0 {
		id["example"] = set.Agreements()[0].ID
	}
	paths["/agreements/{agreementId}"] = obj{"get": op("getAgreement", "One agreement: what it covers, when, and with what buffer.",
		[]any{id, ref("f")}, ok("the agreement", mediaJSON, "agreement"))}
}

// strikePaths describes the strike log, its collection and the report.
func strikePaths(paths obj) {
	bearer := []any{obj{"bearer": []any{}}}
	post := withBody(op("postStrikes", fmt.Sprintf("Record strikes, all or none: a GeoJSON Feature (answered with the strike as stored and its verdict, Location naming it) or FeatureCollection, or CSV (Content-Type text/csv) as published, told by its header: an ACLED export (event_id_cnty, event_date, latitude, longitude, geo_precision required) or UCDP GED or Candidate Events (id, date_start, date_end, latitude, longitude, where_prec required; month-first or ISO dates), each strike keeping its data set as source, its event id, its precision code's radius as uncertainty_m, a multi-day event's end, and its other columns under acled or ucdp; or any other CSV through columns=, answered with each strike's id and status, Location naming the log. A strike whose source and event id are recorded updates it, unless it is the same in every field (unchanged: updated_at kept): 201 when any strike is new, else 200. Bad records: 400 listing each by line and field. Up to %d strikes and %d MiB per request.", maxStrikesPerPut, maxStrikeBody>>20),
		[]any{ref("f"),
			queryParam("columns", "For a CSV of another layout: field=column pairs, comma-separated, such as lat=y,lon=x,time=date; lat, lon and time are required, end, id, uncertainty (metres), source, weapon and notes optional. Times are RFC 3339 or ISO 8601 dates and times (UTC without an offset); the other columns are kept under csv.", false, obj{"type": "string"}),
			queryParam("source", "With columns and no source column: the source of every strike (default CSV).", false, obj{"type": "string"}),
		}, ok("every strike was already recorded, and is updated or unchanged", mediaGeoJSON, "strikeVerdict", mediaJSON, "strikePut")), "strikeInput")
	post["requestBody"].(obj)["content"].(obj)["text/csv"] = obj{"schema": obj{"type": "string"}}
	post["responses"].(obj)["201"] = ok("recorded", mediaGeoJSON, "strikeVerdict", mediaJSON, "strikePut")
	post["security"] = bearer
	list := func(id string) obj {
		return op(id, "Recorded strikes by time, then id, a page at a time: follow the next link (a Link header for CSV) until there is none.",
			[]any{ref("fStrikes"), ref("bbox"), ref("bbox-crs"), ref("crs"), ref("limit"), ref("strikeCursor"), ref("offset"), ref("strikesDatetime"), ref("strikeSource"), ref("strikesSortby"), ref("properties"), ref("skipGeometry")},
			ok("a page of strikes, or every strike matching as an export", mediaGeoJSON, "strikeLog", "text/csv", nil,
				export.NDJSON.ContentType(), nil, export.KML.ContentType(), nil))
	}
	get := func(id string) obj {
		return op(id, "One strike, with its verdict against the layers and agreements served now (verdict, verdict_now), the verdict it was recorded with (verdict_recorded) and whether they differ (verdict_changed). A deleted strike: 410, its history kept.",
			[]any{ref("strikeId"), ref("fFeatures"), ref("scope"), ref("dataVersion"), ref("crs")}, ok("the strike", mediaGeoJSON, "strikeVerdict"))
	}
	del := op("deleteStrike", "Remove a strike from the log, the map and exports, leaving a tombstone: GET then answers 410, and its history stays. A strike already deleted: 410.", []any{ref("strikeId")}, nil)
	responses := del["responses"].(obj)
	delete(responses, "200")
	delete(responses, "304")
	responses["204"] = obj{"description": "removed"}
	del["security"] = bearer
	paths["/strikes"] = obj{"get": list("getStrikes"), "post": post}
	paths["/strikes/{featureId}"] = obj{"get": get("getStrike"), "delete": del}
	paths["/strikes/{featureId}/history"] = obj{"get": op("getStrikeHistory", "Every event of one strike, oldest first: created, updated, deleted, by whom and when, each with its record and hash. Kept after the strike is deleted.",
		[]any{ref("strikeId")}, ok("the strike's events", mediaJSON, "strikeHistory"))}
	paths["/strikes/events"] = obj{"get": op("getStrikeEvents", "The strike log live, as Server-Sent Events: one event per strike recorded, updated or deleted, as it is committed. Each has an id line, the event's seq in the audit log (the same on every replica of one database), and a data line, the strike as a GeoJSON Feature whose properties add action (create, update or delete), seq, verdict (the verdict it was recorded with, or null) and, for a delete, deleted_at. A stream starts after the event of Last-Event-ID, else of since, else after the last event committed, so a client that reconnects misses none and gets none twice. Comment lines are heartbeats. A client that falls behind or stalls is dropped, to reconnect and resume.",
		[]any{queryParam("since", "Start after the event with this id (0: from the first event). Last-Event-ID wins when both are given.", false, obj{"type": "integer", "minimum": 0}),
			obj{"name": "Last-Event-ID", "in": "header", "required": false, "description": "The id of the last event received: the stream resumes after it (browsers send it when they reconnect).", "schema": obj{"type": "integer", "minimum": 0}}},
		ok("the event stream", mediaEventStream, nil))}
	paths["/versions"] = obj{"get": op("getVersions", "The data versions kept in the strike store, most recently served first: every version a recorded verdict was judged on, plus the last served (serve --keep-versions).",
		nil, ok("the kept versions", mediaJSON, "versions"))}
	paths["/audit"] = obj{"get": op("getAudit", "The audit log: every strike's events in the order they were committed (seq), a page at a time; follow the next link until there is none. protectmap audit verify recomputes its hash chain.",
		[]any{ref("auditFrom"), ref("auditTo"), ref("limit"), ref("auditCursor")}, ok("a page of events", mediaJSON, "auditPage"))}
	p := collectionPath(strikesCollection)
	paths[p] = obj{"get": op("describeCollection_"+strikesCollection, "The strike log as an OGC collection.",
		[]any{ref("f")}, ok("the collection", mediaJSON, "collection"))}
	paths[p+"/items"] = obj{"get": list("getFeatures_" + strikesCollection)}
	paths[p+"/queryables"] = obj{"get": op("getQueryables_"+strikesCollection, "What strikes can be filtered by.",
		[]any{ref("f")}, ok("the queryables", mediaSchema, "queryables", mediaJSON, "queryables"))}
	paths[p+"/schema"] = obj{"get": op("getSchema_"+strikesCollection, "The JSON Schema of a strike: every property and its type.",
		[]any{ref("f")}, ok("the schema", mediaSchema, "queryables", mediaJSON, "queryables"))}
	paths[p+"/items/{featureId}"] = obj{"get": get("getFeature_" + strikesCollection)}
	paths["/report"] = obj{"get": op("getReport", fmt.Sprintf("Every recorded strike in a window (up to %d), each with its verdict, the agreements in force and breached, and the %d protected sites nearest to it: what an analyst attaches to a report.", maxReportStrikes, reportSites),
		[]any{ref("from"), ref("to"), ref("agreement"), ref("strikeSource"), ref("dataVersion"), ref("fReport")}, ok("the report", mediaGeoJSON, "report", "text/csv", nil))}
}

// outcomeNames lists the outcomes of a strike's verdict, gravest first.
func outcomeNames() []string {
	var names []string
	for _, o := range agreement.Outcomes() {
		names = append(names, string(o))
	}
	return names
}
