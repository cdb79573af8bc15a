package agreement

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// Reading is one party's account of an agreement: the parties to a ceasefire
// announce it separately and disagree on when it began, what it covers and
// what it depends on, so each reading has its own window, scope, buffer and
// status, and a verdict is given under each.
type Reading struct {
	// ID names the reading within its agreement, such as "ru" or "ua".
	ID string `json:"id"`
	// Party is who holds this reading: "ru", "ua", "us", a monitor's name.
	Party string `json:"party"`
	Terms
	// Status is the reading's own state within its window (see ReadingStatus).
	Status ReadingStatus `json:"status"`
	// Conditions say, in words, what the reading makes the agreement depend on.
	Conditions string `json:"conditions,omitempty"`
	// Sources are the statements the reading is drawn from.
	Sources []Source `json:"sources"`
	// Notes give the judgement calls made in reading the sources.
	Notes string `json:"notes,omitempty"`
}

// Terms are a reading's window and scope. A site is covered when it is named
// in Sites or Zones, or belongs to one of Collections, passes every filter
// and, in the energy collection with EnergyClasses given, has one of them.
type Terms struct {
	// Start is the first instant in force.
	Start time.Time `json:"start"`
	// End is the first instant no longer in force; nil when open-ended.
	End *time.Time `json:"end"`
	// Collections are layers whose sites are covered.
	Collections []string `json:"collections,omitempty"`
	// Filters narrow Collections; they never apply to Sites or Zones.
	Filters []Filter `json:"filters,omitempty"`
	// EnergyClasses narrow the energy collection to sites of these classes
	// (see EnergyClasses and EnergyClass); other collections are not narrowed.
	EnergyClasses []string `json:"energy_classes,omitempty"`
	// Sites are covered by name, whatever their collection and properties.
	Sites []SiteRef `json:"sites,omitempty"`
	// Zones name features of the geojson.ZonesLayer: sea areas, exclusion zones,
	// corridors. A strike inside one is at distance 0 from it.
	Zones []string `json:"zones,omitempty"`
	// BufferMeters is the protection distance around each covered site's
	// real geometry: a strike that close counts as hitting it.
	BufferMeters float64 `json:"buffer_m"`
}

// InForce reports whether t lies in the window [Start, End): in force at
// Start, no longer at End, so terms that replace others at one instant never
// overlap them.
func (t *Terms) InForce(at time.Time) bool {
	return !at.Before(t.Start) && (t.End == nil || at.Before(*t.End))
}

// windowCover is how much of the strike's window the terms are in force for: a
// strike at an instant is wholly covered or not at all.
func (t *Terms) windowCover(st Strike) WindowCover {
	if st.End.IsZero() {
		if t.InForce(st.Time) {
			return WholeWindow
		}
		return NoWindow
	}
	switch {
	case !st.End.After(t.Start) || t.End != nil && !st.Time.Before(*t.End):
		return NoWindow
	case !st.Time.Before(t.Start) && (t.End == nil || !st.End.After(*t.End)):
		return WholeWindow
	}
	return PartWindow
}

// Source cites a public statement.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
	// Date is the statement's date, YYYY-MM-DD.
	Date string `json:"date,omitempty"`
}

// ReadingStatus is the state a reading gives the agreement within its window.
type ReadingStatus string

const (
	// InForce: binding throughout the window.
	InForce ReadingStatus = "in_force"
	// Conditional: binding only once its Conditions hold; verdicts are given
	// and marked conditional.
	Conditional ReadingStatus = "conditional"
	// Suspended: announced but not binding; every verdict is NotInForce.
	Suspended ReadingStatus = "suspended"
	// OutsideWindow is the state reported for an instant outside the
	// reading's window; a reading file never declares it.
	OutsideWindow ReadingStatus = "not_in_force"
)

// ImplicitReadingID and ImplicitParty name the one reading of an agreement
// written without readings: its own terms, held by every party.
const (
	ImplicitReadingID = "terms"
	ImplicitParty     = "all"
)

// EnergyLayer is the collection that EnergyClasses narrow.
const EnergyLayer = "energy"

// EnergyClasses returns the energy class vocabulary, which follows the
// facilities the parties to the March 2025 moratorium listed.
func EnergyClasses() []string {
	return []string{
		"power_plant",       // thermal, solar, wind and other generation (the fuel in "fuel")
		"nuclear_plant",     // nuclear power plants
		"hydro_dam",         // hydroelectric plants and their dams
		"substation",        // switching and transforming substations
		"transformer",       // transformers outside a substation
		"transmission_line", // high-voltage lines and cables
		"distribution",      // distribution lines and points
		"oil_refinery",      // oil refineries
		"oil_gas_pipeline",  // oil and gas pipelines
		"oil_gas_storage",   // oil and gas storage, tank farms, gas storage
		"pumping_station",   // oil pumping and gas compressor stations
	}
}

// EnergyClass is the energy class of a site with the given kind and
// properties: its energy_class property when it has one, else derived from
// kind and fuel as the embedded and imported layers write them (plant or
// generator by fuel, substation, line, minor_line, refinery, pipeline, ...).
// It is "" for a site of no class.
func EnergyClass(kind string, properties json.RawMessage) string {
	var p struct {
		Class *string `json:"energy_class"`
		Fuel  string  `json:"fuel"`
		Plant string  `json:"plant:source"`
		Gen   string  `json:"generator:source"`
	}
	if len(properties) > 0 && json.Unmarshal(properties, &p) != nil {
		// A property of an unexpected type: classify by kind alone.
		p.Fuel, p.Plant, p.Gen = "", "", ""
	}
	if p.Class != nil {
		return *p.Class
	}
	switch kind {
	case "plant", "generator", "power_plant":
		fuel := strings.ToLower(p.Fuel + ";" + p.Plant + ";" + p.Gen)
		switch {
		case strings.Contains(fuel, "nuclear"):
			return "nuclear_plant"
		case strings.Contains(fuel, "hydro"), strings.Contains(fuel, "water"):
			return "hydro_dam"
		}
		return "power_plant"
	case "substation":
		return "substation"
	case "transformer":
		return "transformer"
	case "line", "cable":
		return "transmission_line"
	case "minor_line", "distribution":
		return "distribution"
	case "refinery":
		return "oil_refinery"
	case "pipeline":
		return "oil_gas_pipeline"
	case "storage", "tank", "gas_storage", "oil_storage":
		return "oil_gas_storage"
	case "pumping_station", "compressor_station":
		return "pumping_station"
	case "dam":
		return "hydro_dam"
	}
	return ""
}

// readingJSON is a Reading as written, times still text.
type readingJSON struct {
	ID            string        `json:"id"`
	Party         string        `json:"party"`
	Start         string        `json:"start"`
	End           *string       `json:"end"`
	Status        ReadingStatus `json:"status"`
	Conditions    string        `json:"conditions"`
	Collections   []string      `json:"collections"`
	Filters       []Filter      `json:"filters"`
	EnergyClasses []string      `json:"energy_classes"`
	Sites         []SiteRef     `json:"sites"`
	Zones         []string      `json:"zones"`
	BufferMeters  float64       `json:"buffer_m"`
	Sources       []Source      `json:"sources"`
	Notes         string        `json:"notes"`
}

// decodeReading turns a reading as written into a Reading; bad members are
// reported against field, the reading's path in its agreement.
func decodeReading(field string, rj *readingJSON) (Reading, []fieldError) {
	r := Reading{ID: rj.ID, Party: rj.Party, Status: rj.Status, Conditions: rj.Conditions,
		Sources: rj.Sources, Notes: rj.Notes, Terms: Terms{
			Collections: rj.Collections, Filters: rj.Filters, EnergyClasses: rj.EnergyClasses,
			Sites: rj.Sites, Zones: rj.Zones, BufferMeters: rj.BufferMeters}}
	if r.Status == "" {
		r.Status = InForce
	}
	bad := r.Terms.parseWindow(field, rj.Start, rj.End)
	return r, bad
}

// parseWindow reads start and end as written into t.
func (t *Terms) parseWindow(field, start string, end *string) []fieldError {
	var bad []fieldError
	if start == "" {
		bad = append(bad, fieldError{field + "start", errors.New("required")})
	} else if v, err := parseTime(start); err != nil {
		bad = append(bad, fieldError{field + "start", err})
	} else {
		t.Start = v
	}
	if end != nil {
		if v, err := parseTime(*end); err != nil {
			bad = append(bad, fieldError{field + "end", err})
		} else {
			t.End = &v
		}
	}
	return bad
}

// check reports what is wrong with a reading on its own; field is its path
// in the agreement ("" for an agreement's implicit reading).
func (r *Reading) check(field string, implicit bool) []fieldError {
	var bad []fieldError
	fail := func(member, format string, args ...any) {
		bad = append(bad, fieldError{field + member, fmt.Errorf(format, args...)})
	}
	if !implicit {
		if !geo.ValidLayerName(r.ID) {
			fail("id", "%q must be letters, digits, '_', '-' and '.', starting with a letter or digit", r.ID)
		}
		if strings.TrimSpace(r.Party) == "" {
			fail("party", `required: who holds this reading, such as "ru", "ua" or "us"`)
		}
		if len(r.Sources) == 0 {
			fail("sources", "required: cite the statements the reading is drawn from")
		}
		for i, s := range r.Sources {
			if strings.TrimSpace(s.Title) == "" {
				fail(fmt.Sprintf("sources[%d].title", i), "required")
			}
			if s.Date != "" {
				if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
					fail(fmt.Sprintf("sources[%d].date", i), "%q is not a date like 2025-03-25", s.Date)
				}
			}
		}
	}
	switch r.Status {
	case InForce, Conditional, Suspended:
	default:
		fail("status", "%q is not one of in_force, conditional, suspended", r.Status)
	}
	for _, fe := range r.Terms.check() {
		bad = append(bad, fieldError{field + fe.field, fe.err})
	}
	return bad
}

// check reports what is wrong with the terms without the layers.
func (t *Terms) check() []fieldError {
	var bad []fieldError
	fail := func(field, format string, args ...any) {
		bad = append(bad, fieldError{field, fmt.Errorf(format, args...)})
	}
	if t.Start.IsZero() {
		fail("start", "required")
	}
	if t.End != nil && !t.Start.IsZero() && !t.End.After(t.Start) {
		fail("end", "%s is not after start %s", t.End.Format(time.RFC3339), t.Start.Format(time.RFC3339))
	}
	if !(t.BufferMeters >= 0 && t.BufferMeters <= geo.MaxRadiusMeters) {
		fail("buffer_m", "%v is outside [0, %d] metres", t.BufferMeters, geo.MaxRadiusMeters)
	}
	if len(t.Collections) == 0 && len(t.Sites) == 0 && len(t.Zones) == 0 {
		fail("", "covers nothing: give collections, sites, zones or some of them")
	}
	for i, c := range t.Collections {
		if slices.Index(t.Collections, c) < i {
			fail(fmt.Sprintf("collections[%d]", i), "%q is listed twice", c)
		}
	}
	if len(t.Filters) > 0 && len(t.Collections) == 0 {
		fail("filters", "filters narrow collections, and there are none")
	}
	for i, f := range t.Filters {
		if f.Property == "" {
			fail(fmt.Sprintf("filters[%d].property", i), "required")
		}
		if len(f.In) == 0 {
			fail(fmt.Sprintf("filters[%d].in", i), "required: the values that pass")
		}
	}
	if len(t.EnergyClasses) > 0 && !slices.Contains(t.Collections, EnergyLayer) {
		fail("energy_classes", "energy classes narrow the %q collection, which collections does not list", EnergyLayer)
	}
	vocabulary := EnergyClasses()
	for i, c := range t.EnergyClasses {
		switch {
		case !slices.Contains(vocabulary, c):
			fail(fmt.Sprintf("energy_classes[%d]", i), "unknown class %q (the classes are %s)", c, strings.Join(vocabulary, ", "))
		case slices.Index(t.EnergyClasses, c) < i:
			fail(fmt.Sprintf("energy_classes[%d]", i), "%q is listed twice", c)
		}
	}
	for i, s := range t.Sites {
		if s.Collection == "" {
			fail(fmt.Sprintf("sites[%d].collection", i), "required")
		}
		if s.ID == "" {
			fail(fmt.Sprintf("sites[%d].id", i), "required")
		}
	}
	for i, z := range t.Zones {
		if z == "" {
			fail(fmt.Sprintf("zones[%d]", i), "required: the id of a feature of the %q layer", geojson.ZonesLayer)
		}
	}
	return bad
}
