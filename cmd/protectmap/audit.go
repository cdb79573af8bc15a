package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/protectmap/protectmap/server/store"
)

const auditSynopsis = `verify --store DSN

Recomputes the hash chain of the strike store's audit log (strike_events)
from its first event. Exits 0 when every event verifies; otherwise exits 1
naming the first event whose hash does not match, or that is missing: a row
edited, removed or reordered by hand.`

func runAudit(args []string, stdout io.Writer) error {
	fs := newFlags("audit", auditSynopsis, stdout)
	dsn := fs.String("store", "protectmap.db", "the strike store: a SQLite file or a postgres://user@host/db URL")
	if len(args) == 0 || args[0] != "verify" {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return usagef("the only audit command is verify")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	ctx := context.Background()
	st, err := openExisting(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.VerifyChain(ctx)
	var ce *store.ChainError
	if errors.As(err, &ce) {
		fmt.Fprintf(stdout, "FAIL: %d events verified; event %d: %s\n", n, ce.Seq, ce.Reason)
		return fmt.Errorf("the audit log does not verify from event %d", ce.Seq)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %d events verified\n", n)
	return nil
}

// openExisting opens a strike store that must already exist: a SQLite file
// named by mistake is not created (and found empty).
func openExisting(ctx context.Context, dsn string) (store.Store, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
	}
	return store.Open(ctx, dsn)
}
