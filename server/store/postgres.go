package store

import (
	"database/sql"
	"strconv"

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
