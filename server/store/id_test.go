package store

import (
	"testing"
	"time"
)

// TestNewIDSortsByTime guards the order the id indexes grow in: an id made
// later sorts after, whatever its random part, and ids stay 26 characters.
func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2025, 3, 20, 4, 10, 0, 0, time.UTC)
	for _, step := range []time.Duration{time.Microsecond, time.Second, 24 * time.Hour, 100 * 365 * 24 * time.Hour} {
		for range 100 {
			a, b := newID(base), newID(base.Add(step))
			if len(a) != 26 || len(b) != 26 {
				t.Fatalf("ids %q and %q, want 26 characters", a, b)
			}
			if a >= b {
				t.Fatalf("id %q made %v later does not sort after %q", b, step, a)
			}
		}
	}
	if a, b := newID(base), newID(base); a == b {
		t.Fatalf("two ids made at once are the same: %q", a)
	}
}

func TestInsertRows(t *testing.T) {
	for _, c := range []struct {
		name       string
		n, maxRows int
		want       int
	}{
		{"one", 1, 256, 1},
		{"a power of two", 128, 256, 128},
		{"just below a power of two", 255, 256, 128},
		{"the most", 256, 256, 256},
		{"more than the most", 1000, 256, 256},
		{"three", 3, 256, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := insertRows(c.n, c.maxRows); got != c.want {
				t.Errorf("insertRows(%d, %d) = %d, want %d", c.n, c.maxRows, got, c.want)
			}
		})
	}
}
