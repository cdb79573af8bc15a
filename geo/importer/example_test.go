package importer_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/protectmap/protectmap/geo/importer"
)

// Import an OpenStreetMap file with the default mapping into a data
// directory; adjacent bridge segments of the same name are merged.
func ExampleOSM() {
	res, err := importer.OSM(context.Background(), "../../testdata/osm/bridges.osm", importer.OSMOptions{})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "layers")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := res.WriteDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range s.Layers {
		fmt.Println(l.Name, l.Total(), l.Kinds)
	}
	for _, skip := range s.Skipped {
		fmt.Println("skipped", skip)
	}
	// Output:
	// bridges 8 map[bridge:8]
	// energy 0 map[]
	// hospitals 0 map[]
	// skipped osm:way/313: node 999 is not in the file
}
