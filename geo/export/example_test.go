package export_test

import (
	"fmt"

	"github.com/protectmap/protectmap/geo/export"
)

func ExampleNegotiate() {
	for _, accept := range []string{
		"",
		"text/csv",
		"text/html,application/xhtml+xml,*/*;q=0.8",
		"application/vnd.google-earth.kml+xml;q=0.9, text/csv;q=0.5",
		"image/png",
	} {
		f, ok := export.Negotiate(accept)
		fmt.Printf("%q: %s %v\n", accept, f, ok)
	}
	// Output:
	// "": geojson true
	// "text/csv": csv true
	// "text/html,application/xhtml+xml,*/*;q=0.8": geojson true
	// "application/vnd.google-earth.kml+xml;q=0.9, text/csv;q=0.5": kml true
	// "image/png":  false
}
