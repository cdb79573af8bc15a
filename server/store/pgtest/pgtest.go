// Package pgtest runs a throwaway PostgreSQL server for tests: started on
// first use by initdb into a temporary directory, listening on a free
// loopback port, with one new empty database per caller.
package pgtest

import (
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

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// server is one PostgreSQL server for a whole test binary.
var server struct {
	once    sync.Once
	dsn     string // of the postgres database, for creating others
	missing string // why the server cannot be run here, when it cannot
	err     error
	stop    func()
	dbs     atomic.Int32
}

// DSN returns the URL of a new, empty database on the test server,
// starting the server on first use. Without PostgreSQL installed the test
// skips, unless PROTECTMAP_REQUIRE_TOOLS is set (as CI sets it), when it
// fails.
func DSN(t testing.TB) string {
	t.Helper()
	server.once.Do(start)
	if server.missing != "" {
		if os.Getenv("PROTECTMAP_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s, and PROTECTMAP_REQUIRE_TOOLS is set", server.missing)
		}
		t.Skipf("skipping: %s (set PROTECTMAP_REQUIRE_TOOLS to make this a failure)", server.missing)
	}
	if server.err != nil {
		t.Fatal(server.err)
	}
	admin, err := sql.Open("pgx", server.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "t" + strconv.Itoa(int(server.dbs.Add(1)))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(server.dsn, "/postgres?", "/"+name+"?", 1)
}

// Stop stops the server and removes its files, if it was started; call it
// from TestMain after the tests have run.
func Stop() {
	if server.stop != nil {
		server.stop()
	}
}

// bin finds a PostgreSQL program: Debian keeps them in
// /usr/lib/postgresql/<version>/bin, off the PATH.
func bin(name string) (string, bool) {
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

func start() {
	initdb, ok := bin("initdb")
	pgctl, ok2 := bin("pg_ctl")
	if !ok || !ok2 {
		server.missing = "PostgreSQL's initdb and pg_ctl are not installed (Debian package postgresql)"
		return
	}
	dir, err := os.MkdirTemp("", "protectmap-pg-")
	if err != nil {
		server.err = err
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
			server.err = fmt.Errorf("running as root, and no postgres or nobody user: %v", err)
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			server.err = err
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
	if server.err = run(initdb, "-D", data, "-U", "protectmap", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"); server.err != nil {
		return
	}
	// The free port may be taken before the server binds it: try again.
	for range 3 {
		port := freePort()
		server.err = run(pgctl, "start", "-D", data, "-w", "-l", filepath.Join(dir, "server.log"),
			"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, dir))
		if server.err == nil {
			server.dsn = fmt.Sprintf("postgres://protectmap@127.0.0.1:%d/postgres?sslmode=disable", port)
			break
		}
	}
	server.stop = func() {
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
