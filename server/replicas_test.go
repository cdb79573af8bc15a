package server_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/protectmap/protectmap/server/store"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// TestOverlappingImportsOnTwoReplicas: two servers on one PostgreSQL
// strike log import batches whose events overlap, in shuffled orders, all
// at once. Regression: most got 500 "deadlock detected". Now every batch
// is recorded (201 or 200), each event once, none lost.
func TestOverlappingImportsOnTwoReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	replicas := []*strikeFixture{newStrikeFixture(t, dsn), newStrikeFixture(t, dsn)}
	const (
		events   = 400
		perBatch = 150
		writers  = 8
		batches  = 5
	)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		sent     = map[string]bool{}
	)
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 14))
			for range batches {
				var features []string
				for _, e := range r.Perm(events)[:perBatch] {
					id := fmt.Sprintf("E%03d", e)
					features = append(features, strikeAt(30+float64(e)/1000, 50, moratoriumStart, `"source":"replicas","event_id":"`+id+`","notes":"by writer `+fmt.Sprint(w)+`"`))
					mu.Lock()
					sent[id] = true
					mu.Unlock()
				}
				rec := replicas[w%2].send(t, http.MethodPost, "/strikes", "application/geo+json", collectionOf(features...), true)
				mu.Lock()
				statuses[rec.Code]++
				mu.Unlock()
				if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
					t.Errorf("writer %d: %d %s", w, rec.Code, strings.TrimSpace(rec.Body.String()))
				}
			}
		})
	}
	wg.Wait()
	t.Logf("answers by status: %v", statuses)

	var got []store.Strike
	q := store.Query{Limit: store.MaxLimit}
	for {
		page, err := replicas[0].store.List(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Strikes...)
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	seen := map[string]int{}
	for _, s := range got {
		seen[s.SourceEventID]++
	}
	for id := range sent {
		if seen[id] != 1 {
			t.Errorf("event %s recorded %d times, want once", id, seen[id])
		}
	}
	if len(got) != len(sent) {
		t.Errorf("%d strikes for %d events sent", len(got), len(sent))
	}
}
