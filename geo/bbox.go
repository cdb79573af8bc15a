package geo

import (
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// BBox is a CRS84 bounding box in degrees. MinLon > MaxLon means the box
// crosses the antimeridian: it spans MinLon..180 and -180..MaxLon.
type BBox struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// ParseBBox parses "minLon,minLat,maxLon,maxLat" as OGC API - Features and
// RFC 7946 write it. Six numbers (with minimum and maximum heights at
// positions 3 and 6) are accepted and the heights ignored.
func ParseBBox(s string) (BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return BBox{}, badQuery("bbox", "bbox needs 4 numbers (minLon,minLat,maxLon,maxLat), got %d", len(parts))
	}
	if len(parts) == 6 {
		parts = []string{parts[0], parts[1], parts[3], parts[4]}
	}
	var v [4]float64
	for i, p := range parts {
		f, err := ParseNumber(p)
		if err != nil {
			return BBox{}, badQuery("bbox", "bbox value %d (%q) is not a finite number", i+1, p)
		}
		v[i] = f
	}
	b := BBox{MinLon: v[0], MinLat: v[1], MaxLon: v[2], MaxLat: v[3]}
	return b, b.Validate()
}

// Validate reports a box with a coordinate out of range or a minimum
// latitude above the maximum.
func (b BBox) Validate() error {
	for _, lon := range []float64{b.MinLon, b.MaxLon} {
		if !(lon >= -180 && lon <= 180) {
			return badQuery("bbox", "bbox longitude %v outside [-180, 180]", lon)
		}
	}
	for _, lat := range []float64{b.MinLat, b.MaxLat} {
		if !(lat >= -90 && lat <= 90) {
			return badQuery("bbox", "bbox latitude %v outside [-90, 90]", lat)
		}
	}
	if b.MinLat > b.MaxLat {
		return badQuery("bbox", "bbox minimum latitude %v exceeds maximum %v", b.MinLat, b.MaxLat)
	}
	return nil
}

// CrossesAntimeridian reports whether the box wraps across ±180°.
func (b BBox) CrossesAntimeridian() bool { return b.MinLon > b.MaxLon }

// String formats the box as ParseBBox reads it.
func (b BBox) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return f(b.MinLon) + "," + f(b.MinLat) + "," + f(b.MaxLon) + "," + f(b.MaxLat)
}

// parts splits the box into one or two ordinary bounds.
func (b BBox) parts() []orb.Bound {
	if !b.CrossesAntimeridian() {
		return []orb.Bound{{Min: orb.Point{b.MinLon, b.MinLat}, Max: orb.Point{b.MaxLon, b.MaxLat}}}
	}
	return []orb.Bound{
		{Min: orb.Point{b.MinLon, b.MinLat}, Max: orb.Point{180, b.MaxLat}},
		{Min: orb.Point{-180, b.MinLat}, Max: orb.Point{b.MaxLon, b.MaxLat}},
	}
}

// box32 converts an envelope to the float32 the R-tree stores, rounded
// outward so that it always holds the float64 envelope: half the memory,
// and half the bytes a search scans in each tree node.
func box32(b orb.Bound) (lo, hi [2]float32) {
	return [2]float32{down32(b.Min[0]), down32(b.Min[1])}, [2]float32{up32(b.Max[0]), up32(b.Max[1])}
}

// bound64 is the float64 envelope of an R-tree entry.
func bound64(lo, hi [2]float32) orb.Bound {
	return orb.Bound{
		Min: orb.Point{float64(lo[0]), float64(lo[1])},
		Max: orb.Point{float64(hi[0]), float64(hi[1])},
	}
}

func down32(x float64) float32 {
	f := float32(x)
	if float64(f) > x {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up32(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}
