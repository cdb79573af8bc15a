package server

import (
	"container/list"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// errSlotsBusy refuses a heavy request that found no slot within its wait.
var errSlotsBusy = errors.New("every heavy request slot is taken")

// heavySlots admits heavy requests: at most a fixed number run at once.
// One that finds every slot taken waits a little for one, parked, rather
// than being refused at once: a client sending its next large request the
// moment its last answer arrives finds the slot that answer frees. A freed
// slot goes to the waiting client address that holds the fewest slots, the
// longest waiting among them, so one address cannot keep every slot while
// another waits.
type heavySlots struct {
	wait       time.Duration // the longest a request waits for a slot
	maxWaiting int           // requests waiting at once; more are refused at once

	mu      sync.Mutex
	free    int
	held    map[string]int // slots taken, by client address
	waiting list.List      // of *slotWaiter, longest waiting first
}

// slotWaiter is a request waiting for a slot. granted is closed when a
// slot is given to it; heavySlots.mu guards given.
type slotWaiter struct {
	client  string
	granted chan struct{}
	given   bool
}

func newHeavySlots(l Limits) *heavySlots {
	return &heavySlots{wait: l.HeavyWait, maxWaiting: l.MaxHeavyWaiting, free: l.MaxHeavy, held: map[string]int{}}
}

// acquire takes a slot for a request of client, waiting for one to free
// at most s.wait (less a random part of up to half of it, so that refused
// clients who all asked at once do not all come back at once). It fails
// with errSlotsBusy when none came in time or too many wait already, and
// with ctx's error when the client goes first. A request waiting gives
// back its CPU turn (nil for none) meanwhile, and takes it again with the
// slot.
func (s *heavySlots) acquire(ctx context.Context, client string, turn *cpuTurn) (release func(), err error) {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.held[client]++
		s.mu.Unlock()
		return s.releaser(client), nil
	}
	if s.waiting.Len() >= s.maxWaiting {
		s.mu.Unlock()
		return nil, errSlotsBusy
	}
	w := &slotWaiter{client: client, granted: make(chan struct{})}
	e := s.waiting.PushBack(w)
	s.mu.Unlock()
	freeConnSlot(ctx)
	if turn.yield() {
		defer func() {
			if err == nil {
				if err = turn.resume(ctx); err != nil {
					release()
					release = nil
				}
			}
		}()
	}

	timer := time.NewTimer(s.wait - rand.N(s.wait/2+1))
	defer timer.Stop()
	select {
	case <-w.granted:
		return s.releaser(client), nil
	case <-timer.C:
		err = errSlotsBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	if !w.given {
		s.waiting.Remove(e)
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	// The slot came as the wait ended: a client still there takes it.
	if ctx.Err() != nil {
		s.releaser(client)()
		return nil, ctx.Err()
	}
	return s.releaser(client), nil
}

// releaser gives client's slot back, to the next waiter (see heavySlots)
// or to the free ones; once only.
func (s *heavySlots) releaser(client string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.held[client]--; s.held[client] == 0 {
				delete(s.held, client)
			}
			next := s.next()
			if next == nil {
				s.free++
				return
			}
			w := s.waiting.Remove(next).(*slotWaiter)
			w.given = true
			s.held[w.client]++
			close(w.granted)
		})
	}
}

// next is the waiter a freed slot goes to: of those whose address holds
// the fewest slots, the longest waiting; nil when none waits.
func (s *heavySlots) next() *list.Element {
	var best *list.Element
	fewest := 0
	for e := s.waiting.Front(); e != nil; e = e.Next() {
		n := s.held[e.Value.(*slotWaiter).client]
		if best == nil || n < fewest {
			best, fewest = e, n
		}
		if n == 0 {
			break
		}
	}
	return best
}

// taken is how many slots are held.
func (s *heavySlots) taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.held {
		n += k
	}
	return n
}
