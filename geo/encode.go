package geo

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Member is an extra property added to a feature on output, such as a
// distance; Value is encoded with encoding/json.
type Member struct {
	Key   string
	Value any
}

// AppendFeature appends f as a GeoJSON Feature: its id, its geometry with
// full float64 precision, and its properties as given followed by extra.
func AppendFeature(dst []byte, f *Feature, extra ...Member) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = AppendJSONString(dst, f.ID)
	dst = append(dst, `,"geometry":`...)
	dst = AppendGeometry(dst, f.Geometry)
	dst = append(dst, `,"properties":`...)
	dst = appendProperties(dst, f.Properties, extra)
	return append(dst, '}')
}

func appendProperties(dst []byte, props json.RawMessage, extra []Member) []byte {
	if len(extra) == 0 {
		if len(props) == 0 {
			return append(dst, "{}"...)
		}
		return append(dst, props...)
	}
	if len(props) > 2 {
		dst = append(dst, props[:len(props)-1]...)
		dst = append(dst, ',')
	} else {
		dst = append(dst, '{')
	}
	for i, m := range extra {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, m.Key)
		dst = append(dst, ':')
		dst = appendValue(dst, m.Value)
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	case string:
		return AppendJSONString(dst, v)
	case orb.Point:
		return appendPosition(dst, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// AppendGeometry appends g as a GeoJSON geometry object.
func AppendGeometry(dst []byte, g orb.Geometry) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, g.GeoJSONType()...)
	if c, ok := g.(orb.Collection); ok {
		dst = append(dst, `","geometries":[`...)
		for i, m := range c {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendGeometry(dst, m)
		}
		return append(dst, "]}"...)
	}
	dst = append(dst, `","coordinates":`...)
	switch g := g.(type) {
	case orb.Point:
		dst = appendPosition(dst, g)
	case orb.MultiPoint:
		dst = appendPositions(dst, g)
	case orb.LineString:
		dst = appendPositions(dst, g)
	case orb.Ring:
		dst = appendPositions(dst, g)
	case orb.MultiLineString:
		dst = append(dst, '[')
		for i, l := range g {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPositions(dst, l)
		}
		dst = append(dst, ']')
	case orb.Polygon:
		dst = appendRings(dst, g)
	case orb.MultiPolygon:
		dst = append(dst, '[')
		for i, p := range g {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendRings(dst, p)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendRings(dst []byte, p orb.Polygon) []byte {
	dst = append(dst, '[')
	for i, r := range p {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPositions(dst, r)
	}
	return append(dst, ']')
}

func appendPositions(dst []byte, pts []orb.Point) []byte {
	dst = append(dst, '[')
	for i, p := range pts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPosition(dst, p)
	}
	return append(dst, ']')
}

func appendPosition(dst []byte, p orb.Point) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendFloat(dst, p[0], 'f', -1, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, p[1], 'f', -1, 64)
	return append(dst, ']')
}

// HitMembers are the properties a proximity answer adds to each site:
// distance_m, bearing_deg (null at distance 0), nearest_point and collection.
func HitMembers(h *Hit) []Member {
	return []Member{
		{"distance_m", roundTo(h.Meters, 3)},
		{"bearing_deg", math.Mod(roundTo(h.Bearing, 2), 360)}, // 359.996 is 0.00
		{"nearest_point", h.Nearest},
		{"collection", h.Layer.Name()},
	}
}

// roundTo keeps digits decimals: millimetres are the precision that means
// anything for a strike's distance.
func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// AppendJSONString appends s as a JSON string (RFC 8259), escaping only what
// JSON requires, so text keeps its characters as written. Unlike
// strconv.Quote it never writes Go-only escapes such as \x01, and invalid
// UTF-8 becomes U+FFFD, so the output is always valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(dst, '"')
}
