package server

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// geometryFormat is the Features Part 5 format of a geometry member whose
// features are all of GeoJSON type t, or of mixed types when t is empty.
func geometryFormat(types []string) string {
	if len(types) != 1 {
		return "geometry-any"
	}
	return "geometry-" + strings.ToLower(types[0])
}

// featureSchema is the JSON Schema of one feature of a collection: every
// property any feature carries, with its type, and the geometry's type.
// Clients such as GDAL read a collection's fields from it instead of
// guessing them from the first page of items.
func featureSchema(id, title string, geometryTypes []string, fields []field) map[string]any {
	props := make(map[string]any, len(fields))
	for _, f := range fields {
		p := map[string]any{"title": f.Name}
		if f.Type != "" {
			p["type"] = f.Type
		} else {
			p["description"] = "values of several JSON types"
		}
		if f.Format != "" {
			p["format"] = f.Format
		}
		props[f.Name] = p
	}
	geometry := map[string]any{"x-ogc-role": "primary-geometry", "format": geometryFormat(geometryTypes)}
	if len(geometryTypes) > 0 {
		geometry["description"] = "GeoJSON " + strings.Join(geometryTypes, ", ")
	}
	return map[string]any{
		"$schema":  "https://json-schema.org/draft/2020-12/schema",
		"$id":      id,
		"title":    title,
		"type":     "object",
		"required": []string{"type", "geometry", "properties"},
		"properties": map[string]any{
			"type":       map[string]any{"type": "string", "enum": []string{"Feature"}},
			"id":         map[string]any{"type": "string", "x-ogc-role": "id"},
			"geometry":   geometry,
			"properties": map[string]any{"type": "object", "properties": props},
		},
	}
}

// schema answers /collections/{id}/schema with featureSchema.
func (h *handlers) schema(c echo.Context) error {
	ix, l, err := h.describedLayer(c)
	if err != nil {
		return err
	}
	m := h.catalogFor(ix).meta(l)
	id := h.baseURL(c) + collectionPath(l.Name()) + "/schema"
	return sendSchema(c, featureSchema(id, l.Name(), m.geometryTypes, m.fields))
}

// sendSchema sends a JSON Schema as application/schema+json, which OGC API
// asks for; a client that names only application/json (GDAL does) would
// refuse that type, so it gets its own.
func sendSchema(c echo.Context, schema map[string]any) error {
	// f=json names both; the Accept header picks one, or, refusing both,
	// yields to f.
	i, err := accepts(c, asSchema, asJSON)
	if err != nil && queryArg(c, "f") == "" {
		return err
	}
	return sendJSON(c, []string{mediaSchema, mediaJSON}[i], schema, true)
}
