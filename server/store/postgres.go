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

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
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
	return &sqlStore{db: db, backend: "postgres", numbered: true,
		migrationLock: "SELECT pg_advisory_xact_lock(" + strconv.Itoa(migrationLockKey) + ")"}, nil
}

// unavailable marks err as ErrUnavailable when it says the database
// server cannot be reached or is going away (PostgreSQL's connection
// exceptions, class 08, and its shutdown and startup codes, 57P01-57P03);
// other errors, nil included, are returned as they are. A cancelled or
// expired context is the request's doing, not the database's.
func unavailable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var (
		pgErr   *pgconn.PgError
		connErr *pgconn.ConnectError
		netErr  *net.OpError
	)
	switch {
	case errors.As(err, &pgErr):
		if !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P0") {
			return err
		}
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
