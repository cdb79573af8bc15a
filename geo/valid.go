package geo

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
)

// ValidGeometry checks what a coordinate parser cannot see alone: point
// counts, closed rings, hole placement and antimeridian-crossing edges.
func ValidGeometry(g orb.Geometry) error {
	switch g := g.(type) {
	case orb.Point:
		return nil
	case orb.MultiPoint:
		if len(g) == 0 {
			return errors.New("empty MultiPoint")
		}
	case orb.LineString:
		return validLine(g)
	case orb.MultiLineString:
		if len(g) == 0 {
			return errors.New("empty MultiLineString")
		}
		for i, l := range g {
			if err := validLine(l); err != nil {
				return fmt.Errorf("line %d: %w", i, err)
			}
		}
	case orb.Polygon:
		return validPolygon(g)
	case orb.MultiPolygon:
		if len(g) == 0 {
			return errors.New("empty MultiPolygon")
		}
		for i, p := range g {
			if err := validPolygon(p); err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
		}
	}
	return nil
}

func validLine(l orb.LineString) error {
	if len(l) < 2 {
		return fmt.Errorf("too few points: a LineString needs at least 2 positions, has %d", len(l))
	}
	return crossesAntimeridian(l)
}

func validPolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return errors.New("too few points: a Polygon needs an exterior ring")
	}
	for i, r := range p {
		which := "exterior ring"
		if i > 0 {
			which = "hole " + strconv.Itoa(i)
		}
		if len(r) < 4 {
			return fmt.Errorf("too few points: %s has %d positions, a ring needs at least 4", which, len(r))
		}
		if r[0] != r[len(r)-1] {
			return fmt.Errorf("unclosed ring: %s ends at %v, not at its first position %v", which, r[len(r)-1], r[0])
		}
		if err := crossesAntimeridian(r); err != nil {
			return fmt.Errorf("%s: %w", which, err)
		}
		if i > 0 && !p[0].Bound().Contains(r.Bound().Min) || i > 0 && !p[0].Bound().Contains(r.Bound().Max) {
			return fmt.Errorf("wrong nesting: %s lies outside the exterior ring", which)
		}
	}
	return nil
}

// crossesAntimeridian rejects edges that jump more than 180° of longitude:
// RFC 7946 §3.1.9 asks for such geometries to be cut at ±180.
func crossesAntimeridian(pts []orb.Point) error {
	for i := 1; i < len(pts); i++ {
		if math.Abs(pts[i][0]-pts[i-1][0]) > 180 {
			return fmt.Errorf("edge %d crosses the antimeridian; cut the geometry at ±180° (RFC 7946 §3.1.9)", i-1)
		}
	}
	return nil
}
