package geo

import (
	"encoding/json"
	"sort"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Feature is one protected site: a stable id, its geometry and its
// properties exactly as given (compact JSON, key order kept).
type Feature struct {
	// ID is unique within the feature's layer; see DecodeLayer for how it is chosen.
	ID string
	// Geometry is the site's real geometry in longitude/latitude degrees.
	Geometry orb.Geometry
	// Properties is the feature's properties object as compact JSON, or nil.
	Properties json.RawMessage
	// Name and Kind are the `name` and `kind` properties when they are strings.
	Name, Kind string
}

// Layer is a named, immutable collection of features with its own R-tree.
// Feature order is the order of the source file, which gives paging a stable
// order for a given data version.
type Layer struct {
	name     string
	source   string
	features []Feature
	bounds   []box32 // bounds[i] is the envelope of features[i]
	byID     []int32 // feature indexes sorted by ID
	tree     rtree.RTreeGN[float32, int32]
	bound    orb.Bound
}

// NewLayer indexes features under name. The features' ids must be unique;
// a duplicate is reported as a *ParseError. source names where the features
// came from, for messages.
func NewLayer(name, source string, features []Feature) (*Layer, error) {
	l := &Layer{name: name, source: source, features: features}
	l.bounds = make([]box32, len(features))
	l.byID = make([]int32, len(features))
	for i := range features {
		b := features[i].Geometry.Bound()
		l.bounds[i] = outward(b)
		l.byID[i] = int32(i)
		if i == 0 {
			l.bound = b
		} else {
			l.bound = l.bound.Union(b)
		}
	}
	sort.Slice(l.byID, func(a, b int) bool {
		return features[l.byID[a]].ID < features[l.byID[b]].ID
	})
	for k := 1; k < len(l.byID); k++ {
		prev, cur := l.byID[k-1], l.byID[k]
		if features[prev].ID == features[cur].ID {
			first, second := min(prev, cur), max(prev, cur)
			return nil, &ParseError{File: source, Feature: int(second), ID: features[second].ID,
				Err: errDuplicateID(int(first))}
		}
	}
	for i := range l.bounds {
		bb := l.bounds[i]
		l.tree.Insert([2]float32{bb.minLon, bb.minLat}, [2]float32{bb.maxLon, bb.maxLat}, int32(i))
	}
	return l, nil
}

// Name is the layer's name, used as its collection id.
func (l *Layer) Name() string { return l.name }

// Source names the file or resource the layer was read from.
func (l *Layer) Source() string { return l.source }

// Len is the number of features in the layer.
func (l *Layer) Len() int { return len(l.features) }

// Feature returns the i-th feature in source order.
func (l *Layer) Feature(i int) *Feature { return &l.features[i] }

// Bound is the envelope of all features; empty layers have a zero Bound.
func (l *Layer) Bound() orb.Bound { return l.bound }

// Lookup returns the feature with the given id and its index in source order.
func (l *Layer) Lookup(id string) (*Feature, int, bool) {
	k := sort.Search(len(l.byID), func(k int) bool { return l.features[l.byID[k]].ID >= id })
	if k < len(l.byID) && l.features[l.byID[k]].ID == id {
		i := int(l.byID[k])
		return &l.features[i], i, true
	}
	return nil, -1, false
}
