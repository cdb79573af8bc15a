package geojson_test

import (
	"fmt"
	"math"
	"strings"

	"github.com/protectmap/protectmap/geo/geojson"
)

// A layer is decoded and validated as a whole; a broken feature is named
// by its index.
func ExampleDecodeLayer() {
	l, err := geojson.DecodeLayer("bridges", "bridges.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","id":"osm:way/1","properties":{"name":"Paton bridge","kind":"road"},
		 "geometry":{"type":"LineString","coordinates":[[30.5742,50.4162],[30.5968,50.4113]]}}]}`))
	if err != nil {
		panic(err)
	}
	f := l.Feature(0)
	fmt.Println(l.Name(), l.Len(), f.ID, f.Name, f.Kind)

	_, err = geojson.DecodeLayer("bridges", "bridges.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":null,"geometry":{"type":"Point","coordinates":[30.5,95]}}]}`))
	fmt.Println(err)
	// Output:
	// bridges 1 osm:way/1 Paton bridge road
	// bridges.geojson: feature 0: Point: latitude 95 out of range [-90, 90]
}

// AppendFeature writes a feature back as GeoJSON, coordinates in full.
func ExampleAppendFeature() {
	l, err := geojson.DecodeLayer("hospitals", "hospitals.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","id":"h1","properties":{"name":"City hospital"},"geometry":{"type":"Point","coordinates":[30.51,50.4550]}}]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(geojson.AppendFeature(nil, l.Feature(0))))
	// Output:
	// {"type":"Feature","id":"h1","geometry":{"type":"Point","coordinates":[30.51,50.455]},"properties":{"name":"City hospital"}}
}

// AppendNumber writes the fewest digits that read back as the same
// float64, never an exponent, and null where JSON has no number; RoundTo
// keeps a measured distance to the millimetre first.
func ExampleAppendNumber() {
	for _, x := range []float64{30.5234, 0.30000000000000004, 1e21, geojson.RoundTo(1234.56789, 3), math.NaN()} {
		fmt.Println(string(geojson.AppendNumber(nil, x)))
	}
	// Output:
	// 30.5234
	// 0.30000000000000004
	// 1000000000000000000000
	// 1234.568
	// null
}
