package geo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/paulmach/orb"
)

// coordParser reads GeoJSON coordinate arrays straight from the JSON text:
// faster than generic decoding into nested interfaces, and it can say what
// is wrong with a coordinate, not just that the JSON did not fit.
type coordParser struct {
	b []byte
	i int
}

var errNesting = errors.New("wrong nesting")

func (p *coordParser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end of input.
func (p *coordParser) peek() byte {
	p.skipSpace()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *coordParser) number() (float64, error) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, fmt.Errorf("%w: expected a number at byte %d of coordinates", errNesting, start)
	}
	// The string view is never retained: ParseFloat's error is discarded.
	text := unsafe.String(&p.b[start], p.i-start)
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("coordinate %q is not a finite number", string(p.b[start:p.i]))
	}
	return f, nil
}

// position reads [lon, lat] or [lon, lat, alt, ...]; altitude is dropped.
func (p *coordParser) position() (orb.Point, error) {
	switch p.peek() {
	case '[':
		p.i++
	default:
		return orb.Point{}, fmt.Errorf("%w: expected a position [lon, lat] at byte %d", errNesting, p.i)
	}
	var v [2]float64
	n := 0
	for {
		if p.peek() == '[' {
			return orb.Point{}, fmt.Errorf("%w: a position holds numbers, found an array at byte %d", errNesting, p.i)
		}
		f, err := p.number()
		if err != nil {
			return orb.Point{}, err
		}
		if n < 2 {
			v[n] = f
		}
		n++
		switch p.peek() {
		case ',':
			p.i++
			continue
		case ']':
			p.i++
		default:
			return orb.Point{}, fmt.Errorf("malformed position at byte %d", p.i)
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

// array reads '[' elem (',' elem)* ']' or '[]', calling elem for each member.
func (p *coordParser) array(elem func() error) error {
	if p.peek() != '[' {
		return fmt.Errorf("%w: expected an array at byte %d", errNesting, p.i)
	}
	p.i++
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return fmt.Errorf("malformed coordinates at byte %d", p.i)
		}
	}
}

func (p *coordParser) positions() ([]orb.Point, error) {
	var pts []orb.Point
	err := p.array(func() error {
		pt, err := p.position()
		pts = append(pts, pt)
		return err
	})
	return pts, err
}

func (p *coordParser) positions2() ([][]orb.Point, error) {
	var out [][]orb.Point
	err := p.array(func() error {
		pts, err := p.positions()
		out = append(out, pts)
		return err
	})
	return out, err
}

func (p *coordParser) positions3() ([][][]orb.Point, error) {
	var out [][][]orb.Point
	err := p.array(func() error {
		pts, err := p.positions2()
		out = append(out, pts)
		return err
	})
	return out, err
}

// end checks nothing but white space follows the coordinates.
func (p *coordParser) end() error {
	if p.peek() != 0 {
		return fmt.Errorf("unexpected %q after coordinates at byte %d", p.b[p.i], p.i)
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
