package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/protectmap/protectmap/server/store"
)

// metrics are what GET /metrics exposes in Prometheus' text format. Each
// server has its own registry: no package-level state.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// abandoned counts requests whose work stopped because the client went
	// away, by route.
	abandoned *prometheus.CounterVec
}

// latencyBuckets span a cached page (well under a millisecond) to a large
// batch (tens of seconds), in seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 120}

func newMetrics(h *handlers) *metrics {
	labels := []string{"method", "route", "status"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "protectmap_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "protectmap_http_request_duration_seconds",
			Help:    "Time from a request's routing to its answer, by method, route pattern and status code.",
			Buckets: latencyBuckets,
		}, labels),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "protectmap_http_requests_abandoned_total",
			Help: "Requests whose work stopped because the client went away before the answer was complete, by route pattern.",
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.abandoned, dataCollector{h}, tokenCollector{h.cpu},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if h.cfg.ConnStats != nil {
		m.reg.MustRegister(connCollector{h.cfg.ConnStats})
	}
	return m
}

// observe counts one answered request, of the registered route info (nil
// when it matched none).
func (m *metrics) observe(c echo.Context, info *routeInfo, took time.Duration) {
	status := c.Response().Status
	if info != nil {
		info.series.of(status).observe(took)
		return
	}
	lv := []string{methodLabel(c.Request().Method), routeLabel(c), strconv.Itoa(status)}
	m.requests.WithLabelValues(lv...).Inc()
	m.latency.WithLabelValues(lv...).Observe(took.Seconds())
}

// routeSeries are the request series of one registered route, by status
// code, each looked up by its labels once: a lookup hashes the labels, and
// formatting the status allocates, for every request.
type routeSeries struct {
	m             *metrics
	method, route string
	// known are the series found so far, never changed once stored; mu
	// orders the stores.
	known atomic.Pointer[[]statusSeries]
	mu    sync.Mutex
}

// statusSeries are a route's series for one status code.
type statusSeries struct {
	status   int
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (s *statusSeries) observe(took time.Duration) {
	s.requests.Inc()
	s.latency.Observe(took.Seconds())
}

// routeSeries are the series of requests to method and the route pattern.
func (m *metrics) routeSeries(method, route string) routeSeries {
	return routeSeries{m: m, method: methodLabel(method), route: route}
}

// of is the series of the route's answers with status: a route answers
// with a handful of status codes, so a scan finds them.
func (s *routeSeries) of(status int) *statusSeries {
	if ss := findStatus(s.known.Load(), status); ss != nil {
		return ss
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := s.known.Load()
	if ss := findStatus(known, status); ss != nil {
		return ss
	}
	var grown []statusSeries
	if known != nil {
		grown = slices.Clip(*known)
	}
	lv := []string{s.method, s.route, strconv.Itoa(status)}
	grown = append(grown, statusSeries{status: status,
		requests: s.m.requests.WithLabelValues(lv...), latency: s.m.latency.WithLabelValues(lv...)})
	s.known.Store(&grown)
	return &grown[len(grown)-1]
}

func findStatus(known *[]statusSeries, status int) *statusSeries {
	if known == nil {
		return nil
	}
	for i := range *known {
		if (*known)[i].status == status {
			return &(*known)[i]
		}
	}
	return nil
}

// routeLabel is the route a request matched, as a label. Requests that
// match no route (echo names them "/*" or nothing) share one series, so
// scanners probing random paths cannot grow the series without bound.
func routeLabel(c echo.Context) string {
	if route := c.Path(); route != "" && route != "/*" {
		return route
	}
	return "unmatched"
}

// methodLabel is the method as a label: a method of RFC 9110 or PATCH as
// sent, any other "other", so made-up methods cannot grow the series
// without bound either.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// dataCollector reports the data being served, its reloads and the tile
// cache at scrape time.
type dataCollector struct{ h *handlers }

var (
	descFeatures = prometheus.NewDesc("protectmap_layer_features",
		"Features served in each layer.", []string{"layer"}, nil)
	descDataInfo = prometheus.NewDesc("protectmap_data_info",
		"The version of the data served (its data_version), as a label; the value is 1.", []string{"version"}, nil)
	descReloads = prometheus.NewDesc("protectmap_reloads_total",
		"Reloads of the data since start, by result: ok, or error (the previous data kept serving).", []string{"result"}, nil)
	descLastReload = prometheus.NewDesc("protectmap_last_reload_timestamp_seconds",
		"When the last reload finished, by its result.", []string{"result"}, nil)
	descTileRequests = prometheus.NewDesc("protectmap_tile_cache_requests_total",
		"Vector tiles asked of the cache (by requests or warming), by result: hit, or miss (rendered).", []string{"result"}, nil)
	descTileBytes = prometheus.NewDesc("protectmap_tile_cache_bytes",
		"Bytes of the rendered tiles the cache holds.", nil, nil)
	descTiles = prometheus.NewDesc("protectmap_tile_cache_tiles",
		"Rendered tiles the cache holds.", nil, nil)
)

func (dataCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFeatures
	ch <- descDataInfo
	ch <- descReloads
	ch <- descLastReload
	ch <- descTileRequests
	ch <- descTileBytes
	ch <- descTiles
}

func (d dataCollector) Collect(ch chan<- prometheus.Metric) {
	ds := d.h.current()
	if ds.Index != nil {
		for _, l := range ds.Index.Layers() {
			ch <- prometheus.MustNewConstMetric(descFeatures, prometheus.GaugeValue, float64(l.Len()), l.Name())
		}
	}
	ch <- prometheus.MustNewConstMetric(descDataInfo, prometheus.GaugeValue, 1, ds.Version)
	ts := d.h.tiles.Stats()
	ch <- prometheus.MustNewConstMetric(descTileRequests, prometheus.CounterValue, float64(ts.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(descTileRequests, prometheus.CounterValue, float64(ts.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(descTileBytes, prometheus.GaugeValue, float64(ts.Bytes))
	ch <- prometheus.MustNewConstMetric(descTiles, prometheus.GaugeValue, float64(ts.Tiles))
	r := d.h.cfg.Reloader
	if r == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(r.ok.Load()), "ok")
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(r.failed.Load()), "error")
	if st := r.Status(); st != nil {
		result := "ok"
		if st.Err != nil {
			result = "error"
		}
		ch <- prometheus.MustNewConstMetric(descLastReload, prometheus.GaugeValue, float64(st.At.UnixMilli())/1e3, result)
	}
}

// connCollector reports a Server's gate (see ConnStats) at scrape time.
type connCollector struct{ s *ConnStats }

var (
	descConnsRefused = prometheus.NewDesc("protectmap_connections_refused_total",
		"New connections refused before being let in, by reason: waited (answered 503 after --new-conn-wait), or queue_full (closed at once, --max-new-conns-waiting waiting).", []string{"reason"}, nil)
	descConnsWaiting = prometheus.NewDesc("protectmap_connections_waiting",
		"New connections accepted and waiting to be let in.", nil, nil)
)

func (connCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConnsRefused
	ch <- descConnsWaiting
}

func (c connCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descConnsRefused, prometheus.CounterValue, float64(c.s.refusedWaited.Load()), "waited")
	ch <- prometheus.MustNewConstMetric(descConnsRefused, prometheus.CounterValue, float64(c.s.refusedFull.Load()), "queue_full")
	ch <- prometheus.MustNewConstMetric(descConnsWaiting, prometheus.GaugeValue, float64(c.s.waiting.Load()))
}

// tokenCollector reports the CPU tokens (see cpuTokens) at scrape time.
type tokenCollector struct{ t *cpuTokens }

var (
	descTokensHeld = prometheus.NewDesc("protectmap_cpu_tokens_held",
		"CPU tokens held by requests computing (at most --cpu-tokens).", nil, nil)
	descTokensWaiting = prometheus.NewDesc("protectmap_cpu_tokens_waiting",
		"Requests waiting for a CPU token, parked.", nil, nil)
	descTokensRefused = prometheus.NewDesc("protectmap_cpu_tokens_refused_total",
		"Requests answered 503 after waiting --cpu-token-wait for a CPU token.", nil, nil)
)

func (tokenCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTokensHeld
	ch <- descTokensWaiting
	ch <- descTokensRefused
}

func (c tokenCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descTokensHeld, prometheus.GaugeValue, float64(c.t.held()))
	ch <- prometheus.MustNewConstMetric(descTokensWaiting, prometheus.GaugeValue, float64(c.t.waiters.Load()))
	ch <- prometheus.MustNewConstMetric(descTokensRefused, prometheus.CounterValue, float64(c.t.refused.Load()))
}

// timedStore is a store.Store whose calls are timed for /metrics.
type timedStore struct {
	store.Store
	latency *prometheus.HistogramVec
}

// timeStore times st's calls in m's registry.
func (m *metrics) timeStore(st store.Store) store.Store {
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "protectmap_store_duration_seconds",
		Help:    "Time taken by the strike store, by operation and result (ok or error).",
		Buckets: latencyBuckets,
	}, []string{"op", "result"})
	m.reg.MustRegister(latency)
	return &timedStore{Store: st, latency: latency}
}

// timed runs one store call and observes how long it took.
func timed[T any](s *timedStore, op string, call func() (T, error)) (T, error) {
	start := time.Now()
	v, err := call()
	result := "ok"
	if err != nil {
		result = "error"
	}
	s.latency.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
	return v, err
}

func (s *timedStore) Put(ctx context.Context, actor string, strikes []store.Strike) ([]store.PutResult, error) {
	return timed(s, "put", func() ([]store.PutResult, error) { return s.Store.Put(ctx, actor, strikes) })
}

func (s *timedStore) Import(ctx context.Context, actor string, dec store.Decoder, judge func(*store.Strike) (*store.Verdict, error)) (store.ImportResult, error) {
	return timed(s, "import", func() (store.ImportResult, error) { return s.Store.Import(ctx, actor, dec, judge) })
}

func (s *timedStore) Get(ctx context.Context, id string) (store.Strike, error) {
	return timed(s, "get", func() (store.Strike, error) { return s.Store.Get(ctx, id) })
}

func (s *timedStore) List(ctx context.Context, q store.Query) (store.Page, error) {
	return timed(s, "list", func() (store.Page, error) { return s.Store.List(ctx, q) })
}

func (s *timedStore) Delete(ctx context.Context, actor, id string) error {
	_, err := timed(s, "delete", func() (struct{}, error) { return struct{}{}, s.Store.Delete(ctx, actor, id) })
	return err
}

func (s *timedStore) Recorders(ctx context.Context, ids []string) (map[string]string, error) {
	return timed(s, "recorders", func() (map[string]string, error) { return s.Store.Recorders(ctx, ids) })
}

func (s *timedStore) History(ctx context.Context, id string) ([]store.Event, error) {
	return timed(s, "history", func() ([]store.Event, error) { return s.Store.History(ctx, id) })
}

func (s *timedStore) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	return timed(s, "events", func() (store.EventPage, error) { return s.Store.Events(ctx, q) })
}

func (s *timedStore) Ping(ctx context.Context) error {
	_, err := timed(s, "ping", func() (struct{}, error) { return struct{}{}, s.Store.Ping(ctx) })
	return err
}
