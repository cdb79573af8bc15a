package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/protectmap/protectmap/internal/jsonscan"
)

// Actions of the audit log.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Event is one entry of the audit log, strike_events: a strike created,
// updated or deleted.
//
// Its canonical bytes are the JSON object
//
//	{"action":A,"actor":B,"record":R,"seq":N,"strike":S,"time":T}
//
// with R the stored record verbatim, T in RFC 3339 with microseconds in
// UTC, strings escaped as Go's encoding/json does without HTML escaping,
// and no spaces. Hash is hex SHA-256 over the previous event's hash (its 32
// bytes; nothing before the first event) followed by those bytes, so
// editing, removing or reordering any event breaks every hash after it.
type Event struct {
	// Seq numbers the events of a database from 1, without gaps, in the
	// order they were committed.
	Seq  int64
	Time time.Time
	// Actor names who made the change: the name of the token used.
	Actor  string
	Action string
	Strike string
	// Record is the strike after the change (before it, for a delete, with
	// deleted_at) as canonical JSON: keys sorted, no spaces.
	Record json.RawMessage
	Hash   string
}

// CanonicalBytes are what Hash covers, after the previous hash.
func (e *Event) CanonicalBytes() []byte {
	return e.appendCanonical(make([]byte, 0, 128+len(e.Record)))
}

// appendCanonical appends e's canonical bytes to b.
func (e *Event) appendCanonical(b []byte) []byte {
	return e.appendCanonicalTail(append(e.appendCanonicalHead(b), e.Record...))
}

// appendCanonicalHead appends e's canonical bytes up to its record.
func (e *Event) appendCanonicalHead(b []byte) []byte {
	b = append(b, `{"action":`...)
	b = appendString(b, e.Action)
	b = append(b, `,"actor":`...)
	b = appendString(b, e.Actor)
	return append(b, `,"record":`...)
}

// appendCanonicalTail appends e's canonical bytes after its record.
func (e *Event) appendCanonicalTail(b []byte) []byte {
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"strike":`...)
	b = appendString(b, e.Strike)
	b = append(b, `,"time":`...)
	b = appendTime(b, e.Time)
	return append(b, '}')
}

// chainHash is the hash of an event whose canonical bytes are canonical,
// after the event whose hash is prev (empty before the first).
func chainHash(prev []byte, canonical []byte) []byte {
	return sumChain(sha256.New(), nil, prev, canonical)
}

// sumChain appends chainHash(prev, canonical) to dst, summed by h, a
// SHA-256 it resets first: a write reuses one for all its events.
func sumChain(h hash.Hash, dst, prev, canonical []byte) []byte {
	h.Reset()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(dst)
}

// timeLayout is how records and events write times: RFC 3339 in UTC, to
// the microsecond the store keeps.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// appendTime appends t in timeLayout, in UTC, as a JSON string: the
// layout's characters need no escaping.
func appendTime(b []byte, t time.Time) []byte {
	return append(t.UTC().AppendFormat(append(b, '"'), timeLayout), '"')
}

// record is a strike as the audit log keeps it. Its fields are in the
// order of their JSON names, so encoding/json writes the keys sorted.
type record struct {
	Backfilled  bool            `json:"backfilled,omitempty"`
	CreatedAt   string          `json:"created_at"`
	Time        string          `json:"datetime"`
	DeletedAt   string          `json:"deleted_at,omitempty"`
	End         string          `json:"end,omitempty"`
	EventID     string          `json:"event_id"`
	Extra       json.RawMessage `json:"extra,omitempty"`
	ID          string          `json:"id"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	Notes       string          `json:"notes"`
	Source      string          `json:"source"`
	Uncertainty float64         `json:"uncertainty_m"`
	UpdatedAt   string          `json:"updated_at"`
	Verdict     json.RawMessage `json:"verdict,omitempty"`
	Weapon      string          `json:"weapon"`
}

// recordOf is s as canonical JSON for the audit log: record's members in
// order, as encoding/json would write it.
func recordOf(s *Strike, backfilled bool) (json.RawMessage, error) {
	var verdict int
	if s.Verdict != nil {
		verdict = len(s.Verdict.encode())
	}
	return appendRecord(make([]byte, 0, 320+len(s.Notes)+len(s.Extra)+verdict), s, backfilled)
}

// appendRecord appends recordOf(s, backfilled) to b.
func appendRecord(b []byte, s *Strike, backfilled bool) ([]byte, error) {
	b = append(b, '{')
	if backfilled {
		b = append(b, `"backfilled":true,`...)
	}
	b = appendTime(append(b, `"created_at":`...), s.CreatedAt)
	b = appendTime(append(b, `,"datetime":`...), s.Time)
	if !s.DeletedAt.IsZero() {
		b = appendTime(append(b, `,"deleted_at":`...), s.DeletedAt)
	}
	if !s.End.IsZero() {
		b = appendTime(append(b, `,"end":`...), s.End)
	}
	b = appendString(append(b, `,"event_id":`...), s.SourceEventID)
	if len(s.Extra) > 0 {
		if !json.Valid(s.Extra) {
			return nil, fmt.Errorf("store: strike %s: extra: %w", s.ID, errNotJSON)
		}
		b = appendCanonical(append(b, `,"extra":`...), s.Extra)
	}
	b = appendString(append(b, `,"id":`...), s.ID)
	b = appendFloat(append(b, `,"lat":`...), s.Point[1])
	b = appendFloat(append(b, `,"lon":`...), s.Point[0])
	b = appendString(append(b, `,"notes":`...), s.Notes)
	b = appendString(append(b, `,"source":`...), s.Source)
	b = appendFloat(append(b, `,"uncertainty_m":`...), s.UncertaintyMeters)
	b = appendTime(append(b, `,"updated_at":`...), s.UpdatedAt)
	if s.Verdict != nil {
		b = append(append(b, `,"verdict":`...), s.Verdict.encode()...)
	}
	b = appendString(append(b, `,"weapon":`...), s.Weapon)
	return append(b, '}'), nil
}

// chainLockKey is the PostgreSQL advisory lock that serialises appends to
// the audit log across processes: an arbitrary constant, the same in every
// protectmap.
const chainLockKey = 0x636861696e // "chain"

// chain appends events within one write transaction. The first append
// takes the log's lock and reads its head; the lock is held until the
// transaction ends, so no other writer can take the same seq, and seq n+1
// never commits before seq n: readers always see a gap-free prefix.
type chain struct {
	tx     *txn
	s      *sqlStore
	locked bool
	seq    int64
	hash   []byte
	// sum hashes each event in turn, into hash.
	sum hash.Hash
}

func (s *sqlStore) chain(tx *txn) *chain { return &chain{tx: tx, s: s, sum: sha256.New()} }

// eventRows is how many events one INSERT carries.
const eventRows = 256

const eventColumns = "seq, time_us, actor, action, strike_id, record, hash"

var eventColumnNames = strings.Split(eventColumns, ", ")

// append adds one event per strike, all at time t by actor.
func (c *chain) append(ctx context.Context, t time.Time, actor, action string, strikes []*Strike, backfilled bool) error {
	if len(strikes) == 0 {
		return nil
	}
	if !c.locked {
		if c.s.backend == "postgres" {
			// The notice is delivered at commit, to every replica
			// listening (see Changed).
			if _, err := c.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.Itoa(chainLockKey)+"), pg_notify('"+eventsChannel+"', '')"); err != nil {
				return err
			}
		}
		var hash string
		err := c.tx.QueryRowContext(ctx, "SELECT seq, hash FROM strike_events ORDER BY seq DESC LIMIT 1").Scan(&c.seq, &hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if c.hash, err = hex.DecodeString(hash); err != nil {
			return fmt.Errorf("store: the last event's hash %q is not hex", hash)
		}
		c.locked = true
	}
	args := make([]any, 0, len(strikes)*eventColumnCount)
	// The values every event shares are boxed once.
	timeUS, actorArg, actionArg := any(t.UnixMicro()), any(actor), any(action)
	first := c.seq + 1
	// Every event's canonical bytes and hash are written one after the
	// other into buf, each record and hash among them where it is bound: no
	// copy of its own. buf comes back for the next write once they are
	// inserted: a fresh one, megabytes for a large write, cost more to
	// zero, its pages faulted in anew, than the events took to write.
	buf := c.s.eventBuffer.take()
	var sum [sha256.Size]byte
	for i, st := range strikes {
		c.seq++
		e := Event{Seq: c.seq, Time: t, Actor: actor, Action: action, Strike: st.ID}
		if i == 1 {
			// Room for the rest, guessed from the first: a record not
			// fitting moves buf on, leaving those before where they are.
			buf = slices.Grow(buf, (len(strikes)-1)*(len(buf)+len(buf)/4))
		}
		start := len(buf)
		buf = e.appendCanonicalHead(buf)
		recStart := len(buf)
		var err error
		if buf, err = appendRecord(buf, st, backfilled); err != nil {
			return err
		}
		rec := buf[recStart:]
		buf = e.appendCanonicalTail(buf)
		c.hash = sumChain(c.sum, sum[:0], c.hash, buf[start:])
		hashStart := len(buf)
		buf = hex.AppendEncode(buf, c.hash)
		// buf's bytes are never written again: they serve as the strings bound.
		args = append(args, e.Seq, timeUS, actorArg, actionArg, e.Strike, bytesString(rec), bytesString(buf[hashStart:]))
	}
	err := c.s.insertEvents(ctx, c.tx, first, args)
	c.s.eventBuffer.keep(buf)
	return err
}

// spareBuffer keeps one buffer between writes. A sync.Pool would not: a
// large write allocates enough to run the collector, which empties pools,
// once or twice before the next.
type spareBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// maxSpareBuffer bounds the buffer kept: enough for several thousand
// events, not a whole import's.
const maxSpareBuffer = 8 << 20

// take returns the buffer kept, empty, or nil; it is no longer kept.
func (b *spareBuffer) take() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := b.buf
	b.buf = nil
	return buf[:0]
}

// keep keeps buf, which its caller no longer uses, unless it is too large
// or one larger is kept already.
func (b *spareBuffer) keep(buf []byte) {
	if cap(buf) > maxSpareBuffer {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if cap(buf) > cap(b.buf) {
		b.buf = buf
	}
}

// bytesString is b as a string without a copy; b must not change while
// the string is in use.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// pointers points at each of strikes.
func pointers(strikes []Strike) []*Strike {
	out := make([]*Strike, len(strikes))
	for i := range strikes {
		out[i] = &strikes[i]
	}
	return out
}

// insertEvents inserts the events whose columns, eventColumns, args holds
// one after the other, the first numbered first. PostgreSQL takes them by
// COPY: bound to a multi-row INSERT, each event's record passed through
// two buffers that pgx grows afresh for every statement, and that copying
// and the garbage it left were a third of a write's CPU time.
//
// SQLite numbers them itself (see eventsSQL), each one above the last
// event's seq: the INSERT's last rowid must be the seq its hash was made
// with, as it is unless the log was changed by hand in this transaction.
// The events share their time, actor and action, which SQLite is given
// once a statement.
func (s *sqlStore) insertEvents(ctx context.Context, tx *txn, first int64, args []any) error {
	n := len(args) / eventColumnCount
	if s.backend == "postgres" {
		return tx.copyFrom(ctx, "strike_events", eventColumnNames, n, args)
	}
	values := make([]any, 0, sharedEventColumns+min(n, eventRows)*(eventColumnCount-1-sharedEventColumns))
	for start := 0; start < n; {
		rows := insertRows(n-start, eventRows)
		values = append(values[:0], args[1:1+sharedEventColumns]...)
		for i := start; i < start+rows; i++ {
			values = append(values, args[i*eventColumnCount+1+sharedEventColumns:(i+1)*eventColumnCount]...)
		}
		r, err := s.prepared(ctx, tx, statementKey{"events", rows}).ExecContext(ctx, values...)
		if err != nil {
			return err
		}
		start += rows
		if last, err := r.LastInsertId(); err != nil {
			return err
		} else if want := first + int64(start) - 1; last != want {
			return fmt.Errorf("store: event %d was stored as seq %d", want, last)
		}
	}
	return nil
}

const eventColumnCount = 7

// sharedEventColumns are the columns after seq that every event of one
// append shares: time_us, actor and action.
const sharedEventColumns = 3

// eventsSQL inserts rows events into SQLite, which numbers them: seq is
// its rowid, one above the largest. Given seq itself, SQLite checks that
// it is an integer, which may abort the statement halfway, so it kept a
// statement journal of every page the INSERT changed to undo it; OR FAIL
// for the same reason (a failed write's transaction is rolled back whole).
//
// The shared columns are parameters ?1 to ?3 of every row, bound once; the
// plain ?s after them take the numbers that follow, row by row.
func (s *sqlStore) eventsSQL(rows int) string {
	var q strings.Builder
	q.WriteString("INSERT OR FAIL INTO strike_events (" + strings.TrimPrefix(eventColumns, "seq, ") + ") VALUES ")
	row := "(?1,?2,?3" + strings.Repeat(",?", eventColumnCount-1-sharedEventColumns) + ")"
	for r := range rows {
		if r > 0 {
			q.WriteByte(',')
		}
		q.WriteString(row)
	}
	return q.String()
}

// EventQuery selects events for Events.
type EventQuery struct {
	// From and To bound the events' Time, both inclusive; nil leaves that
	// end open.
	From, To *time.Time
	// Limit is the page size: 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// Cursor continues from a previous page's Next.
	Cursor string
	// After keeps the events whose Seq is above it; 0 keeps all.
	After int64
}

// EventPage is one page of Events, by Seq.
type EventPage struct {
	Events []Event
	// Next is the cursor of the following page; empty on the last.
	Next string
}

func scanEvent(row scanner) (Event, error) {
	var e Event
	var t int64
	var rec string
	err := row.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Strike, &rec, &e.Hash)
	e.Time, e.Record = time.UnixMicro(t).UTC(), json.RawMessage(rec)
	return e, err
}

func (s *sqlStore) Events(ctx context.Context, q EventQuery) (_ EventPage, err error) {
	defer func() { err = unavailable(err) }()
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return EventPage{}, err
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return s.param(len(args))
	}
	where, err := timeBounds(q.From, q.To, arg)
	if err != nil {
		return EventPage{}, err
	}
	if q.Cursor != "" {
		after, err := decodeEventCursor(q.Cursor)
		if err != nil {
			return EventPage{}, err
		}
		where = append(where, "seq > "+arg(after))
	}
	if q.After > 0 {
		where = append(where, "seq > "+arg(q.After))
	}
	query := "SELECT " + eventColumns + " FROM strike_events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq LIMIT " + arg(limit+1)
	events, err := s.queryEvents(ctx, query, args...)
	if err != nil {
		return EventPage{}, err
	}
	p := EventPage{Events: events}
	if len(events) > limit {
		p.Events = events[:limit]
		p.Next = base64.RawURLEncoding.EncodeToString([]byte("e" + strconv.FormatInt(events[limit-1].Seq, 10)))
	}
	return p, nil
}

func decodeEventCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && len(raw) > 1 && raw[0] == 'e' {
		if seq, err := strconv.ParseInt(string(raw[1:]), 10, 64); err == nil && seq > 0 {
			return seq, nil
		}
	}
	return 0, badCursor(c)
}

// maxHistory bounds the events History returns for one strike.
const maxHistory = MaxLimit

func (s *sqlStore) History(ctx context.Context, id string) ([]Event, error) {
	events, err := s.queryEvents(ctx, "SELECT "+eventColumns+" FROM strike_events WHERE strike_id = "+s.param(1)+
		" ORDER BY seq LIMIT "+strconv.Itoa(maxHistory), id)
	if err == nil && len(events) == 0 {
		err = &LookupError{Key: id, Err: ErrNotFound}
	}
	return events, unavailable(err)
}

// recordersPerQuery bounds the ids one query of Recorders binds.
const recordersPerQuery = 500

func (s *sqlStore) Recorders(ctx context.Context, ids []string) (_ map[string]string, err error) {
	defer func() { err = unavailable(err) }()
	out := make(map[string]string, len(ids))
	for chunk := range slices.Chunk(ids, recordersPerQuery) {
		args := make([]any, len(chunk))
		in := make([]string, len(chunk))
		for i, id := range chunk {
			args[i], in[i] = id, s.param(i+1)
		}
		// A strike's first event is its create (or back-fill): the least
		// seq of its events, found through the (strike_id, seq) index.
		rows, err := s.db.QueryContext(ctx, "SELECT strike_id, actor FROM strike_events WHERE seq IN (SELECT MIN(seq) FROM strike_events WHERE strike_id IN ("+
			strings.Join(in, ", ")+") GROUP BY strike_id)", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, actor string
			if err := rows.Scan(&id, &actor); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = actor
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sqlStore) queryEvents(ctx context.Context, query string, args ...any) ([]Event, error) {
	return queryAll(ctx, s.db, scanEvent, query, args...)
}

// ChainHead is the newest event of the audit log: its seq, which counts
// the events, and its hash, which covers every event up to it. A chain
// verifies on its own however many events are cut from its end, so a head
// kept elsewhere (GET /audit and every report publish one) is what proves
// that none were: the chain must still hold event Seq with hash Hash.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// String writes h as ParseChainHead reads it: SEQ:HASH.
func (h ChainHead) String() string { return strconv.FormatInt(h.Seq, 10) + ":" + h.Hash }

// ParseChainHead reads a head written as SEQ:HASH, with HASH 64 hex digits
// and SEQ from 1; "0:" is the head of an empty log.
func ParseChainHead(s string) (ChainHead, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	switch {
	case !ok || err != nil || n < 0 || seq != strconv.FormatInt(n, 10):
		return ChainHead{}, fmt.Errorf("%w: head %q is not SEQ:HASH", ErrInvalid, s)
	case n == 0 && hash == "":
		return ChainHead{}, nil
	case n == 0 || len(hash) != 2*sha256.Size || strings.ToLower(hash) != hash:
		return ChainHead{}, fmt.Errorf("%w: head %q: HASH must be 64 lower-case hex digits after a seq from 1", ErrInvalid, s)
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return ChainHead{}, fmt.Errorf("%w: head %q: HASH must be 64 lower-case hex digits", ErrInvalid, s)
	}
	return ChainHead{Seq: n, Hash: hash}, nil
}

func (s *sqlStore) Head(ctx context.Context) (ChainHead, error) {
	var h ChainHead
	err := s.db.QueryRowContext(ctx, "SELECT seq, hash FROM strike_events ORDER BY seq DESC LIMIT 1").Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return h, unavailable(err)
}

// ChainError is the first event of the audit log that does not verify.
type ChainError struct {
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("store: audit log event %d: %s", e.Seq, e.Reason)
}

// verifyPage is how many events VerifyChain reads at a time.
const verifyPage = 10_000

func (s *sqlStore) VerifyChain(ctx context.Context, want *ChainHead) (ChainHead, error) {
	var prev []byte
	var head ChainHead
	for {
		events, err := s.queryEvents(ctx, "SELECT "+eventColumns+" FROM strike_events WHERE seq > "+s.param(1)+
			" ORDER BY seq LIMIT "+strconv.Itoa(verifyPage), head.Seq)
		if err != nil {
			return head, unavailable(err)
		}
		for i := range events {
			e := &events[i]
			if e.Seq != head.Seq+1 {
				return head, &ChainError{Seq: head.Seq + 1, Reason: fmt.Sprintf("missing: the next event stored is %d", e.Seq)}
			}
			recomputed := chainHash(prev, e.CanonicalBytes())
			if got, err := hex.DecodeString(e.Hash); err != nil || !bytes.Equal(got, recomputed) {
				return head, &ChainError{Seq: e.Seq, Reason: fmt.Sprintf("stored hash %s, recomputed %x: the event or one before it was altered", e.Hash, recomputed)}
			}
			if want != nil && e.Seq == want.Seq && e.Hash != want.Hash {
				return head, &ChainError{Seq: e.Seq, Reason: fmt.Sprintf("hash %s, but the head given has %s: the chain was rewritten up to here", e.Hash, want.Hash)}
			}
			prev, head = recomputed, ChainHead{Seq: e.Seq, Hash: e.Hash}
		}
		if len(events) < verifyPage {
			break
		}
	}
	if want != nil && head.Seq < want.Seq {
		return head, &ChainError{Seq: head.Seq + 1, Reason: fmt.Sprintf("missing: the log ends at event %d, but the head given is event %d: events were cut from its end", head.Seq, want.Seq)}
	}
	return head, nil
}

// Verdict is the verdict a strike was recorded with.
type Verdict struct {
	// DataVersion names the data (layers and agreements) it was judged on.
	DataVersion string
	// JudgedAt is when it was judged, to the microsecond.
	JudgedAt time.Time
	// Backfilled marks a verdict given when an older store was upgraded,
	// against the data served then rather than when the strike was recorded.
	Backfilled bool
	// Body is the verdict itself, a JSON object: the outcome and the
	// protected sites behind it.
	Body json.RawMessage
	// stored is the verdict as the store writes it in its event's record,
	// set once it is canonical.
	stored json.RawMessage
}

// verdictJSON is Verdict as stored, keys sorted.
type verdictJSON struct {
	Backfilled  bool            `json:"backfilled,omitempty"`
	DataVersion string          `json:"data_version"`
	JudgedAt    string          `json:"judged_at"`
	Body        json.RawMessage `json:"verdict"`
}

// encode is v as canonical JSON; its Body must be canonical already.
func (v *Verdict) encode() json.RawMessage {
	if v.stored == nil {
		b := make([]byte, 0, 96+len(v.Body))
		b = append(b, '{')
		if v.Backfilled {
			b = append(b, `"backfilled":true,`...)
		}
		b = appendString(append(b, `"data_version":`...), v.DataVersion)
		b = appendTime(append(b, `,"judged_at":`...), v.JudgedAt)
		b = append(b, `,"verdict":`...)
		if len(v.Body) == 0 {
			b = append(b, "null"...)
		}
		v.stored = append(append(b, v.Body...), '}')
	}
	return v.stored
}

// verdictOfRecord is the verdict in an event's record, nil for a record
// without one or for none at all (NULL).
func verdictOfRecord(record []byte) (*Verdict, error) {
	var raw []byte
	jsonscan.EachMember(record, func(key, value []byte) bool {
		if string(key) == "verdict" {
			raw = value
			return false
		}
		return true
	})
	if raw == nil {
		return nil, nil
	}
	return decodeVerdict(raw)
}

func decodeVerdict(raw []byte) (*Verdict, error) {
	var j verdictJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("store: a stored verdict: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, j.JudgedAt)
	if err != nil {
		return nil, fmt.Errorf("store: a stored verdict: %w", err)
	}
	return &Verdict{DataVersion: j.DataVersion, JudgedAt: t.UTC(), Backfilled: j.Backfilled, Body: j.Body}, nil
}

// backfillPage is how many strikes one Backfill transaction fills.
const backfillPage = 1000

func (s *sqlStore) Backfill(ctx context.Context, actor string, judge func(*Strike) (*Verdict, error)) (int, error) {
	filled := 0
	for {
		n := 0
		err := s.inTx(ctx, func(tx *txn) error {
			rows, err := tx.QueryContext(ctx, "SELECT "+selectColumns+" FROM strikes WHERE NOT EXISTS"+
				" (SELECT 1 FROM strike_events e WHERE e.strike_id = strikes.id) ORDER BY id LIMIT "+strconv.Itoa(backfillPage))
			if err != nil {
				return err
			}
			var batch []Strike
			for rows.Next() {
				st, err := scanStrike(rows)
				if err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, st)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			t := now()
			bodies := canonicalBodies{}
			for i := range batch {
				st := &batch[i]
				if st.Verdict == nil && judge != nil {
					v, err := judge(st)
					if err != nil {
						return fmt.Errorf("store: back-filling the verdict of strike %s: %w", st.ID, err)
					}
					if v != nil {
						v.Backfilled = true
						st.Verdict = v
						if err := st.canonicalVerdict(&bodies); err != nil {
							return err
						}
						if _, err := tx.ExecContext(ctx, "UPDATE strikes SET verdict_version = "+s.param(1)+
							" WHERE id = "+s.param(2), st.Verdict.DataVersion, st.ID); err != nil {
							return err
						}
					}
				}
			}
			n = len(batch)
			return s.chain(tx).append(ctx, t, actor, ActionCreate, pointers(batch), true)
		})
		filled += n
		if err != nil || n < backfillPage {
			return filled, err
		}
	}
}
