package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestAlertSubscriptionsAndDeliveries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		ctx := context.Background()
		if _, err := st.Put(ctx, "desk", []Strike{{Point: orb.Point{30, 50}, Time: time.Now(), Source: "s"}}); err != nil {
			t.Fatal(err)
		}
		sub, err := st.CreateSubscription(ctx, Subscription{Owner: "ann", Meters: 500, Collections: []string{"energy"}, WebhookURL: "https://example.org/h"}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(sub.ID) != 32 || len(sub.Secret) != 64 || sub.AfterSeq != 1 {
			t.Fatalf("subscription %+v: want an id, a secret, and the event committed before it", sub)
		}
		if _, err := st.CreateSubscription(ctx, Subscription{Owner: "bob", Meters: 5}, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateSubscription(ctx, Subscription{Owner: "ann", Meters: 5}, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateSubscription(ctx, Subscription{Owner: "ann", Meters: 5}, 2); !errors.Is(err, ErrTooMany) {
			t.Errorf("a third subscription of two allowed: %v", err)
		}
		got, err := st.Subscription(ctx, sub.ID)
		if err != nil || got.Meters != 500 || got.Collections[0] != "energy" || got.Secret != sub.Secret || got.Owner != "ann" || !got.CreatedAt.Equal(sub.CreatedAt) {
			t.Errorf("Subscription: %+v %v, want %+v", got, err, sub)
		}
		if subs, err := st.Subscriptions(ctx, "ann"); err != nil || len(subs) != 2 || subs[0].ID != sub.ID {
			t.Errorf("ann's subscriptions: %v %v", subs, err)
		}
		if subs, err := st.Subscriptions(ctx, ""); err != nil || len(subs) != 3 {
			t.Errorf("every subscription: %d %v", len(subs), err)
		}

		// The progress starts at the last event the migration saw, and
		// moves only from the value read.
		from, err := st.AlertProgress(ctx)
		if err != nil || from != 0 {
			t.Fatalf("progress %d %v, want 0", from, err)
		}
		queue := []Delivery{{Subscription: sub.ID, Seq: 1, Payload: []byte(`{"n":1}`)}, {Subscription: sub.ID, Seq: 2, Payload: []byte(`{"n":2}`)}}
		if ok, err := st.QueueDeliveries(ctx, from, 2, queue, 1); !ok || err != nil {
			t.Fatalf("QueueDeliveries: %v %v", ok, err)
		}
		if ok, err := st.QueueDeliveries(ctx, from, 3, []Delivery{{Subscription: sub.ID, Seq: 3, Payload: []byte(`{}`)}}, 10); ok || err != nil {
			t.Errorf("QueueDeliveries from a stale progress: %v %v, want false", ok, err)
		}
		// One was queued; the other, beyond the queue's bound, is dead.
		dead, err := st.DeadDeliveries(ctx, "ann", sub.ID, 10)
		if err != nil || len(dead) != 1 || dead[0].Seq != 2 || dead[0].LastError == "" {
			t.Fatalf("dead deliveries %+v %v", dead, err)
		}
		if counts, err := st.DeliveryCounts(ctx); err != nil || len(counts) != 2 || counts[DeliveryPending] != 1 || counts[DeliveryDead] != 1 {
			t.Errorf("delivery counts %v %v, want 1 pending, 1 dead", counts, err)
		}
		now := time.Now()
		taken, err := st.TakeDeliveries(ctx, now, time.Minute, 10)
		if err != nil || len(taken) != 1 || taken[0].Seq != 1 || taken[0].WebhookURL != sub.WebhookURL || taken[0].Secret != sub.Secret || string(taken[0].Payload) != `{"n":1}` {
			t.Fatalf("taken %+v %v", taken, err)
		}
		if again, err := st.TakeDeliveries(ctx, now, time.Minute, 10); err != nil || len(again) != 0 {
			t.Errorf("taken again within the lease: %+v %v", again, err)
		}
		d := taken[0]
		d.State, d.Attempts, d.LastError = DeliveryDead, 3, "the receiver answered 500"
		if err := st.FinishAttempt(ctx, d); err != nil {
			t.Fatal(err)
		}
		if dead, err := st.DeadDeliveries(ctx, "ann", sub.ID, 10); err != nil || len(dead) != 2 || dead[1].Seq != 1 || dead[1].Attempts != 3 {
			t.Errorf("dead deliveries %+v %v", dead, err)
		}
		if counts, err := st.DeliveryCounts(ctx); err != nil || len(counts) != 1 || counts[DeliveryDead] != 2 {
			t.Errorf("delivery counts %v %v, want 2 dead", counts, err)
		}
		if _, err := st.DeadDeliveries(ctx, "bob", sub.ID, 10); !errors.Is(err, ErrNoSubscription) {
			t.Errorf("bob reads ann's dead letters: %v", err)
		}
		if err := st.DeleteSubscription(ctx, "bob", sub.ID); !errors.Is(err, ErrNoSubscription) {
			t.Errorf("bob deletes ann's subscription: %v", err)
		}
		if err := st.DeleteSubscription(ctx, "ann", sub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Subscription(ctx, sub.ID); !errors.Is(err, ErrNoSubscription) {
			t.Errorf("after delete: %v", err)
		}
	})
}
