package importer

import (
	"encoding/json"
	"strconv"

	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// GeoJSONOptions configures the import of a GeoJSON FeatureCollection.
type GeoJSONOptions struct {
	// Layer receives the features.
	Layer string
	// Kind is set as the kind property of features that have none.
	Kind string
	// Source and Licence are set as the source and licence properties of
	// features that have none, so each carries where it came from.
	Source, Licence string
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
		}
		nf.Properties = withDefaults(nf.Properties, "kind", opt.Kind, "source", opt.Source, "licence", opt.Licence)
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

// withDefaults appends, for each key and string value of keyValues, the
// member key: value to a JSON object that lacks key; empty values are
// skipped.
func withDefaults(obj json.RawMessage, keyValues ...string) json.RawMessage {
	for i := 0; i+1 < len(keyValues); i += 2 {
		if key, value := keyValues[i], keyValues[i+1]; value != "" && !hasMember(obj, key) {
			obj = withMember(obj, key, geojson.AppendJSONString(nil, value))
		}
	}
	return obj
}

// setMember sets the member key of a JSON object to value, in the place of
// a member with that key or else appended, keeping the others in order.
func setMember(obj json.RawMessage, key string, value []byte) json.RawMessage {
	var o jsonObject
	set := false
	jsonscan.EachMember(obj, func(k, v []byte) bool {
		if string(k) == key {
			v, set = value, true
		}
		o.raw(string(k), v)
		return true
	})
	if !set {
		o.raw(key, value)
	}
	return o.bytes()
}
