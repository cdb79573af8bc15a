package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server/store"
)

// mediaEventStream is the type of GET /strikes/events: Server-Sent Events.
const mediaEventStream = "text/event-stream"

// feedPage is how many events one read of the store brings.
const feedPage = 1000

// feedRetryMillis is what the stream tells browsers to wait before they
// connect again after losing it.
const feedRetryMillis = 2000

// frame is one event of the feed, encoded once for every client, with
// what alert filters look at.
type frame struct {
	seq    int64
	body   []byte
	action string
	point  orb.Point
}

// newFrame decodes and encodes e.
func newFrame(e *store.Event) (*frame, error) {
	st, err := e.Decode()
	if err != nil {
		return nil, err
	}
	return &frame{seq: e.Seq, body: appendFrame(nil, e, &st), action: e.Action, point: st.Point}, nil
}

// feedClient is one connected stream. frames holds what it has yet to
// send, at most Limits.FeedBuffer, each frame shared with every client: a
// pointer a slot keeps an idle client's buffer at 2 KB rather than 16.
// When it is full the reader signals
// behind instead, and the stream reads what it missed from the store: one
// write of more events than the buffer holds must not drop every client.
// A client too slow to take its writes is dropped by their deadline.
type feedClient struct {
	frames chan *frame
	behind chan struct{}
}

// feed fans the strike store's events out to the connected streams. One
// reader runs while any client is connected: it wakes on the store's
// Changed (on PostgreSQL, any replica's commit) or every Limits.FeedPoll,
// reads the events after the last it passed on, by seq, and offers each
// to every client without ever waiting for one. Every replica of one
// database reads the same log, so each sends the same events with the same
// ids.
type feed struct {
	st      store.Store
	limits  Limits
	log     *slog.Logger
	mu      sync.Mutex
	clients map[*feedClient]struct{}
	stop    context.CancelFunc // ends the running reader; nil when none runs
	dropped *prometheus.CounterVec
}

func newFeed(h *handlers) *feed {
	f := &feed{st: h.cfg.Store, limits: h.limits, log: h.log, clients: map[*feedClient]struct{}{},
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "protectmap_feed_dropped_total",
			Help: "Clients of GET /strikes/events dropped, by reason: write_timeout (a write to them stalled past --feed-write-timeout).",
		}, []string{"reason"})}
	h.metrics.reg.MustRegister(f.dropped, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "protectmap_feed_clients",
		Help: "Clients connected to GET /strikes/events.",
	}, func() float64 {
		f.mu.Lock()
		defer f.mu.Unlock()
		return float64(len(f.clients))
	}))
	return f
}

// join adds c, starting the reader for the first client; 503 when
// Limits.MaxFeedClients are connected already. A reader started here
// starts from the store's head as it is now, before c reads it: every
// event after the point c starts from reaches c from one or the other.
func (f *feed) join(ec echo.Context, c *feedClient) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clients) >= f.limits.MaxFeedClients {
		return overloaded(ec, http.StatusServiceUnavailable, "%d clients follow the live feed already", f.limits.MaxFeedClients)
	}
	if f.stop == nil {
		wake := f.st.Changed()
		head, err := f.st.Head(ec.Request().Context())
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		f.stop = cancel
		go f.read(ctx, head.Seq, wake)
	}
	f.clients[c] = struct{}{}
	return nil
}

// leave removes c, stopping the reader after the last client.
func (f *feed) leave(c *feedClient) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.clients, c)
	if len(f.clients) == 0 && f.stop != nil {
		f.stop()
		f.stop = nil
	}
}

// read passes every event after last on to the clients, until ctx ends;
// wake is the store's Changed from before last was read. Clients catch up
// on older events from the store themselves, and skip any they were given
// already, so readers overlapping as one stops and another starts lose
// nothing and repeat nothing.
func (f *feed) read(ctx context.Context, last int64, wake <-chan struct{}) {
	poll := time.NewTicker(f.limits.FeedPoll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		}
		wake = f.st.Changed()
		var err error
		if last, err = f.publishAfter(ctx, last); err != nil && ctx.Err() == nil {
			f.log.Warn("live feed: reading the strike store", "err", err)
		}
	}
}

// publishAfter offers every event after seq to the clients and returns
// the last one offered.
func (f *feed) publishAfter(ctx context.Context, seq int64) (int64, error) {
	for {
		page, err := f.st.Events(ctx, store.EventQuery{After: seq, Limit: feedPage})
		if err != nil {
			return seq, err
		}
		for i := range page.Events {
			fr, err := newFrame(&page.Events[i])
			if err != nil {
				return seq, err
			}
			f.offer(fr)
			seq = fr.seq
		}
		if len(page.Events) < feedPage {
			return seq, nil
		}
	}
}

// offer queues fr for every client with room for it, and tells the others
// they are behind.
func (f *feed) offer(fr *frame) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.clients {
		select {
		case c.frames <- fr:
		default:
			select {
			case c.behind <- struct{}{}:
			default: // told already
			}
		}
	}
}

// drop ends c's membership for reason, once.
func (f *feed) drop(c *feedClient, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[c]; !ok {
		return
	}
	delete(f.clients, c)
	close(c.frames)
	f.dropped.WithLabelValues(reason).Inc()
}

// appendFrame appends e as a Server-Sent Event: its seq as the id, and as
// data the strike as appendEventFeature writes it.
func appendFrame(b []byte, e *store.Event, st *store.Strike) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, "\ndata: "...)
	// Compact JSON holds no line breaks, so the data is one line.
	b = appendEventFeature(b, e, st)
	return append(b, "\n\n"...)
}

// appendEventFeature appends st, decoded from e, as a GeoJSON Feature
// whose properties add the action (create, update or delete), the seq,
// the verdict the strike was recorded with (null when none was) and, for a
// delete, deleted_at.
func appendEventFeature(b []byte, e *store.Event, st *store.Strike) []byte {
	members := []geojson.Member{{Key: "action", Value: e.Action}, {Key: "seq", Value: e.Seq}}
	if st.Verdict != nil {
		members = append(members, geojson.Member{Key: "verdict", Value: json.RawMessage(appendVerdict(nil, st.Verdict))})
	} else {
		members = append(members, geojson.Member{Key: "verdict", Value: nil})
	}
	if !st.DeletedAt.IsZero() {
		members = append(members, geojson.Member{Key: "deleted_at", Value: st.DeletedAt.UTC().Format(time.RFC3339Nano)})
	}
	return store.AppendFeature(b, st, members...)
}

// parseEventID reads the id of an event: a whole number from 0.
func parseEventID(v string) (int64, error) {
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq < 0 || v[0] == '+' {
		return 0, fmt.Errorf("must be the id of an event (a whole number from 0), not %q", v)
	}
	return seq, nil
}

// feedQuery is what GET /strikes/events was asked for.
type feedQuery struct {
	// after is the event a stream starts after; -1 for the last committed.
	after int64
	// alert is the id of the alert subscription whose strikes alone are
	// sent; empty sends every event.
	alert string
}

// feedParams are the parameters of GET /strikes/events.
var feedParams = params[feedQuery]{
	"since": func(q *feedQuery, v string) (err error) {
		q.after, err = parseEventID(v)
		return err
	},
	"alert": func(q *feedQuery, v string) error {
		if v == "" {
			return errors.New("must be the id of an alert subscription")
		}
		q.alert = v
		return nil
	},
}

// feedStart reads the query: a stream starts after the event of
// Last-Event-ID (sent by a browser reconnecting, so it wins over the
// URL's ?since), else of ?since, else after the last event committed.
func feedStart(c echo.Context) (feedQuery, error) {
	q := feedQuery{after: -1}
	if err := feedParams.parse(c.QueryString(), &q, nil); err != nil {
		return q, err
	}
	if v := strings.TrimSpace(c.Request().Header.Get("Last-Event-ID")); v != "" {
		seq, err := parseEventID(v)
		if err != nil {
			return q, paramError("Last-Event-ID", "%s", err.Error())
		}
		q.after = seq
	}
	return q, nil
}

// strikeEvents answers GET /strikes/events: the strike log's events as
// they are committed, as Server-Sent Events, from the one after
// Last-Event-ID (or ?since) on, so a client that reconnects misses none
// and gets none twice. With ?alert it sends only the strikes recorded that
// concern that alert subscription. A client that takes longer than
// Limits.FeedWriteTimeout to take a write is dropped: it reconnects and
// resumes from the store.
func (h *handlers) strikeEvents(c echo.Context) error {
	q, err := feedStart(c)
	if err != nil {
		return err
	}
	if err := acceptable(c, mediaEventStream); err != nil {
		return err
	}
	after := q.after
	var alert *store.Subscription
	if q.alert != "" {
		sub, err := h.cfg.Store.Subscription(c.Request().Context(), q.alert)
		if errors.Is(err, store.ErrNoSubscription) {
			return paramError("alert", "no alert subscription %q", q.alert)
		}
		if err != nil {
			return err
		}
		alert = &sub
	}
	ctx := c.Request().Context()
	client := &feedClient{frames: make(chan *frame, h.limits.FeedBuffer), behind: make(chan struct{}, 1)}
	if err := h.feed.join(c, client); err != nil {
		return err
	}
	defer h.feed.leave(client)
	// Events committed from here on reach client.frames; those before,
	// after `after`, are read from the store below.
	if after < 0 {
		head, err := h.cfg.Store.Head(ctx)
		if err != nil {
			return err
		}
		after = head.Seq
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	// The server's read and write timeouts bound ordinary requests; a
	// stream lives on, bounded by FeedWriteTimeout per write instead.
	rc.SetReadDeadline(time.Time{}) //nolint:errcheck // test recorders have no connection
	hdr := w.Header()
	hdr.Set(echo.HeaderContentType, mediaEventStream)
	hdr.Set(echo.HeaderCacheControl, "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx would hold events back otherwise
	w.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	s := &stream{h: h, c: c, rc: rc, client: client, sent: after, alert: alert}
	if err := s.write([]byte("retry: " + strconv.Itoa(feedRetryMillis) + "\n\n")); err != nil {
		return s.end(err)
	}
	if err := s.catchUp(ctx); err != nil {
		return s.end(err)
	}
	heartbeat := time.NewTicker(h.limits.FeedHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.done:
			return nil
		case <-heartbeat.C:
			// A comment line: proxies see traffic, clients ignore it.
			if err := s.write([]byte(": heartbeat\n\n")); err != nil {
				return s.end(err)
			}
		case <-client.behind:
			if err := s.catchUp(ctx); err != nil {
				return s.end(err)
			}
		case fr, ok := <-client.frames:
			if !ok {
				return nil // dropped; the client resumes where it was
			}
			if fr.seq > s.sent+1 { // events this stream has not seen lie between
				if err := s.catchUp(ctx); err != nil {
					return s.end(err)
				}
			}
			if fr.seq != s.sent+1 {
				continue // sent already
			}
			if err := s.send(fr); err != nil {
				return s.end(err)
			}
		}
	}
}

// stream is one client's connection to the feed.
type stream struct {
	h      *handlers
	c      echo.Context
	rc     *http.ResponseController
	client *feedClient
	sent   int64 // the seq of the last event passed: written, or left out by alert
	// alert, when set, keeps the strikes recorded that concern it.
	alert *store.Subscription
}

// send writes fr unless the stream's alert leaves it out.
func (s *stream) send(fr *frame) error {
	if s.alert != nil {
		if fr.action != "create" || fr.seq <= s.alert.AfterSeq {
			s.sent = fr.seq
			return nil
		}
		hits, err := alertSites(s.h.current().Index, s.alert, fr.point)
		if err != nil {
			return err
		}
		if len(hits) == 0 {
			s.sent = fr.seq
			return nil
		}
	}
	if err := s.write(fr.body); err != nil {
		return err
	}
	s.sent = fr.seq
	return nil
}

// write sends b at once, within Limits.FeedWriteTimeout.
func (s *stream) write(b []byte) error {
	s.rc.SetWriteDeadline(time.Now().Add(s.h.limits.FeedWriteTimeout)) //nolint:errcheck // test recorders have no connection
	_, err := s.c.Response().Write(b)
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		return &clientError{err}
	}
	return nil
}

// clientError is a write to the client that failed: it went away, or
// stalled past its deadline.
type clientError struct{ err error }

func (e *clientError) Error() string { return "writing to the client: " + e.err.Error() }
func (e *clientError) Unwrap() error { return e.err }

// catchUp writes every event in the store after the last one sent.
func (s *stream) catchUp(ctx context.Context) error {
	for {
		page, err := s.h.cfg.Store.Events(ctx, store.EventQuery{After: s.sent, Limit: feedPage})
		if err != nil {
			return err
		}
		for i := range page.Events {
			fr, err := newFrame(&page.Events[i])
			if err != nil {
				return err
			}
			if err := s.send(fr); err != nil {
				return err
			}
		}
		if len(page.Events) < feedPage {
			return nil
		}
	}
}

// end closes the stream after err. The headers are sent, so there is no
// problem document to give: a client that stalled is counted as dropped,
// one gone is let go, and a store that failed is logged (the client
// reconnects and resumes).
func (s *stream) end(err error) error {
	var ce *clientError
	switch {
	case errors.As(err, &ce):
		if isTimeout(err) {
			s.h.feed.drop(s.client, "write_timeout")
		}
	case s.c.Request().Context().Err() == nil:
		s.h.log.Warn("live feed: reading the strike store", "err", err)
	}
	return nil
}

// isTimeout reports whether err is a network timeout, such as a write
// past its deadline.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
