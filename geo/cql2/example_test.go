package cql2_test

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// site is a feature with a few properties, as the server adapts a layer's.
type site struct {
	props map[string]cql2.Value
	geom  orb.Geometry
}

func (s site) Property(name string) cql2.Value { return s.props[name] }
func (s site) Geometry() orb.Geometry          { return s.geom }
func (s site) WithinMeters(p orb.Point, meters float64) bool {
	return geodesy.Distance(p, s.geom.(orb.Point)) <= meters // the sites here are points
}

// A cql2-text filter is parsed once and matched against each feature; a
// filter that does not parse says where and what was expected.
func ExampleParseText() {
	e, err := cql2.ParseText("kind = 'substation' AND voltage_kv >= 330 AND S_INTERSECTS(geometry, BBOX(30.3, 50.3, 30.8, 50.6))")
	if err != nil {
		panic(err)
	}
	sites := []site{
		{map[string]cql2.Value{"kind": {Kind: cql2.String, Str: "substation"}, "voltage_kv": {Kind: cql2.Number, Num: 750}}, orb.Point{30.52, 50.45}},
		{map[string]cql2.Value{"kind": {Kind: cql2.String, Str: "substation"}, "voltage_kv": {Kind: cql2.Number, Num: 110}}, orb.Point{30.52, 50.45}},
		{map[string]cql2.Value{"kind": {Kind: cql2.String, Str: "substation"}}, orb.Point{30.52, 50.45}},
		{map[string]cql2.Value{"kind": {Kind: cql2.String, Str: "substation"}, "voltage_kv": {Kind: cql2.Number, Num: 750}}, orb.Point{24.03, 49.84}},
	}
	for _, s := range sites {
		fmt.Println(cql2.Matches(e, s))
	}
	near, err := cql2.ParseText("DWITHIN(geometry, POINT(30.5234 50.4501), 3000)")
	if err != nil {
		panic(err)
	}
	fmt.Println(cql2.Matches(near, sites[0]), cql2.Matches(near, sites[3]))

	_, err = cql2.ParseText("kind = 'substation' voltage_kv > 330")
	fmt.Println(err)
	// Output:
	// true
	// false
	// false
	// false
	// true false
	// at position 21: expected AND, OR or the end of the filter, found “voltage_kv”
}
