package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/protectmap/protectmap/internal/procs"
	"golang.org/x/time/rate"
)

// Limits bound what one client or one request can take from the server.
// A zero field takes its value from DefaultLimits.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers, so slow
	// clients (slowloris) cannot hold connections open.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds answering a request, from the end of its headers.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request.
	IdleTimeout time.Duration
	// MaxNewConns bounds the connections let in and not yet answered
	// once: while that many are, no more are let in, and new clients
	// wait, first come first served, at most NewConnWait. A
	// connection counts from its accept until its first answer is written
	// or it closes, and at most NewConnHold, so clients that connect and
	// send nothing keep no one out for longer; a heavy request gives its
	// place back when it waits for a heavy slot. Later requests on a
	// kept-alive connection (a load balancer's probe) never wait here.
	MaxNewConns int
	// NewConnHold is the longest one connection counts against MaxNewConns.
	NewConnHold time.Duration
	// NewConnWait is the longest a new connection waits to be let in
	// (see MaxNewConns): one that waits longer is answered 503 with
	// Retry-After, its request unanswered, and closed.
	NewConnWait time.Duration
	// MaxNewConnsWaiting bounds the new connections waiting to be let in;
	// one more is closed at once, unanswered.
	MaxNewConnsWaiting int
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// MaxBodyBytes bounds request bodies, but on the bulk routes (POST
	// /proximity, POST /strikes), which set their own, larger bounds.
	MaxBodyBytes int64
	// HeavyTimeout is the deadline of one heavy request: reading, computing
	// and writing. It replaces ReadTimeout and WriteTimeout for them. Heavy
	// are the requests to the heavy routes (GET /report), and those to the
	// bulk routes with a body over MaxBodyBytes or of unknown length.
	HeavyTimeout time.Duration
	// MaxHeavy is how many heavy requests run at once; more wait for a
	// slot (see HeavyWait), then are refused with 503 and Retry-After.
	// Slots go first to the client addresses holding fewest.
	MaxHeavy int
	// HeavyWait is the longest a heavy request waits for a slot, less a
	// random part of up to half of it; one not admitted by then gets 503
	// and Retry-After.
	HeavyWait time.Duration
	// MaxHeavyWaiting bounds the heavy requests waiting for a slot at
	// once; one more gets 503 and Retry-After at once.
	MaxHeavyWaiting int
	// MaxSitesInFlight bounds the sites that the proximity, nearest and
	// items answers being built at once may hold, each counted at its
	// limit: a request that would pass it gets 503 and Retry-After. An
	// answer takes about a kilobyte a site, so this bounds their memory
	// whatever the number of clients; a single request asking for more
	// than the whole budget runs alone.
	MaxSitesInFlight int64
	// CPUTokens bounds the requests computing at once: every request but
	// /healthz, /readyz and /metrics takes a token before its handler runs
	// and gives it back while it reads its body or waits for a heavy slot,
	// and for good once its answer starts. The others wait, parked, first
	// come first served, so a probe's request waits to run behind at most
	// that many.
	CPUTokens int
	// CPUTokenWait is the longest a request waits for a CPU token; one not
	// given one by then gets 503 and Retry-After.
	CPUTokenWait time.Duration
	// MinUploadBytesPerSecond is the slowest a heavy request's body may
	// arrive: each MinUploadWindow must bring that rate's worth of bytes
	// (or the end of the body), else the request gets 408 and its slot is
	// freed. A client sending a byte a second cannot hold a slot for
	// minutes.
	MinUploadBytesPerSecond int64
	// MinUploadWindow is the time over which the upload rate is measured.
	MinUploadWindow time.Duration
	// RatePerSecond is the sustained requests per second allowed to one
	// client address, refused beyond with 429; negative or zero (the
	// default) means no rate limit. /healthz, /readyz and /metrics are
	// never limited.
	RatePerSecond float64
	// RateBurst is how many requests a client may send at once above
	// RatePerSecond; zero means twice RatePerSecond (at least 1).
	RateBurst int
	// FeedHeartbeat is how often a live feed stream with nothing to send
	// sends a comment line, so proxies and clients see it alive.
	FeedHeartbeat time.Duration
	// FeedBuffer is how many events a live feed client may be behind; one
	// further behind is dropped (it reconnects and resumes from the store).
	FeedBuffer int
	// FeedWriteTimeout bounds each write to a live feed client; a client
	// that takes longer is dropped. Streams are exempt from ReadTimeout
	// and WriteTimeout.
	FeedWriteTimeout time.Duration
	// FeedPoll is how often the live feed reads the store without being
	// woken: a fallback for writes it is not told of (another process on
	// one SQLite file, or a notification lost while reconnecting).
	FeedPoll time.Duration
	// MaxFeedClients bounds the live feed's connected clients; more get 503.
	MaxFeedClients int
	// WebhookTimeout bounds one webhook delivery: connecting, the TLS
	// handshake, sending and the receiver's answer.
	WebhookTimeout time.Duration
	// WebhookAttempts is how many times a delivery is tried before it goes
	// to its subscription's dead-letter list.
	WebhookAttempts int
	// WebhookBackoff is the pause after a delivery's first failed attempt;
	// each later pause is twice the last, up to an hour.
	WebhookBackoff time.Duration
	// WebhookPoll is how often pending webhook deliveries are looked for
	// (new strikes wake the sender at once).
	WebhookPoll time.Duration
	// MaxWebhookQueue bounds the deliveries waiting to be sent; one queued
	// beyond goes to the dead-letter list unsent.
	MaxWebhookQueue int
	// MaxAlertsPerOwner bounds the alert subscriptions of one token.
	MaxAlertsPerOwner int
}

// DefaultLimits returns the limits used where Config.Limits leaves a
// field zero. MaxHeavy and MaxNewConns follow the CPUs this process may
// use, as they were at start: serve then raises GOMAXPROCS above them
// (procs.Default), which must not raise these limits with it.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// Enough to keep the processors busy answering, few enough that
		// a kept-alive connection's request waits behind no more than
		// that many goroutines (see README).
		MaxNewConns: 128 * procs.CPUs(),
		NewConnHold: 250 * time.Millisecond,
		// Half of the two seconds clients and proxies commonly wait.
		NewConnWait: time.Second,
		// As deep as Linux's default listen queue.
		MaxNewConnsWaiting: 4096,
		MaxBodyBytes:       1 << 20,
		HeavyTimeout:       120 * time.Second,
		// One processor is left free of heavy work, for everything else
		// (see README).
		MaxHeavy: max(1, procs.CPUs()-1),
		// Enough for a client's next request to find the slot its last
		// answer frees; longer waits cost flooding clients more time-outs
		// on a starved machine than they saved (see README).
		HeavyWait: 100 * time.Millisecond,
		// Few: each waiter's end is a goroutine to run, and one freed slot
		// needs only one waiter (see README).
		MaxHeavyWaiting: 16,
		// Two a CPU: enough to keep the processors busy while a request
		// waits on the strike store, few enough that a probe waits behind
		// a handful.
		CPUTokens:    2 * procs.CPUs(),
		CPUTokenWait: 500 * time.Millisecond,
		// Twenty answers of the largest proximity limit at once, about 200 MB.
		MaxSitesInFlight: 200_000,
		// 10 KiB each 10 s: a poor mobile link manages a hundred times that.
		MinUploadBytesPerSecond: 1 << 10,
		MinUploadWindow:         10 * time.Second,
		FeedHeartbeat:           15 * time.Second,
		FeedBuffer:              256,
		FeedWriteTimeout:        10 * time.Second,
		FeedPoll:                5 * time.Second,
		MaxFeedClients:          10_000,
		WebhookTimeout:          10 * time.Second,
		WebhookAttempts:         8,
		WebhookBackoff:          5 * time.Second,
		WebhookPoll:             time.Second,
		MaxWebhookQueue:         10_000,
		MaxAlertsPerOwner:       100,
	}
}

// orDefault sets *v to def when it is zero or negative: no limit or
// timeout is meaningful there.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	orDefault(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	orDefault(&l.ReadTimeout, d.ReadTimeout)
	orDefault(&l.WriteTimeout, d.WriteTimeout)
	orDefault(&l.IdleTimeout, d.IdleTimeout)
	orDefault(&l.HeavyTimeout, d.HeavyTimeout)
	orDefault(&l.MinUploadWindow, d.MinUploadWindow)
	orDefault(&l.FeedHeartbeat, d.FeedHeartbeat)
	orDefault(&l.FeedWriteTimeout, d.FeedWriteTimeout)
	orDefault(&l.FeedPoll, d.FeedPoll)
	orDefault(&l.FeedBuffer, d.FeedBuffer)
	orDefault(&l.MaxFeedClients, d.MaxFeedClients)
	orDefault(&l.WebhookTimeout, d.WebhookTimeout)
	orDefault(&l.WebhookAttempts, d.WebhookAttempts)
	orDefault(&l.WebhookBackoff, d.WebhookBackoff)
	orDefault(&l.WebhookPoll, d.WebhookPoll)
	orDefault(&l.MaxWebhookQueue, d.MaxWebhookQueue)
	orDefault(&l.MaxAlertsPerOwner, d.MaxAlertsPerOwner)
	orDefault(&l.MaxHeavy, d.MaxHeavy)
	orDefault(&l.HeavyWait, d.HeavyWait)
	orDefault(&l.MaxHeavyWaiting, d.MaxHeavyWaiting)
	orDefault(&l.MaxSitesInFlight, d.MaxSitesInFlight)
	orDefault(&l.CPUTokens, d.CPUTokens)
	orDefault(&l.CPUTokenWait, d.CPUTokenWait)
	orDefault(&l.MinUploadBytesPerSecond, d.MinUploadBytesPerSecond)
	orDefault(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	orDefault(&l.MaxNewConns, d.MaxNewConns)
	orDefault(&l.NewConnHold, d.NewConnHold)
	orDefault(&l.NewConnWait, d.NewConnWait)
	orDefault(&l.MaxNewConnsWaiting, d.MaxNewConnsWaiting)
	orDefault(&l.MaxBodyBytes, d.MaxBodyBytes)
	if l.RateBurst <= 0 {
		l.RateBurst = max(1, int(2*l.RatePerSecond))
	}
	return l
}

// HTTPServer is a Server for handler with the connection limits of l.
func HTTPServer(handler http.Handler, l Limits) *Server {
	l = l.withDefaults()
	gate := newConnGate(l)
	return &Server{gate: gate, Server: &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ConnState:         gate.connState,
		ConnContext:       gate.connContext,
	}}
}

// routeClass is what sets a route's requests apart from the ordinary ones,
// as New registers it.
type routeClass uint8

const (
	// writeRoute changes data: it needs a bearer token (BearerAuth).
	writeRoute routeClass = 1 << iota
	// bulkRoute takes a large body (a batch, an import) and bounds it itself.
	bulkRoute
	// heavyRoute is always heavy: its answer is large (an export).
	heavyRoute
	// opsRoute serves operators and orchestrators: never rate limited, so
	// a busy server still reports on itself.
	opsRoute
)

// routeClasses are what New registered of each route; built by New and
// only read after.
type routeClasses map[route]*routeInfo

// route names a route as registered: its method and "/path/:param".
// Two strings, not one joined, so finding a request's route allocates nothing.
type route struct{ method, path string }

// routeInfo is a registered route's class and its series in /metrics.
type routeInfo struct {
	class  routeClass
	series routeSeries
}

// info is what New registered of the route c matched; nil for a request
// that matched none. A pooled request finds it once, for every middleware
// that asks.
func (rc routeClasses) info(c echo.Context) *routeInfo {
	r, ok := c.(*request)
	if !ok {
		return rc[route{c.Request().Method, c.Path()}]
	}
	if !r.routed {
		r.route, r.routed = rc[route{r.Request().Method, r.Path()}], true
	}
	return r.route
}

// of is the class of the route c matched.
func (rc routeClasses) of(c echo.Context) routeClass {
	if info := rc.info(c); info != nil {
		return info.class
	}
	return 0
}

// overloadError refuses a request for now; Retry-After says when to retry.
type overloadError struct {
	status int
	detail string
}

func (e *overloadError) Error() string    { return e.detail }
func (e *overloadError) problem() problem { return problem{Status: e.status, Detail: e.detail} }

// lateGrace is how long a heavy request past its deadline still has to
// be told so.
const lateGrace = 5 * time.Second

// retryAfterSeconds is what refused clients are told to wait.
const retryAfterSeconds = 1

// The refused client's connection is closed: under a flood it comes back
// through the listen queue, where waiting costs the server nothing,
// rather than asking again at once on a connection whose goroutine then
// waits to run among thousands, /healthz's among them.
func overloaded(c echo.Context, status int, format string, a ...any) error {
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds))
	c.Response().Header().Set(echo.HeaderConnection, "close")
	return &overloadError{status: status, detail: fmt.Sprintf(format, a...)}
}

// limitRequests bounds the body of ordinary requests, and the time and
// concurrency of heavy ones.
func (h *handlers) limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, class := c.Request(), h.routes.of(c)
		bulk := class&bulkRoute != 0
		if !bulk {
			if r.ContentLength > h.limits.MaxBodyBytes {
				return &http.MaxBytesError{Limit: h.limits.MaxBodyBytes}
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(c.Response(), r.Body, h.limits.MaxBodyBytes)
			}
		}
		if class&heavyRoute == 0 && !(bulk && (r.ContentLength > h.limits.MaxBodyBytes || r.ContentLength < 0)) {
			return next(c)
		}
		release, refused := h.takeHeavy(c)
		if refused != nil {
			return refused
		}
		defer release()
		deadline := time.Now().Add(h.limits.HeavyTimeout)
		// Not supported by test recorders; a real connection takes them.
		rc := http.NewResponseController(c.Response())
		rc.SetReadDeadline(deadline)                 //nolint:errcheck
		rc.SetWriteDeadline(deadline.Add(lateGrace)) //nolint:errcheck
		ctx, cancel := context.WithDeadline(c.Request().Context(), deadline)
		defer cancel()
		r = r.WithContext(ctx)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{ctx: ctx, ReadCloser: h.minRate(r.Body, rc, deadline)}
		}
		c.SetRequest(r)
		err := next(c)
		// The clock, not ctx.Err: a read past the connection's deadline can
		// fail a moment before the context's timer fires.
		if !time.Now().Before(deadline) && !c.Response().Committed {
			return overloaded(c, http.StatusServiceUnavailable,
				"the request took longer than its %v deadline; split it into smaller ones", h.limits.HeavyTimeout)
		}
		return err
	}
}

// takeHeavy takes one of the heavy requests' slots for the client of c,
// waiting for one as heavySlots does, or refuses the request with 503.
func (h *handlers) takeHeavy(c echo.Context) (release func(), err error) {
	release, err = h.heavy.acquire(c.Request().Context(), c.RealIP(), turnOf(c))
	if errors.Is(err, errSlotsBusy) {
		return nil, overloaded(c, http.StatusServiceUnavailable,
			"the server is answering %d large requests already; retry in a moment", h.limits.MaxHeavy)
	}
	return release, err
}

// largeAnswerSites is the most sites an answer may hold without being
// heavy: the map's pages of 2,000. A larger one (up to 10,000 sites, about
// 100 ms of CPU) also takes a heavy request's slot, so answers of the
// largest limits run no more at once than there are slots, and leave the
// sites in flight to smaller ones.
const largeAnswerSites = 2000

// deadlineBody stops a body being read past the request's deadline, so
// a handler streaming through it stops too.
type deadlineBody struct {
	ctx context.Context
	io.ReadCloser
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.ReadCloser.Read(p)
}

// reserveSites takes n sites (at most the whole budget) of
// Limits.MaxSitesInFlight for one answer, and a heavy slot for an answer
// of more than largeAnswerSites, or refuses the request with 503 when
// answers being built hold too many already; the reservation's release
// gives them back.
func (h *handlers) reserveSites(c echo.Context, n int) (sitesReserved, error) {
	r := sitesReserved{h: h}
	if n > largeAnswerSites {
		var err error
		if r.freeSlot, err = h.takeHeavy(c); err != nil {
			return r, err
		}
	}
	budget := h.limits.MaxSitesInFlight
	r.sites = min(int64(n), budget)
	if h.sitesInFlight.Add(r.sites) > budget {
		h.sitesInFlight.Add(-r.sites)
		if r.freeSlot != nil {
			r.freeSlot()
		}
		return r, overloaded(c, http.StatusServiceUnavailable,
			"answers of %d sites in all are being built already; retry in a moment, or ask for fewer (limit)", budget)
	}
	return r, nil
}

// sitesReserved is what reserveSites took: a value, so that the answers
// of most requests reserve without allocating.
type sitesReserved struct {
	h        *handlers
	sites    int64
	freeSlot func() // the heavy slot's release; nil without one
}

func (r sitesReserved) release() {
	r.h.sitesInFlight.Add(-r.sites)
	if r.freeSlot != nil {
		r.freeSlot()
	}
}

// minRate makes body fail with a slowUploadError once a window passes
// without bringing the limits' quota of bytes. The connection's read
// deadline follows each window (never past the request's own deadline),
// so a read waiting on a silent client ends when its window does.
func (h *handlers) minRate(body io.ReadCloser, rc *http.ResponseController, deadline time.Time) io.ReadCloser {
	rate, window := h.limits.MinUploadBytesPerSecond, h.limits.MinUploadWindow
	b := &minRateBody{ReadCloser: body, rc: rc, deadline: deadline, window: window, rate: rate,
		quota: max(1, int64(float64(rate)*window.Seconds()))}
	b.nextWindow(time.Now())
	return b
}

// minRateBody is a body that must bring quota bytes within each window.
type minRateBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	deadline time.Time // the request's
	window   time.Duration
	quota    int64
	rate     int64
	due      time.Time // the end of the current window
	got      int64     // bytes read in the current window
}

func (b *minRateBody) nextWindow(now time.Time) {
	b.due, b.got = now.Add(b.window), 0
	b.rc.SetReadDeadline(minTime(b.due, b.deadline)) //nolint:errcheck // test recorders have no connection
}

func (b *minRateBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.got += int64(n)
	now := time.Now()
	switch {
	case err == io.EOF:
	case b.got >= b.quota:
		b.nextWindow(now)
	case !now.Before(b.due) && now.Before(b.deadline):
		return n, &slowUploadError{rate: b.rate, window: b.window}
	}
	return n, err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// slowUploadError ends a body that arrives slower than the limits allow.
type slowUploadError struct {
	rate   int64
	window time.Duration
}

func (e *slowUploadError) Error() string {
	return fmt.Sprintf("the request body came slower than %d bytes a second over %v", e.rate, e.window)
}

func (e *slowUploadError) problem() problem {
	return problem{Status: http.StatusRequestTimeout, Detail: e.Error() + "; send it faster, or in smaller requests"}
}

// readFault reports whether an error reading a body is about its
// transport (too large, too slow), not its content: such errors are
// answered as themselves, never as a syntax error at some byte.
func readFault(err error) bool {
	var (
		mbe  *http.MaxBytesError
		slow *slowUploadError
	)
	return errors.As(err, &mbe) || errors.As(err, &slow)
}

// rateLimit refuses a client address sending faster than the limits
// allow, with 429 and Retry-After; nil when there is no rate limit.
func (h *handlers) rateLimit() echo.MiddlewareFunc {
	if h.limits.RatePerSecond <= 0 {
		return nil
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(h.limits.RatePerSecond),
		Burst:     h.limits.RateBurst,
		ExpiresIn: 3 * time.Minute,
	})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool { return h.routes.of(c)&opsRoute != 0 },
		Store:   store,
		IdentifierExtractor: func(c echo.Context) (string, error) {
			return c.RealIP(), nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return overloaded(c, http.StatusTooManyRequests,
				"more than %g requests per second from one address", h.limits.RatePerSecond)
		},
	})
}
