// Package store is protectmap's durable strike log: strikes recorded by
// analysts or imported from conflict-event data sets, kept in SQLite (one
// file, no server: the default) or PostgreSQL (shared by several replicas).
//
// SQLite rather than bbolt: a strike log is queried by time window and
// bounding box in a stable order, which SQL indexes and keyset paging give
// directly, where a key-value store would need hand-made secondary indexes;
// the schema and queries are then the same as on PostgreSQL, so both
// backends run one implementation and one test suite. modernc.org/sqlite is
// pure Go, so the binary still needs no C toolchain. Every acknowledged
// write is durable: SQLite runs in WAL mode with synchronous=FULL, which
// fsyncs the log on every commit; PostgreSQL commits synchronously by
// default.
//
// The package knows nothing of HTTP; the server maps its errors: ErrInvalid
// (a bad strike, query or cursor), ErrNotFound and ErrUnavailable.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
)

// Strike is one recorded strike.
type Strike struct {
	// ID is assigned by the store on first Put and never changes.
	ID string
	// Point is where the strike landed: longitude, latitude in degrees (WGS84).
	Point orb.Point
	// Time is when it happened; the store keeps it to the microsecond, in UTC.
	// For an event reported over several days it is the window's start.
	Time time.Time
	// End, after Time, ends the window an event is reported over: the
	// first instant after it, as an agreement's end is (a UCDP event dated
	// 2 to 5 March ends at 6 March, 00:00 UTC); zero for a strike at one
	// instant. Verdicts judge the whole window.
	End time.Time
	// UncertaintyMeters is how far from Point the strike may have landed.
	UncertaintyMeters float64
	// Source names who reported the strike (such as "ACLED"); with
	// SourceEventID it identifies the strike across re-imports.
	Source        string
	SourceEventID string
	Weapon        string
	Notes         string
	// Extra holds the other properties given, as a JSON object with its key
	// order kept; nil when there were none.
	Extra json.RawMessage
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt, UpdatedAt time.Time
	// Verdict is the verdict the strike was recorded with, given by the
	// caller of Put; nil when none was (an Import, or a strike recorded
	// before verdicts were kept and not yet back-filled).
	Verdict *Verdict
	// DeletedAt is when the strike was deleted; zero while it is not.
	DeletedAt time.Time
}

// Geo is the strike as geo's verdicts take it.
func (s *Strike) Geo() agreement.Strike {
	return agreement.Strike{Point: s.Point, Time: s.Time, UncertaintyMeters: s.UncertaintyMeters, End: s.End}
}

// PutResult says what Put did with one strike.
type PutResult struct {
	ID string
	// Strike is the strike as stored, as Get reads it back: its id, its
	// times to the microsecond and its verdict, those kept when it was
	// posted again unchanged.
	Strike *Strike
	// Created is false when the strike updated one with the same source and
	// source event id.
	Created bool
	// Unchanged is true when that strike was recorded exactly as given:
	// nothing changed, its UpdatedAt included.
	Unchanged bool
}

// ImportResult counts what Import did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// Query selects strikes for List.
type Query struct {
	// BBox keeps the strikes inside it (edges included); nil keeps all. A box
	// crossing the antimeridian (MinLon > MaxLon) is honoured.
	BBox *geo.BBox
	// From and To bound Time, both inclusive as OGC API datetime intervals
	// are; nil leaves that end open. (The zero time is an instant like any
	// other: the first of the year 1.)
	From, To *time.Time
	// Sources keeps the strikes from these sources (exactly as recorded,
	// such as "UCDP"); empty keeps all.
	Sources []string
	// EventIDs keeps the strikes whose source event id is one of these;
	// empty keeps all. With one of Sources, it finds strikes by their key.
	EventIDs []string
	// Limit is the page size: 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// Cursor continues from a previous page's Next.
	Cursor string
	// Offset skips that many strikes first; it cannot be given with Cursor.
	Offset int
	// Count asks for Page.Matched.
	Count bool
	// Descending lists the latest first: by Time, then ID, both descending.
	// A cursor continues in the order of the query that gave it.
	Descending bool
}

// Page sizes for List.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
)

// Page is one page of a List.
type Page struct {
	// Strikes are ordered by Time, then ID (both descending when the
	// query asks).
	Strikes []Strike
	// Next is the cursor of the following page; empty on the last. Paging is
	// by key, not offset: strikes added or deleted meanwhile never make a
	// page repeat or skip one that was there all along.
	Next string
	// Matched is how many strikes the query selects, on every page; set
	// only when Query.Count asks for it.
	Matched int
}

// Store is a durable strike log with its audit log. Implementations are
// safe for concurrent use. Every write appends one event per strike
// changed to the audit log, in the same transaction, naming actor.
type Store interface {
	// Put records strikes in one transaction: all or, on any error, none. A
	// strike whose source and source event id match a recorded one updates
	// it, keeping its id (and brings it back if it was deleted), so putting
	// the same strikes again changes nothing; without a source event id
	// every strike is new. Each strike's Verdict is stored with it. Results
	// are in the order of strikes. When Put returns, the strikes are on
	// stable storage.
	Put(ctx context.Context, actor string, strikes []Strike) ([]PutResult, error)
	// Import reads every strike from dec and records them like Put, in one
	// transaction, without holding them all in memory. If any record is
	// bad, nothing is recorded and the error lists every bad record (up to
	// 100, then reading stops), each a *RecordError. Each good strike is
	// given the verdict judge returns (none when judge is nil), recorded
	// with it in the same transaction.
	Import(ctx context.Context, actor string, dec Decoder, judge func(*Strike) (*Verdict, error)) (ImportResult, error)
	// Get returns the strike with the given id, or ErrNotFound; a deleted
	// one is returned with ErrGone.
	Get(ctx context.Context, id string) (Strike, error)
	// Delete marks the strike with the given id deleted: it leaves List,
	// its history stays. It returns ErrNotFound for an id never recorded,
	// ErrGone for one already deleted.
	Delete(ctx context.Context, actor, id string) error
	// List returns one page of the strikes q selects, deleted ones left out.
	List(ctx context.Context, q Query) (Page, error)
	// History returns the events of one strike, oldest first, or
	// ErrNotFound when it has none.
	History(ctx context.Context, id string) ([]Event, error)
	// Recorders returns, for each id that has events, the actor of its
	// first event: who recorded the strike (or back-filled it).
	Recorders(ctx context.Context, ids []string) (map[string]string, error)
	// Events returns one page of the audit log, by Seq.
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	// Head returns the audit log's newest event; the zero ChainHead when
	// the log is empty.
	Head(ctx context.Context) (ChainHead, error)
	// Changed returns a channel closed once events committed after the
	// call can be read: this process's, and on PostgreSQL every process's
	// (LISTEN/NOTIFY). It may close with nothing new to read, as when the
	// listening connection is made again after a failure; Events tells.
	Changed() <-chan struct{}
	// VerifyChain recomputes the audit log's hash chain from its first
	// event and returns the last event that verified; the first event that
	// does not is returned as a *ChainError. Given a head kept from
	// earlier, the chain must also still hold that event with that hash, so
	// events cut from its end are found too.
	VerifyChain(ctx context.Context, want *ChainHead) (ChainHead, error)
	// Backfill records, for every strike without an event (one recorded
	// before the audit log existed), the verdict judge gives and a create
	// event marked backfilled, by actor. It returns how many it filled.
	Backfill(ctx context.Context, actor string, judge func(*Strike) (*Verdict, error)) (int, error)
	// MarkServed notes that a data version is being served from at, and
	// reports false when it is not kept.
	MarkServed(ctx context.Context, version string, at time.Time) (bool, error)
	// SaveVersion keeps a data version's parts, content-addressed and
	// compressed; a version already kept is left as it is.
	SaveVersion(ctx context.Context, v DataVersion, parts []VersionPart) error
	// LoadVersion passes each part of a kept version, in order, to read;
	// ErrNoVersion for one not kept.
	LoadVersion(ctx context.Context, version string, read func(name string, r io.Reader) error) (DataVersion, error)
	// Versions lists the kept data versions, most recently served first.
	Versions(ctx context.Context) ([]DataVersion, error)
	// PruneVersions forgets versions no recorded verdict was judged on
	// (a strike's current one or any in the audit log, deleted strikes'
	// included), but the keepLast most recently served (all when negative).
	PruneVersions(ctx context.Context, keepLast int) (int, error)
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
	Alerts
}

var (
	// ErrNotFound is returned for an id the store does not hold.
	ErrNotFound = errors.New("store: no such strike")
	// ErrNoSubscription is returned for an alert subscription the store
	// does not hold, or holds for another owner.
	ErrNoSubscription = errors.New("store: no such alert subscription")
	// ErrTooMany is matched (errors.Is) by a write refused because it
	// would pass a limit, such as the alert subscriptions of one owner.
	ErrTooMany = errors.New("store: too many")
	// ErrGone is returned for a strike that was deleted.
	ErrGone = errors.New("store: the strike was deleted")
	// ErrInvalid is matched (errors.Is) by every error about bad input: a
	// *RecordError, a bad query or cursor.
	ErrInvalid = errors.New("store: invalid input")
	// ErrUnavailable is matched (errors.Is) by errors of a database that
	// cannot be reached, is shutting down or starting up: the request may
	// succeed if retried later. Nothing was recorded, unless the connection
	// was lost during a commit, when the outcome is unknown.
	ErrUnavailable = errors.New("store: the database is unavailable")
	// ErrFull is matched (errors.Is) by errors of a database whose disk is
	// full (SQLITE_FULL, PostgreSQL's 53100): nothing was recorded, and a
	// write may succeed once space is freed. Ping returns it too, until a
	// write that needs space succeeds again.
	ErrFull = errors.New("store: the database's disk is full")
)

// LookupError is a strike or data version asked for by its key and not
// had: it wraps ErrNotFound, ErrGone or ErrNoVersion.
type LookupError struct {
	Key string
	// DeletedAt is when a strike that is gone was deleted, when known.
	DeletedAt time.Time
	Err       error
}

func (e *LookupError) Error() string { return e.Err.Error() + ": " + strconv.Quote(e.Key) }
func (e *LookupError) Unwrap() error { return e.Err }

// QueryError is a query argument the store refuses; it matches ErrInvalid.
type QueryError struct {
	// Param names the argument: cursor, limit or offset.
	Param  string
	Reason string
}

func (e *QueryError) Error() string        { return ErrInvalid.Error() + ": " + e.Param + " " + e.Reason }
func (e *QueryError) Is(target error) bool { return target == ErrInvalid }

func badCursor(c string) *QueryError {
	return &QueryError{Param: "cursor", Reason: strconv.Quote(c) + " is not one this server gave"}
}

// RecordError is a bad strike: where it came from and which field is wrong.
type RecordError struct {
	// Line is the input line where the record starts; 0 when it was not read
	// from a file.
	Line int
	// Field names the member or column, such as
	// "features[3].properties.datetime", "latitude" or "strikes[2].source";
	// empty for the record as a whole.
	Field string
	Err   error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// Is makes every RecordError match ErrInvalid.
func (e *RecordError) Is(target error) bool { return target == ErrInvalid }

// Open opens the store named by dsn, creating or migrating its schema: a
// "postgres://" or "postgresql://" URL opens PostgreSQL, anything else is
// the path of a SQLite file, created if missing.
func Open(ctx context.Context, dsn string) (Store, error) {
	var s *sqlStore
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(dsn)
	} else {
		s, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareInserts(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
