package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server/store"
)

// maxAlertSites is how many sites an alert names, nearest first.
const maxAlertSites = 20

// maxDeadLetters is how many dead deliveries GET .../dead-letters lists.
const maxDeadLetters = 1000

// alertRequest is the body of POST /alerts.
type alertRequest struct {
	Meters      *float64 `json:"meters"`
	Collections []string `json:"collections"`
	Classes     []string `json:"classes"`
	Site        string   `json:"site"`
	Webhook     string   `json:"webhook"`
}

// parseAlert reads a POST /alerts body into a subscription, checking
// everything that needs no data: the sites named are checked against the
// index by checkAlertSites.
func parseAlert(body []byte, nets webhookNets) (store.Subscription, error) {
	var req alertRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return store.Subscription{}, paramError("body", "must be a JSON object of meters, collections, classes, site and webhook: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return store.Subscription{}, paramError("body", "must hold one JSON object")
	}
	if req.Meters == nil {
		return store.Subscription{}, paramError("meters", "is required: the distance from a site, in metres, within which a strike is an alert")
	}
	if m := *req.Meters; !(m > 0 && m <= geo.MaxRadiusMeters) {
		return store.Subscription{}, paramError("meters", "must be more than 0 and at most %d, not %v", geo.MaxRadiusMeters, m)
	}
	for name, list := range map[string][]string{"collections": req.Collections, "classes": req.Classes} {
		if len(list) > 100 {
			return store.Subscription{}, paramError(name, "names at most 100, not %d", len(list))
		}
		for i, v := range list {
			if strings.TrimSpace(v) == "" || len(v) > 200 {
				return store.Subscription{}, paramError(fmt.Sprintf("%s[%d]", name, i), "must be a name of 1 to 200 bytes")
			}
		}
	}
	if req.Site != "" {
		if layer, id, ok := strings.Cut(req.Site, "/"); !ok || layer == "" || id == "" {
			return store.Subscription{}, paramError("site", "must be collectionId/featureId, not %q", req.Site)
		}
	}
	if req.Webhook != "" {
		if err := nets.checkWebhookURL(req.Webhook); err != nil {
			return store.Subscription{}, paramError("webhook", "%s", err.Error())
		}
	}
	return store.Subscription{Meters: *req.Meters, Collections: req.Collections, Classes: req.Classes, Site: req.Site, WebhookURL: req.Webhook}, nil
}

// checkAlertSites checks that the collections and the site sub names are
// served now.
func checkAlertSites(ix *geo.Index, sub *store.Subscription) error {
	for i, name := range sub.Collections {
		if _, ok := ix.Layer(name); !ok {
			return paramError(fmt.Sprintf("collections[%d]", i), "no collection %q; GET /collections lists them", name)
		}
	}
	if sub.Site != "" {
		name, id, _ := strings.Cut(sub.Site, "/")
		l, ok := ix.Layer(name)
		if !ok {
			return paramError("site", "no collection %q; GET /collections lists them", name)
		}
		if _, _, ok := l.Lookup(id); !ok {
			return paramError("site", "no site %q in %s", id, name)
		}
	}
	return nil
}

// alertSites returns the sites of sub within its distance of p, nearest
// first, at most maxAlertSites; none when p is no alert for sub.
func alertSites(ix *geo.Index, sub *store.Subscription, p orb.Point) ([]geo.Hit, error) {
	layers := sub.Collections
	site := ""
	if sub.Site != "" {
		var name string
		name, site, _ = strings.Cut(sub.Site, "/")
		layers = []string{name}
	}
	if slices.ContainsFunc(layers, func(name string) bool { _, ok := ix.Layer(name); return !ok }) {
		return nil, nil // a collection no longer served has no sites
	}
	limit := maxAlertSites
	if site != "" || len(sub.Classes) > 0 {
		limit = max(1, ix.Len()) // filtered below, so all are needed
	}
	hits, err := ix.Nearby(p, sub.Meters, limit, layers...)
	if err != nil {
		return nil, err
	}
	kept := hits[:0]
	for _, h := range hits {
		if (site == "" || h.Feature.ID == site) && (len(sub.Classes) == 0 || slices.Contains(sub.Classes, h.Feature.Kind)) {
			kept = append(kept, h)
		}
	}
	return kept[:min(len(kept), maxAlertSites)], nil
}

// alertView is a subscription as the API shows it.
type alertView struct {
	store.Subscription
	// Secret is shown once, in the answer to POST /alerts.
	Secret string `json:"secret,omitempty"`
	Events string `json:"events"`
}

func (h *handlers) alertView(c echo.Context, sub store.Subscription, withSecret bool) alertView {
	v := alertView{Subscription: sub, Events: h.baseURL(c) + "/strikes/events?alert=" + sub.ID}
	if withSecret {
		v.Secret = sub.Secret
	}
	return v
}

// createAlert answers POST /alerts: a subscription owned by the request's
// token, with its webhook's secret (shown this once).
func (h *handlers) createAlert(c echo.Context) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	sub, err := parseAlert(body, h.cfg.WebhookAllow)
	if err != nil {
		return err
	}
	if err := checkAlertSites(h.current().Index, &sub); err != nil {
		return err
	}
	sub.Owner = actorOf(c)
	sub, err = h.cfg.Store.CreateSubscription(c.Request().Context(), sub, h.limits.MaxAlertsPerOwner)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, h.baseURL(c)+"/alerts/"+sub.ID)
	return c.JSON(http.StatusCreated, h.alertView(c, sub, true))
}

// ownAlert returns the request's token's subscription :alertId; another
// token's is as absent as one never made.
func (h *handlers) ownAlert(c echo.Context) (store.Subscription, error) {
	id := pathParam(c, "alertId")
	sub, err := h.cfg.Store.Subscription(c.Request().Context(), id)
	if err == nil && sub.Owner != actorOf(c) {
		return store.Subscription{}, fmt.Errorf("%w: %q", store.ErrNoSubscription, id)
	}
	return sub, err
}

// listAlerts answers GET /alerts: the request's token's subscriptions.
func (h *handlers) listAlerts(c echo.Context) error {
	subs, err := h.cfg.Store.Subscriptions(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	views := make([]alertView, len(subs))
	for i, sub := range subs {
		views[i] = h.alertView(c, sub, false)
	}
	return c.JSON(http.StatusOK, map[string]any{"alerts": views})
}

// getAlert answers GET /alerts/:alertId.
func (h *handlers) getAlert(c echo.Context) error {
	sub, err := h.ownAlert(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.alertView(c, sub, false))
}

// deleteAlert answers DELETE /alerts/:alertId: the subscription and its
// deliveries, dead ones included, are forgotten.
func (h *handlers) deleteAlert(c echo.Context) error {
	sub, err := h.ownAlert(c)
	if err != nil {
		return err
	}
	if err := h.cfg.Store.DeleteSubscription(c.Request().Context(), sub.Owner, sub.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// deadLetterView is a delivery given up on.
type deadLetterView struct {
	Delivery  string          `json:"delivery"`
	Seq       int64           `json:"seq"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error"`
	Created   time.Time       `json:"created"`
	Payload   json.RawMessage `json:"payload"`
}

// deadLetters answers GET /alerts/:alertId/dead-letters: the deliveries
// given up on, newest first.
func (h *handlers) deadLetters(c echo.Context) error {
	sub, err := h.ownAlert(c)
	if err != nil {
		return err
	}
	dead, err := h.cfg.Store.DeadDeliveries(c.Request().Context(), sub.Owner, sub.ID, maxDeadLetters)
	if err != nil {
		return err
	}
	views := make([]deadLetterView, len(dead))
	for i, d := range dead {
		views[i] = deadLetterView{Delivery: strconv.FormatInt(d.ID, 10), Seq: d.Seq, Attempts: d.Attempts, LastError: d.LastError, Created: d.Created, Payload: d.Payload}
	}
	return c.JSON(http.StatusOK, map[string]any{"dead_letters": views})
}

// alerter matches the strike log's new strikes against the subscriptions
// with webhooks and delivers them. The store keeps its progress and its
// queue, so replicas on one database share the work: each event is matched
// by one of them, each delivery taken by one at a time.
type alerter struct {
	h       *handlers
	client  *http.Client
	metrics *alertMetrics
}

// run matches and delivers until ctx ends: on the store's writes, which
// its own writes are among, it matches, and delivers only when there were
// new events; every Limits.WebhookPoll it delivers what is due for a retry.
func (a *alerter) run(ctx context.Context) {
	poll := time.NewTicker(a.h.limits.WebhookPoll)
	defer poll.Stop()
	wake := a.h.cfg.Store.Changed()
	for {
		var polled bool
		select {
		case <-ctx.Done():
			return
		case <-wake:
			wake = a.h.cfg.Store.Changed()
		case <-poll.C:
			polled = true
		}
		matched, err := a.match(ctx)
		if err != nil && ctx.Err() == nil {
			a.h.log.Warn("alerts: matching strikes", "err", err)
		}
		if !matched && !polled {
			continue
		}
		if err := a.deliver(ctx); err != nil && ctx.Err() == nil {
			a.h.log.Warn("alerts: delivering", "err", err)
		}
	}
}

// match queues a delivery for every subscription with a webhook that a
// strike recorded since the last match concerns, and reports whether
// there were events to match.
func (a *alerter) match(ctx context.Context) (matched bool, err error) {
	st := a.h.cfg.Store
	for {
		from, err := st.AlertProgress(ctx)
		if err != nil {
			return matched, err
		}
		page, err := st.Events(ctx, store.EventQuery{After: from, Limit: feedPage})
		if err != nil || len(page.Events) == 0 {
			return matched, err
		}
		matched = true
		subs, err := st.Subscriptions(ctx, "")
		if err != nil {
			return matched, err
		}
		subs = slices.DeleteFunc(subs, func(s store.Subscription) bool { return s.WebhookURL == "" })
		ix := a.h.current().Index
		var queue []store.Delivery
		for i := range page.Events {
			e := &page.Events[i]
			if e.Action != "create" {
				continue
			}
			for j := range subs {
				if e.Seq <= subs[j].AfterSeq {
					continue
				}
				payload, err := alertPayload(ix, &subs[j], e)
				if err != nil {
					return matched, err
				}
				if payload != nil {
					queue = append(queue, store.Delivery{Subscription: subs[j].ID, Seq: e.Seq, Payload: payload})
				}
			}
		}
		to := page.Events[len(page.Events)-1].Seq
		// Another replica may have matched these events meanwhile: then
		// the progress read next is theirs.
		if _, err := st.QueueDeliveries(ctx, from, to, queue, a.h.limits.MaxWebhookQueue); err != nil {
			return matched, err
		}
		if len(page.Events) < feedPage {
			return matched, nil
		}
	}
}

// alertPayload is the body delivered to sub for event e: the subscription,
// the strike as the live feed sends it, and the sites it fell near; nil
// when e is no alert for sub.
func alertPayload(ix *geo.Index, sub *store.Subscription, e *store.Event) (json.RawMessage, error) {
	st, err := e.Decode()
	if err != nil {
		return nil, err
	}
	hits, err := alertSites(ix, sub, st.Point)
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	b := append([]byte(`{"alert":`), strconv.Quote(sub.ID)...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"strike":`...)
	b = appendEventFeature(b, e, &st)
	b = append(b, `,"sites":[`...)
	for i, hit := range hits {
		if i > 0 {
			b = append(b, ',')
		}
		site, err := json.Marshal(map[string]any{"collection": hit.Layer.Name(), "id": hit.Feature.ID, "name": hit.Feature.Name,
			"kind": hit.Feature.Kind, "meters": math.Round(hit.Meters*10) / 10})
		if err != nil {
			return nil, err
		}
		b = append(b, site...)
	}
	return append(b, "]}"...), nil
}

// deliveryBatch is how many deliveries are taken, and sent at once, per round.
const deliveryBatch = 16

// deliver sends the deliveries due, deliveryBatch at a time, recording
// each attempt: delivered, due again after a backoff, or dead after
// Limits.WebhookAttempts.
func (a *alerter) deliver(ctx context.Context) error {
	l := a.h.limits
	for {
		// The lease outlasts an attempt, so no other replica takes a
		// delivery being sent.
		due, err := a.h.cfg.Store.TakeDeliveries(ctx, time.Now(), 2*l.WebhookTimeout, deliveryBatch)
		if err != nil || len(due) == 0 {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(due))
		for i := range due {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := &due[i]
				sendErr := post(ctx, a.client, d.WebhookURL, d.Secret, strconv.FormatInt(d.ID, 10), d.Payload)
				d.Attempts++
				switch {
				case sendErr == nil:
					d.State, d.LastError = store.DeliveryDelivered, ""
				case d.Attempts >= l.WebhookAttempts:
					d.State, d.LastError = store.DeliveryDead, sendErr.Error()
				default:
					d.LastError = sendErr.Error()
					d.Next = time.Now().Add(backoff(l.WebhookBackoff, d.Attempts))
				}
				a.metrics.attempted(d)
				// Recorded even as the server stops, so an attempt made is
				// counted.
				errs[i] = a.h.cfg.Store.FinishAttempt(context.WithoutCancel(ctx), *d)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if ctx.Err() != nil || len(due) < deliveryBatch {
			return ctx.Err()
		}
	}
}

// backoff is the pause after a delivery's attempts-th failure: first,
// doubled after each further failure, at most an hour.
func backoff(first time.Duration, attempts int) time.Duration {
	d := first
	for range attempts - 1 {
		if d >= time.Hour/2 {
			return time.Hour
		}
		d *= 2
	}
	return min(d, time.Hour)
}
