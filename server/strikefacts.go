package server

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strconv"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server/store"
)

// strikeFacts are what a reader weighs a strike's verdict by: the nearest
// site however far (a miss is measured too, not left blank), where the
// event is published, how precisely its source located it, and who
// recorded it.
type strikeFacts struct {
	nearest *nearestSite
	// link is an http(s) address of the event's page; empty when the
	// strike gives none.
	link string
	// precision is the source's precision code as scheme=code, such as
	// where_prec=4; empty when the source codes none.
	precision string
	// recordedBy is the actor of the strike's first audit event.
	recordedBy string
	// links are the records of other sources found to be the same event,
	// or candidates for it; nil when there are none. event is the id of
	// the record the event is counted by (the strike's own when unlinked).
	links *strikeLinks
	event string
}

// nearestSite is the site nearest a strike, protected by an agreement at
// its instant or not.
type nearestSite struct {
	Collection     string  `json:"collection"`
	ID             string  `json:"id"`
	Name           string  `json:"name,omitempty"`
	Kind           string  `json:"kind,omitempty"`
	DistanceMeters float64 `json:"distance_m"`
}

// Properties the facts are served as; computed, so dropped when posted.
const (
	propNearestSite = "nearest_site"
	propSourceLink  = "source_link"
	propPrecision   = "precision_code"
	propRecordedBy  = "recorded_by"
	propLinkedTo    = "linked_to"
	propCandidates  = "link_candidates"
)

// factColumns name the facts in a CSV report, after the verdict's columns.
var factColumns = []string{"nearest_site_collection", "nearest_site_id", "nearest_site_name", "nearest_site_kind",
	"nearest_site_m", propSourceLink, propPrecision, propRecordedBy, propLinkedTo, propCandidates}

// precisionColumn names where a source's precision code is kept in its
// strikes' properties: the data set's object and its column.
func precisionColumn(source string) (object, column string) {
	switch source {
	case store.UCDPSource:
		return "ucdp", "where_prec"
	case store.ACLEDSource:
		return "acled", "geo_precision"
	}
	return "", ""
}

// factsOf gathers the facts of strikes: the nearest site among collections
// (every layer when none are named), each strike's recorder, read in one
// look at the audit log, and the records of other sources it is linked to.
func factsOf(ctx context.Context, st store.Store, ix *geo.Index, collections []string, strikes []store.Strike) ([]strikeFacts, error) {
	ids := make([]string, len(strikes))
	for i := range strikes {
		ids[i] = strikes[i].ID
	}
	recorders, err := st.Recorders(ctx, ids)
	if err != nil {
		return nil, err
	}
	links, err := linksAround(ctx, st, strikes)
	if err != nil {
		return nil, err
	}
	facts := make([]strikeFacts, len(strikes))
	for i := range strikes {
		s := &strikes[i]
		f := &facts[i]
		f.recordedBy = recorders[s.ID]
		f.links, f.event = links[s.ID], eventOf(links, s)
		hits, err := ix.NearestContext(ctx, s.Point, 1, collections...)
		if err != nil {
			return nil, err
		}
		if len(hits) > 0 {
			h := hits[0]
			f.nearest = &nearestSite{Collection: h.Layer.Name(), ID: h.Feature.ID, Name: h.Feature.Name, Kind: h.Feature.Kind,
				DistanceMeters: math.Round(h.Meters*1000) / 1000}
		}
		f.link, f.precision = sourceFacts(s)
	}
	return facts, nil
}

// sourceFacts reads a strike's link and precision code from the
// properties its source gave: the first of source_url and url that is a
// web address, and the data set's precision column.
func sourceFacts(s *store.Strike) (link, precision string) {
	if len(s.Extra) == 0 {
		return "", ""
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(s.Extra, &props) != nil {
		return "", ""
	}
	for _, name := range []string{"source_url", "url"} {
		var v string
		if json.Unmarshal(props[name], &v) == nil && isWebAddress(v) {
			link = v
			break
		}
	}
	if object, column := precisionColumn(s.Source); object != "" {
		var row map[string]string
		if json.Unmarshal(props[object], &row) == nil && row[column] != "" {
			precision = column + "=" + row[column]
		}
	}
	return link, precision
}

// isWebAddress reports whether s is an absolute http or https URL with a
// host: the only links a report offers to follow.
func isWebAddress(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// members are the facts as GeoJSON properties, each null when unknown.
func (f *strikeFacts) members() []geojson.Member {
	return append([]geojson.Member{
		{Key: propNearestSite, Value: f.nearest},
		{Key: propSourceLink, Value: textOrNull(f.link)},
		{Key: propPrecision, Value: textOrNull(f.precision)},
		{Key: propRecordedBy, Value: textOrNull(f.recordedBy)},
	}, linkMembers(f.links)...)
}

// cells are the facts as CSV cells, in factColumns' order.
func (f *strikeFacts) cells(rec []string) []string {
	if n := f.nearest; n != nil {
		rec = append(rec, n.Collection, n.ID, n.Name, n.Kind, strconv.FormatFloat(n.DistanceMeters, 'f', -1, 64))
	} else {
		rec = append(rec, "", "", "", "", "")
	}
	return append(rec, f.link, f.precision, f.recordedBy, refsCell(f.links.linked()), refsCell(f.links.matched()))
}

// textOrNull is s, or JSON null when s is empty.
func textOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}
