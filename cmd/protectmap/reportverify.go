package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"runtime/debug"
	"strings"

	"github.com/protectmap/protectmap/server"
)

const reportSynopsis = `verify REPORT [--headers FILE] --store DSN

Checks a report written by GET /report: its body still hashes to the
manifest's body_sha256, the audit log verifies and still holds the
manifest's audit head, and every strike in it, judged again as the store
holds it against the data version the manifest names (rebuilt from the
store), gets the same verdict and breaches the same agreements. Exits 0
when the report stands, 1 listing what differs.

A GeoJSON or KML report carries its manifest. A CSV report's manifest is the
response headers it was sent with: save the report with curl -i (headers
first), or with curl -D FILE and name that file with --headers.`

func runReport(args []string, stdout io.Writer) error {
	fs := newFlags("report", reportSynopsis, stdout)
	dsn := fs.String("store", "protectmap.db", "the strike store: a SQLite file or a postgres://user@host/db URL")
	headersFile := fs.String("headers", "", "the response headers of a CSV report, as curl -D `FILE` saves them")
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
	body := bufio.NewReader(fh)
	header, err := responseHeader(body)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	if *headersFile != "" {
		if header != nil {
			return usagef("%s has its headers already; --headers is for a report saved without them", files[0])
		}
		raw, err := os.ReadFile(*headersFile)
		if err != nil {
			return err
		}
		if header, err = responseHeader(bufio.NewReader(bytes.NewReader(raw))); err != nil || header == nil {
			return fmt.Errorf("--headers %s: not HTTP response headers as curl -D saves them (%v)", *headersFile, err)
		}
	}
	ctx := context.Background()
	st, err := openExisting(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := server.VerifyReport(ctx, st, body, header)
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
	if r.Chain != "" {
		fmt.Fprintf(stdout, "DIFFERS: the audit log does not stand behind the report's head %s: %s\n", m.AuditHead, r.Chain)
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

// responseHeader reads the HTTP response headers r starts with, as curl -i
// and curl -D write them (a 100 Continue first included), leaving r at the
// body; nil when r does not start with a status line.
func responseHeader(r *bufio.Reader) (http.Header, error) {
	var header http.Header
	tp := textproto.NewReader(r)
	for {
		if start, err := r.Peek(5); err != nil || string(start) != "HTTP/" {
			return header, nil
		}
		line, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		if _, status, ok := strings.Cut(line, " "); !ok || len(status) < 3 {
			return nil, fmt.Errorf("status line %q: no status", line)
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			return nil, fmt.Errorf("headers after %q: %w", line, err)
		}
		header = http.Header(h)
	}
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
