package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitFor starts acquire for client in the background and returns when
// it waits (or has its slot); the result arrives on the channel.
func waitFor(t *testing.T, s *heavySlots, ctx context.Context, client string) <-chan error {
	t.Helper()
	s.mu.Lock()
	before := s.waiting.Len()
	s.mu.Unlock()
	got := make(chan error, 1)
	go func() {
		_, err := s.acquire(ctx, client, nil)
		got <- err
	}()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		n := s.waiting.Len()
		s.mu.Unlock()
		if n > before {
			return got
		}
	}
	t.Fatalf("%s never waited for a slot", client)
	return nil
}

func granted(t *testing.T, what string, got <-chan error) {
	t.Helper()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("%s: %v, want a slot", what, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s: no slot after 5 s", what)
	}
}

func stillWaiting(t *testing.T, what string, got <-chan error) {
	t.Helper()
	select {
	case err := <-got:
		t.Fatalf("%s: %v, want it still waiting", what, err)
	case <-time.After(20 * time.Millisecond):
	}
}

// TestHeavySlotsFairAcrossClients: a freed slot goes to a waiting address
// holding none before one already holding a slot, however long that one
// has waited (regression: one client's flood kept every slot while a
// report of another got 503), and, among equals, to the longest waiting.
func TestHeavySlotsFairAcrossClients(t *testing.T) {
	s := newHeavySlots(Limits{MaxHeavy: 2, HeavyWait: time.Minute}.withDefaults())
	ctx := context.Background()
	first, err := s.acquire(ctx, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.acquire(ctx, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	thirdOfA := waitFor(t, s, ctx, "a")
	firstOfB := waitFor(t, s, ctx, "b")
	secondOfB := waitFor(t, s, ctx, "b")

	first()
	granted(t, "b, holding none, after a waited longer", firstOfB)
	stillWaiting(t, "a's third, holding one already", thirdOfA)
	stillWaiting(t, "b's second", secondOfB)

	second()
	granted(t, "a's third, the longest waiting of two holding one each", thirdOfA)
	stillWaiting(t, "b's second", secondOfB)
	if n := s.taken(); n != 2 {
		t.Fatalf("%d slots taken, want 2", n)
	}
}

// TestHeavySlotsWait: a request that finds every slot taken waits for
// one (regression: a client sending its next large request the moment its
// last answer arrived met that answer's slot still taken and got 503),
// but no longer than HeavyWait, and no longer than its client; beyond
// MaxHeavyWaiting it is refused at once. A refused waiter leaves no trace.
func TestHeavySlotsWait(t *testing.T) {
	// Long enough that "at once" (under half of it) holds on a busy
	// machine, where a goroutine may wait tens of milliseconds to run.
	const wait = time.Second
	s := newHeavySlots(Limits{MaxHeavy: 1, HeavyWait: wait, MaxHeavyWaiting: 1}.withDefaults())
	ctx := context.Background()
	held, err := s.acquire(ctx, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	next := waitFor(t, s, ctx, "a")
	start := time.Now()
	if _, err := s.acquire(ctx, "b", nil); !errors.Is(err, errSlotsBusy) || time.Since(start) > wait/2 {
		t.Fatalf("beyond MaxHeavyWaiting: %v after %v, want errSlotsBusy at once", err, time.Since(start))
	}
	held()
	granted(t, "the same client's next request", next)

	start = time.Now()
	if _, err := s.acquire(ctx, "b", nil); !errors.Is(err, errSlotsBusy) || time.Since(start) < wait/2 || time.Since(start) > 10*wait {
		t.Fatalf("no slot within the wait: %v after %v, want errSlotsBusy after %v to %v", err, time.Since(start), wait/2, wait)
	}
	gone, cancel := context.WithCancel(ctx)
	left := waitFor(t, s, gone, "c")
	cancel()
	select {
	case err := <-left:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a client gone while waiting: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a client gone while waiting still waits")
	}
	s.mu.Lock()
	waiting, free := s.waiting.Len(), s.free
	s.mu.Unlock()
	if waiting != 0 || free != 0 || s.taken() != 1 {
		t.Fatalf("after refusals: %d waiting, %d free, %d taken; want 0, 0, 1", waiting, free, s.taken())
	}
}
