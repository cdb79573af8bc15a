package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
)

// Dataset is one consistent version of the served data, as a reload
// produces it.
type Dataset struct {
	// Index holds the layers.
	Index *geo.Index
	// Agreements are what verdicts judge strikes by; they must fit Index
	// (agreement.NewAgreementSet), or a reload to them fails.
	Agreements []agreement.Agreement
	// Version names the content, such as a hash of the files it was loaded
	// from: letters, digits, '.', '_' and '-'. It starts the ETag of every
	// response computed from the data and is /collections' data_version.
	// Empty (or unusable) means the server makes up one that no other
	// data has had.
	Version string

	// bodies keeps the GeoJSON of Index's features as answers write them;
	// the server makes it when it serves the Dataset.
	bodies *geojson.Bodies
}

// Reloader swaps in new data on demand: on POST /admin/reload, and from
// the program (on SIGHUP, for instance) through Reload. The new data is
// built beside the old; requests already answering finish on the old data,
// and data that fails to load leaves the old data serving.
type Reloader struct {
	load func(context.Context) (*Dataset, error)
	mu   sync.Mutex // one reload at a time
	h    *handlers  // the server whose data is replaced, set by New
	last atomic.Pointer[ReloadStatus]
	// ok and failed count reloads since start, for /metrics.
	ok, failed atomic.Int64
}

// ReloadStatus is the outcome of a reload.
type ReloadStatus struct {
	// At is when the reload finished.
	At time.Time
	// Took is how long loading and indexing took.
	Took time.Duration
	// Version is the version served after the reload.
	Version string
	// Err is why the reload failed; nil when it succeeded.
	Err error
}

// errNoServer is a Reloader used before New was given it.
var errNoServer = errors.New("server: the Reloader is not attached to a server (pass it in Config.Reloader)")

// NewReloader returns a Reloader that gets new data from load. load builds
// a complete Dataset or fails; it must not touch the data being served.
func NewReloader(load func(context.Context) (*Dataset, error)) *Reloader {
	return &Reloader{load: load}
}

// Reload loads the data again and, if it loads, swaps it in. On failure the
// data served is unchanged and the error is kept for /readyz and counted
// in /metrics.
func (r *Reloader) Reload(ctx context.Context) (*Dataset, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h == nil {
		return nil, errNoServer
	}
	start := time.Now()
	d, err := r.load(ctx)
	if err == nil && (d == nil || d.Index == nil) {
		err = errors.New("server: the reload produced no index")
	}
	if err == nil {
		// Refused here, not on first use: the old data keeps serving.
		_, err = agreement.NewAgreementSet(d.Index, d.Agreements)
	}
	if err == nil && r.h.cfg.Store != nil && validVersion(d.Version) {
		// Kept before it is served, so every verdict judged on it can be
		// judged again.
		if err = KeepVersion(ctx, r.h.cfg.Store, d, r.h.keepVersions()); err != nil {
			err = fmt.Errorf("keeping data version %s in the strike store: %w", d.Version, err)
		}
	}
	st := &ReloadStatus{At: time.Now(), Took: time.Since(start), Err: err}
	if err != nil {
		r.failed.Add(1)
		st.Version = r.h.current().Version
		r.last.Store(st)
		r.h.log.Error("reload failed; still serving the previous data", "version", st.Version, "err", err)
		return nil, err
	}
	d = r.h.swap(d)
	r.ok.Add(1)
	st.Version = d.Version
	r.last.Store(st)
	r.h.log.Info("reloaded", "version", d.Version, "features", d.Index.Len(), "layers", len(d.Index.Layers()), "took", st.Took)
	return d, nil
}

// Status is the outcome of the last reload; nil before the first.
func (r *Reloader) Status() *ReloadStatus { return r.last.Load() }

// request is one request's context as the handlers see it, with what it
// keeps while it is answered, where echo.Context would keep it in a map
// made for each request. Requests are pooled.
type request struct {
	echo.Context
	// data is the Dataset the request answers from (see dataset).
	data *Dataset
	// hits is room for the sites a proximity answer lists, kept from one
	// request to the next (see hitRoom).
	hits []geo.Hit
	// query is the query string's pairs, in pairs' room, once queryRead
	// (see queryPairs).
	query     []queryPair
	pairs     [16]queryPair
	queryRead bool
	// turn is the request's hold on a CPU token (see takeTurns); endTurn
	// is turn.end, made once for the pooled request.
	turn    cpuTurn
	endTurn func()
	// route is what New registered of the route matched, once routed
	// (see routeClasses.info).
	route  *routeInfo
	routed bool
}

// maxKeptHits bounds the room for hits a pooled request keeps, so a rare
// answer of thousands of sites does not pin its slice.
const maxKeptHits = 1024

// hitRoom is an empty slice to search into, with the room a previous
// request on c's pooled request left.
func hitRoom(c echo.Context) []geo.Hit {
	if r, ok := c.(*request); ok {
		return r.hits[:0]
	}
	return nil
}

// keepHitRoom gives hits' room back to c's pooled request, cleared so no
// request keeps an index that a reload has replaced.
func keepHitRoom(c echo.Context, hits []geo.Hit) {
	if r, ok := c.(*request); ok && cap(hits) <= maxKeptHits {
		clear(hits)
		r.hits = hits[:0]
	}
}

var requests = newPool(func() *request {
	r := new(request)
	r.endTurn = r.turn.end
	return r
})

// withRequest runs the rest of the chain with a pooled request around c.
func (h *handlers) withRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := requests.get()
		r.Context = c
		err := next(r)
		*r = request{hits: r.hits, endTurn: r.endTurn}
		requests.put(r)
		return err
	}
}

// Error has the server's error handler answer from the request's data.
func (r *request) Error(err error) { r.Echo().HTTPErrorHandler(err, r) }

// dataKey is where a context that is no request (see withRequest) keeps
// the Dataset it answers from.
const dataKey = "protectmap.dataset"

// dataset is the data one request answers from: read once, on first use,
// so a reload mid-request cannot mix two versions in one answer.
func (h *handlers) dataset(c echo.Context) *Dataset {
	if d := datasetOf(c); d != nil {
		return d
	}
	d := h.current()
	useDataset(c, d)
	return d
}

// datasetOf is the Dataset the request answers from; nil until chosen.
func datasetOf(c echo.Context) *Dataset {
	if r, ok := c.(*request); ok {
		return r.data
	}
	d, _ := c.Get(dataKey).(*Dataset)
	return d
}

// useDataset has the request answer from d.
func useDataset(c echo.Context, d *Dataset) {
	if r, ok := c.(*request); ok {
		r.data = d
		return
	}
	c.Set(dataKey, d)
}

// index is the index of the request's dataset.
func (h *handlers) index(c echo.Context) *geo.Index { return h.dataset(c).Index }

// versionOf is the data version of the request's answer; empty when it was
// not computed from the data.
func versionOf(c echo.Context) string {
	if d := datasetOf(c); d != nil {
		return d.Version
	}
	return ""
}

// current is the Dataset being served. Config.Index is the index's one
// source of truth, so an index stored there directly is served too, under
// a version made up for it.
func (h *handlers) current() *Dataset {
	d, ix := h.data.Load(), h.cfg.Index.Load()
	if d != nil && d.Index == ix {
		return d
	}
	// A swap is half done, or someone stored a new index: settle it under
	// the lock that swaps take.
	h.swapMu.Lock()
	defer h.swapMu.Unlock()
	d, ix = h.data.Load(), h.cfg.Index.Load()
	if d == nil || d.Index != ix {
		agreements := h.cfg.Agreements
		if d != nil {
			agreements = d.Agreements
		}
		d = &Dataset{Index: ix, Agreements: agreements, Version: h.newVersion(), bodies: h.newBodies(ix)}
		h.data.Store(d)
		h.warmTiles(d)
	}
	return d
}

// agreementsOf is the agreements served with ix.
func (h *handlers) agreementsOf(ix *geo.Index) []agreement.Agreement {
	if d := h.current(); d.Index == ix {
		return d.Agreements
	}
	if d := h.old.byIndex(ix); d != nil {
		return d.Agreements
	}
	// A request that began before a reload: the agreements it began with
	// are gone, so it is judged by those the server started with.
	return h.cfg.Agreements
}

// swap serves d from the next request on and returns it as served (with
// its version made up if it had none).
func (h *handlers) swap(d *Dataset) *Dataset {
	d = &Dataset{Index: d.Index, Agreements: d.Agreements, Version: d.Version, bodies: h.newBodies(d.Index)}
	if !validVersion(d.Version) {
		d.Version = h.newVersion()
	}
	h.swapMu.Lock()
	defer h.swapMu.Unlock()
	h.data.Store(d)
	h.cfg.Index.Store(d.Index)
	h.warmTiles(d)
	return d
}

// newBodies is the cache of the GeoJSON of ix's features, as large as
// Config.FeatureCacheBytes allows, with as much again for their deflated
// segments (about two thirds of a body each, so they fill up last) unless
// Config.GzipStream compresses each answer whole.
func (h *handlers) newBodies(ix *geo.Index) *geojson.Bodies {
	size := cacheBytes(h.cfg.FeatureCacheBytes, DefaultFeatureCacheBytes)
	segments := size
	if h.cfg.GzipStream {
		segments = 0
	}
	return geojson.NewBodies(ix, size, segments)
}

// warmTiles renders the low zooms of d's layers into the tile cache in the
// background (see Config.WarmTileZoom), ending the warm-up of earlier data,
// whose tiles no request will ask for. h.swapMu must be held.
func (h *handlers) warmTiles(d *Dataset) {
	if h.cfg.WarmTileZoom <= 0 || d.Index == nil {
		return
	}
	if h.stopWarm != nil {
		h.stopWarm()
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stopWarm = cancel
	go func() {
		defer cancel()
		for _, l := range d.Index.Layers() {
			start := time.Now()
			n, err := h.tiles.Warm(ctx, l, d.Version, uint32(h.cfg.WarmTileZoom))
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				h.log.Warn("warming tiles", "layer", l.Name(), "err", err)
				continue
			}
			h.log.Info("tiles warmed", "layer", l.Name(), "tiles", n, "took", time.Since(start))
		}
	}()
}

// keepVersions is Config.KeepVersions with its default.
func (h *handlers) keepVersions() int {
	if h.cfg.KeepVersions == 0 {
		return DefaultKeepVersions
	}
	return h.cfg.KeepVersions
}

// newVersion makes up a version for data that came without one: unique to
// this process's boot and the count of versions made, so no two contents
// share one, even across restarts.
func (h *handlers) newVersion() string {
	return "b" + h.boot + "-" + strconv.FormatInt(h.versions.Add(1), 10)
}

func newBootID() string {
	var b [6]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validVersion reports whether v can go into an ETag unquoted and
// unescaped.
func validVersion(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '.', ch == '_', ch == '-':
		default:
			return false
		}
	}
	return true
}

// reloadError is a reload that failed: the operator who asked sees why.
type reloadError struct{ err error }

func (e *reloadError) Error() string { return e.err.Error() }

func (e *reloadError) problem() problem {
	return problem{Status: http.StatusUnprocessableEntity,
		Detail: "the data did not load, the previous data is still served: " + e.err.Error()}
}

// reload answers POST /admin/reload: the data is loaded again and, if it
// loads, served from the next request on.
func (h *handlers) reload(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	d, err := h.cfg.Reloader.Reload(c.Request().Context())
	if err != nil {
		return &reloadError{err}
	}
	type layerDoc struct {
		ID       string `json:"id"`
		Features int    `json:"features"`
	}
	layers := make([]layerDoc, 0, len(d.Index.Layers()))
	for _, l := range d.Index.Layers() {
		layers = append(layers, layerDoc{l.Name(), l.Len()})
	}
	return sendJSON(c, mediaJSON, struct {
		DataVersion string     `json:"data_version"`
		Features    int        `json:"features"`
		Layers      []layerDoc `json:"layers"`
	}{d.Version, d.Index.Len(), layers}, false)
}
