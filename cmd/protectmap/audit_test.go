package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server/store"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// TestAuditVerify records strikes, verifies the chain, then cuts its newest
// events and edits one event's record by hand with the database's own
// shell, as someone with access to the file or server could: verify then
// fails naming the first event missing against the head kept before, and
// the event edited.
func TestAuditVerify(t *testing.T) {
	for _, c := range []struct {
		name string
		dsn  func(t *testing.T) string
		edit func(t *testing.T, dsn, sql string) *exec.Cmd
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "strikes.db") },
			func(t *testing.T, dsn, sql string) *exec.Cmd {
				return exec.Command(testenv.Tool(t, "sqlite3"), dsn, sql)
			}},
		{"postgres", func(t *testing.T) string { return pgtest.DSN(t) },
			func(t *testing.T, dsn, sql string) *exec.Cmd {
				return exec.Command(testenv.Tool(t, "psql"), "-v", "ON_ERROR_STOP=1", "-q", "-d", dsn, "-c", sql)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := c.dsn(t)
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				s := store.Strike{Point: orb.Point{30.5, 50.4}, Time: time.Date(2025, 3, 20, i, 0, 0, 0, time.UTC),
					Source: "test", SourceEventID: fmt.Sprint("ev-", i), Notes: fmt.Sprint("strike ", i)}
				if _, err := st.Put(context.Background(), "analyst", []store.Strike{s}); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()

			code, out, errOut := runCLI(t, "audit", "verify", "--store", dsn)
			if code != 0 || !strings.Contains(out, "5 events verified") {
				t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
			}
			_, head, ok := strings.Cut(strings.TrimSpace(out), "; head ")
			if !ok || !strings.HasPrefix(head, "5:") {
				t.Fatalf("verify printed no head: %s", out)
			}
			if code, out, errOut := runCLI(t, "audit", "verify", "--store", dsn, "--head", head); code != 0 || !strings.Contains(out, "holds the head given") {
				t.Fatalf("verify against its own head: exit %d\n%s%s", code, out, errOut)
			}
			if code, _, errOut := runCLI(t, "audit", "verify", "--store", dsn, "--head", "5:nothex"); code != 2 || !strings.Contains(errOut, "--head") {
				t.Errorf("a malformed --head: exit %d, %s", code, errOut)
			}
			// The append-only triggers refuse the edit until dropped.
			if out, err := c.edit(t, dsn, "UPDATE strike_events SET record = replace(record, 'strike 2', 'strike 9') WHERE seq = 3").CombinedOutput(); err == nil {
				t.Fatalf("an event was edited despite the append-only triggers: %s", out)
			}
			drop := []string{"DROP TRIGGER strike_events_no_update", "DROP TRIGGER strike_events_no_delete"}
			if c.name == "postgres" {
				drop = []string{"DROP TRIGGER strike_events_append_only ON strike_events"}
			}
			// The newest two events cut: the rest verifies on its own, but
			// not against the head kept.
			for _, sql := range append(drop, "DELETE FROM strike_events WHERE seq > 3") {
				if out, err := c.edit(t, dsn, sql).CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", sql, err, out)
				}
			}
			if code, out, errOut := runCLI(t, "audit", "verify", "--store", dsn); code != 0 || !strings.Contains(out, "3 events verified") {
				t.Fatalf("verify of the cut chain alone: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = runCLI(t, "audit", "verify", "--store", dsn, "--head", head)
			if code != 1 || !strings.Contains(out, "event 4: missing") || !strings.Contains(out, "cut from its end") {
				t.Errorf("verify of the cut chain against the head kept: exit %d\n%s%s", code, out, errOut)
			}
			if out, err := c.edit(t, dsn, "UPDATE strike_events SET record = replace(record, 'strike 2', 'strike 9') WHERE seq = 3").CombinedOutput(); err != nil {
				t.Fatalf("editing event 3: %v\n%s", err, out)
			}
			code, out, errOut = runCLI(t, "audit", "verify", "--store", dsn)
			if code != 1 || !strings.Contains(out, "event 3:") || !strings.Contains(errOut, "from event 3") {
				t.Errorf("verify after the edit: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
	if code, _, errOut := runCLI(t, "audit", "verify", "--store", filepath.Join(t.TempDir(), "missing.db")); code != 1 || !strings.Contains(errOut, "--store") {
		t.Errorf("a missing store: exit %d, %s", code, errOut)
	}
}
