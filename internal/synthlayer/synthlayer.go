// Package synthlayer turns generated sites (internal/synth) into a layer:
// the features geo holds and the GeoJSON file geo/geojson writes, so every
// benchmark reads the same set through the same encoder. It stands apart
// from synth because geo's own tests generate sites, and this imports geo.
package synthlayer

import (
	"bufio"
	"io"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/synth"
)

// Features returns the sites as features, each with the name and kind
// properties a real layer carries.
func Features(sites []synth.Site) []geo.Feature {
	features := make([]geo.Feature, len(sites))
	for i, s := range sites {
		props := append([]byte(`{"name":`), geojson.AppendJSONString(nil, s.Name)...)
		props = append(geojson.AppendJSONString(append(props, `,"kind":`...), s.Kind), '}')
		features[i] = geo.Feature{ID: s.ID, Geometry: s.Geometry, Properties: props, Name: s.Name, Kind: s.Kind}
	}
	return features
}

// WriteGeoJSON writes sites as a FeatureCollection, one feature per line.
func WriteGeoJSON(w io.Writer, sites []synth.Site) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	buf := make([]byte, 0, 1024)
	for i, f := range Features(sites) {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ",\n"...)
		}
		buf = geojson.AppendFeature(buf, &f)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}
