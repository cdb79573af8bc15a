package geo

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	orbjson "github.com/paulmach/orb/geojson"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// oracleCase is one figure computed by GeographicLib (testdata/oracle/gen.py).
type oracleCase struct {
	Name       string          `json:"name"`
	Point      orb.Point       `json:"point"`
	Geometry   json.RawMessage `json:"geometry"`
	DistanceM  float64         `json:"distance_m"`
	Nearest    orb.Point       `json:"nearest"`
	AzimuthDeg *float64        `json:"azimuth_deg"`
}

// acceptTolerance is the agreement promised with GeographicLib: 0.5 m or
// 0.01 %, whichever is larger.
func acceptTolerance(meters float64) float64 { return math.Max(0.5, 1e-4*meters) }

// TestOracle compares every proximity answer with GeographicLib's geodesic
// inverse over more than 1,000 point/geometry pairs across Ukraine's
// latitudes, and over edges up to 500 km anywhere on the globe, near the
// poles and cut at the antimeridian.
func TestOracle(t *testing.T) {
	worst := map[string]float64{}
	for _, c := range readOracle(t) {
		g := c.geometry(t)
		ix := indexOf(t, layerOf(t, "oracle", g))
		hits, err := ix.Nearby(c.Point, MaxRadiusMeters, 1)
		if c.DistanceM > MaxRadiusMeters {
			// Points near a pole may lie farther from a line than any radius.
			hits, err = ix.Nearest(c.Point, 1)
		}
		if err != nil || len(hits) != 1 {
			t.Fatalf("%s: %d hits, error %v", c.Name, len(hits), err)
		}
		h := hits[0]
		diff := math.Abs(h.Meters - c.DistanceM)
		family := c.Name[:strings.LastIndex(c.Name, "-")]
		worst[family] = max(worst[family], diff)
		if diff > acceptTolerance(c.DistanceM) {
			t.Errorf("%s: %.6f m, GeographicLib %.6f m", c.Name, h.Meters, c.DistanceM)
		}
		// The reported point is a point of the geometry at the reported distance.
		if d := geodesy.Distance(c.Point, h.Nearest); math.Abs(d-h.Meters) > 1e-6 {
			t.Errorf("%s: nearest point is %.6f m away, reported %.6f m", c.Name, d, h.Meters)
		}
		// The distance hardly changes as the foot slides along an edge, so
		// the foot's position is held to 5 cm plus 0.01 % of the distance.
		if d := geodesy.Distance(h.Nearest, c.Nearest); d > 0.05+1e-4*c.DistanceM {
			t.Errorf("%s: nearest point %v is %.3f m from GeographicLib's %v", c.Name, h.Nearest, d, c.Nearest)
		}
		if c.AzimuthDeg != nil && c.DistanceM > 100 {
			want := math.Mod(*c.AzimuthDeg+360, 360)
			if dAz := math.Abs(math.Remainder(h.Bearing-want, 360)); dAz > 0.01 {
				t.Errorf("%s: bearing %.5f°, GeographicLib %.5f°", c.Name, h.Bearing, want)
			}
		}
	}
	for family, w := range worst {
		t.Logf("%-28s worst |Δ| %.2e m", family, w)
	}
}

// readOracle reads the GeographicLib figures.
func readOracle(t *testing.T) []oracleCase {
	t.Helper()
	body, err := os.ReadFile("../testdata/oracle/proximity.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []oracleCase `json:"cases"`
	}
	if err := json.Unmarshal(body, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 1000 {
		t.Fatalf("only %d oracle cases", len(file.Cases))
	}
	return file.Cases
}

func (c *oracleCase) geometry(t *testing.T) orb.Geometry {
	t.Helper()
	g, err := orbjson.UnmarshalGeometry(c.Geometry)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return g.Geometry()
}
