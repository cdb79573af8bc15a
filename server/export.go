package server

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/export"
)

// exportItems streams every feature of l matching q, in layer order, as
// newline-delimited GeoJSON, CSV or KML: a download for other tools, so it
// is not paged. One feature is encoded at a time, so memory stays bounded
// however large the collection.
func (h *handlers) exportItems(c echo.Context, l *geo.Layer, m *layerMeta, q *itemsQuery) error {
	var picked []int32
	if q.hasBBox {
		l.Search(q.bbox, func(i int) bool {
			picked = append(picked, int32(i))
			return true
		})
		slices.Sort(picked)
	}
	features := func(yield func(*geo.Feature) bool) {
		visit := func(i int) bool {
			return !q.matches(l, m, i) || yield(l.Feature(i))
		}
		if q.hasBBox {
			for _, i := range picked {
				if !visit(int(i)) {
					return
				}
			}
			return
		}
		for i := range l.Len() {
			if !visit(i) {
				return
			}
		}
	}
	opts := export.Options{Name: l.Name()}
	if q.format == export.CSV {
		opts.Columns = export.Columns(features)
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, q.format.ContentType())
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+l.Name()+q.format.Ext()+`"`)
	res.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	w, err := export.NewWriter(res, q.format, opts)
	if err != nil {
		return err
	}
	for f := range features {
		if err := w.Write(f); err != nil {
			// The client went away, or the body already started: nothing
			// useful can be sent now.
			h.log.Warn("export cut short", "collection", l.Name(), "err", err)
			return nil
		}
	}
	return w.Close()
}
