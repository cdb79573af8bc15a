package server

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/geo/tile"
)

// apiPaths describes every route served: one set of paths per collection
// of ix, and the strike log, the basemap and reloading when configured.
func (h *handlers) apiPaths(ix *geo.Index) obj {
	cat := h.catalogFor(ix)
	paths := obj{
		"/": obj{"get": op("getLandingPage", "The landing page: links to the API, conformance and collections; browsers get the map.",
			[]any{ref("fLanding")}, ok("the landing page", mediaJSON, "landingPage", "text/html", nil))},
		"/conformance": obj{"get": op("getConformance", "The conformance classes implemented.",
			[]any{ref("f")}, ok("the conformance classes", mediaJSON, "confClasses"))},
		"/api": obj{"get": op("getAPI", "This document.",
			[]any{ref("f")}, ok("the API definition", mediaOpenAPI, nil))},
		"/collections": obj{"get": op("getCollections", "The collections of protected sites.",
			[]any{ref("fPage")}, ok("the collections", mediaJSON, "collections", "text/html", nil))},
		"/proximity": obj{
			"get": op("getProximity", "The protected sites within radius metres of a point, nearest first, with the exact geodesic distance (WGS84) to each site's real geometry, the bearing to it and its nearest point.",
				[]any{ref("lon"), ref("lat"), ref("radius"), ref("proximityLimit"), ref("collections"), ref("uncertainty"), ref("verdictDatetime"), ref("scope"), ref("proximityGeometry"), ref("dataVersion"), ref("fFeatures")},
				ok("the sites found", mediaGeoJSON, "proximity")),
			"post": withBody(op("postProximity", fmt.Sprintf("Each strike of a FeatureCollection annotated with the protected sites near it: up to %d strikes and %d MiB per request. The whole body is read and every strike answered before the answer starts, so a bad strike anywhere is a 400 and never a cut answer; summary.strikes, last in the answer, counts the strikes answered. Strike properties may carry uncertainty_m (metres) and datetime (RFC 3339): a strike with a date-time (its own, else the datetime parameter) gets a verdict; a date alone fixes no instant and gets none.", maxStrikes, maxBatchBody>>20),
				[]any{ref("radius"), ref("proximityLimit"), ref("collections"), ref("uncertainty"), ref("verdictDatetime"), ref("scope"), ref("dataVersion"), ref("fFeatures")},
				ok("the strikes with their hits", mediaGeoJSON, "proximityBatch")), "strikes"),
		},
		"/nearest": obj{"get": op("getNearest", "The k protected sites nearest to a point, whatever their distance.",
			[]any{ref("lon"), ref("lat"), ref("k"), ref("collections"), ref("uncertainty"), ref("fFeatures")},
			ok("the sites found", mediaGeoJSON, "proximity"))},
		"/healthz": obj{"get": op("getHealth", "Liveness, with the number of features served.",
			[]any{ref("f")}, ok("the server is up", mediaJSON, "health"))},
		"/readyz": obj{"get": readinessOp()},
		"/metrics": obj{"get": op("getMetrics", "Prometheus metrics: requests by route and status, latencies, CPU tokens held, waited for and refused, features per layer, the data version and reloads, the live feed's clients, alert deliveries and their queue.",
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
		alertPaths(paths)
	}
	if h.cfg.Reloader != nil {
		reload := op("reloadData", "Load the data again and swap it in at once; on an error the data served stays as it was.",
			nil, ok("the data now served", mediaJSON, "reload"))
		reload["security"] = []any{obj{"bearer": []any{}}}
		paths["/admin/reload"] = obj{"post": reload}
	}
	// Every request but the operators' waits for a CPU token, and may be
	// refused for want of one.
	for path, ops := range paths {
		if path == "/healthz" || path == "/readyz" || path == "/metrics" {
			continue
		}
		for _, o := range ops.(obj) {
			shedding(o.(obj))
		}
	}
	return paths
}

// collectionPaths describes one collection's resources.
func (h *handlers) collectionPaths(paths obj, l *geo.Layer, m *layerMeta) {
	p, id := collectionPath(l.Name()), l.Name()
	paths[p] = obj{"get": op("describeCollection_"+id, "The "+id+" collection: its extent and links.",
		[]any{ref("fPage")}, ok("the collection", mediaJSON, "collection", "text/html", nil))}
	paths[p+"/queryables"] = obj{"get": op("getQueryables_"+id, "The properties of "+id+" that items can be filtered by (property=value).",
		[]any{ref("f")}, ok("the queryables", mediaSchema, "queryables", mediaJSON, "queryables"))}
	paths[p+"/schema"] = obj{"get": op("getSchema_"+id, "The JSON Schema of a feature of "+id+": every property any feature carries, with its type, and the geometry type.",
		[]any{ref("f")}, ok("the schema", mediaSchema, "queryables", mediaJSON, "queryables"))}

	params := append([]any{ref("fItems"), ref("bbox"), ref("bbox-crs"), ref("crs"), ref("limit"), ref("cursor"), ref("offset"), ref("datetime"), ref("filter"), ref("filter-lang"), ref("filter-crs"), ref("sortby"), ref("properties"), ref("skipGeometry")},
		equalityParams(m.queryables, "features")...)
	paths[p+"/items"] = obj{"get": op("getFeatures_"+id, "The features of "+id+", a page at a time: follow the next link until there is none.",
		params, ok("a page of features", mediaGeoJSON, "featureCollection", "text/html", nil))}

	featureID := obj{"name": "featureId", "in": "path", "required": true, "description": "The feature's id.", "schema": obj{"type": "string"}}
	if l.Len() > 0 {
		featureID["example"] = l.Feature(0).ID
	}
	paths[p+"/items/{featureId}"] = obj{"get": op("getFeature_"+id, "One feature of "+id+".",
		[]any{featureID, ref("fFeature"), ref("crs")}, ok("the feature", mediaGeoJSON, "feature", "text/html", nil))}

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

// readinessOp describes GET /readyz, which answers 503 with the same body
// while the server cannot serve.
func readinessOp() obj {
	o := op("getReadiness", "Readiness: the data is loaded and the strike store (if any) answers; the last reload's outcome.",
		[]any{ref("f")}, ok("ready to serve", mediaJSON, "readiness"))
	o["responses"].(obj)["503"] = obj{"description": "not ready", "content": obj{mediaJSON: obj{"schema": schemaRef("readiness")}}}
	return o
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
	// source has a parameter of its own, which takes a list.
	equality := equalityParams(slices.DeleteFunc(slices.Clone(strikeQueryables), func(q queryable) bool { return q.Name == "source" }), "strikes")
	list := func(id string) obj {
		return op(id, "Recorded strikes by time, then id, a page at a time: follow the next link (a Link header for CSV) until there is none. A filter (or property=value) is evaluated on every strike bbox and datetime select, at most 1,000,000.",
			append([]any{ref("fStrikes"), ref("bbox"), ref("bbox-crs"), ref("crs"), ref("limit"), ref("strikeCursor"), ref("offset"), ref("strikesDatetime"), ref("strikeSource"), ref("from"), ref("to"), ref("oblast"), ref("verdict"), ref("agreement"), ref("reading"),
				ref("hitCollection"), ref("energyClass"), ref("strikesSortby"), ref("properties"), ref("skipGeometry"), ref("filter"), ref("filter-lang"), ref("filter-crs")},
				equality...),
			ok("a page of strikes, or every strike matching as an export", mediaGeoJSON, "strikeLog", "text/csv", nil,
				export.NDJSON.ContentType(), nil, export.KML.ContentType(), nil))
	}
	get := func(id string) obj {
		return op(id, "One strike, with its verdict against the layers and agreements served now (verdict, verdict_now; under scope, if given, with verdict_without_scope), the verdict it was recorded with (verdict_recorded) and whether they differ (verdict_changed), the nearest site however far (nearest_site), its source's link and precision code, and who recorded it. A deleted strike: 410, its history kept.",
			[]any{ref("strikeId"), ref("fFeatures"), ref("scope"), ref("dataVersion"), ref("crs")}, ok("the strike", mediaGeoJSON, "strikeVerdict"))
	}
	del := op("deleteStrike", "Remove a strike from the log, the map and exports, leaving a tombstone: GET then answers 410, and its history stays. A strike already deleted: 410.", []any{ref("strikeId")}, nil)
	responses := del["responses"].(obj)
	delete(responses, "200")
	delete(responses, "304")
	delete(responses, "406")
	responses["204"] = obj{"description": "removed"}
	del["security"] = bearer
	paths["/strikes"] = obj{"get": list("getStrikes"), "post": post}
	paths["/strikes/{featureId}"] = obj{"get": get("getStrike"), "delete": del}
	paths["/strikes/{featureId}/history"] = obj{"get": op("getStrikeHistory", "Every event of one strike, oldest first: created, updated, deleted, by whom and when, each with its record and hash. Kept after the strike is deleted.",
		[]any{ref("strikeId")}, ok("the strike's events", mediaJSON, "strikeHistory"))}
	paths["/strikes/events"] = obj{"get": op("getStrikeEvents", "The strike log live, as Server-Sent Events: one event per strike recorded, updated or deleted, as it is committed. Each has an id line, the event's seq in the audit log (the same on every replica of one database), and a data line, the strike as a GeoJSON Feature whose properties add action (create, update or delete), seq, verdict (the verdict it was recorded with, or null) and, for a delete, deleted_at. A stream starts after the event of Last-Event-ID, else of since, else after the last event committed, so a client that reconnects misses none and gets none twice. Comment lines are heartbeats. A client that falls behind reads what it missed from the store; one that stalls a write is dropped, to reconnect and resume. With alert, only the strikes recorded that concern that alert subscription are sent (ids still those of the audit log, so Last-Event-ID resumes).",
		[]any{queryParam("since", "Start after the event with this id (0: from the first event). Last-Event-ID wins when both are given.", false, obj{"type": "integer", "minimum": 0}),
			queryParam("alert", "Send only the strikes recorded, after the subscription was made, within its distance of its sites: the id of an alert subscription (POST /alerts).", false, obj{"type": "string"}),
			obj{"name": "Last-Event-ID", "in": "header", "required": false, "description": "The id of the last event received: the stream resumes after it (browsers send it when they reconnect).", "schema": obj{"type": "integer", "minimum": 0}}},
		ok("the event stream", mediaEventStream, nil))}
	paths["/strikes/summary"] = obj{"get": op("getStrikeSummary", "The strikes the strike log's filters select, counted by period (day, week or month), oblast and verdict against the data served now: each strike in exactly one row, so the counts add up to strikes. Records of several sources linked as one event (linked_to) count once, in the row of the record most precisely located among those selected (then the earliest, then the least id); records counts them all.",
		append([]any{queryParam("by", "The period to count by.", true, obj{"type": "string", "enum": summaryPeriods}),
			queryParam("group", "What rows count by beside period and verdict, comma-separated: oblast (the default), collection (the collections of the sites hit or possibly hit, a strike hitting two in one row naming both, so rows still add up to strikes), or both.", false,
				obj{"type": "array", "items": obj{"type": "string", "enum": summaryGroups}}),
			ref("bbox"), ref("bbox-crs"), ref("strikesDatetime"), ref("strikeSource"), ref("from"), ref("to"), ref("oblast"), ref("verdict"), ref("agreement"), ref("reading"),
			ref("hitCollection"), ref("energyClass"), ref("filter"), ref("filter-lang"), ref("filter-crs")}, equality...),
		ok("the counts", mediaJSON, "strikeSummary"))}
	paths["/versions"] = obj{"get": op("getVersions", "The data versions kept in the strike store, most recently served first: every version a recorded verdict was judged on (a strike's current verdict or an earlier one its history shows, deleted strikes' included), plus the last served (serve --keep-versions).",
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
	paths["/report"] = obj{"get": op("getReport", fmt.Sprintf("Every recorded strike in a window (up to %d), each with its verdict (under scope, if given, with verdict_without_scope), the agreements in force and breached, the %d protected sites nearest to it, the nearest site however far (nearest_site), its source's link and precision code, and who recorded it: what an analyst attaches to a report.", maxReportStrikes, reportSites),
		[]any{ref("from"), ref("to"), ref("agreement"), ref("reading"), ref("strikeSource"), ref("oblast"), ref("verdict"), ref("hitCollection"), ref("energyClass"), ref("scope"), ref("dataVersion"), ref("fReport")}, ok("the report", mediaGeoJSON, "report", "text/csv", nil, export.KML.ContentType(), nil, export.GeoPackage.ContentType(), nil, "text/html", nil))}
}

// alertPaths describes the alert subscriptions, which belong to the token
// that made them.
func alertPaths(paths obj) {
	bearer := []any{obj{"bearer": []any{}}}
	secured := func(o obj) obj {
		o["security"] = bearer
		return o
	}
	id := obj{"name": "alertId", "in": "path", "required": true, "description": "The subscription's id.", "schema": obj{"type": "string"}}
	create := secured(op("createAlert", "Subscribe to strikes recorded within meters of protected sites: any, those of some collections or classes (kind), or one site. They reach GET /strikes/events?alert=ID and, with a webhook, are POSTed to it, signed (Protectmap-Signature: t=UNIX,v1=HEX, the HMAC-SHA256 by the secret of UNIX.BODY), retried with a doubling backoff, and after the last attempt listed in dead-letters. The secret is in this answer only. A webhook must be http(s) to a public address (or one in serve --webhook-allow), checked again on every connection; redirects are not followed.",
		nil, ok("the subscription", mediaJSON, "alert")))
	create["requestBody"] = obj{"required": true, "content": obj{mediaJSON: obj{"schema": schemaRef("alertInput")}}}
	create["responses"].(obj)["201"] = create["responses"].(obj)["200"]
	delete(create["responses"].(obj), "200")
	delete(create["responses"].(obj), "304")
	del := secured(op("deleteAlert", "Delete a subscription with its deliveries, dead ones included.", []any{id}, nil))
	responses := del["responses"].(obj)
	delete(responses, "200")
	delete(responses, "304")
	responses["204"] = obj{"description": "deleted"}
	paths["/alerts"] = obj{"post": create, "get": secured(op("getAlerts", "The token's alert subscriptions, oldest first (without their secrets).", nil, ok("the subscriptions", mediaJSON, "alerts")))}
	paths["/alerts/{alertId}"] = obj{"get": secured(op("getAlert", "One of the token's alert subscriptions (without its secret); another token's is not found.", []any{id}, ok("the subscription", mediaJSON, "alert"))), "delete": del}
	paths["/alerts/{alertId}/dead-letters"] = obj{"get": secured(op("getAlertDeadLetters", fmt.Sprintf("The subscription's webhook deliveries given up on, the latest queued first (at most %d): after serve --webhook-attempts failures, or queued beyond --max-webhook-queue.", maxDeadLetters),
		[]any{id}, ok("the dead letters", mediaJSON, "deadLetters")))}
}

// op is an operation whose errors are problem documents.
func op(id, summary string, params []any, success obj) obj {
	o := obj{
		"operationId": id,
		"summary":     summary,
		"responses": obj{
			"200":     success,
			"304":     obj{"description": "not modified since the ETag given in If-None-Match"},
			"406":     obj{"$ref": "#/components/responses/notAcceptable"},
			"default": obj{"$ref": "#/components/responses/problem"},
		},
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	return o
}

// shedding is an operation that answers 503 with Retry-After when the
// server is at one of its limits (Limits) or its database is unreachable.
func shedding(o obj) obj {
	o["responses"].(obj)["503"] = obj{"$ref": "#/components/responses/overloaded"}
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

func ref(param string) obj { return obj{"$ref": "#/components/parameters/" + param} }

// equalityParams are the property=value parameters of these queryables.
func equalityParams(qs []queryable, things string) []any {
	params := make([]any, 0, len(qs))
	for _, q := range qs {
		params = append(params, obj{
			"name": q.Name, "in": "query", "required": false,
			"description": "Only " + things + " whose " + q.Name + " property equals this value.",
			"schema":      obj{"type": q.Type},
		})
	}
	return params
}
