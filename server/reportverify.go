package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/server/store"
)

// ReportCheck is what VerifyReport found.
type ReportCheck struct {
	Manifest Manifest
	// BodyIntact is false when the body no longer hashes to the manifest's
	// body_sha256: the report was edited after it was written.
	BodyIntact bool
	// AgreementsIntact is false when the kept version's agreements do not
	// hash to the manifest's agreements digest.
	AgreementsIntact bool
	// Chain says why the audit log does not stand behind the report: it
	// does not verify, or no longer holds the manifest's audit head (events
	// cut from its end); empty when it does.
	Chain string
	// Strikes counts the strikes judged again.
	Strikes int
	// Differences lists each strike whose verdict, judged again, is not the
	// report's, in the report's order.
	Differences []string
}

// OK reports whether the report stands: intact, every verdict the same.
func (r *ReportCheck) OK() bool {
	return r.BodyIntact && r.AgreementsIntact && r.Chain == "" && len(r.Differences) == 0
}

// reportDoc is the part of a GeoJSON report VerifyReport reads.
type reportDoc struct {
	Query struct {
		Agreement string `json:"agreement"`
	} `json:"query"`
	// Features is kept as sent: its bytes are what body_sha256 covers.
	Features json.RawMessage `json:"features"`
	Manifest *Manifest       `json:"manifest"`
}

// reportFeature is one strike of a report, as far as its verdict goes.
type reportFeature struct {
	ID         string `json:"id"`
	Properties struct {
		Verdict  agreement.Outcome `json:"verdict"`
		Breached []string          `json:"agreements_breached"`
	} `json:"properties"`
}

// reportClaim is what a report says of one strike.
type reportClaim struct {
	id       string
	verdict  agreement.Outcome
	breached []string
}

// VerifyReport reads a report written by GET /report, checks its body
// against its manifest and the audit log against the manifest's head, and
// judges each of its strikes again, as the store holds it, against the
// data version the manifest names, rebuilt from st. A GeoJSON or KML
// report carries its manifest; a CSV report's manifest is header, the
// response headers it was sent with.
func VerifyReport(ctx context.Context, st store.Store, report io.Reader, header http.Header) (*ReportCheck, error) {
	raw, err := io.ReadAll(report)
	if err != nil {
		return nil, err
	}
	var r *ReportCheck
	var claims []reportClaim
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case bytes.HasPrefix(raw, []byte("SQLite format 3\x00")):
		return nil, errors.New("a GeoPackage report is not verified here: report verify checks GeoJSON, CSV and KML reports. " +
			"Its manifest (gpkg_metadata) gives the query's data_version; the same report as CSV has its body_sha256")
	case len(trimmed) > 0 && trimmed[0] == '{':
		r, claims, err = readGeoJSONReport(trimmed)
	case len(trimmed) > 0 && trimmed[0] == '<':
		r, claims, err = readKMLReport(trimmed)
	default:
		r, claims, err = readCSVReport(raw, header)
	}
	if err != nil {
		return nil, err
	}
	d, err := LoadVersion(ctx, st, r.Manifest.DataVersion)
	if err != nil {
		return nil, err
	}
	r.AgreementsIntact = digest(agreementsJSON(d)) == r.Manifest.AgreementsDigest
	if _, err := st.VerifyChain(ctx, &r.Manifest.AuditHead); err != nil {
		var ce *store.ChainError
		if !errors.As(err, &ce) {
			return nil, err
		}
		r.Chain = fmt.Sprintf("event %d: %s", ce.Seq, ce.Reason)
	}
	agreements := d.Agreements
	if a := r.Manifest.Agreement; a != "" {
		agreements = slices.DeleteFunc(slices.Clone(agreements), func(x agreement.Agreement) bool { return x.ID != a })
	}
	set, err := agreement.NewAgreementSet(d.Index, agreements)
	if err != nil {
		return nil, err
	}
	for _, f := range claims {
		r.Strikes++
		s, err := st.Get(ctx, f.id)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone) {
			r.Differences = append(r.Differences, fmt.Sprintf("strike %s: %v", f.id, err))
			continue
		} else if err != nil {
			return nil, err
		}
		q := agreement.NewVerdictQuery(s.Geo())
		q.Scope = r.Manifest.Scope
		v, err := set.Verdict(q)
		if err != nil {
			r.Differences = append(r.Differences, fmt.Sprintf("strike %s: %v", f.id, err))
			continue
		}
		l := judge(s, v, reportSites)
		if v.Outcome != f.verdict || !slices.Equal(l.breached, f.breached) {
			r.Differences = append(r.Differences, fmt.Sprintf("strike %s: the report says %s (breaching %v), judged again %s (breaching %v)",
				f.id, f.verdict, f.breached, v.Outcome, l.breached))
		}
	}
	return r, nil
}

func readGeoJSONReport(raw []byte) (*ReportCheck, []reportClaim, error) {
	var doc reportDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a GeoJSON report: %w", err)
	}
	if doc.Manifest == nil || doc.Features == nil {
		return nil, nil, errors.New("not a GeoJSON report with a manifest (GET /report writes one)")
	}
	var features []reportFeature
	if err := json.Unmarshal(doc.Features, &features); err != nil {
		return nil, nil, fmt.Errorf("the report's features: %w", err)
	}
	r := &ReportCheck{Manifest: *doc.Manifest, BodyIntact: digest(doc.Features) == doc.Manifest.BodySHA256}
	r.Manifest.Agreement = cmp.Or(r.Manifest.Agreement, doc.Query.Agreement)
	claims := make([]reportClaim, len(features))
	for i, f := range features {
		claims[i] = reportClaim{f.ID, f.Properties.Verdict, f.Properties.Breached}
	}
	return r, claims, nil
}

func readCSVReport(raw []byte, header http.Header) (*ReportCheck, []reportClaim, error) {
	m, err := manifestOf(header)
	if err != nil {
		return nil, nil, err
	}
	r := &ReportCheck{Manifest: m, BodyIntact: digest(raw) == m.BodySHA256}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("not a CSV report: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, errors.New("not a CSV report: no header row")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"id", "verdict", "agreements_breached"} {
		if _, ok := col[name]; !ok {
			return nil, nil, fmt.Errorf("not a CSV report: no column %q", name)
		}
	}
	claims := make([]reportClaim, len(rows)-1)
	for i, row := range rows[1:] {
		breached := []string{}
		if b := plainCell(row[col["agreements_breached"]]); b != "" {
			breached = strings.Split(b, ";")
		}
		claims[i] = reportClaim{plainCell(row[col["id"]]), agreement.Outcome(plainCell(row[col["verdict"]])), breached}
	}
	return r, claims, nil
}

// plainCell undoes export.NeutralCell: the apostrophe it put before a cell
// a spreadsheet would have evaluated.
func plainCell(s string) string {
	if rest, ok := strings.CutPrefix(s, "'"); ok && export.NeutralCell(rest) == s {
		return rest
	}
	return s
}

// manifestOf reads the manifest a CSV report is sent with from its
// response headers, as setHeaders writes them.
func manifestOf(h http.Header) (Manifest, error) {
	m := Manifest{DataVersion: h.Get("Protectmap-Data-Version"), AgreementsDigest: h.Get("Protectmap-Agreements-Digest"),
		ProgramVersion: h.Get("Protectmap-Version"), Agreement: h.Get("Protectmap-Agreement")}
	if s := h.Get("Protectmap-Scope"); s != "" {
		m.Scope = strings.Split(s, ",")
	}
	if m.DataVersion == "" {
		return m, errors.New("a CSV report is checked with the response headers it came with (save it with curl -i, or curl -D FILE and --headers FILE): no Protectmap-Data-Version header")
	}
	var err error
	if g := h.Get("Protectmap-Generated-At"); g != "" {
		if m.GeneratedAt, err = time.Parse(time.RFC3339Nano, g); err != nil {
			return m, fmt.Errorf("header Protectmap-Generated-At: %w", err)
		}
	}
	if a := h.Get("Protectmap-Audit-Head"); a != "" {
		if m.AuditHead, err = store.ParseChainHead(a); err != nil {
			return m, fmt.Errorf("header Protectmap-Audit-Head: %w", err)
		}
	}
	for _, d := range strings.Split(h.Get("Content-Digest"), ",") {
		if b64, ok := strings.CutPrefix(strings.TrimSpace(d), "sha-256=:"); ok && strings.HasSuffix(b64, ":") {
			sum, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, ":"))
			if err != nil {
				return m, fmt.Errorf("header Content-Digest: %w", err)
			}
			m.BodySHA256 = hex.EncodeToString(sum)
		}
	}
	if m.BodySHA256 == "" {
		return m, errors.New("a CSV report's headers need its Content-Digest (sha-256)")
	}
	return m, nil
}
