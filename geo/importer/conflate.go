package importer

import (
	"encoding/json"
	"strings"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// NearMissMeters is how near an existing site of the same kind an imported
// point may lie, without being merged into it, before it is reported as a
// near miss.
const NearMissMeters = 1000

// citeKeys are the properties in which a feature names the source records
// merged into it, with the id prefix of each record (see data/SOURCES.md):
// "gppd_idnr": "WRI1005097;WRI1005098" cites gppd:WRI1005097 and
// gppd:WRI1005098.
var citeKeys = []struct{ key, prefix string }{
	{"gppd_idnr", "gppd:"},
	{"osm_id", "osm:"},
	{"gem_id", ""},
	{"merged_ids", ""},
}

// Merge is an imported record found to describe a site the layer already
// holds under another id: it is not added, and the site cites it.
type Merge struct {
	Imported, Into string
	// Why is "cited by <property>" when the site already names the record,
	// "inside its outline" when the record's point lies in the site's outline.
	Why string
}

// NearMiss is an imported point added beside an existing site of the same
// kind NearMissMeters or less away: perhaps the same site, left for a person
// to judge.
type NearMiss struct {
	Imported, Near string
	Meters         float64
}

// conflation finds, for the imported features of a layer that are new by
// id, the existing site each one describes.
type conflation struct {
	old   *geo.Layer
	index *geo.Index
	cited map[string]string // record id -> id of the existing feature citing it
}

func newConflation(old *geo.Layer) (*conflation, error) {
	c := &conflation{old: old, cited: map[string]string{}}
	if old == nil {
		return c, nil
	}
	for i := range old.Len() {
		f := old.Feature(i)
		for id := range citedIDs(f.Properties) {
			if id != f.ID {
				c.cited[id] = f.ID
			}
		}
	}
	ix, err := geo.NewIndex(old)
	if err != nil {
		return nil, err
	}
	c.index = ix
	return c, nil
}

// citedIDs are the record ids a feature's properties cite.
func citedIDs(props json.RawMessage) map[string]bool {
	var p map[string]any
	if json.Unmarshal(props, &p) != nil {
		return nil
	}
	ids := map[string]bool{}
	for _, ck := range citeKeys {
		s, _ := p[ck.key].(string)
		for id := range strings.SplitSeq(s, ";") {
			if id = strings.TrimSpace(id); id != "" {
				ids[ck.prefix+id] = true
			}
		}
	}
	return ids
}

// match returns the merge for f, if an existing site describes it, and the
// near misses of f otherwise.
func (c *conflation) match(f *geo.Feature) (*Merge, []NearMiss) {
	if into, ok := c.cited[f.ID]; ok {
		return &Merge{Imported: f.ID, Into: into, Why: "cited by the site"}, nil
	}
	p, ok := f.Geometry.(orb.Point)
	if !ok || c.index == nil {
		return nil, nil
	}
	hits, err := c.index.Nearby(p, NearMissMeters, 10)
	if err != nil {
		return nil, nil
	}
	var near []NearMiss
	for _, h := range hits {
		if h.Feature.Kind != f.Kind || h.Feature.ID == f.ID {
			continue
		}
		switch h.Feature.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
			if h.Meters == 0 {
				return &Merge{Imported: f.ID, Into: h.Feature.ID, Why: "inside its outline"}, nil
			}
		}
		near = append(near, NearMiss{Imported: f.ID, Near: h.Feature.ID, Meters: h.Meters})
	}
	return nil, near
}

// citing returns props with ids added to its merged_ids property, so the
// site names the records merged into it.
func citing(props json.RawMessage, ids []string) json.RawMessage {
	var p map[string]json.RawMessage
	if json.Unmarshal(props, &p) != nil {
		p = map[string]json.RawMessage{}
	}
	var all []string
	if raw, ok := p["merged_ids"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			all = strings.Split(s, ";")
		}
	}
	for _, id := range ids {
		if !strings.Contains(";"+strings.Join(all, ";")+";", ";"+id+";") {
			all = append(all, id)
		}
	}
	value := geojson.AppendJSONString(nil, strings.Join(all, ";"))
	if _, ok := p["merged_ids"]; ok {
		p["merged_ids"] = value
		out, err := json.Marshal(p)
		if err != nil {
			return props
		}
		return out
	}
	// Appended, so the other properties keep their order.
	body := strings.TrimSpace(string(props))
	if body == "" || body == "null" || body == "{}" {
		return json.RawMessage(`{"merged_ids":` + string(value) + `}`)
	}
	return json.RawMessage(strings.TrimSuffix(body, "}") + `,"merged_ids":` + string(value) + `}`)
}
