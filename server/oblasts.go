package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// oblasts finds the first-level division (oblast, Kyiv, Sevastopol,
// Crimea) a point lies in, by its ISO 3166-2 code, from the outlines of the
// offline basemap: a strike's oblast follows from where it is, whatever
// its source calls the place.
type oblasts struct {
	layer *geo.Layer
	// codes are the ISO 3166-2 codes of the layer's features, in its order.
	codes []string
}

// newOblasts reads the outlines of a basemap: its Polygon and MultiPolygon
// features with an "iso" property. Nil without a basemap.
func newOblasts(basemap []byte) (*oblasts, error) {
	if basemap == nil {
		return nil, nil
	}
	l, err := geojson.DecodeLayer("oblasts", "basemap", bytes.NewReader(basemap))
	if err != nil {
		return nil, err
	}
	o := &oblasts{layer: l, codes: make([]string, l.Len())}
	for i := range l.Len() {
		f := l.Feature(i)
		switch f.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
		default:
			continue
		}
		var p struct {
			ISO string `json:"iso"`
		}
		if len(f.Properties) > 0 {
			if err := json.Unmarshal(f.Properties, &p); err != nil {
				return nil, fmt.Errorf("basemap feature %d: %w", i, err)
			}
		}
		o.codes[i] = p.ISO
	}
	return o, nil
}

// at is the code of the division holding p; its outline counts as inside.
// On a border shared by two, the one first in the basemap is taken, so
// the answer never varies. "" outside every outline (at sea, abroad).
func (o *oblasts) at(p orb.Point) string {
	best := -1
	o.layer.Search(geo.BBox{MinLon: p[0], MinLat: p[1], MaxLon: p[0], MaxLat: p[1]}, func(i int) bool {
		if o.codes[i] != "" && (best < 0 || i < best) {
			best = i
		}
		return true
	})
	if best < 0 {
		return ""
	}
	return o.codes[best]
}

// known lists the codes of every division, sorted.
func (o *oblasts) known() []string {
	var out []string
	for _, c := range o.codes {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
