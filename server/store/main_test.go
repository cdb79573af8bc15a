package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/protectmap/protectmap/server/store/pgtest"
)

func TestMain(m *testing.M) {
	// The crash test runs this binary again as the process it kills.
	if file := os.Getenv(crashWriterEnv); file != "" {
		os.Exit(crashWriter(file))
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// backends are the stores every behaviour is tested on.
var backends = []string{"sqlite", "postgres"}

// freshDSN names a new, empty store on backend.
func freshDSN(t testing.TB, backend string) string {
	t.Helper()
	if backend == "sqlite" {
		return filepath.Join(t.TempDir(), "strikes.db")
	}
	return pgtest.DSN(t)
}

// openStore opens dsn for the test and closes it after.
func openStore(t testing.TB, dsn string) *sqlStore {
	t.Helper()
	st, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*sqlStore)
}

// forEachBackend runs fn on a new, empty store of each backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, st *sqlStore)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { fn(t, openStore(t, freshDSN(t, b))) })
	}
}
