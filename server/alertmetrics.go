package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/protectmap/protectmap/server/store"
)

// alertMetrics count this server's webhook attempts for /metrics. The
// queue is the store's, shared by every replica on one database, so its
// depth is read from the store at scrape time.
type alertMetrics struct {
	// attempts are by result: delivered (2xx), or failed.
	attempts *prometheus.CounterVec
	// retries are the attempts after a delivery's first.
	retries prometheus.Counter
	// dead are the deliveries given up after their last attempt.
	dead prometheus.Counter
}

// deliveryStates are the states protectmap_alert_deliveries reports,
// each always, so a scrape tells an empty queue from an unread one.
var deliveryStates = []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead}

var descAlertDeliveries = prometheus.NewDesc("protectmap_alert_deliveries",
	"Webhook deliveries in the store, of every replica, by state: pending (the queue's depth), delivered, or dead (the dead letters).",
	[]string{"state"}, nil)

// storeScrapeTimeout bounds the store's part of a scrape: /metrics must
// answer when the store does not.
const storeScrapeTimeout = 2 * time.Second

func newAlertMetrics(reg *prometheus.Registry, st store.Store, log *slog.Logger) *alertMetrics {
	m := &alertMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "protectmap_alert_delivery_attempts_total",
			Help: "Webhook delivery attempts made by this server, by result: delivered (answered 2xx), or failed (any other answer, none in time, or an address refused).",
		}, []string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "protectmap_alert_delivery_retries_total",
			Help: "Webhook delivery attempts made by this server after a delivery's first attempt failed.",
		}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "protectmap_alert_dead_letters_total",
			Help: "Webhook deliveries this server gave up on after their last attempt failed (those refused by a full queue are counted in protectmap_alert_deliveries).",
		}),
	}
	m.attempts.WithLabelValues("delivered")
	m.attempts.WithLabelValues("failed")
	reg.MustRegister(m.attempts, m.retries, m.dead, deliveryCollector{st, log})
	return m
}

// attempted counts one attempt at d, whose outcome d now holds.
func (m *alertMetrics) attempted(d *store.Delivery) {
	if d.Attempts > 1 {
		m.retries.Inc()
	}
	switch d.State {
	case store.DeliveryDelivered:
		m.attempts.WithLabelValues("delivered").Inc()
		return
	case store.DeliveryDead:
		m.dead.Inc()
	}
	m.attempts.WithLabelValues("failed").Inc()
}

// deliveryCollector reads the store's deliveries by state at scrape time.
type deliveryCollector struct {
	st  store.Store
	log *slog.Logger
}

func (deliveryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descAlertDeliveries }

func (d deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), storeScrapeTimeout)
	defer cancel()
	counts, err := d.st.DeliveryCounts(ctx)
	if err != nil {
		// Left out rather than failing the scrape: the rest still tells.
		d.log.Warn("metrics: counting webhook deliveries", "err", err)
		return
	}
	for _, state := range deliveryStates {
		ch <- prometheus.MustNewConstMetric(descAlertDeliveries, prometheus.GaugeValue, float64(counts[state]), state)
	}
}
