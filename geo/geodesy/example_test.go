package geodesy_test

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// Distances are geodesics on the WGS84 ellipsoid, exact to nanometres:
// Kyiv to Lviv, and the azimuths at either end.
func ExampleInverse() {
	kyiv, lviv := orb.Point{30.5234, 50.4501}, orb.Point{24.0316, 49.8397}
	meters, aziKyiv, aziLviv := geodesy.Inverse(kyiv, lviv)
	fmt.Printf("%.3f km, leaving Kyiv at %.2f°, arriving at %.2f°\n", meters/1000, aziKyiv, aziLviv)
	// Output:
	// 468.819 km, leaving Kyiv at -95.82°, arriving at -100.81°
}

// A Measure gives the distance from one point to the nearest point of any
// geometry: here a power line, met between its vertices.
func ExampleMeasure_Exact() {
	line := orb.LineString{{30.55, 50.44}, {30.60, 50.45}}
	box := geodesy.Envelope(line)
	c := geodesy.NewMeasure(orb.Point{30.5600, 50.4550}).Exact(line, &box, false)
	fmt.Printf("%.1f m to [%.5f %.5f]\n", c.Meters, c.Point[0], c.Point[1])
	// Output:
	// 1379.7 m to [30.56581 50.44316]
}
