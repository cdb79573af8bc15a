package geojson

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// coordParser reads GeoJSON coordinate arrays straight from the JSON text:
// faster than generic decoding into nested interfaces, and it can say what
// is wrong with a coordinate, not just that the JSON did not fit.
type coordParser struct {
	jsonscan.Text
	// A run of positions is read into pts, then copied to the front of
	// free, a block shared by many geometries: one allocation instead of a
	// growing slice per line.
	pts  []orb.Point
	free []orb.Point
}

// coordBlock is how many positions a block holds.
const coordBlock = 1 << 14

var errNesting = errors.New("wrong nesting")

func (p *coordParser) coordinate() (float64, error) {
	p.WS()
	start := p.I
	for p.I < len(p.B) {
		c := p.B[p.I]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.I++
			continue
		}
		break
	}
	if start == p.I {
		return 0, fmt.Errorf("%w: expected a number at byte %d of coordinates", errNesting, start)
	}
	// The string view is never retained: ParseFloat's error is discarded.
	text := unsafe.String(&p.B[start], p.I-start)
	f, err := strconv.ParseFloat(text, 64)
	if !geo.IsNumber(text) || err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("coordinate %q is not a finite number", string(p.B[start:p.I]))
	}
	return f, nil
}

// position reads [lon, lat] or [lon, lat, alt, ...]; altitude is dropped.
func (p *coordParser) position() (orb.Point, error) {
	switch p.Peek() {
	case '[':
		p.I++
	default:
		return orb.Point{}, fmt.Errorf("%w: expected a position [lon, lat] at byte %d", errNesting, p.I)
	}
	var v [2]float64
	n := 0
	for {
		if p.Peek() == '[' {
			return orb.Point{}, fmt.Errorf("%w: a position holds numbers, found an array at byte %d", errNesting, p.I)
		}
		f, err := p.coordinate()
		if err != nil {
			return orb.Point{}, err
		}
		if n < 2 {
			v[n] = f
		}
		n++
		switch p.Peek() {
		case ',':
			p.I++
			continue
		case ']':
			p.I++
		default:
			return orb.Point{}, fmt.Errorf("malformed position at byte %d", p.I)
		}
		break
	}
	if n < 2 {
		return orb.Point{}, fmt.Errorf("position has %d number, needs longitude and latitude", n)
	}
	if !(v[0] >= -180 && v[0] <= 180) {
		return orb.Point{}, fmt.Errorf("longitude %v out of range [-180, 180]", v[0])
	}
	if !(v[1] >= -90 && v[1] <= 90) {
		return orb.Point{}, fmt.Errorf("latitude %v out of range [-90, 90]", v[1])
	}
	return orb.Point{v[0], v[1]}, nil
}

// list reads '[' elem (',' elem)* ']' or '[]', calling elem for each member.
func (p *coordParser) list(elem func() error) error {
	if p.Peek() != '[' {
		return fmt.Errorf("%w: expected an array at byte %d", errNesting, p.I)
	}
	p.I++
	if p.Peek() == ']' {
		p.I++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.Peek() {
		case ',':
			p.I++
		case ']':
			p.I++
			return nil
		default:
			return fmt.Errorf("malformed coordinates at byte %d", p.I)
		}
	}
}

func (p *coordParser) positions() ([]orb.Point, error) {
	p.pts = p.pts[:0]
	err := p.list(func() error {
		pt, err := p.position()
		p.pts = append(p.pts, pt)
		return err
	})
	if len(p.pts) > len(p.free) {
		p.free = make([]orb.Point, max(len(p.pts), coordBlock))
	}
	n := copy(p.free, p.pts)
	pts := p.free[:n:n]
	p.free = p.free[n:]
	return pts, err
}

func (p *coordParser) positions2() ([][]orb.Point, error) {
	var out [][]orb.Point
	err := p.list(func() error {
		pts, err := p.positions()
		out = append(out, pts)
		return err
	})
	return out, err
}

func (p *coordParser) positions3() ([][][]orb.Point, error) {
	var out [][][]orb.Point
	err := p.list(func() error {
		pts, err := p.positions2()
		out = append(out, pts)
		return err
	})
	return out, err
}

// end checks nothing but white space follows the coordinates.
func (p *coordParser) end() error {
	if p.Peek() != 0 {
		return fmt.Errorf("unexpected %q after coordinates at byte %d", p.B[p.I], p.I)
	}
	return nil
}

// depth counts the opening brackets before the first number, which tells a
// Polygon's coordinates (3) from a LineString's (2) without parsing them.
func coordDepth(b []byte) int {
	d := 0
	for _, c := range b {
		switch c {
		case '[':
			d++
		case ' ', '\t', '\n', '\r':
		default:
			return d
		}
	}
	return d
}
