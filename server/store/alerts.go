package store

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Subscription asks to be told of every strike recorded within Meters of
// a protected site it names: any site, the sites of some collections or
// classes, or one site. Strikes reach it on the live feed and, when it has
// a WebhookURL, as signed webhook deliveries.
type Subscription struct {
	// ID is assigned by CreateSubscription: 128 random bits in hex.
	ID string `json:"id"`
	// Owner is the name of the token that made it; only that token sees,
	// lists or deletes it.
	Owner string `json:"owner"`
	// Meters is the largest geodesic distance from a strike to a site.
	Meters float64 `json:"meters"`
	// Collections keeps the sites of these layers; empty keeps every layer.
	Collections []string `json:"collections,omitempty"`
	// Classes keeps the sites of these kinds (their `kind` property);
	// empty keeps every kind.
	Classes []string `json:"classes,omitempty"`
	// Site, "collection/featureId", keeps that one site; empty keeps any.
	Site string `json:"site,omitempty"`
	// WebhookURL is where deliveries are posted; empty posts none.
	WebhookURL string `json:"webhook,omitempty"`
	// Secret signs the webhook deliveries: 256 random bits in hex, set by
	// CreateSubscription.
	Secret string `json:"-"`
	// AfterSeq is the last event committed when the subscription was made:
	// it hears of later events only.
	AfterSeq int64 `json:"-"`
	// CreatedAt is set by CreateSubscription.
	CreatedAt time.Time `json:"created"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one webhook post of one event to one subscription.
type Delivery struct {
	ID           int64
	Subscription string
	// Seq is the event's.
	Seq int64
	// Payload is the JSON body posted.
	Payload  json.RawMessage
	State    string
	Attempts int
	// Next is when a pending delivery is next tried.
	Next time.Time
	// LastError says why the last attempt failed; empty when none did.
	LastError string
	Created   time.Time
	// WebhookURL and Secret are the subscription's, read with the delivery.
	WebhookURL, Secret string
}

// Alerts keeps alert subscriptions and their webhook deliveries.
type Alerts interface {
	// CreateSubscription records sub for its Owner, setting its ID,
	// Secret, AfterSeq and CreatedAt; ErrTooMany when the owner has
	// maxPerOwner already.
	CreateSubscription(ctx context.Context, sub Subscription, maxPerOwner int) (Subscription, error)
	// Subscription returns the subscription with the given id, or ErrNoSubscription.
	Subscription(ctx context.Context, id string) (Subscription, error)
	// Subscriptions lists owner's subscriptions, oldest first; every
	// owner's when owner is empty.
	Subscriptions(ctx context.Context, owner string) ([]Subscription, error)
	// DeleteSubscription deletes owner's subscription id with its
	// deliveries, or returns ErrNoSubscription.
	DeleteSubscription(ctx context.Context, owner, id string) error
	// AlertProgress returns the last event matched against the subscriptions.
	AlertProgress(ctx context.Context) (int64, error)
	// QueueDeliveries advances the last event matched from `from` to `to`
	// and queues deliveries, pending from now, in one transaction. It
	// returns false, queuing nothing, when the progress is no longer
	// `from` (another replica matched those events). Deliveries beyond
	// maxPending pending ones are recorded dead, with the reason.
	QueueDeliveries(ctx context.Context, from, to int64, deliveries []Delivery, maxPending int) (bool, error)
	// TakeDeliveries returns up to limit pending deliveries due by now,
	// oldest first, and moves each one's Next on by lease so that no other
	// taker sends it meanwhile.
	TakeDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishAttempt records an attempt at delivery d: its new State,
	// Attempts, Next and LastError.
	FinishAttempt(ctx context.Context, d Delivery) error
	// DeadDeliveries lists subscription id's dead deliveries, the latest
	// queued first,
	// at most limit; ErrNoSubscription unless owner owns it.
	DeadDeliveries(ctx context.Context, owner, id string, limit int) ([]Delivery, error)
	// DeliveryCounts returns how many deliveries are in each state, of
	// every subscription; a state none is in is left out.
	DeliveryCounts(ctx context.Context) (map[string]int, error)
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}

func (s *sqlStore) CreateSubscription(ctx context.Context, sub Subscription, maxPerOwner int) (Subscription, error) {
	sub.ID, sub.Secret, sub.CreatedAt = randomHex(16), randomHex(32), now().Truncate(time.Microsecond)
	spec, err := json.Marshal(sub)
	if err != nil {
		return Subscription{}, err
	}
	err = s.inTx(ctx, func(tx *txn) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM alert_subscriptions WHERE owner = "+s.param(1), sub.Owner).Scan(&n); err != nil {
			return err
		}
		if n >= maxPerOwner {
			return fmt.Errorf("%w: %s has %d alert subscriptions already, the most allowed", ErrTooMany, sub.Owner, n)
		}
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM strike_events").Scan(&sub.AfterSeq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO alert_subscriptions (id, owner, spec, secret, after_seq, created_us) VALUES ("+
			s.param(1)+", "+s.param(2)+", "+s.param(3)+", "+s.param(4)+", "+s.param(5)+", "+s.param(6)+")",
			sub.ID, sub.Owner, string(spec), sub.Secret, sub.AfterSeq, sub.CreatedAt.UnixMicro())
		return err
	})
	if err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

const subscriptionColumns = "id, owner, spec, secret, after_seq, created_us"

func scanSubscription(row scanner) (Subscription, error) {
	var sub Subscription
	var id, owner, spec string
	var created int64
	if err := row.Scan(&id, &owner, &spec, &sub.Secret, &sub.AfterSeq, &created); err != nil {
		return Subscription{}, err
	}
	if err := json.Unmarshal([]byte(spec), &sub); err != nil {
		return Subscription{}, fmt.Errorf("store: alert subscription %s: %w", id, err)
	}
	sub.ID, sub.Owner, sub.CreatedAt = id, owner, time.UnixMicro(created).UTC()
	return sub, nil
}

func (s *sqlStore) Subscription(ctx context.Context, id string) (Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, "SELECT "+subscriptionColumns+" FROM alert_subscriptions WHERE id = "+s.param(1), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, fmt.Errorf("%w: %q", ErrNoSubscription, id)
	}
	return sub, unavailable(err)
}

func (s *sqlStore) Subscriptions(ctx context.Context, owner string) (_ []Subscription, err error) {
	defer func() { err = unavailable(err) }()
	query, args := "SELECT "+subscriptionColumns+" FROM alert_subscriptions", []any{}
	if owner != "" {
		query, args = query+" WHERE owner = "+s.param(1), append(args, owner)
	}
	return queryAll(ctx, s.db, scanSubscription, query+" ORDER BY created_us, id", args...)
}

func (s *sqlStore) DeleteSubscription(ctx context.Context, owner, id string) error {
	return s.inTx(ctx, func(tx *txn) error {
		if err := ownedBy(ctx, s, tx, owner, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_deliveries WHERE subscription_id = "+s.param(1), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM alert_subscriptions WHERE id = "+s.param(1), id)
		return err
	})
}

// ownedBy returns ErrNoSubscription unless owner owns subscription id: another
// owner's is as absent as one never made.
func ownedBy(ctx context.Context, s *sqlStore, q querier, owner, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM alert_subscriptions WHERE id = "+s.param(1)+" AND owner = "+s.param(2), id, owner).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrNoSubscription, id)
	}
	return nil
}

func (s *sqlStore) AlertProgress(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, "SELECT seq FROM alert_progress WHERE id = 1").Scan(&seq)
	return seq, unavailable(err)
}

func (s *sqlStore) QueueDeliveries(ctx context.Context, from, to int64, deliveries []Delivery, maxPending int) (bool, error) {
	claimed := false
	err := s.inTx(ctx, func(tx *txn) error {
		claimed = false
		res, err := tx.ExecContext(ctx, "UPDATE alert_progress SET seq = "+s.param(1)+" WHERE id = 1 AND seq = "+s.param(2), to, from)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		claimed = true
		var pending int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM alert_deliveries WHERE state = 'pending'").Scan(&pending); err != nil {
			return err
		}
		t := now().UnixMicro()
		insert := "INSERT INTO alert_deliveries (subscription_id, seq, payload, state, attempts, next_us, last_error, created_us) VALUES (" +
			s.param(1) + ", " + s.param(2) + ", " + s.param(3) + ", " + s.param(4) + ", 0, " + s.param(5) + ", " + s.param(6) + ", " + s.param(7) + ")"
		for _, d := range deliveries {
			state, reason := DeliveryPending, ""
			if pending >= maxPending {
				state, reason = DeliveryDead, fmt.Sprintf("not sent: the queue held %d deliveries, the most allowed", pending)
			} else {
				pending++
			}
			if _, err := tx.ExecContext(ctx, insert, d.Subscription, d.Seq, string(d.Payload), state, t, reason, t); err != nil {
				return err
			}
		}
		return nil
	})
	return claimed && err == nil, err
}

const deliveryColumns = "d.id, d.subscription_id, d.seq, d.payload, d.state, d.attempts, d.next_us, d.last_error, d.created_us, s.spec, s.secret"

func scanDelivery(row scanner) (Delivery, error) {
	var d Delivery
	var payload, spec string
	var next, created int64
	if err := row.Scan(&d.ID, &d.Subscription, &d.Seq, &payload, &d.State, &d.Attempts, &next, &d.LastError, &created, &spec, &d.Secret); err != nil {
		return Delivery{}, err
	}
	var sub Subscription
	if err := json.Unmarshal([]byte(spec), &sub); err != nil {
		return Delivery{}, fmt.Errorf("store: alert subscription %s: %w", d.Subscription, err)
	}
	d.Payload, d.WebhookURL = json.RawMessage(payload), sub.WebhookURL
	d.Next, d.Created = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC()
	return d, nil
}

// queryDeliveries reads deliveries with their subscriptions' webhooks.
func (s *sqlStore) queryDeliveries(ctx context.Context, q querier, where string, args ...any) ([]Delivery, error) {
	return queryAll(ctx, q, scanDelivery, "SELECT "+deliveryColumns+" FROM alert_deliveries d JOIN alert_subscriptions s ON s.id = d.subscription_id WHERE "+where, args...)
}

func (s *sqlStore) TakeDeliveries(ctx context.Context, at time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	var taken []Delivery
	err := s.inTx(ctx, func(tx *txn) error {
		taken = taken[:0]
		due, err := s.queryDeliveries(ctx, tx, "d.state = 'pending' AND d.next_us <= "+s.param(1)+" ORDER BY d.next_us, d.id LIMIT "+s.param(2), at.UnixMicro(), limit)
		if err != nil {
			return err
		}
		next := at.Add(lease)
		for _, d := range due {
			// Moved on only from the time read: a delivery another taker
			// moved meanwhile is theirs.
			res, err := tx.ExecContext(ctx, "UPDATE alert_deliveries SET next_us = "+s.param(1)+" WHERE id = "+s.param(2)+" AND next_us = "+s.param(3),
				next.UnixMicro(), d.ID, d.Next.UnixMicro())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				d.Next = next
				taken = append(taken, d)
			}
		}
		return nil
	})
	return taken, err
}

func (s *sqlStore) FinishAttempt(ctx context.Context, d Delivery) error {
	return s.inTx(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, "UPDATE alert_deliveries SET state = "+s.param(1)+", attempts = "+s.param(2)+", next_us = "+s.param(3)+
			", last_error = "+s.param(4)+" WHERE id = "+s.param(5), d.State, d.Attempts, d.Next.UnixMicro(), d.LastError, d.ID)
		return err
	})
}

func (s *sqlStore) DeadDeliveries(ctx context.Context, owner, id string, limit int) (_ []Delivery, err error) {
	defer func() { err = unavailable(err) }()
	if err := ownedBy(ctx, s, s.db, owner, id); err != nil {
		return nil, err
	}
	return s.queryDeliveries(ctx, s.db, "d.subscription_id = "+s.param(1)+" AND d.state = 'dead' ORDER BY d.id DESC LIMIT "+s.param(2), id, limit)
}

func (s *sqlStore) DeliveryCounts(ctx context.Context) (_ map[string]int, err error) {
	defer func() { err = unavailable(err) }()
	rows, err := s.db.QueryContext(ctx, "SELECT state, COUNT(*) FROM alert_deliveries GROUP BY state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[state] = n
	}
	return counts, rows.Err()
}
