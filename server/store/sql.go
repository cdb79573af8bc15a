package store

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/bits"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sqlStore is the Store over database/sql for both backends: the schema and
// the queries are the same but for their placeholders (see param).
type sqlStore struct {
	db *sql.DB
	// backend names the folder of its migrations: "sqlite" or "postgres".
	backend string
	// migrationLock is run first in the migration transaction to keep
	// several processes from migrating at once; empty where the transaction
	// itself locks the database (SQLite's immediate transactions).
	migrationLock string
	// writes serialises this process's write transactions where the database
	// allows one writer at a time (SQLite): waiting on a mutex beats polling
	// the database's lock. Nil on PostgreSQL.
	writes *sync.Mutex
	// full is set by a write that failed for a full disk and cleared by
	// one that succeeded; while it is set, Ping probes for space.
	full atomic.Bool
	// numbered is true where placeholders are numbered ($1, $2, ...).
	numbered bool
	// inserts holds the INSERTs of strikes and events, prepared at open
	// for every row count a write uses; read-only after that.
	inserts map[statementKey]*sql.Stmt
	// changes wakes the waiters of Changed after each commit; dsn, set on
	// PostgreSQL, is what listen connects to for other processes' commits.
	changes notifier
	dsn     string
	listen  listener
	// eventBuffer keeps the buffer a write's events were written into
	// for the next write (see chain.append).
	eventBuffer spareBuffer
}

// param is the placeholder of the n-th argument. PostgreSQL numbers them;
// SQLite binds plain ?s in order, where numbered ones cost it a lookup by
// name per parameter, quadratic in a 3,072-parameter INSERT.
func (s *sqlStore) param(n int) string {
	if s.numbered {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// strikeColumns are written by insertSQL; selectColumns are read back. A
// strike's recorded verdict is written once, in the record of its latest
// event (a create, an update or the delete): latestRecordSQL reads it
// back. verdict_version names the data it was judged on, so that the data
// versions strikes depend on are found without reading the log.
const (
	strikeColumns = "id, lon, lat, time_us, end_us, uncertainty_m, source, source_event_id, weapon, notes, extra, created_us, updated_us, verdict_version"
	selectColumns = strikeColumns + ", deleted_us, " + latestRecordSQL
)

// latestRecordSQL is the record of the latest event of the strikes row in
// scope, found through the strike_events (strike_id, seq) index; NULL for
// a strike recorded before the audit log and not yet back-filled.
const latestRecordSQL = "(SELECT record FROM strike_events WHERE strike_id = strikes.id ORDER BY seq DESC LIMIT 1)"

const columnCount = 14

// rowsPerInsert is how many strikes one INSERT carries at most: 3,840
// parameters, well within both databases' limits, and a round trip per 256
// strikes.
const rowsPerInsert = 256

// insertRows is how many of n rows the next INSERT carries: maxRows, or
// below that the largest power of two up to n. A write of any size is
// then made of a few statements, each prepared once per connection and
// reused: parsing a 256-row INSERT took as long as running it.
func insertRows(n, maxRows int) int {
	if n >= maxRows {
		return maxRows
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// statementKey names a statement: what it does and the rows it carries.
type statementKey struct {
	kind string
	rows int
}

// prepareInserts prepares, once at open, the INSERT of strikes and (but on
// PostgreSQL, which copies them) of events for every row count insertRows
// can ask for. Preparing them in the middle of a write would borrow a
// second connection from the pool while the write's transaction holds
// one, and wait on readers that hold the rest.
func (s *sqlStore) prepareInserts(ctx context.Context) error {
	s.inserts = map[statementKey]*sql.Stmt{}
	type kind struct {
		name    string
		maxRows int
		build   func(rows int) string
	}
	kinds := []kind{{"new strikes", rowsPerInsert, s.insertNewSQL}, {"strikes", rowsPerInsert, s.insertSQL}}
	if s.backend != "postgres" {
		kinds = append(kinds, kind{"events", eventRows, s.eventsSQL})
	}
	for _, kind := range kinds {
		for rows := 1; rows <= kind.maxRows; rows *= 2 {
			stmt, err := s.db.PrepareContext(ctx, kind.build(rows))
			if err != nil {
				return err
			}
			s.inserts[statementKey{kind.name, rows}] = stmt
		}
	}
	return nil
}

// prepared returns, within tx, the statement of key.
func (s *sqlStore) prepared(ctx context.Context, tx *txn, key statementKey) *sql.Stmt {
	return tx.StmtContext(ctx, s.inserts[key])
}

// maxReported caps the bad records an import lists before it stops reading.
const maxReported = 100

// insertNewSQL inserts rows strikes, leaving out those whose source and
// event id are already recorded; how many it inserted tells whether any
// was. Most writes record new strikes only, and on SQLite this is all
// they run (PostgreSQL copies them in; see copyNew): the
// upsert of insertSQL may stop halfway on SQLite (its update part aborts
// on a failed check), so SQLite first copied every page it changed into a
// statement journal to undo it alone, and it sent back a row per strike.
// Here a failed check fails the statement where it stands (OR FAIL), and
// the write's transaction is rolled back whole.
func (s *sqlStore) insertNewSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT ")
	if s.backend == "sqlite" {
		b.WriteString("OR FAIL ")
	}
	b.WriteString("INTO strikes (" + strikeColumns + ") VALUES ")
	s.writeValues(&b, rows, columnCount)
	b.WriteString(" ON CONFLICT (source, source_event_id) DO NOTHING")
	return b.String()
}

// insertSQL inserts rows strikes, updating those whose source and event id
// are already recorded (and bringing back a deleted one); a strike posted
// again as recorded keeps its updated_us and the verdict it was recorded
// with, so that re-posting a file changes nothing. It returns each
// row's id and times with its key so the caller can tell new from updated,
// and, for a row kept as it was (one whose updated_us is not the last
// parameter, the write's time), its latest event's record, to answer with
// the verdict kept.
func (s *sqlStore) insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO strikes (" + strikeColumns + ") VALUES ")
	s.writeValues(&b, rows, columnCount)
	b.WriteString(` ON CONFLICT (source, source_event_id) DO UPDATE SET lon = excluded.lon, lat = excluded.lat,
 time_us = excluded.time_us, end_us = excluded.end_us, uncertainty_m = excluded.uncertainty_m, weapon = excluded.weapon, notes = excluded.notes,
 extra = excluded.extra, updated_us = CASE WHEN ` + changedSQL + ` THEN excluded.updated_us ELSE strikes.updated_us END,
 verdict_version = CASE WHEN ` + changedSQL + ` THEN excluded.verdict_version ELSE strikes.verdict_version END, deleted_us = NULL
 RETURNING id, source, source_event_id, created_us, updated_us, CASE WHEN updated_us = ` + s.param(rows*columnCount+1) + ` THEN NULL ELSE ` + latestRecordSQL + ` END`)
	return b.String()
}

// writeValues writes the placeholders of rows rows of columns values each:
// (?,?),(?,?),...
func (s *sqlStore) writeValues(b *strings.Builder, rows, columns int) {
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range columns {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s.param(r*columns + c + 1))
		}
		b.WriteByte(')')
	}
}

// changedSQL is true when a strike posted again differs from the one
// recorded, or brings back a deleted one; only then is its updated_us
// moved. extra is compared as text: PostgreSQL's json has no equality.
const changedSQL = `(strikes.deleted_us IS NOT NULL OR strikes.lon IS DISTINCT FROM excluded.lon OR strikes.lat IS DISTINCT FROM excluded.lat
 OR strikes.time_us IS DISTINCT FROM excluded.time_us OR strikes.end_us IS DISTINCT FROM excluded.end_us
 OR strikes.uncertainty_m IS DISTINCT FROM excluded.uncertainty_m
 OR strikes.weapon IS DISTINCT FROM excluded.weapon OR strikes.notes IS DISTINCT FROM excluded.notes
 OR CAST(strikes.extra AS TEXT) IS DISTINCT FROM CAST(excluded.extra AS TEXT))`

// inTx runs fn in a transaction and commits it, or rolls it back if fn
// fails. A transaction the database aborted to break a deadlock or a
// serialization conflict with another writer (another replica's, say) is
// run again, up to maxTxAttempts times with a growing pause; fn must start
// afresh each time. Conflicts beyond that are ErrUnavailable: the client
// may retry later.
func (s *sqlStore) inTx(ctx context.Context, fn func(*txn) error) error {
	pause := firstRetryPause
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if !conflict(err) {
			return err
		}
		if attempt == maxTxAttempts {
			return fmt.Errorf("%w: still conflicting after %d tries: %w", ErrUnavailable, attempt, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause + time.Duration(mrand.Int64N(int64(pause)))):
		}
		pause = min(2*pause, maxRetryPause)
	}
}

// Retries of conflicting transactions: at most maxTxAttempts tries, the
// pause before each between one and two times the last, doubling from
// firstRetryPause up to maxRetryPause (about 0.5 s of waiting in all).
const (
	maxTxAttempts   = 6
	firstRetryPause = 10 * time.Millisecond
	maxRetryPause   = 200 * time.Millisecond
)

func (s *sqlStore) tryTx(ctx context.Context, fn func(*txn) error) error {
	if s.writes != nil {
		s.writes.Lock()
		defer s.writes.Unlock()
	}
	err := s.runTx(ctx, fn)
	if err == nil || errors.Is(err, ErrFull) {
		s.full.Store(err != nil)
	}
	return err
}

// txn is a write transaction and the connection it runs on, through which
// a PostgreSQL write copies its events (see copyFrom).
type txn struct {
	*sql.Tx
	conn *sql.Conn
}

func (s *sqlStore) runTx(ctx context.Context, fn func(*txn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	if err := fn(&txn{Tx: tx, conn: conn}); err != nil {
		tx.Rollback()
		return unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return unavailable(err)
	}
	// Any write may have appended events: waiters read them, or nothing new.
	s.changes.signal()
	return nil
}

// write inserts or updates strikes prepared at t, then sets each one's ID,
// times and verdict to the stored strike's. A row that does not carry t as
// its updated_us was posted again unchanged and kept as it was.
//
// The strikes are first inserted as new (insertNewSQL); only when some of
// them were recorded before does the upsert run, over them all, those just
// inserted coming back as created. args are batch's strikeArgs.
func (s *sqlStore) write(ctx context.Context, tx *txn, t time.Time, batch []Strike, args []any) ([]PutResult, error) {
	r, err := s.prepared(ctx, tx, statementKey{"new strikes", len(batch)}).ExecContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	if n, err := r.RowsAffected(); err != nil {
		return nil, err
	} else if n == int64(len(batch)) {
		return allCreated(batch), nil
	}
	rows, err := s.prepared(ctx, tx, statementKey{"strikes", len(batch)}).QueryContext(ctx, append(args, t.UnixMicro())...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type stored struct {
		id               string
		created, updated int64
		// verdict is the one kept, read only for a strike posted again
		// unchanged: any other row holds the verdict it was given.
		verdict *Verdict
		kept    bool
	}
	byKey := make(map[[2]string]stored, len(batch))
	fresh := make(map[string]stored) // rows without an event id, all new
	for rows.Next() {
		var row stored
		var source string
		var eventID sql.NullString
		var record sql.RawBytes
		if err := rows.Scan(&row.id, &source, &eventID, &row.created, &row.updated, &record); err != nil {
			return nil, err
		}
		row.kept = row.updated != t.UnixMicro()
		if row.kept {
			if row.verdict, err = verdictOfRecord(record); err != nil {
				return nil, err
			}
		}
		if eventID.Valid {
			byKey[[2]string{source, eventID.String}] = row
		} else {
			fresh[row.id] = row
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]PutResult, len(batch))
	for i := range batch {
		var row stored
		found := false
		if key, ok := eventKey(&batch[i]); ok {
			row, found = byKey[key]
		} else {
			row, found = fresh[batch[i].ID]
		}
		if !found {
			return nil, fmt.Errorf("store: the database returned no row for strike %d", i)
		}
		st := &batch[i]
		created := row.id == st.ID
		st.ID, st.CreatedAt, st.UpdatedAt = row.id, time.UnixMicro(row.created).UTC(), time.UnixMicro(row.updated).UTC()
		if row.kept {
			st.Verdict = row.verdict
		}
		out[i] = PutResult{ID: row.id, Strike: st, Created: created, Unchanged: row.kept}
	}
	return out, nil
}

// strikeArgs are the values of batch's strikeColumns, one strike after the
// other.
func strikeArgs(batch []Strike) []any {
	args := make([]any, 0, len(batch)*columnCount)
	// Boxed values of the row before, which a row equal in them reuses.
	var source, weapon, created, updated, version any
	for i := range batch {
		st := &batch[i]
		var end, eventID, extra any
		if !st.End.IsZero() {
			end = st.End.UnixMicro()
		}
		if st.SourceEventID != "" {
			eventID = st.SourceEventID
		}
		if st.Extra != nil {
			extra = string(st.Extra)
		}
		if st.Verdict != nil {
			version = reboxed(version, st.Verdict.DataVersion)
		} else {
			version = nil
		}
		source, weapon = reboxed(source, st.Source), reboxed(weapon, st.Weapon)
		created, updated = reboxed(created, st.CreatedAt.UnixMicro()), reboxed(updated, st.UpdatedAt.UnixMicro())
		args = append(args, st.ID, st.Point[0], st.Point[1], st.Time.UnixMicro(), end, st.UncertaintyMeters,
			source, eventID, weapon, st.Notes, extra, created, updated, version)
	}
	return args
}

// allCreated is the result of writing batch when every strike was new.
func allCreated(batch []Strike) []PutResult {
	out := make([]PutResult, len(batch))
	for i := range batch {
		out[i] = PutResult{ID: batch[i].ID, Strike: &batch[i], Created: true}
	}
	return out
}

// reboxed is prev if it holds v, else v boxed anew: the strikes of a write
// mostly share their times, source, weapon and data version, and boxing
// each row's own allocated.
func reboxed[T comparable](prev any, v T) any {
	if p, ok := prev.(T); ok && p == v {
		return prev
	}
	return v
}

// logWrites appends an event to c for each strike write recorded.
func logWrites(ctx context.Context, c *chain, t time.Time, actor string, batch []Strike, res []PutResult) error {
	// Most writes create every strike they carry: one allocation holds them.
	created := make([]*Strike, 0, len(res))
	var updated []*Strike
	for i := range res {
		switch {
		case res[i].Created:
			created = append(created, &batch[i])
		case !res[i].Unchanged:
			updated = append(updated, &batch[i])
		}
	}
	if err := c.append(ctx, t, actor, ActionCreate, created, false); err != nil {
		return err
	}
	return c.append(ctx, t, actor, ActionUpdate, updated, false)
}

func (s *sqlStore) Put(ctx context.Context, actor string, strikes []Strike) ([]PutResult, error) {
	if len(strikes) == 0 {
		return []PutResult{}, nil
	}
	var errs []error
	var seen seenKeys
	bodies := canonicalBodies{}
	t := now()
	batch := make([]Strike, len(strikes))
	for i := range strikes {
		prefix := "strikes[" + strconv.Itoa(i) + "]."
		if fe := check(&strikes[i]); fe != nil {
			errs = append(errs, fe.at(0, prefix))
		} else if first, dup := seen.repeat(&strikes[i], i); dup {
			errs = append(errs, failf(propEventID, "the same source and event id as strikes[%d]", first).at(0, prefix))
		}
		batch[i] = prepare(strikes[i], t)
		if err := batch[i].canonicalVerdict(&bodies); err != nil {
			errs = append(errs, (&fieldError{"verdict", err}).at(0, prefix))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s.writeAll(ctx, actor, t, batch)
}

// writeAll writes prepared strikes and their events in one transaction,
// retried on conflicts, and returns the results in batch's order. Rows are
// written in the order of their keys, source and event id (strikes without
// one, always new, last): two writers whose batches overlap then lock the
// rows they share in the same order, and wait for each other rather than
// deadlock. It sorts batch so, in place.
func (s *sqlStore) writeAll(ctx context.Context, actor string, t time.Time, batch []Strike) ([]PutResult, error) {
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareKeys(&batch[a], &batch[b]) })
	sorted := permute(batch, order)
	var written []PutResult
	args := strikeArgs(sorted)
	// PostgreSQL copies the strikes in as new, as most writes' are; when
	// some key turns out taken, the transaction is run again upserting.
	copyNew := s.backend == "postgres"
	write := func(tx *txn) error {
		written = written[:0]
		if copyNew {
			if err := tx.copyNew(ctx, len(sorted), args); err != nil {
				return err
			}
			written = allCreated(sorted)
		}
		for start := 0; !copyNew && start < len(sorted); {
			end := start + insertRows(len(sorted)-start, rowsPerInsert)
			// Capped, so that the upsert's extra argument is appended to a copy.
			chunk := args[start*columnCount : end*columnCount : end*columnCount]
			res, err := s.write(ctx, tx, t, sorted[start:end], chunk)
			if err != nil {
				return err
			}
			written = append(written, res...)
			start = end
		}
		// The log's lock is taken last, so writers wait on it only for
		// their events and the commit.
		return logWrites(ctx, s.chain(tx), t, actor, sorted, written)
	}
	err := s.inTx(ctx, write)
	if errors.Is(err, errKeysTaken) {
		copyNew = false
		err = s.inTx(ctx, write)
	}
	if err != nil {
		return nil, err
	}
	out := make([]PutResult, len(batch))
	for k, i := range order {
		out[i] = written[k]
	}
	return out, nil
}

// permute moves batch[order[k]] to batch[k], for every k, and returns
// batch: each cycle of order is followed once, so no strike is copied
// twice, nor batch as a whole.
func permute(batch []Strike, order []int) []Strike {
	placed := make([]bool, len(batch))
	for k := range batch {
		if placed[k] {
			continue
		}
		first := batch[k]
		j := k
		for ; order[j] != k; j = order[j] {
			batch[j] = batch[order[j]]
			placed[j] = true
		}
		batch[j] = first
		placed[j] = true
	}
	return batch
}

// compareKeys orders strikes by source and event id; those without an
// event id come last, by their (new, random) ids.
func compareKeys(a, b *Strike) int {
	ka, okA := eventKey(a)
	kb, okB := eventKey(b)
	switch {
	case okA && okB:
		return cmp.Or(strings.Compare(ka[0], kb[0]), strings.Compare(ka[1], kb[1]))
	case okA != okB:
		if okA {
			return -1
		}
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// Import reads every record first, so that nothing is written when any
// is bad, no transaction stays open while a client sends its body, and a
// transaction that must be retried can be.
func (s *sqlStore) Import(ctx context.Context, actor string, dec Decoder, judge func(*Strike) (*Verdict, error)) (ImportResult, error) {
	var (
		errs  []error
		batch []Strike
	)
	bodies := canonicalBodies{}
	t := now()
	for n := 0; len(errs) < maxReported; n++ {
		st, err := dec.Next()
		if err == io.EOF {
			break
		}
		var bad *RecordError
		if errors.As(err, &bad) {
			errs = append(errs, err)
			continue
		} else if err != nil {
			return ImportResult{}, err
		}
		if fe := check(&st); fe != nil {
			errs = append(errs, fe.at(0, "records["+strconv.Itoa(n)+"]."))
			continue
		}
		if len(errs) > 0 { // read on for more problems, but keep nothing
			continue
		}
		if judge != nil {
			if st.Verdict, err = judge(&st); err != nil {
				return ImportResult{}, err
			}
		}
		st = prepare(st, t)
		if err := st.canonicalVerdict(&bodies); err != nil {
			errs = append(errs, (&fieldError{"verdict", err}).at(0, "records["+strconv.Itoa(n)+"]."))
			continue
		}
		batch = append(batch, st)
	}
	if len(errs) == maxReported {
		errs = append(errs, fmt.Errorf("stopped reading after %d bad records", maxReported))
	}
	if len(errs) > 0 {
		return ImportResult{}, errors.Join(errs...)
	}
	var res ImportResult
	if len(batch) == 0 {
		return res, nil
	}
	written, err := s.writeAll(ctx, actor, t, batch)
	if err != nil {
		return ImportResult{}, err
	}
	for _, w := range written {
		switch {
		case w.Created:
			res.Created++
		case w.Unchanged:
			res.Unchanged++
		default:
			res.Updated++
		}
	}
	return res, nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier reads through the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll runs query and reads every row it returns with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanStrike(row scanner) (Strike, error) {
	var st Strike
	var eventID, version sql.NullString
	var extra, record []byte
	var t, created, updated int64
	var end, deleted sql.NullInt64
	err := row.Scan(&st.ID, &st.Point[0], &st.Point[1], &t, &end, &st.UncertaintyMeters, &st.Source, &eventID,
		&st.Weapon, &st.Notes, &extra, &created, &updated, &version, &deleted, &record)
	if err != nil {
		return st, err
	}
	st.SourceEventID = eventID.String
	if len(extra) > 0 {
		st.Extra = extra
	}
	st.Time, st.CreatedAt, st.UpdatedAt = time.UnixMicro(t).UTC(), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	if end.Valid {
		st.End = time.UnixMicro(end.Int64).UTC()
	}
	if deleted.Valid {
		st.DeletedAt = time.UnixMicro(deleted.Int64).UTC()
	}
	st.Verdict, err = verdictOfRecord(record)
	return st, err
}

func (s *sqlStore) Get(ctx context.Context, id string) (Strike, error) {
	st, err := scanStrike(s.db.QueryRowContext(ctx, "SELECT "+selectColumns+" FROM strikes WHERE id = "+s.param(1), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Strike{}, &LookupError{Key: id, Err: ErrNotFound}
	case err == nil && !st.DeletedAt.IsZero():
		return st, &LookupError{Key: id, DeletedAt: st.DeletedAt, Err: ErrGone}
	}
	return st, unavailable(err)
}

func (s *sqlStore) Delete(ctx context.Context, actor, id string) error {
	t := now()
	err := s.inTx(ctx, func(tx *txn) error {
		st, err := scanStrike(tx.QueryRowContext(ctx, "UPDATE strikes SET deleted_us = "+s.param(1)+" WHERE id = "+s.param(2)+
			" AND deleted_us IS NULL RETURNING "+selectColumns, t.UnixMicro(), id))
		if err != nil {
			return err
		}
		return s.chain(tx).append(ctx, t, actor, ActionDelete, []*Strike{&st}, false)
	})
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.Get(ctx, id); err != nil {
			return err // ErrGone or ErrNotFound
		}
		return &LookupError{Key: id, Err: ErrNotFound}
	}
	return err
}

// timeBounds are the conditions keeping time_us within [from, to], nil
// leaving its end open; arg binds a value and returns its placeholder.
func timeBounds(from, to *time.Time, arg func(any) string) ([]string, error) {
	if from != nil && to != nil && from.After(*to) {
		return nil, fmt.Errorf("%w: the interval starts after it ends", ErrInvalid)
	}
	var where []string
	if from != nil {
		// The store keeps microseconds: a bound between two rounds inwards.
		where = append(where, "time_us >= "+arg(from.Add(time.Microsecond-1).Truncate(time.Microsecond).UnixMicro()))
	}
	if to != nil {
		where = append(where, "time_us <= "+arg(to.Truncate(time.Microsecond).UnixMicro()))
	}
	return where, nil
}

// pageLimit is a page size asked for, checked, with 0 meaning DefaultLimit.
func pageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultLimit, nil
	case limit < 0 || limit > MaxLimit:
		return 0, &QueryError{Param: "limit", Reason: fmt.Sprintf("%d is outside 1 to %d", limit, MaxLimit)}
	}
	return limit, nil
}

func (s *sqlStore) List(ctx context.Context, q Query) (_ Page, err error) {
	defer func() { err = unavailable(err) }()
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return Page{}, err
	}
	where := []string{"deleted_us IS NULL"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return s.param(len(args))
	}
	if b := q.BBox; b != nil {
		if err := b.Validate(); err != nil {
			return Page{}, fmt.Errorf("%w: bbox: %v", ErrInvalid, err)
		}
		where = append(where, "lat BETWEEN "+arg(b.MinLat)+" AND "+arg(b.MaxLat))
		if b.CrossesAntimeridian() {
			where = append(where, "(lon >= "+arg(b.MinLon)+" OR lon <= "+arg(b.MaxLon)+")")
		} else {
			where = append(where, "lon BETWEEN "+arg(b.MinLon)+" AND "+arg(b.MaxLon))
		}
	}
	bounds, err := timeBounds(q.From, q.To, arg)
	if err != nil {
		return Page{}, err
	}
	where = append(where, bounds...)
	in := func(column string, values []string) {
		if len(values) == 0 {
			return
		}
		params := make([]string, len(values))
		for i, v := range values {
			params[i] = arg(v)
		}
		where = append(where, column+" IN ("+strings.Join(params, ", ")+")")
	}
	in("source", q.Sources)
	in("source_event_id", q.EventIDs)
	var p Page
	if q.Count {
		query := "SELECT COUNT(*) FROM strikes WHERE " + strings.Join(where, " AND ")
		if err := s.db.QueryRowContext(ctx, query, args...).Scan(&p.Matched); err != nil {
			return Page{}, err
		}
	}
	if q.Offset < 0 || q.Offset > 0 && q.Cursor != "" {
		return Page{}, &QueryError{Param: "offset", Reason: fmt.Sprintf("%d with cursor %q: give one or the other, at or above 0", q.Offset, q.Cursor)}
	}
	if q.Cursor != "" {
		t, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return Page{}, err
		}
		after := ">"
		if q.Descending {
			after = "<"
		}
		where = append(where, "(time_us, id) "+after+" ("+arg(t)+", "+arg(id)+")")
	}
	order := " ORDER BY time_us, id"
	if q.Descending {
		order = " ORDER BY time_us DESC, id DESC"
	}
	query := "SELECT " + selectColumns + " FROM strikes WHERE " + strings.Join(where, " AND ")
	query += order + " LIMIT " + arg(limit+1)
	if q.Offset > 0 {
		query += " OFFSET " + arg(q.Offset)
	}
	if p.Strikes, err = queryAll(ctx, s.db, scanStrike, query, args...); err != nil {
		return Page{}, err
	}
	if len(p.Strikes) > limit {
		p.Strikes = p.Strikes[:limit]
		p.Next = CursorAfter(&p.Strikes[limit-1])
	}
	return p, nil
}

// CursorAfter is the Query.Cursor that continues a listing just after s,
// in the order of the query s was listed by.
func CursorAfter(s *Strike) string { return encodeCursor(s.Time.UnixMicro(), s.ID) }

// A cursor is the sort key of the last strike of a page, opaque to clients.
func encodeCursor(timeMicros int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(timeMicros, 10) + "." + id))
}

func decodeCursor(c string) (int64, string, error) {
	bad := badCursor(c)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	ts, id, ok := strings.Cut(string(raw), ".")
	t, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", bad
	}
	return t, id, nil
}

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := unavailable(s.db.PingContext(ctx)); err != nil || !s.full.Load() {
		return err
	}
	return s.probeSpace(ctx)
}

// probeBytes is what probeSpace writes: random, so PostgreSQL cannot
// compress it away, and as much as an ordinary request may bring (a
// rollback frees a little space, which a small probe would mistake for
// enough).
const probeBytes = 1 << 20

// probeSpace writes and removes a row of probeBytes in one transaction: it
// fails with ErrFull while the disk is full, and clears full once a write
// that needs space succeeds.
func (s *sqlStore) probeSpace(ctx context.Context) error {
	b := make([]byte, probeBytes)
	crand.Read(b)
	return s.tryTx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO space_probe (b) VALUES ("+s.param(1)+")", b); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM space_probe")
		return err
	})
}
