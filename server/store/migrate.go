package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// migrations holds each backend's schema changes as numbered SQL files,
// migrations/<backend>/NNNN_name.sql, applied in order and recorded in
// schema_migrations. A change is a new file; applied files never change.
//
//go:embed migrations
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(backend string) ([]migration, error) {
	dir := path.Join("migrations", backend)
	files, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(files))
	for i, file := range files { // Glob sorts, and versions are zero-padded
		name := strings.TrimSuffix(path.Base(file), ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("store: migration %s: want version %d", file, i+1)
		}
		body, err := migrations.ReadFile(file)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	return out, nil
}

// migrate brings the schema to the newest version, all in one transaction.
// A database newer than this program is refused rather than misread.
func (s *sqlStore) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.backend)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *txn) error {
		if s.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, s.migrationLock); err != nil {
				return fmt.Errorf("store: locking for migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("store: creating schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("store: reading the schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("store: the database has schema version %d, newer than this program's %d", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("store: migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_us) VALUES ("+s.param(1)+", "+s.param(2)+", "+s.param(3)+")",
				m.version, m.name, now().UnixMicro()); err != nil {
				return err
			}
		}
		return nil
	})
}
