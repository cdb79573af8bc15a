package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/tile"
)

// DefaultTileCacheBytes bounds the rendered-tile cache when Config leaves it 0.
const DefaultTileCacheBytes = 64 << 20

// DefaultFeatureCacheBytes bounds the kept GeoJSON of features when Config
// leaves it 0.
const DefaultFeatureCacheBytes = 64 << 20

// cacheBytes is the size of a cache configured as configured bytes, where
// 0 means def and a negative size none.
func cacheBytes(configured, def int) int {
	switch {
	case configured == 0:
		return def
	case configured < 0:
		return 0
	}
	return configured
}

// noParams is for resources that take no query parameters.
var noParams = params[struct{}]{}

// tile answers /collections/{id}/tiles/{z}/{x}/{y}[.mvt]: a Mapbox Vector
// Tile in WebMercatorQuad rendered from the index, cached per data version.
// An empty tile is 204; a tile outside the matrix 404.
func (h *handlers) tile(c echo.Context) error {
	_, l, err := h.layerOf(c)
	if err != nil {
		return err
	}
	if err := noParams.parse(c.QueryString(), &struct{}{}, nil); err != nil {
		return err
	}
	path := pathParam(c, "z") + "/" + pathParam(c, "x") + "/" + pathParam(c, "y")
	z, x, y, err := tile.ParsePath(path)
	if err != nil {
		return &ParamError{Param: "z/x/y", Reason: fmt.Sprintf("no tile %s: %v", path, err), Err: err}
	}
	t, err := h.tiles.Tile(l, versionOf(c), z, x, y)
	if err != nil {
		return err
	}
	if t.Empty() {
		return c.NoContent(http.StatusNoContent)
	}
	var body []byte
	if !acceptsGzip(c.Request()) {
		if body, err = t.MVT(); err != nil {
			return err
		}
	}
	return sendTagged(c, tile.ContentType, body, t.Gzip, t.ETag, true)
}

// tileJSON answers /collections/{id}/tiles with a TileJSON 3.0.0 document,
// which map libraries read to find the tiles and their extent.
func (h *handlers) tileJSON(c echo.Context) error {
	_, l, err := h.layerOf(c)
	if err != nil {
		return err
	}
	if err := noParams.parse(c.QueryString(), &struct{}{}, nil); err != nil {
		return err
	}
	url := h.baseURL(c) + collectionPath(l.Name()) + "/tiles/{z}/{x}/{y}.mvt"
	doc, err := tile.TileJSON(l, url, tile.Meta{
		Description: "Protected sites of the " + l.Name() + " collection",
		Attribution: "protectmap; see the data sources of each feature",
	})
	if err != nil {
		return err
	}
	return send(c, mediaJSON, doc, true)
}
