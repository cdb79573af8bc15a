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

const auditSynopsis = `verify --store DSN [--head SEQ:HASH]

Recomputes the hash chain of the strike store's audit log (strike_events)
from its first event. Exits 0 when every event verifies; otherwise exits 1
naming the first event whose hash does not match, or that is missing: a row
edited, removed or reordered by hand. On success it prints the chain's head.
Events cut from the end leave a shorter chain that verifies on its own:
--head, a head kept from earlier (GET /audit, a report's manifest, or this
command's output), makes the chain also hold that event with that hash.`

func runAudit(args []string, stdout io.Writer) error {
	fs := newFlags("audit", auditSynopsis, stdout)
	dsn := fs.String("store", "protectmap.db", "the strike store: a SQLite file or a postgres://user@host/db URL")
	headFlag := fs.String("head", "", "a head kept from earlier, `SEQ:HASH`: the chain must still hold it")
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
	var want *store.ChainHead
	if *headFlag != "" {
		h, err := store.ParseChainHead(*headFlag)
		if err != nil {
			return usagef("--head: %q is not SEQ:HASH (64 hex digits), as GET /audit gives it", *headFlag)
		}
		want = &h
	}
	ctx := context.Background()
	st, err := openExisting(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	head, err := st.VerifyChain(ctx, want)
	var ce *store.ChainError
	if errors.As(err, &ce) {
		fmt.Fprintf(stdout, "FAIL: %d events verified; event %d: %s\n", head.Seq, ce.Seq, ce.Reason)
		return fmt.Errorf("the audit log does not verify from event %d", ce.Seq)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %d events verified; head %s\n", head.Seq, head)
	if want != nil {
		fmt.Fprintf(stdout, "the chain holds the head given, event %d\n", want.Seq)
	}
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
