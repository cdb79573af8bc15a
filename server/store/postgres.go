package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migrationLockKey is the PostgreSQL advisory lock that keeps replicas
// starting together from migrating at once: an arbitrary constant, the
// same in every protectmap.
const migrationLockKey = 0x70726f74 // "prot"

func openPostgres(dsn string) (*sqlStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	return &sqlStore{db: db, backend: "postgres", numbered: true, dsn: dsn,
		migrationLock: "SELECT pg_advisory_xact_lock(" + strconv.Itoa(migrationLockKey) + ")"}, nil
}

// copyFrom copies rows rows into table by PostgreSQL's COPY, within tx:
// args holds each row's values, in the order of columns, one row after
// the other.
func (tx *txn) copyFrom(ctx context.Context, table string, columns []string, rows int, args []any) error {
	return tx.conn.Raw(func(driverConn any) error {
		conn, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: COPY needs a PostgreSQL connection, not %T", driverConn)
		}
		width := len(columns)
		_, err := conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromSlice(rows, func(i int) ([]any, error) {
			return args[i*width : (i+1)*width], nil
		}))
		return err
	})
}

// strikeColumnNames are strikeColumns, for COPY.
var strikeColumnNames = strings.Split(strikeColumns, ", ")

// errKeysTaken is why copyNew failed: a strike's key is recorded already.
var errKeysTaken = errors.New("store: a strike copied as new is recorded already")

// copyNew copies rows strikes, whose strikeColumns args holds, into
// strikes as new ones; if a key is taken it fails with errKeysTaken,
// and tx must be rolled back. A multi-row INSERT was planned and its
// parameters evaluated one by one, and its ON CONFLICT logged each row's
// insertion twice; COPY writes whole pages of rows at a time.
func (tx *txn) copyNew(ctx context.Context, rows int, args []any) error {
	err := tx.copyFrom(ctx, "strikes", strikeColumnNames, rows, args)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return fmt.Errorf("%w: %w", errKeysTaken, err)
	}
	return err
}

// conflict reports whether the database aborted a transaction for
// another's sake: a serialization failure (40001) or a deadlock (40P01).
func conflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// diskFull reports whether the database said its disk is full.
func diskFull(err error) bool {
	var (
		pgErr     *pgconn.PgError
		sqliteErr *sqlite.Error
	)
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Code == "53100"
	case errors.As(err, &sqliteErr):
		return sqliteErr.Code()&0xff == sqlite3.SQLITE_FULL
	}
	return false
}

// unavailable marks err as ErrFull when the disk is full, and as
// ErrUnavailable when it says the database
// server cannot be reached or is going away (PostgreSQL's connection
// exceptions, class 08, its shutdown and startup codes, 57P01-57P03, too
// many connections, 53300, and a connection closed under a request);
// other errors, nil included, are returned as they are. A cancelled or
// expired context is the request's doing, not the database's.
func unavailable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrFull) {
		return err
	}
	if diskFull(err) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	var (
		pgErr   *pgconn.PgError
		connErr *pgconn.ConnectError
		netErr  *net.OpError
	)
	switch {
	case errors.As(err, &pgErr):
		// 53300: too many connections, for now.
		if !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P0") && pgErr.Code != "53300" {
			return err
		}
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed):
	default:
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
