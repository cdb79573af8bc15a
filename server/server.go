// Package server is protectmap's HTTP interface: OGC API - Features for GIS
// tools, proximity queries for analysts, and the map for browsers. It
// builds on geo and knows nothing of flags or files.
package server

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/protectmap/protectmap/geo"
)

// Config is what New needs to serve.
type Config struct {
	// Index holds the data being served; a reload stores a new one.
	Index *atomic.Pointer[geo.Index]
	// Logger receives request logs; nil means slog.Default().
	Logger *slog.Logger
	// BaseURL is the public URL of the service root, such as
	// "https://maps.example.org/protectmap", used in every link. Empty means
	// links are built from the request: its Host, or X-Forwarded-Proto and
	// X-Forwarded-Host when a reverse proxy sets them.
	BaseURL string
	// Web is the built map app (index.html and assets/...); nil serves a
	// small HTML page linking the API instead.
	Web fs.FS
	// Basemap is the offline basemap served at /basemap.geojson; nil means none.
	Basemap []byte
	// TileURL is the raster tile template the map app uses, such as
	// "https://tile.openstreetmap.org/{z}/{x}/{y}.png"; empty means the map
	// stays offline on the basemap.
	TileURL string
	// TileAttribution is the credit shown for TileURL's tiles.
	TileAttribution string
	// CORSOrigins are the origins allowed to call the API from a browser;
	// nil means any ("*").
	CORSOrigins []string
}

// handlers holds the state every route shares; it is built once by New.
type handlers struct {
	cfg     Config
	log     *slog.Logger
	base    string // cfg.BaseURL without a trailing slash
	catalog atomic.Pointer[catalog]
	basemap *static
}

// New builds the HTTP handler.
func New(cfg Config) *echo.Echo {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &handlers{cfg: cfg, log: cfg.Logger, base: strings.TrimSuffix(cfg.BaseURL, "/")}
	if cfg.Basemap != nil {
		h.basemap = newStatic(mediaGeoJSON, cfg.Basemap)
	}
	origins := cfg.CORSOrigins
	if len(origins) == 0 {
		origins = []string{"*"}
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.handleError
	// Logged client addresses come from X-Forwarded-For only when a proxy
	// on a loopback or private address set it.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(h.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		// handleError logs the panic once, with its request, and answers 500.
		LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
			return fmt.Errorf("panic: %w\n%s", err, stack)
		},
	}))
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  origins,
		AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowHeaders:  []string{echo.HeaderContentType, headerIfNoneMatch},
		ExposeHeaders: []string{echo.HeaderContentType, "ETag"},
		MaxAge:        86400,
	}))

	get := func(path string, fn echo.HandlerFunc) {
		e.GET(path, fn)
		e.HEAD(path, fn)
	}
	get("/", h.landing)
	get("/conformance", h.conformance)
	get("/api", h.openAPI)
	get("/collections", h.collections)
	get("/collections/:collectionId", h.collection)
	get("/collections/:collectionId/queryables", h.queryables)
	get("/collections/:collectionId/items", h.items)
	get("/collections/:collectionId/items/:featureId", h.item)
	get("/proximity", h.proximity)
	e.POST("/proximity", h.proximityBatch)
	get("/nearest", h.nearest)
	get("/healthz", h.health)
	get("/map-config.json", h.mapConfig)
	get("/basemap.geojson", h.basemapFile)
	get("/assets/*", h.asset)
	return e
}

// index is the data to answer one request from: loaded once per request so
// a reload mid-request cannot mix two versions.
func (h *handlers) index() *geo.Index { return h.cfg.Index.Load() }

func (h *handlers) health(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"status":"ok","features":`...)
	b = appendInt(b, h.index().Len())
	*buf = append(b, "}\n"...)
	return send(c, mediaJSON, *buf, false)
}

// logRequests logs each request once it is answered, errors included.
func (h *handlers) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		r, w := c.Request(), c.Response()
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("uri", r.RequestURI),
			slog.Int("status", w.Status),
			slog.Int64("bytes", w.Size),
			slog.Duration("took", time.Since(start)),
			slog.String("remote", c.RealIP()))
		return nil
	}
}
