package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// actions lists events' actions in order.
func actions(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action + " by " + e.Actor
	}
	return out
}

// allEvents pages through the whole audit log.
func allEvents(t testing.TB, st Store, q EventQuery) []Event {
	t.Helper()
	var all []Event
	for {
		p, err := st.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Events...)
		if p.Next == "" {
			return all
		}
		q.Cursor = p.Next
	}
}

// tamper runs SQL on the store's database as someone editing it by hand
// would: the append-only triggers dropped first.
func tamper(t testing.TB, st *sqlStore, query string, args ...any) {
	t.Helper()
	drop := []string{"DROP TRIGGER strike_events_no_update", "DROP TRIGGER strike_events_no_delete"}
	if st.backend == "postgres" {
		drop = []string{"DROP TRIGGER strike_events_append_only ON strike_events"}
	}
	for _, q := range drop {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := st.db.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestAuditLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		res, err := st.Put(ctx, "alice", samples(0, 300))
		if err != nil {
			t.Fatal(err)
		}
		changed := sampleStrike(1)
		changed.Notes = "seen again"
		changed.Verdict = &Verdict{DataVersion: "v1", JudgedAt: time.Date(2025, 3, 18, 1, 2, 3, 4567, time.UTC),
			Body: json.RawMessage(`{"verdict": "protected_site_hit", "sites": [{"id": "a", "distance_m": 1.5}]}`)}
		if _, err := st.Put(ctx, "bob", []Strike{changed}); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, "carol", res[1].ID); err != nil {
			t.Fatal(err)
		}

		h, err := st.History(ctx, res[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := actions(h), []string{"create by alice", "update by bob", "delete by carol"}; !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		var rec map[string]any
		if err := json.Unmarshal(h[1].Record, &rec); err != nil {
			t.Fatal(err)
		}
		if rec["notes"] != "seen again" || rec["id"] != res[1].ID {
			t.Errorf("update record %s", h[1].Record)
		}
		// Canonical: keys sorted, no spaces, the verdict as stored.
		if want := `"verdict":{"data_version":"v1","judged_at":"2025-03-18T01:02:03.000004Z","verdict":{"sites":[{"distance_m":1.5,"id":"a"}],"verdict":"protected_site_hit"}}`; !strings.Contains(string(h[1].Record), want) {
			t.Errorf("update record %s\nlacks %s", h[1].Record, want)
		}
		if !strings.Contains(string(h[2].Record), `"deleted_at":"`) {
			t.Errorf("delete record %s has no deleted_at", h[2].Record)
		}
		if got, err := st.Get(ctx, res[1].ID); err == nil || got.Verdict == nil || string(got.Verdict.Body) != `{"sites":[{"distance_m":1.5,"id":"a"}],"verdict":"protected_site_hit"}` {
			t.Errorf("the stored verdict: %+v, %v", got.Verdict, err)
		}
		if _, err := st.History(ctx, "never-recorded"); !errors.Is(err, ErrNotFound) {
			t.Errorf("history of an unknown strike: %v", err)
		}

		all := allEvents(t, st, EventQuery{Limit: 7})
		if len(all) != 302 {
			t.Fatalf("%d events, want 302", len(all))
		}
		for i, e := range all {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
		if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 302 || h.Hash != all[301].Hash {
			t.Fatalf("VerifyChain: %v, %v", h, err)
		}
		if _, err := st.Events(ctx, EventQuery{Cursor: "nonsense"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("a bad cursor: %v", err)
		}
		if _, err := st.db.ExecContext(ctx, "UPDATE strike_events SET actor = 'mallory' WHERE seq = 5"); err == nil {
			t.Error("an event was updated: the log is not append-only")
		}
		if _, err := st.db.ExecContext(ctx, "DELETE FROM strike_events WHERE seq = 5"); err == nil {
			t.Error("an event was deleted: the log is not append-only")
		}

		tamper(t, st, "UPDATE strike_events SET record = replace(record, 'strike 7', 'strike 8') WHERE seq = 8")
		var ce *ChainError
		if h, err := st.VerifyChain(ctx, nil); !errors.As(err, &ce) || ce.Seq != 8 || h.Seq != 7 {
			t.Errorf("after editing event 8: %d verified, %v", h.Seq, err)
		}
	})
}

// TestAuditLogReusesBuffer writes a large batch, then a small one into the
// buffer the first left: every event keeps its own record and hash.
func TestAuditLogReusesBuffer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if _, err := st.Put(ctx, "alice", samples(0, 500)); err != nil {
			t.Fatal(err)
		}
		kept := st.eventBuffer.buf
		if cap(kept) == 0 {
			t.Fatal("no buffer kept after a write")
		}
		if _, err := st.Put(ctx, "bob", samples(1000, 1003)); err != nil {
			t.Fatal(err)
		}
		if &st.eventBuffer.buf[:1][0] != &kept[:1][0] {
			t.Error("the second write did not reuse the first's buffer")
		}
		all := allEvents(t, st, EventQuery{Limit: MaxLimit})
		if len(all) != 503 {
			t.Fatalf("%d events, want 503", len(all))
		}
		for _, e := range all {
			n := int(e.Seq) - 1 // samples(0, 500), then samples(1000, 1003)
			if n >= 500 {
				n += 500
			}
			if want := `"notes":"strike ` + strconv.Itoa(n) + `"`; !strings.Contains(string(e.Record), want) {
				t.Errorf("event %d: record %s, want %s", e.Seq, e.Record, want)
			}
		}
		if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 503 {
			t.Fatalf("VerifyChain: %v, %v", h, err)
		}
	})
}

func TestAuditLogMissingEvent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if _, err := st.Put(ctx, "alice", samples(0, 10)); err != nil {
			t.Fatal(err)
		}
		tamper(t, st, "DELETE FROM strike_events WHERE seq = 4")
		var ce *ChainError
		if _, err := st.VerifyChain(ctx, nil); !errors.As(err, &ce) || ce.Seq != 4 || !strings.Contains(err.Error(), "missing") {
			t.Errorf("after removing event 4: %v", err)
		}
	})
}

// TestAuditLogTruncated cuts the newest events from the log: the shorter
// chain verifies on its own, but not against the head kept before the cut,
// nor against a head of a chain rewritten after it.
func TestAuditLogTruncated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		if h, err := st.Head(ctx); err != nil || h != (ChainHead{}) {
			t.Fatalf("the head of an empty log: %v, %v", h, err)
		}
		if _, err := st.Put(ctx, "alice", samples(0, 10)); err != nil {
			t.Fatal(err)
		}
		head, err := st.Head(ctx)
		if err != nil || head.Seq != 10 {
			t.Fatalf("Head: %v, %v", head, err)
		}
		if got, err := st.VerifyChain(ctx, &head); err != nil || got != head {
			t.Fatalf("VerifyChain against its own head: %v, %v", got, err)
		}
		earlier := allEvents(t, st, EventQuery{})[6]
		if _, err := st.VerifyChain(ctx, &ChainHead{Seq: 7, Hash: earlier.Hash}); err != nil {
			t.Errorf("VerifyChain against an earlier head: %v", err)
		}
		forged := ChainHead{Seq: 7, Hash: strings.Repeat("0", 64)}
		var ce *ChainError
		if _, err := st.VerifyChain(ctx, &forged); !errors.As(err, &ce) || ce.Seq != 7 || !strings.Contains(err.Error(), "rewritten") {
			t.Errorf("VerifyChain against a head the chain does not hold: %v", err)
		}

		tamper(t, st, "DELETE FROM strike_events WHERE seq > 7")
		if got, err := st.VerifyChain(ctx, nil); err != nil || got.Seq != 7 {
			t.Fatalf("the cut chain on its own: %v, %v", got, err)
		}
		if got, err := st.VerifyChain(ctx, &head); !errors.As(err, &ce) || ce.Seq != 8 || got.Seq != 7 || !strings.Contains(err.Error(), "cut from its end") {
			t.Errorf("the cut chain against the head kept: %v, %v", got, err)
		}
	})
}

func TestParseChainHead(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, c := range []struct {
		in   string
		want ChainHead
		ok   bool
	}{
		{"12:" + hash, ChainHead{12, hash}, true},
		{"0:", ChainHead{}, true},
		{"0:" + hash, ChainHead{}, false},
		{"12:", ChainHead{}, false},
		{"12:" + strings.ToUpper(hash), ChainHead{}, false},
		{"12:" + hash[:62], ChainHead{}, false},
		{"012:" + hash, ChainHead{}, false},
		{"-1:" + hash, ChainHead{}, false},
		{"+1:" + hash, ChainHead{}, false},
		{hash, ChainHead{}, false},
		{"1:" + strings.Repeat("zz", 32), ChainHead{}, false},
	} {
		got, err := ParseChainHead(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseChainHead(%q) = %v, %v", c.in, got, err)
		}
		if c.ok && got.String() != c.in {
			t.Errorf("%q reads back as %q", c.in, got)
		}
	}
}

// FuzzParseChainHead: a head is accepted only as it is written, and is
// then written back the same.
func FuzzParseChainHead(f *testing.F) {
	for _, s := range []string{"12:" + strings.Repeat("ab", 32), "0:", "1:", ":", "9223372036854775808:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseChainHead(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: an error not ErrInvalid: %v", s, err)
			}
			return
		}
		if h.Seq < 0 || h.String() != s {
			t.Fatalf("%q accepted as %v", s, h)
		}
	})
}

// TestAuditLogConcurrentWriters has two stores (two connection pools, as
// two replicas have) write at once: one chain, no seq taken twice, none
// skipped.
func TestAuditLogConcurrentWriters(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			dsn := freshDSN(t, b)
			stores := []*sqlStore{openStore(t, dsn), openStore(t, dsn)}
			const writers, puts = 4, 25
			var wg sync.WaitGroup
			errs := make(chan error, writers*puts)
			for w := range writers {
				wg.Go(func() {
					for p := range puts {
						s := sampleStrike(w*1000 + p)
						if _, err := stores[w%2].Put(ctx, fmt.Sprint("writer", w), []Strike{s}); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if h, err := stores[0].VerifyChain(ctx, nil); err != nil || h.Seq != writers*puts {
				t.Fatalf("VerifyChain: %v, %v", h, err)
			}
		})
	}
}

// TestUpgradeBackfills upgrades a store of the first schema holding
// strikes: none is lost, and each gets a create event and a verdict,
// both marked back-filled.
func TestUpgradeBackfills(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			dsn := freshDSN(t, b)
			old := openSchema(t, dsn, b, 1)
			for i := range 3 {
				if _, err := old.Exec(fmt.Sprintf(`INSERT INTO strikes (id, lon, lat, time_us, uncertainty_m, source, source_event_id, weapon, notes, extra, created_us, updated_us)
					VALUES ('old-%d', 30.5, 50.4, %d, 100, 'test', 'ev-%d', '', 'recorded before the audit log', NULL, 1, 1)`, i, 1742256000000000+i, i)); err != nil {
					t.Fatal(err)
				}
			}
			old.Close()

			st := openStore(t, dsn)
			if got := ids(listAll(t, st, Query{})); !slices.Equal(got, []string{"old-0", "old-1", "old-2"}) {
				t.Fatalf("after the upgrade: %v", got)
			}
			judged := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
			n, err := st.Backfill(ctx, "upgrade", func(s *Strike) (*Verdict, error) {
				return &Verdict{DataVersion: "served-at-upgrade", JudgedAt: judged, Body: json.RawMessage(`{"verdict":"no_protected_site"}`)}, nil
			})
			if err != nil || n != 3 {
				t.Fatalf("Backfill: %d, %v", n, err)
			}
			if n, err := st.Backfill(ctx, "upgrade", nil); err != nil || n != 0 {
				t.Errorf("a second Backfill: %d, %v", n, err)
			}
			s, err := st.Get(ctx, "old-1")
			if err != nil || s.Verdict == nil || !s.Verdict.Backfilled || s.Verdict.DataVersion != "served-at-upgrade" {
				t.Errorf("old-1 after the back-fill: %+v, %v", s.Verdict, err)
			}
			h, err := st.History(ctx, "old-1")
			if err != nil || len(h) != 1 || h[0].Action != ActionCreate || !strings.HasPrefix(string(h[0].Record), `{"backfilled":true,`) {
				t.Errorf("old-1's history: %+v, %v", h, err)
			}
			if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 3 {
				t.Errorf("VerifyChain: %v, %v", h, err)
			}
		})
	}
}

// openSchema creates the schema of the first version migrations at dsn,
// as a store of that version had it, and returns the database.
func openSchema(t testing.TB, dsn, backend string, version int) *sql.DB {
	t.Helper()
	ms, err := loadMigrations(backend)
	if err != nil {
		t.Fatal(err)
	}
	driver, source := "sqlite", dsn
	if backend == "postgres" {
		driver = "pgx"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:version] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(fmt.Sprintf("INSERT INTO schema_migrations VALUES (%d, '%s', 1)", m.version, m.name)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// oldLog appends to the audit log of a store of an older schema by SQL,
// each event at the same time by "old", chained as the store chains them.
type oldLog struct {
	db   *sql.DB
	at   time.Time
	seq  int64
	prev []byte
}

// append logs action on st and returns the event's record.
func (l *oldLog) append(t testing.TB, action string, st *Strike) string {
	t.Helper()
	rec, err := recordOf(st, false)
	if err != nil {
		t.Fatal(err)
	}
	l.seq++
	e := Event{Seq: l.seq, Time: l.at, Actor: "old", Action: action, Strike: st.ID, Record: rec}
	l.prev = chainHash(l.prev, e.CanonicalBytes())
	if _, err := l.db.Exec(fmt.Sprintf("INSERT INTO strike_events (seq, time_us, actor, action, strike_id, record, hash) VALUES (%d, %d, 'old', '%s', '%s', '%s', '%x')",
		l.seq, l.at.UnixMicro(), action, st.ID, rec, l.prev)); err != nil {
		t.Fatal(err)
	}
	return string(rec)
}

// TestUpgradeKeepsVerdicts upgrades a store whose strikes rows held their
// verdicts beside the audit log (schema 6) to one keeping each verdict in
// its latest event's record only: every strike keeps its verdict, a
// deleted one stays gone with its own, the chain still verifies, and the
// data version of a verdict only the history shows survives a prune.
func TestUpgradeKeepsVerdicts(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			dsn := freshDSN(t, b)
			old := openSchema(t, dsn, b, 6)
			judged := time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.UTC)
			created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			log := &oldLog{db: old, at: created}
			logEvent := func(action string, st *Strike) { log.append(t, action, st) }
			want := map[string]string{}
			for i := range 3 {
				st := sampleStrike(i)
				st.ID, st.CreatedAt, st.UpdatedAt = fmt.Sprintf("s-%d", i), created, created
				st.Verdict = &Verdict{DataVersion: "v" + strconv.Itoa(i), JudgedAt: judged, Body: json.RawMessage(fmt.Sprintf(`{"outcome":"o%d","sites":[]}`, i))}
				verdict := string(st.Verdict.encode())
				var deleted any
				if i == 2 {
					deleted = created.UnixMicro()
				}
				ph := make([]string, 15)
				for k := range ph {
					ph[k] = "?"
					if b == "postgres" {
						ph[k] = "$" + strconv.Itoa(k+1)
					}
				}
				if _, err := old.Exec(`INSERT INTO strikes (id, lon, lat, time_us, uncertainty_m, source, source_event_id, weapon, notes, extra, created_us, updated_us, verdict, verdict_version, deleted_us)
					VALUES (`+strings.Join(ph, ", ")+`)`, st.ID, st.Point[0], st.Point[1], st.Time.UnixMicro(), st.UncertaintyMeters, st.Source, st.SourceEventID,
					st.Weapon, st.Notes, string(st.Extra), created.UnixMicro(), created.UnixMicro(), verdict, st.Verdict.DataVersion, deleted); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					// Judged first on data since replaced: only its history
					// names that version.
					first := st
					first.Verdict = &Verdict{DataVersion: "earlier", JudgedAt: created, Body: json.RawMessage(`{"outcome":"o","sites":[]}`)}
					logEvent(ActionCreate, &first)
					logEvent(ActionUpdate, &st)
				} else {
					logEvent(ActionCreate, &st)
				}
				if i == 2 {
					st.DeletedAt = created
					logEvent(ActionDelete, &st)
				}
				want[st.ID] = verdict
			}
			old.Close()

			st := openStore(t, dsn)
			for id, verdict := range want {
				s, err := st.Get(ctx, id)
				if id == "s-2" {
					if !errors.Is(err, ErrGone) {
						t.Errorf("%s, deleted before the upgrade: %v", id, err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if s.Verdict == nil || string(s.Verdict.encode()) != verdict {
					t.Errorf("%s's verdict after the upgrade: %+v, want %s", id, s.Verdict, verdict)
				}
			}
			if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 5 {
				t.Errorf("VerifyChain after the upgrade: %v, %v", h, err)
			}
			for i, v := range []string{"earlier", "unjudged", "v0", "v1", "v2", "served"} {
				if err := st.SaveVersion(ctx, DataVersion{Version: v, FirstServed: created.Add(time.Duration(i) * time.Hour)}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := st.PruneVersions(ctx, 1); err != nil || n != 1 {
				t.Errorf("PruneVersions after the upgrade: %d, %v; want 1 (unjudged) forgotten", n, err)
			}
			if _, err := st.LoadVersion(ctx, "earlier", nil); err != nil {
				t.Errorf("the version of s-0's earlier verdict after pruning: %v", err)
			}
		})
	}
}

// FuzzEventCursor: a cursor is accepted only when it names a positive seq,
// and then it is the one Events gives for that seq.
func FuzzEventCursor(f *testing.F) {
	for _, s := range []string{"ZTE", "ZTA", "e1", "", "ZS0x", "ZTk5OTk5OTk5OTk5OTk5OTk5OTk5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		seq, err := decodeEventCursor(c)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: an error not ErrInvalid: %v", c, err)
			}
			return
		}
		if seq <= 0 {
			t.Fatalf("%q accepted as seq %d", c, seq)
		}
	})
}

// FuzzCanonicalJSON: canonical JSON is what encoding/json writes for the
// value it decodes, valid JSON, and canonical again unchanged, whatever
// value it was made from.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x"]}`, `{"n":1e400}`, `{"k":"\u003c\u2028"}`, `[1,2]`, `{"a":{"c":1,"b":2}}`,
		` {"a" : 1 , "a":2, "\u0061":3} `, "{\"\xff\":\"\xfe\\u00e9\"}", `"\b\f\u0001"`, ` -0.0e+1 `, `[]`, `{}`, `[{"z":[{}]},"\ud800"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := canonicalJSON(json.RawMessage(raw))
		if json.Valid([]byte(raw)) != (err == nil) {
			t.Fatalf("%q: valid %v, yet canonicalJSON: %v", raw, json.Valid([]byte(raw)), err)
		}
		if err != nil {
			return
		}
		if want := canonicalByEncodingJSON(t, raw); string(c) != string(want) {
			t.Fatalf("%q: canonical %q, encoding/json %q", raw, c, want)
		}
		if !json.Valid(c) {
			t.Fatalf("%q: canonical form %q is not JSON", raw, c)
		}
		again, err := canonicalJSON(c)
		if err != nil || string(again) != string(c) {
			t.Fatalf("%q: canonical %q, again %q (%v)", raw, c, again, err)
		}
	})
}

// TestUpgradeUncheckedStrikes upgrades a SQLite store of schema 7, whose
// strikes table checked extra with a JSON function, to the table without
// that check: every strike reads back as its last event recorded it (a
// deleted one, one over a window, one without an event id among them), the
// table keeps its indexes, the chain verifies, and strikes are recorded
// and updated after.
func TestUpgradeUncheckedStrikes(t *testing.T) {
	dsn := freshDSN(t, "sqlite")
	old := openSchema(t, dsn, "sqlite", 7)
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	log := &oldLog{db: old, at: created}
	want := map[string]string{} // each strike's last record
	logEvent := func(action string, st *Strike) { want[st.ID] = log.append(t, action, st) }
	for i := range 4 {
		st := sampleStrike(i)
		st.ID, st.CreatedAt, st.UpdatedAt = fmt.Sprintf("s-%d", i), created, created
		st.Verdict = &Verdict{DataVersion: "v" + strconv.Itoa(i), JudgedAt: created, Body: json.RawMessage(`{"verdict":"no_protected_site"}`)}
		var end, eventID, deleted any
		switch i {
		case 1:
			st.End = st.Time.Add(48 * time.Hour)
			end = st.End.UnixMicro()
		case 2:
			st.SourceEventID = ""
		case 3:
			deleted = created.UnixMicro()
		}
		if st.SourceEventID != "" {
			eventID = st.SourceEventID
		}
		insertOldStrike(t, old, &st, end, eventID, deleted)
		logEvent(ActionCreate, &st)
		if i == 3 {
			st.DeletedAt = created
			logEvent(ActionDelete, &st)
		}
	}
	old.Close()

	st := openStore(t, dsn)
	var table string
	if err := st.db.QueryRow("SELECT sql FROM sqlite_schema WHERE name = 'strikes'").Scan(&table); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(table, "json_valid") {
		t.Errorf("the strikes table still checks extra with a JSON function:\n%s", table)
	}
	indexes, err := queryAll(ctx, st.db, func(r scanner) (name string, err error) { return name, r.Scan(&name) },
		"SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'strikes' AND sql IS NOT NULL ORDER BY name")
	if err != nil || !slices.Equal(indexes, []string{"strikes_time"}) {
		t.Errorf("the strikes table's indexes: %v, %v", indexes, err)
	}
	for id, rec := range want {
		s, err := st.Get(ctx, id)
		if id == "s-3" {
			if !errors.Is(err, ErrGone) {
				t.Errorf("%s, deleted before the upgrade: %v", id, err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if got, err := recordOf(&s, false); err != nil || string(got) != rec {
			t.Errorf("%s after the upgrade:\n\t%s (%v)\nwant\n\t%s", id, got, err, rec)
		}
	}
	if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 5 {
		t.Errorf("VerifyChain after the upgrade: %v, %v", h, err)
	}
	again := sampleStrike(0)
	again.Notes = "seen again"
	res, err := st.Put(ctx, "new", []Strike{again, sampleStrike(4)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ID != "s-0" || res[0].Created || !res[1].Created {
		t.Errorf("Put after the upgrade: %+v", res)
	}
	if s, err := st.Get(ctx, "s-0"); err != nil || s.Notes != "seen again" {
		t.Errorf("s-0 updated after the upgrade: %+v, %v", s, err)
	}
}

// insertOldStrike inserts st into the strikes table of a store of schema 7
// or 8, its end, event id and deletion time given as bound (nil for none).
func insertOldStrike(t testing.TB, db *sql.DB, st *Strike, end, eventID, deleted any) {
	t.Helper()
	if _, err := db.Exec("INSERT INTO strikes (id, lon, lat, time_us, end_us, uncertainty_m, source, source_event_id, weapon, notes, extra, created_us, updated_us, verdict_version, deleted_us)"+
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", st.ID, st.Point[0], st.Point[1], st.Time.UnixMicro(), end, st.UncertaintyMeters, st.Source, eventID,
		st.Weapon, st.Notes, string(st.Extra), st.CreatedAt.UnixMicro(), st.UpdatedAt.UnixMicro(), st.Verdict.DataVersion, deleted); err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeDropsVerdictVersionIndex upgrades a SQLite store of schema 8
// to one without the index on strikes' data versions: the strikes read
// back with their verdicts, the chain verifies, and a prune still keeps
// the versions their verdicts were judged on, a deleted strike's among
// them, forgetting only the version no verdict names.
func TestUpgradeDropsVerdictVersionIndex(t *testing.T) {
	dsn := freshDSN(t, "sqlite")
	old := openSchema(t, dsn, "sqlite", 8)
	created := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	log := &oldLog{db: old, at: created}
	for i, version := range []string{"v-kept", "v-deleted"} {
		st := sampleStrike(i)
		st.ID, st.CreatedAt, st.UpdatedAt = fmt.Sprintf("s-%d", i), created, created
		st.Verdict = &Verdict{DataVersion: version, JudgedAt: created, Body: json.RawMessage(`{"verdict":"no_protected_site"}`)}
		var deleted any
		if i == 1 {
			deleted = created.UnixMicro()
		}
		insertOldStrike(t, old, &st, nil, st.SourceEventID, deleted)
		log.append(t, ActionCreate, &st)
		if i == 1 {
			st.DeletedAt = created
			log.append(t, ActionDelete, &st)
		}
	}
	old.Close()

	st := openStore(t, dsn)
	var n int
	if err := st.db.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'strikes_verdict_version'").Scan(&n); err != nil || n != 0 {
		t.Errorf("strikes_verdict_version after the upgrade: %d, %v", n, err)
	}
	if s, err := st.Get(ctx, "s-0"); err != nil || s.Verdict == nil || s.Verdict.DataVersion != "v-kept" {
		t.Errorf("s-0 after the upgrade: %+v, %v", s, err)
	}
	if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != 3 {
		t.Errorf("VerifyChain after the upgrade: %v, %v", h, err)
	}
	for i, version := range []string{"v-kept", "v-deleted", "v-unused"} {
		v := DataVersion{Version: version, FirstServed: created.Add(time.Duration(i) * time.Hour)}
		if err := st.SaveVersion(ctx, v, []VersionPart{part("agreements", []byte(version))}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.PruneVersions(ctx, 0); err != nil || n != 1 {
		t.Errorf("PruneVersions: %d, %v; want 1 forgotten", n, err)
	}
	kept := keptVersions(t, st)
	if !slices.Equal(kept, []string{"v-deleted", "v-kept"}) {
		t.Errorf("kept %v, want v-deleted and v-kept, the versions recorded verdicts name", kept)
	}
}

// TestUpgradeEventTimeIndex upgrades a PostgreSQL store of schema 7, whose
// events' times had a B-tree index and whose strikes' data versions had
// one, to a BRIN index on the times and none on the versions: events
// written at times out of order, as replicas' clocks may, are found by
// time exactly as before, in seq order, on pages and with the index used
// on a narrow window, and the chain still verifies.
func TestUpgradeEventTimeIndex(t *testing.T) {
	dsn := freshDSN(t, "postgres")
	old := openSchema(t, dsn, "postgres", 7)
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	log := &oldLog{db: old}
	// Each step back in time is a second replica's slower clock.
	offsets := []int{0, 5, 3, 9, 1, 9, 7, 2, 12, 4, 11, 6}
	for i, off := range offsets {
		st := sampleStrike(i)
		st.ID = fmt.Sprintf("s-%02d", i)
		log.at = base.Add(time.Duration(off) * time.Minute)
		log.append(t, ActionCreate, &st)
	}
	old.Close()

	st := openStore(t, dsn)
	indexes, err := queryAll(ctx, st.db, func(r scanner) (def string, err error) { return def, r.Scan(&def) },
		"SELECT indexdef FROM pg_indexes WHERE indexname IN ('strike_events_time', 'strikes_verdict_version')")
	if err != nil || len(indexes) != 1 || !strings.Contains(indexes[0], "USING brin (time_us)") {
		t.Errorf("the indexes after the upgrade: %q, %v", indexes, err)
	}
	// A store this small is read whole unless the planner must use an index.
	if _, err := st.db.ExecContext(ctx, "ANALYZE strike_events"); err != nil {
		t.Fatal(err)
	}
	from, to := base.Add(3*time.Minute), base.Add(9*time.Minute)
	for _, limit := range []int{2, 100} {
		var want []int64
		for i, off := range offsets {
			if off >= 3 && off <= 9 {
				want = append(want, int64(i+1))
			}
		}
		var got []int64
		for _, e := range allEvents(t, st, EventQuery{From: &from, To: &to, Limit: limit}) {
			got = append(got, e.Seq)
		}
		if !slices.Equal(got, want) {
			t.Errorf("events from %s to %s, %d a page: seqs %v, want %v", from, to, limit, got, want)
		}
	}
	conn, err := st.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off; SET enable_indexscan = off"); err != nil {
		t.Fatal(err)
	}
	plan, err := queryAll(ctx, conn, func(r scanner) (line string, err error) { return line, r.Scan(&line) },
		"EXPLAIN SELECT seq FROM strike_events WHERE time_us >= $1 AND time_us <= $2 ORDER BY seq LIMIT 10", from.UnixMicro(), from.UnixMicro())
	if err != nil || !strings.Contains(strings.Join(plan, "\n"), "Bitmap Index Scan on strike_events_time") {
		t.Errorf("a narrow window's plan does not use the index on time: %q, %v", plan, err)
	}
	if h, err := st.VerifyChain(ctx, nil); err != nil || h.Seq != int64(len(offsets)) {
		t.Errorf("VerifyChain after the upgrade: %v, %v", h, err)
	}
}
