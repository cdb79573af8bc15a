package tile_test

import (
	"encoding/json"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/tile"
)

func ExampleParsePath() {
	for _, path := range []string{"10/600/345.mvt", "3/8/0", "10/x/1"} {
		z, x, y, err := tile.ParsePath(path)
		fmt.Println(z, x, y, err)
	}
	// Output:
	// 10 600 345 <nil>
	// 0 0 0 tile: out of range: at zoom 3 x and y run from 0 to 7, got x=8 y=0
	// 0 0 0 tile: bad path: x "x" is not a whole number
}

func ExampleTileJSON() {
	l, err := geo.NewLayer("bridges", "example", []geo.Feature{
		{ID: "darnytskyi", Kind: "bridge", Geometry: orb.Point{30.58, 50.42}},
		{ID: "paton", Kind: "bridge", Geometry: orb.Point{30.56, 50.44}},
	})
	if err != nil {
		panic(err)
	}
	doc, err := tile.TileJSON(l, "https://example.org/collections/bridges/tiles/{z}/{x}/{y}.mvt", tile.Meta{})
	if err != nil {
		panic(err)
	}
	var tj struct {
		Bounds []float64 `json:"bounds"`
		Center []float64 `json:"center"`
	}
	if err := json.Unmarshal(doc, &tj); err != nil {
		panic(err)
	}
	fmt.Println("bounds", tj.Bounds)
	fmt.Println("center", tj.Center)
	// Output:
	// bounds [30.56 50.42 30.58 50.44]
	// center [30.57 50.43 14]
}
