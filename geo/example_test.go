package geo_test

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// kyiv indexes three Kyiv sites: a substation, a power line across the
// river and a hospital.
func kyiv() *geo.Index {
	energy, err := geo.NewLayer("energy", "example", []geo.Feature{
		{ID: "sub-1", Name: "Kyiv substation", Kind: "substation", Geometry: orb.Point{30.5234, 50.4501}},
		{ID: "line-1", Name: "Dnipro crossing", Kind: "line", Geometry: orb.LineString{{30.55, 50.44}, {30.60, 50.45}}},
	})
	if err != nil {
		panic(err)
	}
	hospitals, err := geo.NewLayer("hospitals", "example", []geo.Feature{
		{ID: "hosp-1", Name: "City hospital", Kind: "hospital", Geometry: orb.Point{30.5100, 50.4550}},
	})
	if err != nil {
		panic(err)
	}
	ix, err := geo.NewIndex(energy, hospitals)
	if err != nil {
		panic(err)
	}
	return ix
}

// The sites within 3 km of a strike, nearest first, each measured to the
// nearest point of its real geometry: the line is measured to its middle,
// not to a vertex.
func ExampleIndex_Nearby() {
	hits, err := kyiv().Nearby(orb.Point{30.5600, 50.4550}, 3000, 10)
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		fmt.Printf("%s/%s %s: %.0f m, bearing %.0f°\n", h.Layer.Name(), h.Feature.ID, h.Feature.Name, h.Meters, h.Bearing)
	}
	// Output:
	// energy/line-1 Dnipro crossing: 1380 m, bearing 163°
	// energy/sub-1 Kyiv substation: 2656 m, bearing 258°
}

// Nearest finds the k nearest sites whatever their distance; layers
// narrow the search.
func ExampleIndex_Nearest() {
	hits, err := kyiv().Nearest(orb.Point{30.5600, 50.4550}, 1, "hospitals")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s at %.0f m\n", hits[0].Feature.Name, hits[0].Meters)
	// Output:
	// City hospital at 3551 m
}

// Search visits the features whose geometry meets a box, here the west
// bank of central Kyiv.
func ExampleLayer_Search() {
	energy, _ := kyiv().Layer("energy")
	box, err := geo.ParseBBox("30.50,50.44,30.56,50.46")
	if err != nil {
		panic(err)
	}
	energy.Search(box, func(i int) bool {
		fmt.Println(energy.Feature(i).ID)
		return true
	})
	// Output:
	// sub-1
	// line-1
}
