package agreement

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// Strike is what a verdict is about: where a strike landed, when, and how
// far from Point it may really have been.
type Strike struct {
	Point orb.Point
	Time  time.Time
	// UncertaintyMeters is the radius around Point within which the strike
	// landed; 0 when the location is exact.
	UncertaintyMeters float64
	// End, when not zero, makes the strike an event reported over the
	// window from Time up to End (excluded, as an agreement's end is): a
	// day's event ends at the next midnight. It is judged under every
	// reading in force at any instant of the window, since it may have
	// happened then; each reading's verdict says whether the reading was
	// in force for all of the window or only part of it.
	End time.Time
}

// Outcome sums up a verdict.
type Outcome string

const (
	// ProtectedSiteHit: the strike cannot have missed a site protected at
	// that instant: its whole uncertainty disc lies within the site's buffer,
	// or its uncertainty is at most HitToleranceMeters and its point within
	// the uncertainty plus the buffer.
	ProtectedSiteHit Outcome = "protected_site_hit"
	// PossibleProtectedSiteHit: the uncertainty disc overlaps a protected
	// site's buffer, but not wholly; the strike may have missed it.
	PossibleProtectedSiteHit Outcome = "possible_protected_site_hit"
	// ProtectedSiteNearby: a protected site lies within the searched radius,
	// but the strike cannot have hit it.
	ProtectedSiteNearby Outcome = "protected_site_nearby"
	// NoProtectedSite: no site within the searched radius was protected.
	NoProtectedSite Outcome = "no_protected_site"
	// NotInForce: the reading judged by was not in force at that instant
	// (outside its window, or suspended). Only readings are judged so.
	NotInForce Outcome = "not_in_force"
	// LocationTooCoarse: the uncertainty exceeds MaxJudgedUncertaintyMeters,
	// so no hit can be told from a miss; the verdict counts the protected
	// sites within reach of the disc instead.
	LocationTooCoarse Outcome = "location_too_coarse"
)

// Outcomes lists every outcome of a strike's verdict, gravest first.
func Outcomes() []Outcome {
	return []Outcome{ProtectedSiteHit, PossibleProtectedSiteHit, ProtectedSiteNearby, NoProtectedSite, LocationTooCoarse}
}

// HitToleranceMeters is the uncertainty at which a strike's point counts as
// where it landed: a guided munition's error and a geocoded street address
// are of this order, well below any protected site's size.
const HitToleranceMeters = 100

// MaxJudgedUncertaintyMeters is the coarsest location judged at all. Beyond
// it (UCDP where_prec 4 and above: an oblast or a country; ACLED
// geo_precision 3: a region) the disc holds a city's worth of sites, and
// calling any of them hit or missed would be a guess.
const MaxJudgedUncertaintyMeters = 25_000

// AgreementStatus says whether an agreement's readings agree on a verdict.
type AgreementStatus string

const (
	// Agreed: every reading of every agreement gives the same verdict.
	Agreed AgreementStatus = "agreed"
	// Disputed: some agreement's readings give different verdicts, or one
	// finds a site hit or nearby only conditionally where another does not.
	Disputed AgreementStatus = "disputed"
)

// DefaultVerdictRadiusMeters is the radius NewVerdictQuery searches at
// least: the sites within it are nearby.
const DefaultVerdictRadiusMeters = 1000

// NewVerdictQuery asks for s's verdict as the strike log records it: over
// every layer, listing every site within DefaultVerdictRadiusMeters (or
// the reach of its uncertainty and buffers, when larger).
func NewVerdictQuery(s Strike) VerdictQuery {
	return VerdictQuery{Strike: s, RadiusMeters: DefaultVerdictRadiusMeters}
}

// VerdictQuery asks whether a strike hit a protected site.
type VerdictQuery struct {
	Strike
	// Scope names collections that a hypothetical agreement covers: every
	// site of them, at all times, with no buffer. It is evaluated alongside
	// the real agreements and listed as ScopeAgreementID, answering "would
	// this strike have breached a deal that also covered these?".
	Scope []string
	// RadiusMeters is the least radius searched; 0 searches no further
	// than the reach. The search always reaches the uncertainty plus the
	// largest buffer in force, so no hit can lie beyond it.
	RadiusMeters float64
	// Layers restricts the search to these layers (all when empty); the
	// verdict then speaks for their sites alone.
	Layers []string
	// Limit caps the sites listed, nearest first; 0 lists all. The outcome
	// always counts every site within the radius.
	Limit int
}

// Verdict is the answer to a VerdictQuery. Everything in it follows from
// the query, the layers and the agreements, in a fixed order, so anyone with
// the same data gets the same verdict.
type Verdict struct {
	// Outcome counts every agreement considered, the scope's included.
	Outcome Outcome `json:"verdict"`
	// WithoutScope counts the real agreements alone; set only with a scope,
	// so adding hypothetical coverage never hides what the real deals say.
	WithoutScope Outcome `json:"verdict_without_scope,omitempty"`
	// Time, End and UncertaintyMeters are the strike's.
	Time              time.Time  `json:"datetime"`
	End               *time.Time `json:"end,omitempty"`
	UncertaintyMeters float64    `json:"uncertainty_m"`
	// RadiusMeters is the radius actually searched.
	RadiusMeters float64 `json:"radius_m"`
	// Scope is the query's scope, sorted, without repeats.
	Scope []string `json:"scope,omitempty"`
	// InForce are the ids of the real agreements in force at Time.
	InForce []string `json:"agreements_in_force"`
	// Readings give the verdict under each reading of each agreement, in
	// force or not: agreements by start then id, readings as written.
	Readings []ReadingVerdict `json:"readings"`
	// AgreementStatus is Disputed when any agreement's readings differ,
	// each such agreement listed in Disputes with how they differ.
	AgreementStatus AgreementStatus `json:"agreement_status"`
	Disputes        []Dispute       `json:"disputes,omitempty"`
	// ProtectedSitesInDisc counts the sites that some reading in force (or
	// the scope) protects and whose buffer the uncertainty disc reaches; set
	// only when the outcome is LocationTooCoarse.
	ProtectedSitesInDisc *int `json:"protected_sites_in_disc,omitempty"`
	// SitesWithinRadius counts every site found; Sites may list fewer.
	SitesWithinRadius int           `json:"sites_within_radius"`
	Sites             []SiteVerdict `json:"sites"`
}

// ReadingVerdict is the verdict under one reading of one agreement.
type ReadingVerdict struct {
	Agreement string `json:"agreement"`
	Reading   string `json:"reading"`
	Party     string `json:"party"`
	// Verdict is NotInForce outside the reading's window or when it is
	// suspended, else the outcome over the sites it covers.
	Verdict Outcome `json:"verdict"`
	// Status is the reading's state at the instant: its declared status
	// within its window, OutsideWindow outside it.
	Status ReadingStatus `json:"status"`
	// Why names the clause that decided: the window, the site or zone hit
	// or nearest and its class, the class that left a site out, the condition.
	Why string `json:"why"`
	// Window, for an event reported over a window, says whether the reading
	// was in force (suspended or not) for all of it, part of it, or none.
	Window WindowCover `json:"window,omitempty"`
}

// WindowCover is how much of an event's window a reading was in force for.
type WindowCover string

// A reading's cover of an event's window.
const (
	WholeWindow WindowCover = "all"
	PartWindow  WindowCover = "part"
	NoWindow    WindowCover = "none"
)

// Dispute is an agreement whose readings differ at the instant.
type Dispute struct {
	Agreement string `json:"agreement"`
	// How lists each reading's verdict, as "ru: protected_site_hit; ua: not_in_force".
	How string `json:"how"`
}

// SiteVerdict is one site within the radius, nearest first (ties by
// collection, then id), and what protected it at that instant.
type SiteVerdict struct {
	// Hit is the site as proximity found it, for GeoJSON output (see Members).
	Hit        geo.Hit `json:"-"`
	Collection string  `json:"collection"`
	ID         string  `json:"id"`
	Name       string  `json:"name,omitempty"`
	// DistanceMeters is the exact geodesic distance, rounded to the millimetre.
	DistanceMeters float64 `json:"distance_m"`
	// ProtectedBy lists the agreements protecting the site at that instant:
	// the real ones by start then id, the scope's last. Empty, not null,
	// when there are none.
	ProtectedBy []Protection `json:"protected_by"`
}

// Protection is one agreement protecting one site at the strike's instant.
type Protection struct {
	Agreement string `json:"agreement"`
	// Reading and Party name the reading under which the site is protected.
	Reading string `json:"reading"`
	Party   string `json:"party,omitempty"`
	// Hypothetical marks the agreement a scope describes.
	Hypothetical bool    `json:"hypothetical,omitempty"`
	BufferMeters float64 `json:"buffer_m"`
	// ReachMeters is the strike's uncertainty plus the buffer: the
	// uncertainty disc reaches a site at most this far from its point.
	ReachMeters float64 `json:"reach_m"`
	// Hit: the strike cannot have missed the site (see ProtectedSiteHit).
	Hit bool `json:"hit"`
	// PossibleHit: the disc reaches the site's buffer, but not wholly.
	PossibleHit bool `json:"possible_hit,omitempty"`
}

// Verdict decides whether q's strike hit a protected site, under each
// reading of each agreement and overall.
//
// The readings considered are those in force at the strike's time (see
// Terms.InForce) and not suspended, plus the scope's hypothetical one. The
// radius searched is the larger of q.RadiusMeters and the uncertainty
// plus the largest buffer among them. Each site within it is listed with the readings covering it;
// one of them is hit when the site's exact distance is at most the
// uncertainty plus that reading's buffer and the strike cannot have missed
// it (see ProtectedSiteHit), possibly hit when it can have. A reading's
// verdict is ProtectedSiteHit when a site it covers is hit, else
// PossibleProtectedSiteHit when one is possibly hit, else
// ProtectedSiteNearby when it covers a site within the radius, else
// NoProtectedSite; NotInForce when it was not considered. The outcome is the
// gravest verdict of any reading considered, conditional ones included.
// Beyond MaxJudgedUncertaintyMeters every verdict but NotInForce is
// LocationTooCoarse, and no site is hit.
//
// A negative or non-finite uncertainty, an unknown layer or scope collection,
// or a reach beyond MaxRadiusMeters is an error wrapping ErrBadQuery or
// ErrUnknownLayer.
func (s *AgreementSet) Verdict(q VerdictQuery) (*Verdict, error) {
	return s.VerdictContext(context.Background(), q)
}

// VerdictContext is Verdict that gives up with ctx's error once ctx is
// done: its search is bounded by a radius, not a count, so a wide reach
// over dense data is long work that a departed client should not keep.
func (s *AgreementSet) VerdictContext(ctx context.Context, q VerdictQuery) (*Verdict, error) {
	u := q.UncertaintyMeters
	if !(u >= 0 && u <= geo.MaxRadiusMeters) {
		return nil, &geo.QueryError{Param: "uncertainty", Reason: fmt.Sprintf("uncertainty %v m outside [0, %d]", u, geo.MaxRadiusMeters)}
	}
	if !(q.RadiusMeters >= 0) {
		return nil, &geo.QueryError{Param: "radius", Reason: fmt.Sprintf("radius %v m must be at least 0", q.RadiusMeters)}
	}
	if q.Limit < 0 {
		return nil, &geo.QueryError{Param: "limit", Reason: fmt.Sprintf("limit %d is negative", q.Limit)}
	}
	scope, err := s.scope(q.Scope)
	if err != nil {
		return nil, err
	}
	radius := q.RadiusMeters
	judged := make([]readingJudgement, len(s.readings))
	var active []int
	maxBuffer := 0.0
	for i := range s.readings {
		r := &s.readings[i]
		if r.Status != Suspended && r.windowCover(q.Strike) != NoWindow {
			active = append(active, i)
			judged[i] = readingJudgement{outcome: NoProtectedSite, decisive: -1}
			maxBuffer = max(maxBuffer, r.BufferMeters)
		} else {
			judged[i].outcome = NotInForce
		}
	}
	if reach := u + maxBuffer; reach > geo.MaxRadiusMeters {
		return nil, &geo.QueryError{Param: "uncertainty", Reason: fmt.Sprintf("uncertainty %v m plus buffer reach %v m, beyond %d", u, reach, geo.MaxRadiusMeters)}
	} else if reach > radius {
		radius = reach
	}
	// Every site within the radius counts towards the outcome, so the search
	// is not limited; a radius bounds it.
	hits, err := s.ix.NearbyContext(ctx, q.Point, radius, max(1, s.ix.Len()), q.Layers...)
	if err != nil {
		return nil, err
	}
	v := &Verdict{
		Outcome: NoProtectedSite, Time: q.Time, UncertaintyMeters: u, RadiusMeters: radius,
		InForce: []string{}, SitesWithinRadius: len(hits),
	}
	if !q.End.IsZero() {
		v.End = &q.End
	}
	withoutScope := NoProtectedSite
	inDisc := 0
	for hi, h := range hits {
		site := SiteVerdict{
			Hit: h, Collection: h.Layer.Name(), ID: h.Feature.ID, Name: h.Feature.Name,
			DistanceMeters: geojson.RoundTo(h.Meters, 3), ProtectedBy: []Protection{},
		}
		pos := s.layer[h.Layer]
		for _, i := range active {
			r := &s.readings[i]
			if r.cover[pos].has(h.Index) {
				p := protection(s.list[r.agreement].ID, r.BufferMeters, u, h.Meters)
				p.Reading, p.Party = r.ID, r.Party
				site.ProtectedBy = append(site.ProtectedBy, p)
				judged[i].see(p.outcome(), hi)
				withoutScope = worse(withoutScope, p.outcome())
			}
		}
		if _, ok := slices.BinarySearch(scope, h.Layer.Name()); ok {
			p := protection(ScopeAgreementID, 0, u, h.Meters)
			p.Reading, p.Hypothetical = ScopeAgreementID, true
			site.ProtectedBy = append(site.ProtectedBy, p)
			v.Outcome = worse(v.Outcome, p.outcome())
		}
		if slices.ContainsFunc(site.ProtectedBy, func(p Protection) bool { return p.PossibleHit }) {
			inDisc++
		}
		v.Outcome = worse(v.Outcome, withoutScope)
		if q.Limit == 0 || len(v.Sites) < q.Limit {
			v.Sites = append(v.Sites, site)
		}
	}
	if len(scope) > 0 {
		v.Scope, v.WithoutScope = scope, withoutScope
	}
	if v.Sites == nil {
		v.Sites = []SiteVerdict{}
	}
	if u > MaxJudgedUncertaintyMeters {
		v.ProtectedSitesInDisc = &inDisc
		v.Outcome = LocationTooCoarse
		if v.WithoutScope != "" {
			v.WithoutScope = LocationTooCoarse
		}
		for i := range judged {
			if judged[i].outcome != NotInForce {
				judged[i].outcome = LocationTooCoarse
			}
		}
	}
	s.judgeReadings(v, q.Strike, hits, judged)
	return v, nil
}

// readingJudgement is what a verdict saw under one reading: its outcome so
// far and the hit that decided it (-1 for none).
type readingJudgement struct {
	outcome  Outcome
	decisive int
}

// see records that the reading covers hit hi with outcome o; hits come
// nearest first, so the first of the gravest outcome decides.
func (j *readingJudgement) see(o Outcome, hi int) {
	if w := worse(j.outcome, o); w != j.outcome || j.decisive < 0 {
		j.outcome, j.decisive = w, hi
	}
}

// judgeReadings fills v's readings, agreements in force and agreement status
// from what each reading saw among hits.
func (s *AgreementSet) judgeReadings(v *Verdict, st Strike, hits []geo.Hit, judged []readingJudgement) {
	v.Readings = make([]ReadingVerdict, len(s.readings))
	v.AgreementStatus = Agreed
	first := 0 // the first reading of the agreement at hand
	for i := range s.readings {
		r := &s.readings[i]
		a := &s.list[r.agreement]
		j := judged[i]
		status := r.Status
		cover := r.windowCover(st)
		if cover == NoWindow {
			status = OutsideWindow
		}
		v.Readings[i] = ReadingVerdict{Agreement: a.ID, Reading: r.ID, Party: r.Party,
			Verdict: j.outcome, Status: status, Why: s.why(r, st, status, cover, j, hits, v)}
		if !st.End.IsZero() {
			v.Readings[i].Window = cover
		}
		if j.outcome != NotInForce && (len(v.InForce) == 0 || v.InForce[len(v.InForce)-1] != a.ID) {
			v.InForce = append(v.InForce, a.ID)
		}
		if i == len(s.readings)-1 || s.readings[i+1].agreement != r.agreement {
			if d, ok := dispute(v.Readings[first : i+1]); ok {
				v.AgreementStatus = Disputed
				v.Disputes = append(v.Disputes, d)
			}
			first = i + 1
		}
	}
}

// dispute reports how the verdicts of one agreement's readings differ, if
// they do: in outcome, or in a site hit or nearby under one only
// conditionally and under another outright.
func dispute(group []ReadingVerdict) (Dispute, bool) {
	differ := false
	for _, rv := range group[1:] {
		conditionally := (rv.Status == Conditional) != (group[0].Status == Conditional)
		if rv.Verdict != group[0].Verdict || conditionally && rv.Verdict != NoProtectedSite {
			differ = true
		}
	}
	if !differ {
		return Dispute{}, false
	}
	var how strings.Builder
	for k, rv := range group {
		if k > 0 {
			how.WriteString("; ")
		}
		how.WriteString(rv.Reading + ": " + string(rv.Verdict))
		if rv.Status == Conditional {
			how.WriteString(" (conditional)")
		}
	}
	return Dispute{Agreement: group[0].Agreement, How: how.String()}, true
}

// why says which clause decided a reading's verdict in v.
func (s *AgreementSet) why(r *setReading, st Strike, status ReadingStatus, cover WindowCover, j readingJudgement, hits []geo.Hit, v *Verdict) string {
	switch {
	case status == OutsideWindow && st.Time.Before(r.Start):
		return r.notYet
	case status == OutsideWindow:
		return r.ended
	}
	b := make([]byte, 0, 128)
	if cover == PartWindow {
		b = append(b, "in force for part of the event's window only; "...)
	}
	switch {
	case status == Suspended:
		b = append(b, "suspended"...)
	case j.decisive >= 0:
		h := &hits[j.decisive]
		switch j.outcome {
		case ProtectedSiteHit:
			b = append(b, "hit "...)
		case PossibleProtectedSiteHit:
			b = append(b, "possibly hit "...)
		case LocationTooCoarse:
			b = appendMeters(append(b, "location too coarse to judge: uncertainty "...), v.UncertaintyMeters)
			b = appendMeters(append(b, " m beyond "...), MaxJudgedUncertaintyMeters)
			b = append(b, " m; nearest covered site "...)
		default:
			b = append(b, "nearest covered site "...)
		}
		b = s.appendSite(b, h)
		switch {
		case h.Layer.Name() == geojson.ZonesLayer && h.Meters == 0:
			b = append(b, ": the strike lies inside it"...)
		case j.outcome == ProtectedSiteHit || j.outcome == PossibleProtectedSiteHit:
			b = appendMeters(append(appendMeters(append(b, " at "...), h.Meters), " m, within its reach of "...), v.UncertaintyMeters+r.BufferMeters)
			b = append(b, " m"...)
		default:
			b = appendMeters(append(appendMeters(append(b, " at "...), h.Meters), " m, beyond its reach of "...), v.UncertaintyMeters+r.BufferMeters)
			b = append(b, " m"...)
		}
	default:
		b = append(appendMeters(append(b, "no site it covers within "...), v.RadiusMeters), " m"...)
	}
	if status != Suspended && len(r.EnergyClasses) > 0 && j.outcome != ProtectedSiteHit {
		// A site its classes leave out is what an analyst asks about first.
		if pos, ok := s.layerPos(EnergyLayer); ok {
			for hi := range hits {
				h := &hits[hi]
				if s.layer[h.Layer] == pos && !r.cover[pos].has(h.Index) {
					b = appendMeters(append(s.appendSite(append(b, "; "...), h), " at "...), h.Meters)
					b = append(b, " m is outside its classes"...)
					break
				}
			}
		}
	}
	if (status == Conditional || status == Suspended) && r.Conditions != "" {
		b = append(append(append(append(b, "; "...), status...), ": "...), r.Conditions...)
	}
	return string(b)
}

// appendSite names a site as collection/id, with its energy class.
func (s *AgreementSet) appendSite(b []byte, h *geo.Hit) []byte {
	b = append(append(append(b, h.Layer.Name()...), '/'), h.Feature.ID...)
	if c := s.classOf(h.Layer, h.Index); c != "" {
		b = append(append(append(b, " ("...), c...), ')')
	}
	return b
}

// appendMeters writes a distance to the metre.
func appendMeters(b []byte, m float64) []byte {
	return strconv.AppendFloat(b, math.Round(m), 'f', 0, 64)
}

// protection judges a site meters from the strike's point under a buffer:
// hit when the whole uncertainty disc lies within the buffer (or the
// uncertainty is within HitToleranceMeters and the disc reaches it), possibly
// hit when the disc only reaches it. Beyond MaxJudgedUncertaintyMeters
// nothing is hit.
func protection(id string, bufferMeters, uncertaintyMeters, meters float64) Protection {
	reach := uncertaintyMeters + bufferMeters
	reached := meters <= reach
	hit := reached && uncertaintyMeters <= MaxJudgedUncertaintyMeters &&
		(uncertaintyMeters <= HitToleranceMeters || meters+uncertaintyMeters <= bufferMeters)
	return Protection{Agreement: id, BufferMeters: bufferMeters, ReachMeters: reach, Hit: hit, PossibleHit: reached && !hit}
}

func (p *Protection) outcome() Outcome {
	switch {
	case p.Hit:
		return ProtectedSiteHit
	case p.PossibleHit:
		return PossibleProtectedSiteHit
	}
	return ProtectedSiteNearby
}

// scope checks and normalises a scope's collections: sorted, without repeats.
func (s *AgreementSet) scope(names []string) ([]string, error) {
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, n := range out {
		if _, ok := s.ix.Layer(n); !ok {
			return nil, fmt.Errorf("scope: %w", s.unknownLayer(n))
		}
	}
	return out, nil
}

// worse returns the graver of two of a reading's outcomes: a hit outranks
// a possible hit, which outranks a nearby protected site, which outranks none.
func worse(a, b Outcome) Outcome {
	if gravity(b) > gravity(a) {
		return b
	}
	return a
}

func gravity(o Outcome) int {
	switch o {
	case ProtectedSiteHit:
		return 3
	case PossibleProtectedSiteHit:
		return 2
	case ProtectedSiteNearby:
		return 1
	}
	return 0
}
