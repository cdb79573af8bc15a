// Package server is protectmap's HTTP interface: OGC API - Features for GIS
// tools, proximity queries for analysts, and the map for browsers. It
// builds on geo and knows nothing of flags or files.
package server

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/tile"
	"github.com/protectmap/protectmap/server/store"
)

// Config is what New needs to serve.
type Config struct {
	// Index holds the data being served; a reload stores a new one.
	Index *atomic.Pointer[geo.Index]
	// Logger receives the server's log; nil means slog.Default().
	Logger *slog.Logger
	// RequestLogger receives the request log, a line a request; nil means
	// Logger.
	RequestLogger *slog.Logger
	// BaseURL is the public URL of the service root, such as
	// "https://maps.example.org/protectmap", used in every link. Empty means
	// links are built from the request: its Host, or X-Forwarded-Proto and
	// X-Forwarded-Host when a trusted proxy sets them.
	BaseURL string
	// TrustedProxies are the peers whose X-Forwarded-Proto, X-Forwarded-For
	// and X-Forwarded-Host are believed (see ParseTrustedProxies); from
	// any other peer those headers are ignored. Nil trusts none.
	TrustedProxies []netip.Prefix
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
	// nil means any ("*"). Credentials are never allowed cross-origin.
	CORSOrigins []string
	// TileCacheBytes bounds the cache of rendered vector tiles; 0 means
	// DefaultTileCacheBytes, negative disables caching.
	TileCacheBytes int
	// FeatureCacheBytes bounds the GeoJSON of features kept, as first
	// written, for the answers that write them again (see
	// geojson.Bodies); 0 means DefaultFeatureCacheBytes, negative keeps
	// none.
	FeatureCacheBytes int
	// GzipStream compresses each proximity answer and items page as one
	// gzip stream as it is sent, rather than stitching its gzip form from
	// the features' bodies compressed once (geojson.Bodies.AppendGzip):
	// about half the bytes of a proximity answer and two fifths of an
	// items page's, for several times the CPU spent compressing.
	GzipStream bool
	// WarmTileZoom, when positive, renders every layer's vector tiles of
	// zooms 0 to WarmTileZoom (at most tile.MaxWarmZoom) into the cache in
	// the background, at start and after every reload, so the first views
	// of a large layer need no rendering.
	WarmTileZoom int
	// DataVersion names the data in Index at start (see Dataset.Version).
	DataVersion string
	// Reloader, when set, reloads the data on POST /admin/reload (with a
	// bearer token) and whenever the program calls its Reload.
	Reloader *Reloader
	// Limits bound request sizes, times and rates; zero fields take
	// DefaultLimits. HTTPServer applies the connection timeouts.
	Limits Limits
	// ConnStats, when set, are reported by /metrics: the same as the
	// serving Server's ConnStats, whose gate counts them.
	ConnStats *ConnStats
	// Agreements are what verdicts judge strikes by. Each index served is
	// checked against them (agreement.NewAgreementSet) when first used; a reload
	// should refuse layers they no longer fit. Nil means none.
	Agreements []agreement.Agreement
	// Store is the strike log behind /strikes, /report and the strikes
	// collection; nil serves none of them.
	Store store.Store
	// ProgramVersion names this build of protectmap in report manifests.
	ProgramVersion string
	// KeepVersions is how many of the most recently served data versions
	// the store keeps beside those a recorded verdict was judged on (see
	// KeepVersion): 0 means DefaultKeepVersions, negative keeps all.
	KeepVersions int
	// Tokens are the bearer tokens accepted for writes (see BearerAuth);
	// with none, every write is refused with 403.
	Tokens []string
	// Context, when it ends, ends the server's long-lived responses (the
	// live feed's streams), which http.Server.Shutdown would otherwise wait
	// for; nil never does. Cancel it before calling Shutdown.
	Context context.Context
	// AllowInsecureTokens accepts Authorization headers over plain HTTP
	// from other machines; by default they need HTTPS (or a loopback client).
	AllowInsecureTokens bool
	// WebhookAllow are networks alert webhooks may be posted to besides
	// public addresses (loopback, private, link-local and shared ones are
	// refused otherwise).
	WebhookAllow []netip.Prefix
}

// handlers holds the state every route shares; it is built once by New.
type handlers struct {
	cfg     Config
	log     *slog.Logger
	base    string // cfg.BaseURL without a trailing slash
	catalog atomic.Pointer[catalog]
	basemap *static
	// pageMap is the map of the HTML pages, from the built app.
	pageMap pageMap
	// agreements are the agreements served, checked against the last index used.
	agreements atomic.Pointer[agreementSet]

	// data is the Dataset being served; swapMu orders its swaps (see current).
	data     atomic.Pointer[Dataset]
	swapMu   sync.Mutex
	boot     string       // names this process in made-up data versions
	versions atomic.Int64 // made-up data versions so far
	limits   Limits
	routes   routeClasses
	proxies  proxies
	heavy    *heavySlots
	cpu      *cpuTokens
	// sitesInFlight are the sites reserved by answers being built (see
	// reserveSites).
	sitesInFlight atomic.Int64
	metrics       *metrics
	tiles         *tile.Cache
	downloads     downloads          // whole collections' exports, gzipped
	stopWarm      context.CancelFunc // ends the warm-up of the tiles of earlier data; swapMu guards it
	// feed passes the strike log's events to GET /strikes/events; nil
	// without a store. done is cfg.Context's Done.
	feed *feed
	done <-chan struct{}
	// old holds earlier data versions rebuilt from the store for ?data_version.
	old oldVersions
	// oblasts are the basemap's outlines strikes are placed in; nil without one.
	oblasts *oblasts
}

// New builds the HTTP handler.
func New(cfg Config) *echo.Echo {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestLogger == nil {
		cfg.RequestLogger = cfg.Logger
	}
	h := &handlers{cfg: cfg, log: cfg.Logger, base: strings.TrimSuffix(cfg.BaseURL, "/"),
		boot: newBootID(), limits: cfg.Limits.withDefaults(), routes: routeClasses{}, proxies: cfg.TrustedProxies}
	h.heavy = newHeavySlots(h.limits)
	h.cpu = newCPUTokens(h.limits)
	h.tiles = tile.NewCache(cacheBytes(cfg.TileCacheBytes, DefaultTileCacheBytes))
	h.metrics = newMetrics(h)
	if cfg.Store != nil {
		h.cfg.Store = h.metrics.timeStore(cfg.Store)
		h.feed = newFeed(h)
	}
	if cfg.Context != nil {
		h.done = cfg.Context.Done()
		if cfg.Store != nil {
			a := &alerter{h: h, client: newWebhookClient(cfg.WebhookAllow, h.limits.WebhookTimeout),
				metrics: newAlertMetrics(h.metrics.reg, h.cfg.Store, h.log)}
			go a.run(cfg.Context)
		}
	}
	h.swap(&Dataset{Index: cfg.Index.Load(), Agreements: cfg.Agreements, Version: cfg.DataVersion})
	if cfg.Reloader != nil {
		cfg.Reloader.h = h
	}
	h.pageMap = readPageMap(cfg.Web)
	if cfg.Basemap != nil {
		h.basemap = newStatic(mediaGeoJSON, cfg.Basemap)
	}
	var err error
	if h.oblasts, err = newOblasts(cfg.Basemap); err != nil {
		h.log.Error("the basemap's oblast outlines cannot be read; oblast= is refused", "err", err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.handleError
	// Client addresses (logged, rate limited) come from X-Forwarded-For
	// only through trusted proxies.
	e.IPExtractor = h.proxies.ipExtractor()
	e.Pre(middleware.RemoveTrailingSlash())
	mws := []echo.MiddlewareFunc{
		h.withRequest,
		h.logRequests,
		securityHeaders(contentSecurityPolicy(cfg.TileURL)),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			// handleError logs the panic once, with its request, and answers 500.
			LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
				return fmt.Errorf("panic: %w\n%s", err, stack)
			},
		}),
		middleware.CORSWithConfig(corsConfig(cfg.CORSOrigins)),
		refuseURLTokens,
		validUTF8,
		tokenTransport(cfg.AllowInsecureTokens, h.proxies),
	}
	if rl := h.rateLimit(); rl != nil {
		mws = append(mws, rl)
	}
	// Writes are authorised before limitRequests, so a request without a
	// valid token never holds one of the heavy requests' slots.
	mws = append(mws, h.routes.only(writeRoute, BearerAuth(cfg.Tokens)), h.limitRequests, h.takeTurns)
	e.Use(composed(mws...))

	add := func(class routeClass, method, path string, fn echo.HandlerFunc) {
		e.Add(method, path, fn)
		h.routes[route{method, path}] = &routeInfo{class: class, series: h.metrics.routeSeries(method, path)}
	}
	getAs := func(class routeClass, path string, fn echo.HandlerFunc) {
		add(class, http.MethodGet, path, fn)
		add(class, http.MethodHead, path, fn)
	}
	get := func(path string, fn echo.HandlerFunc) { getAs(0, path, fn) }
	get("/", h.landing)
	get("/conformance", h.conformance)
	get("/api", h.openAPI)
	get("/collections", h.collections)
	get("/collections/:collectionId", h.collection)
	get("/collections/:collectionId/queryables", h.queryables)
	get("/collections/:collectionId/schema", h.schema)
	get("/collections/:collectionId/items", h.items)
	get("/collections/:collectionId/items/:featureId", h.item)
	get("/collections/:collectionId/tiles", h.tileJSON)
	get("/collections/:collectionId/tiles/:z/:x/:y", h.tile)
	get("/proximity", h.atVersion(h.proximity))
	add(bulkRoute, http.MethodPost, "/proximity", h.atVersion(h.proximityBatch))
	get("/nearest", h.nearest)
	// Liveness (/healthz: the process answers) looks at nothing else, so a
	// liveness probe never restarts a server only waiting for its data.
	getAs(opsRoute, "/healthz", h.health)
	getAs(opsRoute, "/readyz", h.ready)
	getAs(opsRoute, "/metrics", h.metrics.handler())
	if cfg.Reloader != nil {
		add(writeRoute, http.MethodPost, "/admin/reload", h.reload)
	}
	get("/agreements", h.listAgreements)
	get("/agreements/:agreementId", h.getAgreement)
	if cfg.Store != nil {
		get("/strikes", h.listStrikes)
		get("/strikes/events", h.strikeEvents)
		getAs(heavyRoute, "/strikes/summary", h.strikesSummary)
		add(writeRoute|bulkRoute, http.MethodPost, "/strikes", h.postStrikes)
		get("/strikes/:featureId", h.atVersion(h.getStrike))
		get("/strikes/:featureId/history", h.strikeHistory)
		get("/audit", h.audit)
		add(writeRoute, http.MethodDelete, "/strikes/:featureId", h.deleteStrike)
		get(collectionPath(strikesCollection), h.strikesCollection)
		get(collectionPath(strikesCollection)+"/items", h.listStrikes)
		get(collectionPath(strikesCollection)+"/queryables", h.strikesQueryables)
		get(collectionPath(strikesCollection)+"/schema", h.strikesSchema)
		get(collectionPath(strikesCollection)+"/items/:featureId", h.atVersion(h.getStrike))
		get("/versions", h.listVersions)
		getAs(heavyRoute, "/report", h.atVersion(h.report))
		add(writeRoute, http.MethodPost, "/alerts", h.createAlert)
		getAs(writeRoute, "/alerts", h.listAlerts)
		getAs(writeRoute, "/alerts/:alertId", h.getAlert)
		add(writeRoute, http.MethodDelete, "/alerts/:alertId", h.deleteAlert)
		getAs(writeRoute, "/alerts/:alertId/dead-letters", h.deadLetters)
	}
	get("/map-config.json", h.mapConfig)
	get("/basemap.geojson", h.basemapFile)
	get("/assets/*", h.asset)
	return e
}

// composed is the middleware mws, composed once around whichever handler
// the router found: echo composes the middleware of Use anew for every
// request, a closure for each, where these run for every request alike.
func composed(mws ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	h := func(c echo.Context) error { return c.Handler()(c) }
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// only applies mw to the requests of the routes of class.
func (rc routeClasses) only(class routeClass, mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withMW := mw(next)
		return func(c echo.Context) error {
			if rc.of(c)&class != 0 {
				return withMW(c)
			}
			return next(c)
		}
	}
}

func (h *handlers) health(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"status":"ok","features":`...)
	b = appendInt(b, h.index(c).Len())
	*buf = append(b, "}\n"...)
	return send(c, mediaJSON, *buf, false)
}

// logRequests logs each request once it is answered, errors included.
func (h *handlers) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		if clientGone(err) {
			h.metrics.abandoned.WithLabelValues(routeLabel(c)).Inc()
		}
		r, w := c.Request(), c.Response()
		now := time.Now()
		took := now.Sub(start)
		// The record is made here rather than by the logger, which would
		// look up its caller's program counter: every request logs from
		// this one line.
		if lh := h.cfg.RequestLogger.Handler(); lh.Enabled(r.Context(), slog.LevelInfo) {
			rec := slog.NewRecord(now, slog.LevelInfo, "request", 0)
			rec.AddAttrs(
				slog.String("method", r.Method),
				slog.String("uri", redactedURI(r)),
				slog.Int("status", w.Status),
				slog.Int64("bytes", w.Size),
				slog.Duration("took", took),
				slog.String("remote", c.RealIP()))
			lh.Handle(r.Context(), rec) //nolint:errcheck // as Logger does, a failed write is not the request's
		}
		h.metrics.observe(c, h.routes.info(c), took)
		return nil
	}
}

// corsConfig lets pages of origins (every origin when none is named) read
// the API and ask POST /proximity. Only origins named one by one may also
// write: their pages may send Authorization and DELETE, so an analyst's
// token can record and remove strikes from a map served elsewhere, while
// any other page never gets to use a token from a reader's browser.
func corsConfig(origins []string) middleware.CORSConfig {
	cfg := middleware.CORSConfig{
		AllowOrigins:  origins,
		AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowHeaders:  []string{echo.HeaderContentType, headerIfNoneMatch},
		ExposeHeaders: []string{echo.HeaderContentType, "ETag", echo.HeaderLocation},
		MaxAge:        86400,
	}
	if len(origins) == 0 || slices.Contains(origins, "*") {
		cfg.AllowOrigins = []string{"*"}
		return cfg
	}
	cfg.AllowMethods = append(cfg.AllowMethods, http.MethodDelete)
	cfg.AllowHeaders = append(cfg.AllowHeaders, echo.HeaderAuthorization)
	return cfg
}
