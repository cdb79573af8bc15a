package importer

import (
	"encoding/json"
	"strconv"

	"github.com/protectmap/protectmap/geo/geojson"
)

// GeoJSONOptions configures the import of a GeoJSON FeatureCollection.
type GeoJSONOptions struct {
	// Layer receives the features.
	Layer string
	// Kind is set as the kind property of features that have none.
	Kind string
	// Progress, if set, is told how the reading advances.
	Progress Progress
}

// GeoJSON imports a GeoJSON FeatureCollection into opt.Layer. The file is
// checked by geo's rules as a whole, as the server would load it: any
// problem fails the import with every problem listed. Ids are kept (or
// derived as geo derives them), so importing a newer version of the same
// file replaces its features.
func GeoJSON(file string, opt GeoJSONOptions) (*Result, error) {
	in, err := openInput(file, opt.Layer, "features", opt.Progress)
	if err != nil {
		return nil, err
	}
	l, err := geojson.DecodeLayer(opt.Layer, file, in)
	if l != nil {
		in.m.found.Store(int64(l.Len()))
	}
	in.close()
	if err != nil {
		return nil, err
	}
	res := newResult()
	res.layer(opt.Layer)
	for i := range l.Len() {
		nf := newFeature{Feature: *l.Feature(i), origin: "feature " + strconv.Itoa(i)}
		if opt.Kind != "" && !hasMember(nf.Properties, "kind") {
			nf.Kind = opt.Kind
			nf.Properties = withMember(nf.Properties, "kind", geojson.AppendJSONString(nil, opt.Kind))
		}
		res.add(opt.Layer, nf)
	}
	return res, nil
}

func hasMember(obj json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// withMember appends a member to a JSON object (nil is the empty object).
func withMember(obj json.RawMessage, key string, value []byte) json.RawMessage {
	var o jsonObject
	if len(obj) > 2 {
		o.b = append([]byte(nil), obj[:len(obj)-1]...)
	}
	o.raw(key, value)
	return o.bytes()
}
