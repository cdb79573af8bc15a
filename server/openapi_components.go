package server

import (
	"maps"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/crs"
	"github.com/protectmap/protectmap/server/store"
)

// components are the document's reusable parts, which operations refer
// to by $ref.
func components() obj {
	return obj{
		"parameters": parameters(),
		"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
			"description": "A token from the server's --tokens-file or PROTECTMAP_TOKENS. Missing, malformed or unknown: 401 with a WWW-Authenticate challenge; writes disabled (no tokens configured): 403."}},
		"responses": obj{
			"problem":       problemResponse("an error, as RFC 9457 problem details"),
			"notAcceptable": problemResponse("none of the representations offered is one the Accept header or the f parameter allows; the problem names those offered"),
			"overloaded":    withRetryAfter(problemResponse("the server is at one of its limits (requests computing, answers in flight, large requests, live feed clients) or its database is unreachable: retry after Retry-After seconds")),
		},
		"schemas": schemas(),
	}
}

// parameters are the query and path parameters operations share.
func parameters() obj {
	number := obj{"type": "number"}
	return obj{
		"f": queryParam("f", "The representation: JSON.", false,
			obj{"type": "string", "enum": []string{"json"}}),
		"fFeatures": queryParam("f", "The representation: GeoJSON (json and geojson both name it).", false,
			obj{"type": "string", "enum": []string{"json", "geojson"}}),
		"fItems": queryParam("f", "The representation: GeoJSON pages (json and geojson both name it), the page as a web page with a map (html, which browsers get by default), or the whole selection streamed as newline-delimited GeoJSON (ndjson), CSV with a WKT column (csv) or KML (kml); the Accept header chooses too.", false,
			obj{"type": "string", "enum": []string{"json", "geojson", "html", "ndjson", "csv", "kml"}}),
		"fFeature": queryParam("f", "The representation: GeoJSON (json and geojson both name it), or a web page with a map (html, which browsers get by default).", false,
			obj{"type": "string", "enum": []string{"json", "geojson", "html"}}),
		"fPage": queryParam("f", "The representation: JSON, or a web page (html, which browsers get by default).", false,
			obj{"type": "string", "enum": []string{"json", "html"}}),
		"fLanding": queryParam("f", "The representation: json for the landing page, html for the map (which browsers get by default).", false,
			obj{"type": "string", "enum": []string{"json", "html"}}),
		"limit": queryParam("limit", "Features per page; a larger value is clamped to the maximum.", false,
			countSchema(defaultItemsLimit, maxItemsLimit), "style", "form", "explode", false),
		"bbox": queryParam("bbox", "Only features whose geometry intersects this box: minLon,minLat,maxLon,maxLat in CRS84 degrees. A box with minLon > maxLon crosses the antimeridian.", false,
			obj{"type": "array", "items": number, "minItems": 4, "maxItems": 6}, "style", "form", "explode", false),
		"bbox-crs": queryParam("bbox-crs", "The bbox's coordinate reference system (OGC API - Features Part 2): its corners in that CRS's axis order (EPSG:4326 latitude first). A UTM box is its outline, sampled 256 times a side, as an exact spatial filter; the strike log takes CRS84, EPSG:4326 and EPSG:3857 only. Short names such as EPSG:3857 are read too.", false,
			obj{"type": "string", "enum": crs.URIs(), "default": crs84URI}),
		"crs": queryParam("crs", "The coordinate reference system of the response's geometries (OGC API - Features Part 2), named in its Content-Crs header: CRS84 (the default), EPSG:4326 (latitude, longitude), EPSG:3857 (Web Mercator, latitudes clamped to ±85.0511°) or UTM zones 34N-37N (EPSG:32634-32637). GeoJSON only.", false,
			obj{"type": "string", "enum": crs.URIs(), "default": crs84URI}),
		"cursor": queryParam("cursor", "Where a page starts; take it from a next or prev link.", false, obj{"type": "string"}),
		"filter": queryParam("filter", "A CQL2 filter (OGC API - Features Part 3) in filter-lang: comparisons, AND/OR/NOT, IS NULL, LIKE, BETWEEN, IN, CASEI, TIMESTAMP/DATE, S_INTERSECTS/S_DISJOINT/S_WITHIN/S_CONTAINS/S_EQUALS/S_TOUCHES/S_OVERLAPS/S_CROSSES with the geometry property and a WKT or BBOX literal, DWITHIN(geometry, POINT(lon lat), metres), geodesic, and the T_ temporal functions of instants and INTERVAL(start, end). A filter that does not parse gets 400 naming the position and what was expected.", false,
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
		"radius":         queryParam("radius", "Search radius in metres; it defaults to 1000, or to the uncertainty when that is larger.", false, metersSchema(defaultRadiusMeters)),
		"proximityLimit": queryParam("limit", "At most this many sites per point; a larger value is clamped to the maximum.", false, countSchema(defaultProximityLimit, maxProximityLimit)),
		"k":              queryParam("k", "How many sites; a larger value is clamped to the maximum.", false, countSchema(defaultNearestK, maxNearestK)),
		"collections": queryParam("collections", "Comma-separated collection ids to search; all by default.", false,
			arrayOf(obj{"type": "string"}), "style", "form", "explode", false),
		"proximityGeometry": queryParam("geometry", "What of each site's geometry the answer carries: full (as stored), simplified (Douglas-Peucker at 0.0001°, about 11 m; a site smaller than that keeps its own) or none (null).",
			false, obj{"type": "string", "enum": []string{"full", "simplified", "none"}, "default": "full"}),
		"uncertainty": queryParam("uncertainty", "The strike location's error radius in metres: a site within it is possibly hit.", false, metersSchema(0)),
		"verdictDatetime": queryParam("datetime", "The strike's instant, RFC 3339 with an offset: each site then lists the agreements protecting it at that instant (protected_by) and the summary gives the verdict. POST /proximity uses it for strikes without a datetime of their own.", false,
			obj{"type": "string", "format": "date-time"}, "example", "2025-03-20T04:10:00+02:00"),
		"scope": queryParam("scope", "Comma-separated collections a hypothetical agreement covers (all their sites, at all times, no buffer), judged beside the real ones and listed as agreement \"scope\"; verdict_without_scope keeps the real agreements' verdict. Needs datetime on GET /proximity; a strike and a report judge each strike at its own time.", false,
			arrayOf(obj{"type": "string"}), "style", "form", "explode", false),
		"fStrikes": queryParam("f", "The representation: GeoJSON (json, geojson) or CSV pages; or ndjson (newline-delimited GeoJSON) or kml, an export of every strike matching, not paged. Without f, the Accept header chooses.", false,
			obj{"type": "string", "enum": []string{"json", "geojson", "csv", "ndjson", "kml"}}),
		"strikesDatetime": queryParam("datetime", "Only strikes at this instant, on this date, or in this interval (start/end, '..' for an open end), ends included.", false,
			obj{"type": "string"}),
		"strikeCursor": queryParam("cursor", "Where a page starts; take it from a next link.", false, obj{"type": "string"}),
		"strikeId":     obj{"name": "featureId", "in": "path", "required": true, "description": "The strike's id, as the store assigned it.", "schema": obj{"type": "string"}},
		"from":         queryParam("from", "Only strikes from this instant (RFC 3339) or day on, included.", false, obj{"type": "string"}),
		"to":           queryParam("to", "Only strikes up to this instant (RFC 3339) or day, included.", false, obj{"type": "string"}),
		"agreement":    queryParam("agreement", "Judge by this agreement alone, and only strikes within its window.", false, obj{"type": "string"}),
		"reading":      queryParam("reading", "With agreement: verdict and collection select by the verdict under this reading of it (such as ru), which may be not_in_force.", false, obj{"type": "string"}),
		"oblast": queryParam("oblast", "Only strikes whose point lies in these oblasts, comma-separated ISO 3166-2 codes (UA-63), found from the point in the basemap's outlines.", false,
			obj{"type": "string"}, "example", "UA-63"),
		"verdict": queryParam("verdict", "Only strikes with these verdicts against the data served now, comma-separated.", false,
			obj{"type": "string"}, "example", "protected_site_hit,possible_protected_site_hit"),
		"hitCollection": queryParam("collection", "Only strikes that hit, or possibly hit, a protected site of these collections, comma-separated.", false, obj{"type": "string"}),
		"energyClass": queryParam("energy_class", "Only strikes that hit, or possibly hit, a protected energy site of these classes, comma-separated.", false,
			obj{"type": "string"}, "example", "substation"),
		"strikeSource": queryParam("source", "Only strikes from these sources, comma-separated, named as recorded (such as UCDP,ACLED); up to 20.", false, obj{"type": "string"}),
		"dataVersion":  queryParam("data_version", "Judge against this earlier data version (layers and agreements) as kept in the strike store, rebuilt exactly, instead of the data served now; GET /versions lists those kept. One not kept: 404.", false, obj{"type": "string"}),
		"auditFrom":    queryParam("from", "Only events at or after this instant (RFC 3339) or day.", false, obj{"type": "string"}),
		"auditTo":      queryParam("to", "Only events at or before this instant (RFC 3339) or day.", false, obj{"type": "string"}),
		"auditCursor":  queryParam("cursor", "Where a page starts; take it from a next link.", false, obj{"type": "string"}),
		"fReport": queryParam("f", "The representation: GeoJSON (json, geojson), CSV, KML or GeoPackage (gpkg); without f, Accept picks one by its media type. Each carries the manifest: GeoJSON in its manifest member, CSV as Protectmap-* headers, KML as JSON in the Document's ExtendedData (Data protectmap_manifest, body_sha256 over the Placemarks' bytes), GeoPackage as JSON in gpkg_metadata referring to its layer strikes and in the layer's description (body_sha256 that of the same rows as the CSV report); html (or Accept: text/html) is a printable page: the manifest (body_sha256 that of the same rows as the CSV report), the query, the verdicts counted, an inline SVG map of the strikes over the oblasts' outlines, and a row a strike, loading nothing else.", false,
			obj{"type": "string", "enum": []string{"json", "geojson", "csv", "kml", "gpkg", "html"}}),
	}
}

// schemas are the schemas of what the server reads and writes, gathered
// from each part of the API.
func schemas() obj {
	s := ogcSchemas()
	for _, part := range []obj{proximitySchemas(), agreementSchemas(), strikeSchemas(), opsSchemas()} {
		maps.Copy(s, part)
	}
	return s
}

// ogcSchemas describe OGC API - Features' resources, GeoJSON and problems.
func ogcSchemas() obj {
	number := obj{"type": "number"}
	links := arrayOf(schemaRef("link"))
	return obj{
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
		"problem": object([]string{"type", "title", "status"}, obj{
			"type": obj{"type": "string"}, "title": obj{"type": "string"}, "status": obj{"type": "integer"},
			"detail": obj{"type": "string"}, "instance": obj{"type": "string"},
			"invalid-params": arrayOf(object([]string{"name", "reason"}, obj{"name": obj{"type": "string"}, "reason": obj{"type": "string"}})),
		}),
	}
}

// proximitySchemas describe what /proximity and /nearest read and answer.
func proximitySchemas() obj {
	number := obj{"type": "number"}
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
					"uncertainty_m": metersSchema(0),
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
	}
}

// agreementSchemas describe agreements, their readings and verdicts.
func agreementSchemas() obj {
	number := obj{"type": "number"}
	links := arrayOf(schemaRef("link"))
	return obj{
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
	}
}

// strikeSchemas describe the strike log, its audit trail, data versions
// and reports.
func strikeSchemas() obj {
	number := obj{"type": "number"}
	links := arrayOf(schemaRef("link"))
	return obj{
		"strike": obj{"allOf": []any{schemaRef("feature"), object(nil, obj{"properties": object([]string{"datetime", "uncertainty_m", "created_at", "updated_at"}, obj{
			"datetime": obj{"type": "string", "format": "date-time"}, "uncertainty_m": metersSchema(0),
			"end":    obj{"type": "string", "format": "date-time", "description": "for an event reported over a window from datetime: the first instant after it; absent for one instant"},
			"source": obj{"type": "string"}, "event_id": nullable("string"), "weapon": obj{"type": "string"}, "notes": obj{"type": "string"},
			"created_at": obj{"type": "string", "format": "date-time"}, "updated_at": obj{"type": "string", "format": "date-time"},
		})})}},
		"strikeVerdict": obj{"allOf": []any{schemaRef("strike"), object(nil, obj{"properties": object(nil, withMembers(obj{
			"verdict":          schemaRef("verdict"),
			"verdict_error":    str("why no verdict could be computed: the uncertainty plus a buffer reaches too far"),
			"verdict_recorded": obj{"allOf": []any{schemaRef("judgedVerdict")}, "nullable": true, "description": "the verdict stored with the strike when it was recorded (or back-filled when an older store was upgraded); null for a strike recorded without one"},
			"verdict_now":      obj{"allOf": []any{schemaRef("judgedVerdict")}, "description": "the verdict against the data served now, or the data_version asked for"},
			"verdict_changed":  obj{"type": "boolean", "description": "true when verdict_now differs from verdict_recorded in outcome, agreements in force or protected sites"},
		}, strikeFactSchemas())), "summary": object([]string{"verdict", "agreement_status", "readings"}, obj{
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
		"alertInput": object([]string{"meters"}, obj{
			"meters":      obj{"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": geo.MaxRadiusMeters, "description": "the largest geodesic distance from a strike to a site"},
			"collections": obj{"type": "array", "items": obj{"type": "string"}, "maxItems": 100, "description": "only the sites of these collections (default: all)"},
			"classes":     obj{"type": "array", "items": obj{"type": "string"}, "maxItems": 100, "description": "only the sites whose kind is one of these (default: any)"},
			"site":        str("only this site, as collectionId/featureId"),
			"webhook":     obj{"type": "string", "format": "uri", "description": "where deliveries are POSTed (http or https, a public address unless allowed by serve --webhook-allow)"},
		}),
		"alert": object([]string{"id", "owner", "meters", "created", "events"}, obj{
			"id": obj{"type": "string"}, "owner": str("the name of the token that made it"), "meters": obj{"type": "number"},
			"collections": arrayOf(obj{"type": "string"}), "classes": arrayOf(obj{"type": "string"}), "site": obj{"type": "string"},
			"webhook": obj{"type": "string"}, "created": obj{"type": "string", "format": "date-time"},
			"events": str("the live feed of its strikes"),
			"secret": str("hex key of the webhook signatures; in the answer to POST /alerts only"),
		}),
		"alerts": object([]string{"alerts"}, obj{"alerts": arrayOf(schemaRef("alert"))}),
		"deadLetters": object([]string{"dead_letters"}, obj{"dead_letters": arrayOf(object([]string{"delivery", "seq", "attempts", "last_error", "created", "payload"}, obj{
			"delivery": str("the Protectmap-Delivery header it was sent with"), "seq": obj{"type": "integer", "description": "the strike event's"},
			"attempts": obj{"type": "integer"}, "last_error": obj{"type": "string"}, "created": obj{"type": "string", "format": "date-time"},
			"payload": object([]string{"alert", "seq", "strike", "sites"}, obj{"alert": obj{"type": "string"}, "seq": obj{"type": "integer"},
				"strike": obj{"type": "object", "description": "the strike as GET /strikes/events sends it"},
				"sites": arrayOf(object([]string{"collection", "id", "meters"}, obj{"collection": obj{"type": "string"}, "id": obj{"type": "string"},
					"name": obj{"type": "string"}, "kind": obj{"type": "string"}, "meters": obj{"type": "number"}}))}),
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
		"strikePut": object([]string{"strikes", "created", "updated", "unchanged", "linked", "links"}, obj{
			"strikes": arrayOf(object([]string{"id", "status", "href"}, obj{
				"id": obj{"type": "string"}, "status": obj{"type": "string", "enum": []string{"created", "updated", "unchanged", "linked"}}, "href": obj{"type": "string"},
			})),
			"created": obj{"type": "integer", "minimum": 0}, "updated": obj{"type": "integer", "minimum": 0}, "unchanged": obj{"type": "integer", "minimum": 0},
			"linked": obj{"type": "integer", "minimum": 0, "description": "CSV strikes that a thinner copy of a data set restates: linked to the strike recorded, which stays as it is"}, "links": links,
		}),
		"strikeLog": object([]string{"type", "features", "links"}, obj{
			"type": obj{"type": "string", "enum": []string{"FeatureCollection"}}, "features": arrayOf(schemaRef("strike")),
			"numberReturned": obj{"type": "integer", "minimum": 0}, "timeStamp": obj{"type": "string", "format": "date-time"}, "links": links,
			"numberMatched": obj{"type": "integer", "minimum": 0, "description": "the records matched, every source's"},
			"numberEvents":  obj{"type": "integer", "minimum": 0, "description": "the events among them: records of several sources linked as one event (linked_to) count once; absent when more than 1,000,000 records match"},
		}),
		"strikeSummary": object([]string{"by", "strikes", "rows"}, obj{
			"by":      obj{"type": "string", "enum": summaryPeriods},
			"group":   obj{"type": "array", "items": obj{"type": "string", "enum": summaryGroups}},
			"strikes": obj{"type": "integer", "description": "the strikes (events) matched, records of several sources linked as one event counted once; the rows' counts add up to it"},
			"records": obj{"type": "integer", "description": "the records matched, every source's"},
			"rows": obj{"type": "array", "items": object([]string{"period", "verdict", "count"}, obj{
				"period":     obj{"type": "string", "description": "2025-03-20, 2025-W12 (ISO week) or 2025-03, in UTC, by the strike's datetime"},
				"oblast":     obj{"type": "string", "nullable": true, "description": "grouped by oblast (the default): the ISO 3166-2 code; null outside every outline"},
				"collection": obj{"type": "string", "nullable": true, "description": "grouped by collection: the collections of the sites hit or possibly hit, sorted, comma-separated; null when none"},
				"verdict":    obj{"type": "string"},
				"count":      obj{"type": "integer"},
			})},
			"links": obj{"type": "array", "items": obj{"$ref": "#/components/schemas/link"}},
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
				"scope":              obj{"type": "array", "items": obj{"type": "string"}, "description": "the scope judged under, when the report was asked for one (a CSV report: Protectmap-Scope, comma-separated)"},
			}),
			"type": obj{"type": "string", "enum": []string{"FeatureCollection"}},
			"query": object(nil, obj{"from": nullable("string"), "to": nullable("string"), "agreement": nullable("string"),
				"source": obj{"type": "array", "items": obj{"type": "string"}, "nullable": true},
				"scope":  obj{"type": "array", "items": obj{"type": "string"}, "nullable": true}}),
			"summary": object([]string{"strikes", "records"}, obj{"strikes": obj{"type": "integer", "description": "events: records of several sources linked as one event count once, by the verdict of the record the event is counted by"},
				"records": obj{"type": "integer", "description": "the report's records, every source's"}, string(agreement.ProtectedSiteHit): obj{"type": "integer"},
				string(agreement.PossibleProtectedSiteHit): obj{"type": "integer"}, string(agreement.ProtectedSiteNearby): obj{"type": "integer"},
				string(agreement.NoProtectedSite): obj{"type": "integer"}, string(agreement.LocationTooCoarse): obj{"type": "integer"},
				"disputed": obj{"type": "integer", "description": "strikes whose agreements' readings disagree"}}),
			"features": arrayOf(obj{"allOf": []any{schemaRef("strike"), object(nil, obj{"properties": object([]string{"verdict", "agreements_in_force", "agreements_breached", "agreement_status", "readings", "protected_sites"}, withMembers(obj{
				"verdict": schemaRef("outcome"), "agreements_in_force": arrayOf(obj{"type": "string"}), "agreements_breached": arrayOf(obj{"type": "string"}),
				"agreement_status": schemaRef("agreementStatus"), "readings": arrayOf(schemaRef("readingVerdict")),
				"protected_sites": arrayOf(object([]string{"collection", "id", "distance_m", "protected_by"}, obj{
					"collection": obj{"type": "string"}, "id": obj{"type": "string"}, "name": obj{"type": "string"},
					"distance_m": number, "protected_by": arrayOf(schemaRef("protection")),
				})),
				"verdict_without_scope": obj{"allOf": []any{schemaRef("outcome")}, "description": "with scope: the verdict of the real agreements alone"},
			}, strikeFactSchemas()))})}}),
		}),
	}
}

// strikeFactSchemas describe what a served strike and a report row carry
// beside the verdict.
func strikeFactSchemas() obj {
	return obj{
		propNearestSite: obj{"nullable": true, "description": "the site nearest the strike, however far and whether or not an agreement protects it (of the scope's collections, with scope); null only when no layer has a site",
			"allOf": []any{object([]string{"collection", "id", "distance_m"}, obj{
				"collection": obj{"type": "string"}, "id": obj{"type": "string"}, "name": obj{"type": "string"},
				"kind": str("the site's kind property, such as substation, hospital or bridge"), "distance_m": obj{"type": "number", "minimum": 0},
			})}},
		propSourceLink: nullableText("the event's page: the strike's source_url or url property when it is an http(s) address; null otherwise (ACLED and UCDP publish no page per event)"),
		propPrecision:  nullableText("the source's precision code as column=code: where_prec=1 to 7 (UCDP), geo_precision=1 to 3 (ACLED); null for other sources"),
		propRecordedBy: nullableText("who recorded the strike: the actor of its first audit event (the token's name, or import's --actor)"),
		propLinkedTo:   linkRefs("the records of other sources linked to this one as the same event (same day or overlapping windows of at most a week, points within their uncertainties added plus 100 m, each the other's only match of its source); null when none"),
		propCandidates: linkRefs("the records of other sources this one matches without being linked to them, since it or they match more than one record of a source; null when none"),
	}
}

// opsSchemas describe what operators and the map app read.
func opsSchemas() obj {
	return obj{
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
	}
}

// metersSchema is a distance in metres up to geo.MaxRadiusMeters, with
// def as its default when positive.
func metersSchema(def float64) obj {
	s := obj{"type": "number", "minimum": 0, "maximum": geo.MaxRadiusMeters}
	if def > 0 {
		s["default"] = def
	}
	return s
}

// countSchema is a count from 1, clamped to maximum.
func countSchema(def, maximum int) obj {
	return obj{"type": "integer", "minimum": 1, "maximum": maximum, "default": def}
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

// outcomeNames lists the outcomes of a strike's verdict, gravest first.
func outcomeNames() []string {
	var names []string
	for _, o := range agreement.Outcomes() {
		names = append(names, string(o))
	}
	return names
}

// queryParam is a query parameter; extra are more of its fields, as name
// and value pairs.
func queryParam(name, description string, required bool, schema obj, extra ...any) obj {
	p := obj{"name": name, "in": "query", "required": required, "description": description, "schema": schema}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i].(string)] = extra[i+1]
	}
	return p
}

// schemaRef, arrayOf, object, nullable and str build schemas.
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
func nullable(typ string) obj { return obj{"type": typ, "nullable": true} }

// nullableText is a string that may be null, described.
func nullableText(description string) obj {
	return obj{"type": "string", "nullable": true, "description": description}
}

// withMembers is props with more members added.
func withMembers(props, more obj) obj {
	maps.Copy(props, more)
	return props
}

// linkRefs describes a list of other records of the strike log.
func linkRefs(description string) obj {
	return obj{"type": "array", "nullable": true, "description": description, "items": object([]string{"id", "source"}, obj{
		"id": str("the record's id in the strike log"), "source": obj{"type": "string"}, "event_id": str("its source's event id"),
	})}
}

func str(description string) obj { return obj{"type": "string", "description": description} }

func problemResponse(description string) obj {
	return obj{"description": description, "content": obj{mediaProblem: obj{"schema": schemaRef("problem")}}}
}

func withRetryAfter(response obj) obj {
	response["headers"] = obj{"Retry-After": obj{"description": "seconds to wait before retrying", "schema": obj{"type": "integer", "minimum": 0}}}
	return response
}
