package store

import (
	"encoding/json"
	"testing"
	"time"
)

// benchVerdictBody is a verdict body as the server writes it: members in
// its struct order, not sorted, one protected site hit under two readings.
var benchVerdictBody = json.RawMessage(`{"verdict":"protected_site_hit","agreements_in_force":["energy-moratorium-2025-03"],` +
	`"protected_sites":[{"collection":"energy","id":"osm:way/218888016","name":"Сонячна електростанція","distance_m":12.5,` +
	`"protected_by":[{"agreement":"energy-moratorium-2025-03","hit":true}]}],"readings":[{"agreement":"energy-moratorium-2025-03",` +
	`"reading":"ua","verdict":"protected_site_hit","status":"in_force"},{"agreement":"energy-moratorium-2025-03","reading":"ru",` +
	`"verdict":"protected_site_hit","status":"in_force"}],"agreement_status":"agreed"}`)

// BenchmarkCanonicalEvent is the audit log's cost per strike written: its
// verdict made canonical, its record, and the event's canonical bytes
// hashed into the chain.
func BenchmarkCanonicalEvent(b *testing.B) {
	st := sampleStrike(7)
	st.CreatedAt, st.UpdatedAt = time.Now(), time.Now()
	b.ReportAllocs()
	var prev []byte
	for range b.N {
		s := st
		s.Verdict = &Verdict{DataVersion: "0123456789abcdef", JudgedAt: time.Now(), Body: benchVerdictBody}
		if err := s.canonicalVerdict(&canonicalBodies{}); err != nil {
			b.Fatal(err)
		}
		rec, err := recordOf(&s, false)
		if err != nil {
			b.Fatal(err)
		}
		e := Event{Seq: 1, Time: s.UpdatedAt, Actor: "alice", Action: ActionCreate, Strike: "s-1", Record: rec}
		prev = chainHash(prev, e.CanonicalBytes())
	}
}
