// Package pgtest runs throwaway PostgreSQL servers for tests: each made by
// initdb in a temporary directory, listening on a free loopback port, with
// one new empty database per caller. DSN shares one server across a test
// binary; New gives a test a server of its own to stop and start.
package pgtest

import (
	"database/sql"
	"errors"
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

// Server is one PostgreSQL server run by a test binary.
type Server struct {
	dir   string // holds the data directory, the socket and the log
	pgctl string
	attr  *syscall.SysProcAttr // runs the server as a non-root user
	port  int
	dsn   string // of the postgres database, for creating others
	dbs   atomic.Int32
}

// errMissing is why no server can be run here: PostgreSQL is not installed.
var errMissing = errors.New("PostgreSQL's initdb and pg_ctl are not installed (Debian package postgresql)")

// shared is the server DSN hands out databases on.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// DSN returns the URL of a new, empty database on the shared test server,
// starting the server on first use. Without PostgreSQL installed the test
// skips, unless PROTECTMAP_REQUIRE_TOOLS is set (as CI sets it), when it
// fails.
func DSN(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = start() })
	usable(t, shared.err)
	return shared.srv.DSN(t)
}

// New starts a server for the calling test alone, removed when the test
// ends: a test that stops the server must not take the shared one from
// the others. It skips or fails like DSN when PostgreSQL is missing.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	usable(t, err)
	t.Cleanup(s.remove)
	return s
}

// usable ends the test when the server could not be started: a skip when
// PostgreSQL is missing and PROTECTMAP_REQUIRE_TOOLS is unset, else a failure.
func usable(t testing.TB, err error) {
	t.Helper()
	switch {
	case errors.Is(err, errMissing) && os.Getenv("PROTECTMAP_REQUIRE_TOOLS") == "":
		t.Skipf("skipping: %v (set PROTECTMAP_REQUIRE_TOOLS to make this a failure)", err)
	case errors.Is(err, errMissing):
		t.Fatalf("%v, and PROTECTMAP_REQUIRE_TOOLS is set", err)
	case err != nil:
		t.Fatal(err)
	}
}

// DSN returns the URL of a new, empty database on s.
func (s *Server) DSN(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("pgx", s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "t" + strconv.Itoa(int(s.dbs.Add(1)))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(s.dsn, "/postgres?", "/"+name+"?", 1)
}

// Stop shuts s down as an operator would in a hurry (pg_ctl stop -m fast):
// open connections are cut, transactions in flight rolled back.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.run(s.pgctl, "stop", "-D", s.data(), "-m", "fast", "-w"); err != nil {
		t.Fatal(err)
	}
}

// Restart restarts s as a crash would (pg_ctl restart -m immediate):
// every backend is killed mid-statement, and the server recovers from its
// write-ahead log before it accepts connections again, on the same port.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.run(s.pgctl, append(s.serverArgs("restart", s.port), "-m", "immediate")...); err != nil {
		t.Fatal(err)
	}
}

// Start starts s again after Stop, on the same port, so its DSNs hold.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.listen(s.port); err != nil {
		t.Fatal(err)
	}
}

// Stop stops the shared server and removes its files, if it was started;
// call it from TestMain after the tests have run.
func Stop() {
	if shared.srv != nil {
		shared.srv.remove()
	}
}

func (s *Server) remove() {
	s.run(s.pgctl, "stop", "-D", s.data(), "-m", "fast", "-w") //nolint:errcheck // already stopped, or nothing to stop
	os.RemoveAll(s.dir)
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = s.attr
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return nil
}

func (s *Server) listen(port int) error {
	return s.run(s.pgctl, s.serverArgs("start", port)...)
}

// serverArgs are pg_ctl's arguments to start the server (start or
// restart) on port. The log goes to a file: a server writing to pg_ctl's
// output would hold it open, and run would wait for it forever.
func (s *Server) serverArgs(verb string, port int) []string {
	return []string{verb, "-D", s.data(), "-w", "-l", filepath.Join(s.dir, "server.log"),
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, s.dir)}
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

func start() (*Server, error) {
	initdb, ok := bin("initdb")
	pgctl, ok2 := bin("pg_ctl")
	if !ok || !ok2 {
		return nil, errMissing
	}
	dir, err := os.MkdirTemp("", "protectmap-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, pgctl: pgctl, attr: &syscall.SysProcAttr{}}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as an unprivileged user
		// that owns the directory.
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and no postgres or nobody user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := s.run(initdb, "-D", s.data(), "-U", "protectmap", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The free port may be taken before the server binds it: try again.
	for range 3 {
		s.port = freePort()
		if err = s.listen(s.port); err == nil {
			s.dsn = fmt.Sprintf("postgres://protectmap@127.0.0.1:%d/postgres?sslmode=disable", s.port)
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 15432
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
