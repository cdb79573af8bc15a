package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/protectmap/protectmap/server"
)

const reportSynopsis = `verify REPORT --store DSN

Checks a GeoJSON report written by GET /report: its features still hash to
the manifest's body_sha256, and every strike in it, judged again as the
store holds it against the data version the manifest names (rebuilt from
the store), gets the same verdict and breaches the same agreements. Exits
0 when the report stands, 1 listing what differs.`

func runReport(args []string, stdout io.Writer) error {
	fs := newFlags("report", reportSynopsis, stdout)
	dsn := fs.String("store", "protectmap.db", "the strike store: a SQLite file or a postgres://user@host/db URL")
	if len(args) == 0 || args[0] != "verify" {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return usagef("the only report command is verify")
	}
	// The report may come before the flags, as in the synopsis.
	var files []string
	for rest := args[1:]; ; rest = fs.Args()[1:] {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
	}
	if len(files) != 1 {
		return usagef("name one report file")
	}
	fh, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer fh.Close()
	ctx := context.Background()
	st, err := openExisting(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := server.VerifyReport(ctx, st, fh)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	m := r.Manifest
	fmt.Fprintf(stdout, "report of %s, data version %s, written by protectmap %s: %d strikes judged again\n",
		m.GeneratedAt.Format("2006-01-02T15:04:05Z07:00"), m.DataVersion, m.ProgramVersion, r.Strikes)
	if !r.BodyIntact {
		fmt.Fprintln(stdout, "DIFFERS: the features do not hash to the manifest's body_sha256: the report was edited")
	}
	if !r.AgreementsIntact {
		fmt.Fprintln(stdout, "DIFFERS: the kept agreements do not hash to the manifest's agreements_digest")
	}
	for _, d := range r.Differences {
		fmt.Fprintln(stdout, "DIFFERS: "+d)
	}
	if !r.OK() {
		return errors.New("the report does not stand")
	}
	fmt.Fprintln(stdout, "ok: every verdict is the same")
	return nil
}

// programVersion names this build: its module version and, when built from
// a repository, the commit.
func programVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v
}
