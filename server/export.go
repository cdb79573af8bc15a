package server

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/server/store"
)

// exportItems streams every feature of l matching q, in layer order, as
// newline-delimited GeoJSON, CSV or KML: a download for other tools, so it
// is not paged. One feature is encoded at a time, so memory stays bounded
// however large the collection.
func (h *handlers) exportItems(c echo.Context, l *geo.Layer, m *layerMeta, q *itemsQuery, gone *stopper) error {
	var picked []int32
	narrowed := q.hasBBox || q.filter != nil
	if narrowed {
		q.candidates(l, func(i int) bool {
			picked = append(picked, int32(i))
			return !gone.stop()
		})
		if gone.err != nil {
			return gone.err
		}
		slices.Sort(picked)
	}
	features := func(yield func(*geo.Feature) bool) {
		visit := func(i int) bool {
			return !gone.stop() && (!q.matches(l, m, i) || yield(l.Feature(i)))
		}
		if narrowed {
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
		if opts.Columns = export.Columns(features); gone.err != nil {
			return gone.err
		}
	}
	// The whole collection is the same bytes for every client: kept
	// gzipped for those that take it.
	if whole := !narrowed && !q.hasTime && len(q.filters) == 0; whole {
		if acceptsGzip(c.Request()) {
			dl, err := h.downloads.get(versionOf(c), l.Name(), q.format, writeAll(l), opts)
			if err != nil {
				return err
			}
			if dl.gzip != nil {
				setAttachment(c, opts.Name, q.format)
				return sendTagged(c, q.format.ContentType(), nil, dl.gzip, dl.etag, true)
			}
		}
		addVary(c.Response().Header(), echo.HeaderAcceptEncoding)
	}
	return h.writeExport(c, q.format, opts, features)
}

// setAttachment names the file an export is saved as.
func setAttachment(c echo.Context, name string, format export.Format) {
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+format.Ext()+`"`)
}

// exportStrikes streams every strike matching q (its bbox and datetime; a
// cursor starts it further on), by time then id, as newline-delimited
// GeoJSON or KML. The log is read a page at a time, so memory stays bounded
// however long it is; the first page is read before answering, so a store
// that fails gets its problem response.
func (h *handlers) exportStrikes(c echo.Context, q *strikesQuery) error {
	sq := q.storeQuery()
	sq.Limit = store.MaxLimit
	page, err := h.strikesPage(c, sq)
	if err != nil {
		return err
	}
	strikes := func(yield func(*geo.Feature) bool) {
		for {
			for i := range page.Strikes {
				ok, err := q.matches(&page.Strikes[i])
				if err != nil {
					h.log.Warn("export cut short", "collection", strikesCollection, "err", err)
					return
				}
				if !ok {
					continue
				}
				f := page.Strikes[i].Feature()
				if !yield(&f) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			sq.Cursor = page.Next
			if page, err = h.cfg.Store.List(c.Request().Context(), sq); err != nil {
				h.log.Warn("export cut short", "collection", strikesCollection, "err", err)
				return
			}
		}
	}
	return h.writeExport(c, q.format, export.Options{Name: strikesCollection}, strikes)
}

// writeExport answers with features as an attachment in format. An
// export whose client went away stops with the context's error, and
// without the closing lines that would make a cut answer look whole.
func (h *handlers) writeExport(c echo.Context, format export.Format, opts export.Options, features func(yield func(*geo.Feature) bool)) error {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, format.ContentType())
	setAttachment(c, opts.Name, format)
	res.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	w, err := export.NewWriter(res, format, opts)
	if err != nil {
		return err
	}
	for f := range features {
		if err := w.Write(f); err != nil {
			// The body has started: nothing useful can be sent now.
			if werr := writeFault(err); werr != nil {
				return werr
			}
			h.log.Warn("export cut short", "collection", opts.Name, "err", err)
			return nil
		}
	}
	if err := c.Request().Context().Err(); err != nil {
		return err
	}
	return w.Close()
}
