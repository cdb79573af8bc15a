package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

var ctx = context.Background()

// sampleStrike is the i-th of a family of distinct, valid strikes around
// Kyiv; every third shares its time with the one before, so ordering ties
// are exercised.
func sampleStrike(i int) Strike {
	base := time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC)
	return Strike{
		Point:             orb.Point{30 + float64(i%100)*0.01, 50 + float64(i/100)*0.01},
		Time:              base.Add(time.Duration(i-i%3/2) * time.Minute),
		UncertaintyMeters: float64(i % 7 * 100),
		Source:            "test",
		SourceEventID:     fmt.Sprintf("ev-%05d", i),
		Weapon:            "Air/drone strike",
		Notes:             fmt.Sprintf("strike %d", i),
		Extra:             json.RawMessage(fmt.Sprintf(`{"seq":%d,"tags":["a","б"]}`, i)),
	}
}

func samples(from, to int) []Strike {
	out := make([]Strike, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, sampleStrike(i))
	}
	return out
}

// sameContent compares what the caller gave with what the store returned.
func sameContent(t testing.TB, got, want Strike) {
	t.Helper()
	want.Time, got.Time = want.Time.Truncate(time.Microsecond).UTC(), got.Time.UTC()
	got.ID, got.CreatedAt, got.UpdatedAt = "", time.Time{}, time.Time{}
	want.ID, want.CreatedAt, want.UpdatedAt = "", time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n\t%+v\nwant\n\t%+v", got, want)
	}
}

// storedAsReturned checks that each result of a Put carries the strike
// exactly as Get reads it back.
func storedAsReturned(t testing.TB, st Store, res []PutResult) {
	t.Helper()
	for i, r := range res {
		got, err := st.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		put := *r.Strike
		for _, s := range []*Strike{&got, &put} {
			if s.Verdict != nil {
				v := *s.Verdict
				v.stored = nil // a cache of its encoding
				s.Verdict = &v
			}
		}
		if !reflect.DeepEqual(put, got) {
			t.Errorf("Put's result %d\n\t%+v\nbut Get reads\n\t%+v", i, put, got)
		}
	}
}

// listAll pages through q and returns every strike.
func listAll(t testing.TB, st Store, q Query) []Strike {
	t.Helper()
	var all []Strike
	for {
		p, err := st.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Strikes...)
		if p.Next == "" {
			return all
		}
		q.Cursor = p.Next
	}
}

func ids(strikes []Strike) []string {
	out := make([]string, len(strikes))
	for i, s := range strikes {
		out[i] = s.ID
	}
	return out
}

func TestPutGet(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		in := []Strike{sampleStrike(1), {
			Point: orb.Point{-179.5, -12.25}, Time: time.Date(2025, 3, 20, 4, 10, 7, 123456789, time.FixedZone("", 2*3600)),
			Notes: "no source, no event id, no extra: \"quoted\"\n\ttabbed",
		}}
		before := time.Now().Add(-time.Second)
		res, err := st.Put(ctx, "tester", in)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || !res[0].Created || !res[1].Created || res[0].ID == res[1].ID {
			t.Fatalf("results %+v", res)
		}
		storedAsReturned(t, st, res)
		for i, r := range res {
			got, err := st.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != r.ID || got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) {
				t.Errorf("id %q created %v updated %v", got.ID, got.CreatedAt, got.UpdatedAt)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("time %v is not in UTC", got.Time)
			}
			sameContent(t, got, in[i])
			if g := got.Geo(); g.Point != got.Point || !g.Time.Equal(in[i].Time.Truncate(time.Microsecond)) || g.UncertaintyMeters != in[i].UncertaintyMeters {
				t.Errorf("as a verdict's strike: %+v", g)
			}
		}
		// A verdict is stored canonical, to the microsecond, as Put returns it.
		judged := sampleStrike(2)
		judged.Verdict = &Verdict{DataVersion: "v1", JudgedAt: time.Date(2025, 3, 20, 5, 0, 0, 999, time.UTC),
			Body: json.RawMessage(`{ "verdict": "no_protected_site", "sites": [] }`)}
		res, err = st.Put(ctx, "tester", []Strike{judged})
		if err != nil {
			t.Fatal(err)
		}
		storedAsReturned(t, st, res)
		if _, err := st.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(nope): %v, want ErrNotFound", err)
		}
		if res, err := st.Put(ctx, "tester", nil); err != nil || len(res) != 0 {
			t.Errorf("Put(nil) = %v, %v", res, err)
		}
		if err := st.Ping(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestPutIsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		batch := samples(0, 300) // more than one INSERT's worth
		judgedOn := func(version string) {
			for i := range batch {
				batch[i].Verdict = &Verdict{DataVersion: version, JudgedAt: time.Now(), Body: json.RawMessage(`{"verdict":"no_protected_site"}`)}
			}
		}
		judgedOn("v1")
		first, err := st.Put(ctx, "tester", batch)
		if err != nil {
			t.Fatal(err)
		}
		created, _ := st.Get(ctx, first[7].ID)
		time.Sleep(2 * time.Millisecond)
		// The same strikes again change nothing, not even updated_at or
		// the verdict they were recorded with.
		judgedOn("v2")
		same, err := st.Put(ctx, "tester", batch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range same {
			if same[i].ID != first[i].ID || same[i].Created || !same[i].Unchanged {
				t.Fatalf("strike %d put again as it was: %+v, first %+v", i, same[i], first[i])
			}
		}
		storedAsReturned(t, st, same)
		if v := same[7].Strike.Verdict; v == nil || v.DataVersion != "v1" {
			t.Errorf("putting a strike again as it was returned the verdict %+v, not the one kept", v)
		}
		if kept, _ := st.Get(ctx, first[7].ID); !kept.UpdatedAt.Equal(created.UpdatedAt) {
			t.Errorf("putting a strike again as it was moved updated_at from %v to %v", created.UpdatedAt, kept.UpdatedAt)
		}
		batch[7].Notes = "corrected"
		again, err := st.Put(ctx, "tester", batch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range again {
			if again[i].ID != first[i].ID || again[i].Created || again[i].Unchanged != (i != 7) {
				t.Fatalf("strike %d put again, strike 7 corrected: %+v, first %+v", i, again[i], first[i])
			}
		}
		storedAsReturned(t, st, again)
		if n := len(listAll(t, st, Query{})); n != 300 {
			t.Errorf("%d strikes after putting 300 twice", n)
		}
		updated, _ := st.Get(ctx, first[7].ID)
		if updated.Notes != "corrected" || !updated.CreatedAt.Equal(created.CreatedAt) || !updated.UpdatedAt.After(created.UpdatedAt) {
			t.Errorf("update kept notes %q, created %v (was %v), updated %v (was %v)",
				updated.Notes, updated.CreatedAt, created.CreatedAt, updated.UpdatedAt, created.UpdatedAt)
		}
		// The key is the source and its event id together; without an event
		// id every strike is new.
		other, plain := sampleStrike(7), sampleStrike(7)
		other.Source, plain.SourceEventID = "another source", ""
		res, err := st.Put(ctx, "tester", []Strike{other, plain})
		if err != nil {
			t.Fatal(err)
		}
		res2, err := st.Put(ctx, "tester", []Strike{plain})
		if err != nil {
			t.Fatal(err)
		}
		if !res[0].Created || !res[1].Created || !res2[0].Created || res2[0].ID == res[1].ID {
			t.Errorf("results %+v then %+v: want three new strikes", res, res2)
		}
	})
}

// TestPutNewAndRecorded puts a batch of strikes some of which are
// recorded already (one of them changed): PostgreSQL's copy of them as new
// fails and leaves nothing behind, and the upsert reports each strike as
// it was written, logging the new ones' creation and the one update.
func TestPutNewAndRecorded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if _, err := st.Put(ctx, "tester", samples(0, 10)); err != nil {
			t.Fatal(err)
		}
		batch := samples(5, 20)
		batch[2].Notes = "corrected" // strike 7
		res, err := st.Put(ctx, "tester", batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			recorded := i < 5
			if r.Created == recorded || r.Unchanged != (recorded && i != 2) {
				t.Errorf("strike %d: %+v", i+5, r)
			}
		}
		storedAsReturned(t, st, res)
		events := allEvents(t, st, EventQuery{Limit: MaxLimit})
		actions := map[string]int{}
		for _, e := range events[10:] {
			actions[e.Action]++
		}
		if len(events) != 21 || actions[ActionCreate] != 10 || actions[ActionUpdate] != 1 {
			t.Errorf("%d events, the last ones' actions %v: want 21, 10 creates and an update", len(events), actions)
		}
		if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 21 {
			t.Errorf("VerifyChain: %v, %v", h, err)
		}
	})
}

func TestPutRejectsBadStrikes(t *testing.T) {
	long := strings.Repeat("x", maxShortText+1)
	tests := []struct {
		name   string
		modify func(*Strike)
		want   string
	}{
		{"longitude", func(s *Strike) { s.Point[0] = 180.5 }, "strikes[2].geometry: longitude 180.5 is outside [-180, 180]"},
		{"latitude NaN", func(s *Strike) { s.Point[1] = math.NaN() }, "strikes[2].geometry: latitude NaN"},
		{"year 0", func(s *Strike) { s.Time = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }, "strikes[2].datetime: year 0 is outside 1 to 9999"},
		{"negative uncertainty", func(s *Strike) { s.UncertaintyMeters = -1 }, "strikes[2].uncertainty_m: -1 is outside [0, 200000] metres"},
		{"long source", func(s *Strike) { s.Source = long }, "strikes[2].source: 257 bytes, more than 256"},
		{"invalid UTF-8", func(s *Strike) { s.Notes = "bad \xff" }, "strikes[2].notes: not valid UTF-8"},
		{"NUL", func(s *Strike) { s.Weapon = "a\x00b" }, "strikes[2].weapon: contains a NUL"},
		{"extra not an object", func(s *Strike) { s.Extra = json.RawMessage(`[1]`) }, "strikes[2].properties: extra properties are not a JSON object"},
		{"extra not JSON", func(s *Strike) { s.Extra = json.RawMessage(`{"a":}`) }, "not valid JSON"},
		{"extra shadows a field", func(s *Strike) { s.Extra = json.RawMessage(`{"x":1,"notes":"n"}`) }, `extra property "notes" is a strike field`},
		{"repeated event id", func(s *Strike) { s.SourceEventID = "ev-00000" }, "strikes[2].event_id: the same source and event id as strikes[0]"},
	}
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				batch := samples(0, 5)
				tt.modify(&batch[2])
				_, err := st.Put(ctx, "tester", batch)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one containing %q", err, tt.want)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not match ErrInvalid", err)
				}
				if n := len(listAll(t, st, Query{})); n != 0 {
					t.Errorf("%d strikes stored from a rejected batch", n)
				}
			})
		}
	})
}

// poisonTrigger makes the database itself refuse a strike whose notes are
// "poison", so a batch fails halfway through its INSERTs.
var poisonTrigger = map[string][]string{
	"sqlite": {`CREATE TRIGGER poison BEFORE INSERT ON strikes WHEN NEW.notes = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned'); END`},
	"postgres": {`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.notes = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER poison BEFORE INSERT ON strikes FOR EACH ROW EXECUTE FUNCTION poison()`},
}

// TestBatchIsAtomic: a batch the database rejects halfway, after two full
// INSERTs have gone through, leaves nothing behind; so does an import.
func TestBatchIsAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		for _, q := range poisonTrigger[st.backend] {
			if _, err := st.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		batch := samples(0, 700)
		batch[600].Notes = "poison"
		if _, err := st.Put(ctx, "tester", batch); err == nil || !strings.Contains(err.Error(), "poisoned") {
			t.Fatalf("error %v, want the trigger's", err)
		}
		if _, err := st.Import(ctx, "tester", &sliceDecoder{strikes: batch}, nil); err == nil {
			t.Fatal("import of a poisoned batch succeeded")
		}
		if n := len(listAll(t, st, Query{})); n != 0 {
			t.Fatalf("%d strikes stored from failed batches", n)
		}
		batch[600].Notes = "fine"
		if _, err := st.Put(ctx, "tester", batch); err != nil {
			t.Fatal(err)
		}
		if n := len(listAll(t, st, Query{})); n != 700 {
			t.Errorf("%d strikes stored, want 700", n)
		}
	})
}

// sliceDecoder hands out strikes from a slice, as a Decoder.
type sliceDecoder struct {
	strikes []Strike
	n       int
}

func (d *sliceDecoder) Next() (Strike, error) {
	if d.n == len(d.strikes) {
		return Strike{}, io.EOF
	}
	d.n++
	return d.strikes[d.n-1], nil
}

func TestDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		res, err := st.Put(ctx, "tester", samples(0, 3))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, "tester", res[1].ID); err != nil {
			t.Fatal(err)
		}
		if gone, err := st.Get(ctx, res[1].ID); !errors.Is(err, ErrGone) || gone.DeletedAt.IsZero() {
			t.Errorf("Get after Delete: %+v, %v", gone, err)
		}
		if err := st.Delete(ctx, "tester", res[1].ID); !errors.Is(err, ErrGone) {
			t.Errorf("second Delete: %v", err)
		}
		if err := st.Delete(ctx, "tester", "never-recorded"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Delete of an unknown id: %v", err)
		}
		if got := ids(listAll(t, st, Query{})); !slices.Equal(got, []string{res[0].ID, res[2].ID}) {
			t.Errorf("left %v", got)
		}
		// The event may be recorded again: the same strike comes back,
		// its history continued.
		again, err := st.Put(ctx, "tester", samples(1, 2))
		if err != nil || again[0].Created || again[0].ID != res[1].ID {
			t.Errorf("re-put after delete: %+v, %v", again, err)
		}
		if _, err := st.Get(ctx, res[1].ID); err != nil {
			t.Errorf("Get after re-put: %v", err)
		}
		h, err := st.History(ctx, res[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range h {
			actions = append(actions, e.Action)
		}
		if want := []string{ActionCreate, ActionDelete, ActionUpdate}; !slices.Equal(actions, want) {
			t.Errorf("history %v, want %v", actions, want)
		}
	})
}

func TestList(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2025, 4, 1, h, 0, 0, 0, time.UTC) }
	strikes := []Strike{
		{Point: orb.Point{30.5, 50.4}, Time: at(1), Notes: "kyiv", Source: "UCDP", SourceEventID: "1"},
		{Point: orb.Point{36.2, 49.9}, Time: at(2), Notes: "kharkiv", Source: "UCDP", SourceEventID: "2"},
		{Point: orb.Point{179.9, 0}, Time: at(3), Notes: "east of the antimeridian"},
		{Point: orb.Point{-179.9, 0}, Time: at(4), Notes: "west of the antimeridian"},
		{Point: orb.Point{0, 0}, Time: at(5), Notes: "null island"},
	}
	notes := func(ss []Strike) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Notes)
		}
		return strings.Join(out, ", ")
	}
	box := func(s string) *geo.BBox {
		b, err := geo.ParseBBox(s)
		if err != nil {
			t.Fatal(err)
		}
		return &b
	}
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"all, by time", Query{}, "kyiv, kharkiv, east of the antimeridian, west of the antimeridian, null island"},
		{"bbox", Query{BBox: box("22,44,40,53")}, "kyiv, kharkiv"},
		{"bbox edge is inside", Query{BBox: box("30.5,50.4,31,51")}, "kyiv"},
		{"bbox across the antimeridian", Query{BBox: box("179,-1,-179,1")}, "east of the antimeridian, west of the antimeridian"},
		{"from, inclusive", Query{From: new(at(2))}, "kharkiv, east of the antimeridian, west of the antimeridian, null island"},
		{"to, inclusive", Query{To: new(at(2))}, "kyiv, kharkiv"},
		{"from and to", Query{From: new(at(2)), To: new(at(3))}, "kharkiv, east of the antimeridian"},
		{"bounds between microseconds", Query{From: new(at(2).Add(-1)), To: new(at(3).Add(1))}, "kharkiv, east of the antimeridian"},
		{"bounds just off", Query{From: new(at(2).Add(time.Microsecond)), To: new(at(3).Add(-time.Microsecond))}, ""},
		{"limit", Query{Limit: 2}, "kyiv, kharkiv"},
		{"offset", Query{Limit: 2, Offset: 2}, "east of the antimeridian, west of the antimeridian"},
		{"offset past the end", Query{Offset: 9}, ""},
		{"offset within a filter", Query{From: new(at(2)), Offset: 3}, "null island"},
		{"by event id", Query{Sources: []string{"UCDP"}, EventIDs: []string{"2", "9"}}, "kharkiv"},
		{"by event ids, in time order", Query{EventIDs: []string{"2", "1"}}, "kyiv, kharkiv"},
		{"by an event id of another source", Query{Sources: []string{"ACLED"}, EventIDs: []string{"1"}}, ""},
		{"everything filtered", Query{BBox: box("0,0,0,0"), From: new(at(1)), To: new(at(4))}, ""},
	}
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if _, err := st.Put(ctx, "tester", strikes); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := st.List(ctx, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := notes(p.Strikes); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				if p.Matched != 0 {
					t.Errorf("matched %d without Count", p.Matched)
				}
				// Matched counts every page: the strikes of the query
				// without limit or offset.
				all := tt.q
				all.Limit, all.Offset = 0, 0
				want := len(listAll(t, st, all))
				counted := tt.q
				counted.Count = true
				if p, err := st.List(ctx, counted); err != nil || p.Matched != want {
					t.Errorf("matched %d (%v), want %d", p.Matched, err, want)
				}
			})
		}
		for _, q := range []Query{{Limit: -1}, {Offset: -1}, {Offset: 1, Cursor: encodeCursor(1, "x")}, {Limit: MaxLimit + 1}, {Cursor: "!!"}, {Cursor: "bm90IGEgY3Vyc29y"},
			{From: new(at(3)), To: new(at(2))}, {BBox: &geo.BBox{MinLon: 0, MinLat: 10, MaxLon: 1, MaxLat: 5}}} {
			if _, err := st.List(ctx, q); !errors.Is(err, ErrInvalid) {
				t.Errorf("List(%+v): %v, want ErrInvalid", q, err)
			}
		}
	})
}

// TestPagingIsStable: pages concatenate to the whole ordered list, ties in
// time included, and strikes added or deleted while paging never make a page
// repeat or skip a strike that was there all along.
func TestPagingIsStable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if _, err := st.Put(ctx, "tester", samples(0, 250)); err != nil {
			t.Fatal(err)
		}
		all := listAll(t, st, Query{Limit: MaxLimit})
		if len(all) != 250 {
			t.Fatalf("%d strikes", len(all))
		}
		if !slices.IsSortedFunc(all, func(a, b Strike) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		}) {
			t.Fatal("List is not ordered by time, then id")
		}
		if paged := ids(listAll(t, st, Query{Limit: 7})); !slices.Equal(paged, ids(all)) {
			t.Fatal("pages of 7 differ from the whole list")
		}

		p, err := st.List(ctx, Query{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		seen := ids(p.Strikes)
		// Meanwhile: strikes land before and after the cursor, one on a
		// later page is deleted.
		early, late := sampleStrike(1000), sampleStrike(1001)
		early.Time, late.Time = all[0].Time.Add(-time.Hour), all[249].Time.Add(time.Hour)
		added, err := st.Put(ctx, "tester", []Strike{early, late})
		if err != nil {
			t.Fatal(err)
		}
		deleted := all[100].ID
		if err := st.Delete(ctx, "tester", deleted); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ids(listAll(t, st, Query{Limit: 40, Cursor: p.Next}))...)
		var want []string
		for _, id := range ids(all) {
			if id != deleted {
				want = append(want, id)
			}
		}
		want = append(want, added[1].ID)
		if !slices.Equal(seen, want) {
			t.Errorf("paging across changes gave %d strikes, want %d", len(seen), len(want))
		}
	})
}

func TestMigrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		var versions []int
		rows, err := st.db.Query("SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int
			rows.Scan(&v)
			versions = append(versions, v)
		}
		rows.Close()
		ms, _ := loadMigrations(st.backend)
		if len(versions) == 0 || len(versions) != len(ms) || versions[len(versions)-1] != len(ms) {
			t.Fatalf("applied versions %v, have %d migrations", versions, len(ms))
		}
		// Migrating again changes nothing.
		if err := st.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		st.db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n)
		if n != len(ms) {
			t.Errorf("%d rows in schema_migrations after migrating twice", n)
		}
		// A database from a newer protectmap is refused, not misread.
		if _, err := st.db.Exec("INSERT INTO schema_migrations (version, name, applied_us) VALUES (99, 'future', 0)"); err != nil {
			t.Fatal(err)
		}
		if err := st.migrate(ctx); err == nil || !strings.Contains(err.Error(), "schema version 99, newer") {
			t.Errorf("migrating a newer database: %v", err)
		}
	})
}

// TestSQLiteDurability checks the settings every acknowledged write relies
// on, on a connection of the pool.
func TestSQLiteDurability(t *testing.T) {
	st := openStore(t, freshDSN(t, "sqlite"))
	var mode string
	var sync int
	if err := st.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := st.db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		t.Errorf("journal_mode %q, synchronous %d: want wal and 2 (FULL)", mode, sync)
	}
	var pageSize int
	if err := st.db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil || pageSize != 16384 {
		t.Errorf("a new store's page_size %d (%v), want 16384", pageSize, err)
	}
}

// TestSQLiteCheckpointInterval checks, on a connection of the pool, the
// log's length past which a commit checkpoints it.
func TestSQLiteCheckpointInterval(t *testing.T) {
	st := openStore(t, freshDSN(t, "sqlite"))
	var pages int
	if err := st.db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&pages); err != nil || pages != checkpointPages {
		t.Errorf("wal_autocheckpoint %d (%v), want %d", pages, err, checkpointPages)
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{"", dir + "/a?b.db", dir + "/missing/dir/strikes.db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"} {
		if st, err := Open(ctx, dsn); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// TestTwoHandlesOnePostgres: two protectmap replicas on one PostgreSQL,
// opened at once (so their migrations race), see each other's writes.
func TestTwoHandlesOnePostgres(t *testing.T) {
	dsn := freshDSN(t, "postgres")
	var handles [2]*sqlStore
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(ctx, dsn)
			if err == nil {
				handles[i] = st.(*sqlStore)
				t.Cleanup(func() { st.Close() })
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	a, b := handles[0], handles[1]
	res, err := a.Put(ctx, "tester", samples(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, res[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	sameContent(t, got, sampleStrike(1))
	listed := ids(listAll(t, b, Query{}))
	slices.Sort(listed)
	if want := []string{res[0].ID, res[1].ID, res[2].ID}; !slices.Equal(listed, slices.Sorted(slices.Values(want))) {
		t.Errorf("the other replica lists %v, want %v", listed, want)
	}
	// An import through one updates what the other wrote.
	again, err := b.Put(ctx, "tester", samples(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	if again[0].ID != res[2].ID || again[0].Created || !again[1].Created {
		t.Errorf("put through the other replica: %+v", again)
	}
	if err := b.Delete(ctx, "tester", res[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, res[0].ID); !errors.Is(err, ErrGone) {
		t.Errorf("deleted through one replica, the other gets %v", err)
	}
}

// TestPermute checks the in-place reordering of a write's strikes against
// a copy, over every order of four strikes and random orders of more.
func TestPermute(t *testing.T) {
	check := func(order []int) {
		t.Helper()
		batch := samples(0, len(order))
		want := make([]Strike, len(order))
		for k, i := range order {
			want[k] = batch[i]
		}
		if got := permute(batch, order); !reflect.DeepEqual(got, want) {
			t.Errorf("order %v: got notes %v, want %v", order, notesOf(got), notesOf(want))
		}
	}
	var orders func(prefix, rest []int)
	orders = func(prefix, rest []int) {
		if len(rest) == 0 {
			check(prefix)
		}
		for i := range rest {
			next := append(slices.Clone(rest[:i]), rest[i+1:]...)
			orders(append(slices.Clone(prefix), rest[i]), next)
		}
	}
	orders(nil, []int{0, 1, 2, 3})
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 50 {
		check(r.Perm(n))
	}
}

func notesOf(strikes []Strike) []string {
	out := make([]string, len(strikes))
	for i := range strikes {
		out[i] = strikes[i].Notes
	}
	return out
}
