package geo

import (
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// Strike is what a verdict is about: where a strike landed, when, and how
// far from Point it may really have been.
type Strike struct {
	Point orb.Point
	Time  time.Time
	// UncertaintyMeters is the radius around Point within which the strike
	// landed; 0 when the location is exact.
	UncertaintyMeters float64
}

// Outcome sums up a verdict.
type Outcome string

const (
	// ProtectedSiteHit: some site protected at that instant lies within the
	// strike's uncertainty plus the buffer of an agreement protecting it.
	ProtectedSiteHit Outcome = "protected_site_hit"
	// ProtectedSiteNearby: a protected site lies within the searched radius,
	// but none is hit.
	ProtectedSiteNearby Outcome = "protected_site_nearby"
	// NoProtectedSite: no site within the searched radius was protected.
	NoProtectedSite Outcome = "no_protected_site"
)

// DefaultVerdictRadiusMeters is the radius a verdict searches at least
// when the query names none.
const DefaultVerdictRadiusMeters = 1000

// VerdictQuery asks whether a strike hit a protected site.
type VerdictQuery struct {
	Strike
	// Scope names collections that a hypothetical agreement covers: every
	// site of them, at all times, with no buffer. It is evaluated alongside
	// the real agreements and listed as ScopeAgreementID, answering "would
	// this strike have breached a deal that also covered these?".
	Scope []string
	// RadiusMeters is the least radius searched; 0 means
	// DefaultVerdictRadiusMeters. The search always reaches the uncertainty
	// plus the largest buffer in force, so no hit can lie beyond it.
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
	// Time and UncertaintyMeters are the strike's.
	Time              time.Time `json:"datetime"`
	UncertaintyMeters float64   `json:"uncertainty_m"`
	// RadiusMeters is the radius actually searched.
	RadiusMeters float64 `json:"radius_m"`
	// Scope is the query's scope, sorted, without repeats.
	Scope []string `json:"scope,omitempty"`
	// InForce are the ids of the real agreements in force at Time.
	InForce []string `json:"agreements_in_force"`
	// SitesWithinRadius counts every site found; Sites may list fewer.
	SitesWithinRadius int           `json:"sites_within_radius"`
	Sites             []SiteVerdict `json:"sites"`
}

// SiteVerdict is one site within the radius, nearest first (ties by
// collection, then id), and what protected it at that instant.
type SiteVerdict struct {
	// Hit is the site as proximity found it, for GeoJSON output (see Members).
	Hit        Hit    `json:"-"`
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
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
	// Hypothetical marks the agreement a scope describes.
	Hypothetical bool    `json:"hypothetical,omitempty"`
	BufferMeters float64 `json:"buffer_m"`
	// ReachMeters is the strike's uncertainty plus the buffer: a site at
	// most this far from the strike's point is hit.
	ReachMeters float64 `json:"reach_m"`
	Hit         bool    `json:"hit"`
}

// Verdict decides whether q's strike hit a protected site.
//
// The agreements considered are those in force at the strike's time (see
// Agreement.InForce), plus the scope's hypothetical one. The radius searched
// is the larger of q.RadiusMeters (default DefaultVerdictRadiusMeters) and
// the uncertainty plus the largest buffer among them. Each site within it is
// listed with the agreements covering it; one of them is hit when the site's
// exact distance is at most the uncertainty plus that agreement's buffer.
// The outcome is ProtectedSiteHit when any is hit, else ProtectedSiteNearby
// when any site is protected, else NoProtectedSite.
//
// A negative or non-finite uncertainty, an unknown layer or scope collection,
// or a reach beyond MaxRadiusMeters is an error wrapping ErrBadQuery or
// ErrUnknownLayer.
func (s *AgreementSet) Verdict(q VerdictQuery) (*Verdict, error) {
	u := q.UncertaintyMeters
	if !(u >= 0 && u <= MaxRadiusMeters) {
		return nil, fmt.Errorf("%w: uncertainty %v m outside [0, %d]", ErrBadQuery, u, MaxRadiusMeters)
	}
	if q.Time.IsZero() {
		return nil, fmt.Errorf("%w: the strike has no time", ErrBadQuery)
	}
	if !(q.RadiusMeters >= 0) {
		return nil, fmt.Errorf("%w: radius %v m must be at least 0", ErrBadQuery, q.RadiusMeters)
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("%w: limit %d is negative", ErrBadQuery, q.Limit)
	}
	scope, err := s.scope(q.Scope)
	if err != nil {
		return nil, err
	}
	var inForce []int
	for i := range s.list {
		if s.list[i].InForce(q.Time) {
			inForce = append(inForce, i)
		}
	}
	radius := q.RadiusMeters
	if radius == 0 {
		radius = DefaultVerdictRadiusMeters
	}
	if reach := u + s.maxBuffer(inForce); reach > MaxRadiusMeters {
		return nil, fmt.Errorf("%w: uncertainty %v m plus buffer reach %v m, beyond %d", ErrBadQuery, u, reach, MaxRadiusMeters)
	} else if reach > radius {
		radius = reach
	}
	// Every site within the radius counts towards the outcome, so the search
	// is not limited; a radius bounds it.
	hits, err := s.ix.Nearby(q.Point, radius, max(1, s.ix.Len()), q.Layers...)
	if err != nil {
		return nil, err
	}
	v := &Verdict{
		Outcome: NoProtectedSite, Time: q.Time, UncertaintyMeters: u, RadiusMeters: radius,
		InForce: make([]string, len(inForce)), SitesWithinRadius: len(hits),
	}
	for k, i := range inForce {
		v.InForce[k] = s.list[i].ID
	}
	withoutScope := NoProtectedSite
	for _, h := range hits {
		site := SiteVerdict{
			Hit: h, Collection: h.Layer.name, ID: h.Feature.ID, Name: h.Feature.Name,
			DistanceMeters: roundTo(h.Meters, 3), ProtectedBy: []Protection{},
		}
		pos := s.layer[h.Layer]
		for _, i := range inForce {
			if s.cover[i][pos].has(h.Index) {
				p := protection(s.list[i].ID, s.list[i].BufferMeters, u, h.Meters)
				site.ProtectedBy = append(site.ProtectedBy, p)
				withoutScope = worse(withoutScope, p.outcome())
			}
		}
		if _, ok := slices.BinarySearch(scope, h.Layer.name); ok {
			p := protection(ScopeAgreementID, 0, u, h.Meters)
			p.Hypothetical = true
			site.ProtectedBy = append(site.ProtectedBy, p)
			v.Outcome = worse(v.Outcome, p.outcome())
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
	return v, nil
}

func protection(id string, bufferMeters, uncertaintyMeters, meters float64) Protection {
	reach := uncertaintyMeters + bufferMeters
	return Protection{Agreement: id, BufferMeters: bufferMeters, ReachMeters: reach, Hit: meters <= reach}
}

func (p *Protection) outcome() Outcome {
	if p.Hit {
		return ProtectedSiteHit
	}
	return ProtectedSiteNearby
}

// scope checks and normalises a scope's collections: sorted, without repeats.
func (s *AgreementSet) scope(names []string) ([]string, error) {
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, n := range out {
		if _, ok := s.ix.byName[n]; !ok {
			return nil, fmt.Errorf("scope: %w", s.unknownLayer(n))
		}
	}
	return out, nil
}

// worse returns the graver of two outcomes: a hit outranks a nearby
// protected site, which outranks none.
func worse(a, b Outcome) Outcome {
	if a == ProtectedSiteHit || b == NoProtectedSite {
		return a
	}
	if b == ProtectedSiteHit || a == NoProtectedSite {
		return b
	}
	return a
}
