package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/server/store"
)

// ReportCheck is what VerifyReport found.
type ReportCheck struct {
	Manifest Manifest
	// BodyIntact is false when the features no longer hash to the
	// manifest's body_sha256: the report was edited after it was written.
	BodyIntact bool
	// AgreementsIntact is false when the kept version's agreements do not
	// hash to the manifest's agreements digest.
	AgreementsIntact bool
	// Strikes counts the strikes judged again.
	Strikes int
	// Differences lists each strike whose verdict, judged again, is not the
	// report's, in the report's order.
	Differences []string
}

// OK reports whether the report stands: intact, every verdict the same.
func (r *ReportCheck) OK() bool {
	return r.BodyIntact && r.AgreementsIntact && len(r.Differences) == 0
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

// VerifyReport reads a GeoJSON report written by GET /report, checks its
// body against its manifest, and judges each of its strikes again, as the
// store holds it, against the data version the manifest names, rebuilt
// from st.
func VerifyReport(ctx context.Context, st store.Store, report io.Reader) (*ReportCheck, error) {
	var doc reportDoc
	if err := json.NewDecoder(report).Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a GeoJSON report: %w", err)
	}
	if doc.Manifest == nil || doc.Features == nil {
		return nil, errors.New("not a GeoJSON report with a manifest (GET /report writes one)")
	}
	r := &ReportCheck{Manifest: *doc.Manifest, BodyIntact: digest(doc.Features) == doc.Manifest.BodySHA256}
	d, err := LoadVersion(ctx, st, doc.Manifest.DataVersion)
	if err != nil {
		return nil, err
	}
	r.AgreementsIntact = digest(agreementsJSON(d)) == doc.Manifest.AgreementsDigest
	agreements := d.Agreements
	if a := doc.Query.Agreement; a != "" {
		agreements = slices.DeleteFunc(slices.Clone(agreements), func(x agreement.Agreement) bool { return x.ID != a })
	}
	set, err := agreement.NewAgreementSet(d.Index, agreements)
	if err != nil {
		return nil, err
	}
	var features []reportFeature
	if err := json.Unmarshal(doc.Features, &features); err != nil {
		return nil, fmt.Errorf("the report's features: %w", err)
	}
	for _, f := range features {
		r.Strikes++
		s, err := st.Get(ctx, f.ID)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone) {
			r.Differences = append(r.Differences, fmt.Sprintf("strike %s: %v", f.ID, err))
			continue
		} else if err != nil {
			return nil, err
		}
		v, err := set.Verdict(agreement.VerdictQuery{Strike: s.Geo()})
		if err != nil {
			r.Differences = append(r.Differences, fmt.Sprintf("strike %s: %v", f.ID, err))
			continue
		}
		l := judge(s, v, reportSites)
		if v.Outcome != f.Properties.Verdict || !slices.Equal(l.breached, f.Properties.Breached) {
			r.Differences = append(r.Differences, fmt.Sprintf("strike %s: the report says %s (breaching %v), judged again %s (breaching %v)",
				f.ID, f.Properties.Verdict, f.Properties.Breached, v.Outcome, l.breached))
		}
	}
	return r, nil
}
