package store

import (
	"testing"
	"time"
)

// closedWithin reports whether ch closes within d.
func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func TestChangedAndEventsAfter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if head, err := st.Head(ctx); err != nil || head.Seq != 0 {
			t.Fatalf("Head of an empty log = %v, %v", head, err)
		}
		wake := st.Changed()
		if closedWithin(wake, 50*time.Millisecond) && st.backend == "sqlite" {
			t.Fatal("Changed closed before anything was written")
		}
		res, err := st.Put(ctx, "tester", samples(0, 3))
		if err != nil {
			t.Fatal(err)
		}
		if !closedWithin(wake, time.Minute) {
			t.Fatal("Changed did not close after a Put")
		}
		if err := st.Delete(ctx, "tester", res[1].ID); err != nil {
			t.Fatal(err)
		}
		head, err := st.Head(ctx)
		if err != nil || head.Seq != 4 {
			t.Fatalf("Head = %v, %v; want 4", head, err)
		}
		page, err := st.Events(ctx, EventQuery{After: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(page.Events); len(got) != 2 || got[0] != "create by tester" || got[1] != "delete by tester" || page.Events[0].Seq != 3 {
			t.Fatalf("events after 2: %v", got)
		}
		created, err := page.Events[0].Decode()
		if err != nil {
			t.Fatal(err)
		}
		stored, err := st.Get(ctx, res[2].ID)
		if err != nil {
			t.Fatal(err)
		}
		if created.ID != stored.ID || !created.CreatedAt.Equal(stored.CreatedAt) {
			t.Errorf("decoded %s created %v, stored %s created %v", created.ID, created.CreatedAt, stored.ID, stored.CreatedAt)
		}
		sameContent(t, created, sampleStrike(2))
		deleted, err := page.Events[1].Decode()
		if err != nil {
			t.Fatal(err)
		}
		if deleted.ID != res[1].ID || deleted.DeletedAt.IsZero() {
			t.Errorf("the delete event decodes to %s deleted at %v", deleted.ID, deleted.DeletedAt)
		}
	})
}

// TestChangedAcrossProcesses: a write through one handle on PostgreSQL
// wakes the waiters of another, as it would another replica's.
func TestChangedAcrossProcesses(t *testing.T) {
	dsn := freshDSN(t, "postgres")
	a, b := openStore(t, dsn), openStore(t, dsn)
	b.Changed() // starts listening
	// The listener's first connection wakes waiters once; wait for a quiet
	// channel so the next close is the write's.
	var wake <-chan struct{}
	for deadline := time.Now().Add(10 * time.Second); ; {
		wake = b.Changed()
		if !closedWithin(wake, 200*time.Millisecond) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Changed keeps closing with nothing written")
		}
	}
	if _, err := a.Put(ctx, "tester", samples(0, 1)); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(wake, time.Minute) {
		t.Fatal("a write through another handle did not wake this one")
	}
}
