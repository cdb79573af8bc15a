package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// eventsChannel is the PostgreSQL notification channel a write transaction
// signals when it appends events, so that every replica's readers wake.
const eventsChannel = "protectmap_strike_events"

// notifier hands out a channel that is closed at the next signal: a
// broadcast to any number of waiters that never blocks the signaller.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) signal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// listener follows the PostgreSQL notifications of other processes' writes
// on a connection of its own, from the first Changed until Close.
type listener struct {
	once sync.Once
	stop context.CancelFunc
	done chan struct{}
}

func (s *sqlStore) Changed() <-chan struct{} {
	ch := s.changes.wait()
	if s.dsn != "" {
		s.listen.once.Do(func() {
			ctx, cancel := context.WithCancel(context.Background())
			s.listen.stop, s.listen.done = cancel, make(chan struct{})
			go s.follow(ctx)
		})
	}
	return ch
}

// Pauses between attempts to listen again after the connection failed.
const (
	firstListenPause = 100 * time.Millisecond
	maxListenPause   = 5 * time.Second
)

// follow listens for notifications until ctx ends, connecting again with a
// growing pause whenever the connection fails. Each (re)connection wakes
// the waiters too, as notifications sent meanwhile are lost.
func (s *sqlStore) follow(ctx context.Context) {
	defer close(s.listen.done)
	pause := firstListenPause
	for {
		s.followOnce(ctx, func() { pause = firstListenPause })
		s.changes.signal()
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, maxListenPause)
	}
}

// followOnce listens on one connection until it fails or ctx ends;
// listening calls listening once the LISTEN holds.
func (s *sqlStore) followOnce(ctx context.Context, listening func()) {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return
	}
	defer conn.Close(context.Background()) //nolint:errcheck // the connection is being dropped
	if _, err := conn.Exec(ctx, "LISTEN "+eventsChannel); err != nil {
		return
	}
	listening()
	s.changes.signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		s.changes.signal()
	}
}

func (s *sqlStore) Close() error {
	s.listen.once.Do(func() {}) // no listener starts after Close
	if s.listen.stop != nil {
		s.listen.stop()
		<-s.listen.done
	}
	return s.db.Close()
}

// Decode is the strike as the event recorded it: after the change, or for
// a delete the strike deleted, with DeletedAt.
func (e *Event) Decode() (Strike, error) {
	var r record
	if err := json.Unmarshal(e.Record, &r); err != nil {
		return Strike{}, fmt.Errorf("store: event %d: %w", e.Seq, err)
	}
	st := Strike{ID: r.ID, Point: orb.Point{r.Lon, r.Lat}, UncertaintyMeters: r.Uncertainty, Source: r.Source,
		SourceEventID: r.EventID, Weapon: r.Weapon, Notes: r.Notes, Extra: r.Extra}
	times := []struct {
		dst *time.Time
		src string
	}{{&st.Time, r.Time}, {&st.CreatedAt, r.CreatedAt}, {&st.UpdatedAt, r.UpdatedAt}, {&st.DeletedAt, r.DeletedAt}}
	for _, t := range times {
		if t.src == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.src)
		if err != nil {
			return Strike{}, fmt.Errorf("store: event %d: %w", e.Seq, err)
		}
		*t.dst = v.UTC()
	}
	if len(r.Verdict) > 0 {
		v, err := decodeVerdict(r.Verdict)
		if err != nil {
			return Strike{}, fmt.Errorf("store: event %d: %w", e.Seq, err)
		}
		st.Verdict = v
	}
	return st, nil
}
