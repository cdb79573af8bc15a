package store

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestMain(m *testing.M) {
	// The crash test runs this binary again as the process it kills.
	if file := os.Getenv(crashWriterEnv); file != "" {
		os.Exit(crashWriter(file))
	}
	code := m.Run()
	if pg.stop != nil {
		pg.stop()
	}
	os.Exit(code)
}

// pg is one PostgreSQL server for the whole test run, started on first use
// in a temporary directory on a free loopback port, and stopped by TestMain.
var pg struct {
	once    sync.Once
	dsn     string // of the postgres database, for creating others
	missing string // why the server cannot be run here, when it cannot
	err     error
	stop    func()
	dbs     atomic.Int32
}

// postgresDSN returns the URL of a new, empty database on the test server.
// Without PostgreSQL installed the test skips, unless PROTECTMAP_REQUIRE_TOOLS
// is set (as CI sets it), when it fails.
func postgresDSN(t testing.TB) string {
	t.Helper()
	pg.once.Do(startPostgres)
	if pg.missing != "" {
		if os.Getenv("PROTECTMAP_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s, and PROTECTMAP_REQUIRE_TOOLS is set", pg.missing)
		}
		t.Skipf("skipping: %s (set PROTECTMAP_REQUIRE_TOOLS to make this a failure)", pg.missing)
	}
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	admin, err := sql.Open("pgx", pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "t" + strconv.Itoa(int(pg.dbs.Add(1)))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(pg.dsn, "/postgres?", "/"+name+"?", 1)
}

// postgresBin finds a PostgreSQL program: Debian keeps them in
// /usr/lib/postgresql/<version>/bin, off the PATH.
func postgresBin(name string) (string, bool) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	version := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	if len(found) > 0 {
		return found[len(found)-1], true
	}
	p, err := exec.LookPath(name)
	return p, err == nil
}

func startPostgres() {
	initdb, ok := postgresBin("initdb")
	pgctl, ok2 := postgresBin("pg_ctl")
	if !ok || !ok2 {
		pg.missing = "PostgreSQL's initdb and pg_ctl are not installed (Debian package postgresql)"
		return
	}
	dir, err := os.MkdirTemp("", "protectmap-pg-")
	if err != nil {
		pg.err = err
		return
	}
	attr := &syscall.SysProcAttr{}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as an unprivileged user
		// that owns the directory.
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			pg.err = fmt.Errorf("running as root, and no postgres or nobody user: %v", err)
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			pg.err = err
			return
		}
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = attr
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if pg.err = run(initdb, "-D", data, "-U", "protectmap", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"); pg.err != nil {
		return
	}
	// The free port may be taken before the server binds it: try again.
	for range 3 {
		port := freePort()
		pg.err = run(pgctl, "start", "-D", data, "-w", "-l", filepath.Join(dir, "server.log"),
			"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, dir))
		if pg.err == nil {
			pg.dsn = fmt.Sprintf("postgres://protectmap@127.0.0.1:%d/postgres?sslmode=disable", port)
			break
		}
	}
	pg.stop = func() {
		run(pgctl, "stop", "-D", data, "-m", "fast", "-w")
		os.RemoveAll(dir)
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 15432
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// backends are the stores every behaviour is tested on.
var backends = []string{"sqlite", "postgres"}

// freshDSN names a new, empty store on backend.
func freshDSN(t testing.TB, backend string) string {
	t.Helper()
	if backend == "sqlite" {
		return filepath.Join(t.TempDir(), "strikes.db")
	}
	return postgresDSN(t)
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
