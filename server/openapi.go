package server

import (
	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
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

// apiDocument is the OpenAPI document of the data in ix, served at base:
// the paths (openapi_paths.go) and the components they refer to
// (openapi_components.go).
func (h *handlers) apiDocument(ix *geo.Index, base string) obj {
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       serviceTitle,
			"version":     "1.0.0",
			"description": serviceDescription,
			"license":     obj{"name": "MIT"},
		},
		"servers":    []any{obj{"url": base}},
		"paths":      h.apiPaths(ix),
		"components": components(),
	}
}
