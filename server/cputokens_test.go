package server

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// queued starts take in the background and returns once it waits; the
// name arrives on order when it has its token.
func queued(t *testing.T, tokens *cpuTokens, name string, ahead bool, order chan<- string) {
	t.Helper()
	before := tokens.waiters.Load()
	go func() {
		if err := tokens.take(context.Background(), time.Hour, ahead); err != nil {
			order <- err.Error()
			return
		}
		order <- name
	}()
	waitUntil(t, func() bool { return tokens.waiters.Load() > before }, name+" never waited")
}

// waitUntil polls cond until it holds; a minute without is a failure.
func waitUntil(t *testing.T, cond func() bool, failure string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(failure)
		}
	}
}

func TestCPUTokensFirstComeFirstServed(t *testing.T) {
	tokens := newCPUTokens(Limits{CPUTokens: 1})
	if err := tokens.take(context.Background(), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 3)
	queued(t, tokens, "first", false, order)
	queued(t, tokens, "second", false, order)
	// A request that gave its token back while it read its body comes
	// before those not yet started.
	queued(t, tokens, "resumed", true, order)
	for _, want := range []string{"resumed", "first", "second"} {
		tokens.give()
		if got := <-order; got != want {
			t.Fatalf("the token went to %s, want %s", got, want)
		}
	}
	tokens.give()
	if n := tokens.held(); n != 0 {
		t.Errorf("%d tokens held once every request gave its own back", n)
	}
}

func TestCPUTokenWaitIsBounded(t *testing.T) {
	tokens := newCPUTokens(Limits{CPUTokens: 1})
	if err := tokens.take(context.Background(), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	if err := tokens.take(context.Background(), 10*time.Millisecond, false); !errors.Is(err, errTokensBusy) {
		t.Fatalf("a request waiting past its wait: %v, want errTokensBusy", err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tokens.take(gone, time.Hour, false); !errors.Is(err, context.Canceled) {
		t.Fatalf("a request whose client went: %v, want context.Canceled", err)
	}
	if n := tokens.waiters.Load(); n != 0 {
		t.Fatalf("%d requests still counted waiting", n)
	}
	// Neither took the token the test gives back.
	tokens.give()
	if n := tokens.held(); n != 0 {
		t.Errorf("%d tokens held by requests that were refused", n)
	}
}

func TestWaitingForAHeavySlotGivesTheTokenBack(t *testing.T) {
	tokens := newCPUTokens(Limits{CPUTokens: 1})
	slots := newHeavySlots(Limits{MaxHeavy: 1, HeavyWait: time.Hour, MaxHeavyWaiting: 4})
	ctx := context.Background()
	free, err := slots.acquire(ctx, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tokens.take(ctx, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	turn := &cpuTurn{tokens: tokens, held: true}
	got := make(chan error, 1)
	go func() {
		_, err := slots.acquire(ctx, "b", turn)
		got <- err
	}()
	waitUntil(t, func() bool { return tokens.held() == 0 }, "a request waiting for a heavy slot kept its CPU token")
	free()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if !turn.held || tokens.held() != 1 {
		t.Errorf("given its slot, the request holds a token: %v (%d held), want true (1)", turn.held, tokens.held())
	}
}

func TestReadingTheBodyGivesTheTokenBack(t *testing.T) {
	tokens := newCPUTokens(Limits{CPUTokens: 1})
	ctx := context.Background()
	if err := tokens.take(ctx, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	turn := &cpuTurn{tokens: tokens, held: true}
	r, w := io.Pipe()
	body := &turnBody{ReadCloser: r, turn: turn, ctx: ctx}
	got := make(chan error, 1)
	go func() {
		_, err := body.Read(make([]byte, 1))
		got <- err
	}()
	// A client sending nothing holds no token.
	waitUntil(t, func() bool { return tokens.held() == 0 }, "a request waiting for its body kept its CPU token")
	if _, err := w.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if !turn.held || tokens.held() != 1 {
		t.Errorf("its body read, the request holds a token: %v (%d held), want true (1)", turn.held, tokens.held())
	}
}
