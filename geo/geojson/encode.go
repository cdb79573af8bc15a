package geojson

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// Member is an extra property added to a feature on output, such as a
// distance; Value is encoded with encoding/json.
type Member struct {
	Key   string
	Value any
}

// AppendFeature appends f as a GeoJSON Feature: its id, its geometry with
// full float64 precision, and its properties as given followed by extra.
func AppendFeature(dst []byte, f *geo.Feature, extra ...Member) []byte {
	return appendFeature(dst, f, nil, extra)
}

// AppendHit appends f as AppendFeature does, with the properties a
// proximity answer adds to the site h found after its own: distance_m (to
// the millimetre), bearing_deg (to a hundredth of a degree, null at
// distance 0), nearest_point and collection; then extra. f is h's feature,
// or one standing for it, such as its nearest point with its properties.
func AppendHit(dst []byte, f *geo.Feature, h *geo.Hit, extra ...Member) []byte {
	return appendFeature(dst, f, h, extra)
}

func appendFeature(dst []byte, f *geo.Feature, h *geo.Hit, extra []Member) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = AppendJSONString(dst, f.ID)
	dst = append(dst, `,"geometry":`...)
	dst = AppendGeometry(dst, f.Geometry)
	dst = append(dst, `,"properties":`...)
	dst = appendProperties(dst, f.Properties, h, extra)
	return append(dst, '}')
}

// appendProperties appends props with the members of h (if any) and extra
// after its own.
func appendProperties(dst []byte, props json.RawMessage, h *geo.Hit, extra []Member) []byte {
	if h == nil && len(extra) == 0 {
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
	return append(appendMembers(dst, h, extra), '}')
}

// appendMembers appends the members of h (if any) and extra, separated by
// commas.
func appendMembers(dst []byte, h *geo.Hit, extra []Member) []byte {
	if h != nil {
		dst = appendHitMembers(dst, h)
		if len(extra) > 0 {
			dst = append(dst, ',')
		}
	}
	for i, m := range extra {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, m.Key)
		dst = append(dst, ':')
		dst = appendValue(dst, m.Value)
	}
	return dst
}

// appendHitMembers writes AppendHit's members, without boxing each value
// into a Member: a proximity answer has tens of sites.
func appendHitMembers(dst []byte, h *geo.Hit) []byte {
	dst = append(dst, `"distance_m":`...)
	dst = AppendRounded(dst, h.Meters, 3)
	dst = append(dst, `,"bearing_deg":`...)
	// 359.996 rounds to 360, which is 0.
	hundredths := math.Round(h.Bearing * 100)
	if hundredths == 360*100 {
		hundredths = 0
	}
	dst = appendScaled(dst, hundredths, 2)
	dst = append(dst, `,"nearest_point":`...)
	dst = appendPosition(dst, h.Nearest)
	dst = append(dst, `,"collection":`...)
	return AppendJSONString(dst, h.Layer.Name())
}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case float64:
		return AppendNumber(dst, v)
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

// AppendGeometry appends g as a GeoJSON geometry object; null for a nil g,
// as GeoJSON writes a feature without a location.
func AppendGeometry(dst []byte, g orb.Geometry) []byte {
	if g == nil {
		return append(dst, "null"...)
	}
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
	dst = AppendNumber(dst, p[0])
	dst = append(dst, ',')
	dst = AppendNumber(dst, p[1])
	return append(dst, ']')
}

// AppendNumber appends x as a JSON number, the one way protectmap writes
// numbers: the fewest decimal digits that parse back to exactly x (the
// nearest to x of those), in plain notation without an exponent, as
// strconv.AppendFloat(dst, x, 'f', -1, 64) does; null for NaN and the
// infinities, which JSON has no number for. It never rounds: the full
// float64 survives a round trip, and a measured quantity is rounded to the
// precision that means something where it is computed (RoundTo).
//
// Formatting coordinates is most of the work of a
// GeoJSON answer, and for the magnitudes coordinates have it takes a
// shortcut with exact integer arithmetic; the rest goes to strconv.
//
// x is m·2⁻ˢ with a 53-bit m. Decimals with k fraction digits are 10⁻ᵏ
// apart; for the largest k with 10⁻ᵏ more than x's spacing 2⁻ˢ, at most
// one of them parses back to x, and no decimal with fewer digits can
// unless it is that one, so if it does, it is the answer. Otherwise the
// answer has k+1 fraction digits: several may parse back to x, and the
// one nearest x is the answer.
func AppendNumber(dst []byte, x float64) []byte {
	u := math.Float64bits(x)
	m := u&(1<<52-1) | 1<<52
	s := 1075 - int(u>>52&0x7ff)
	// Beyond 1 ≤ s ≤ 63 (|x| below 2⁻¹¹ or from 2⁵² up, zeros, NaN and
	// infinities), or at a power of two, where the spacing below x is half
	// that above: strconv.
	if s < 1 || s > 63 || m == 1<<52 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	}
	// Most coordinates are given to at most 7 decimals (OSM keeps 7, a
	// centimetre). If x rounded to 7 decimals parses back to x, that
	// decimal is the answer: any other with at most 7 decimals is 10⁻⁷ or
	// more away, far beyond x's spacing, and any with more is longer.
	if ax := math.Abs(x); ax < 1000 {
		if n := uint64(ax*1e7 + 0.5); float64(n)/1e7 == ax {
			return appendDecimal7(dst, u>>63 != 0, n)
		}
	}
	k := fracDigits[s]
	n, d, _ := nearestScaled(m, s, pow10[k])
	if d >= pow10[k] {
		if d == pow10[k] { // exactly halfway: evenness decides
			return strconv.AppendFloat(dst, x, 'f', -1, 64)
		}
		k++
		var tie bool
		if n, d, tie = nearestScaled(m, s, pow10[k]); tie || d >= pow10[k] {
			return strconv.AppendFloat(dst, x, 'f', -1, 64)
		}
	}
	if u>>63 != 0 {
		dst = append(dst, '-')
	}
	return appendDecimal(dst, n, k)
}

// nearestScaled returns n, the integer nearest m·2⁻ˢ·p, and twice its
// distance from it in units of 2⁻ˢ: the decimal n/p parses back to m·2⁻ˢ
// when that is below p (within half a spacing). A tie is a value halfway
// between two integers.
func nearestScaled(m uint64, s int, p uint64) (n, twice uint64, tie bool) {
	hi, lo := bits.Mul64(m, p)
	n = hi<<(64-s) | lo>>s // m·p < 2⁶⁴⁺ˢ here, so n fits
	r := lo & (1<<s - 1)
	half := uint64(1) << (s - 1)
	if r > half {
		n++
		r = 1<<s - r
	}
	return n, 2 * r, r == half
}

// appendDecimal appends n/10ᵏ in plain notation without trailing zeros;
// n < 10¹⁷ and k ≤ 19.
func appendDecimal(dst []byte, n uint64, k int) []byte {
	// All 24 digits, in three 8-digit groups that the CPU converts side by
	// side; then the leading zeros are cut but for the one before a point.
	// b's second half lets the parts move as whole 24-byte blocks, without
	// a call to copy, into dst's spare capacity, which is grown to hold
	// what they carry beyond the number.
	var b [48]byte
	q := n / 1e8
	put8(b[16:], uint32(n-q*1e8))
	put8(b[8:], uint32(q%1e8))
	put8(b[:], uint32(q/1e8))
	start := 24 - max(digits10(n), k+1)
	point := 24 - k
	end := 24
	for end > point && b[end-1] == '0' {
		end--
	}
	whole := point - start
	size := whole
	if end > point {
		size += 1 + end - point
	}
	if cap(dst)-len(dst) < 64 {
		dst = slices.Grow(dst, 64)
	}
	l := len(dst)
	out := dst[l : l+64]
	*(*[24]byte)(out) = *(*[24]byte)(b[start:])
	out[whole] = '.'
	*(*[24]byte)(out[whole+1:]) = *(*[24]byte)(b[point:])
	return dst[:l+size]
}

// appendDecimal7 appends n/10⁷, negated if negative, in plain notation
// without trailing zeros; n < 10¹⁰.
func appendDecimal7(dst []byte, negative bool, n uint64) []byte {
	whole, frac := n/1e7, uint32(n%1e7)
	if negative {
		dst = append(dst, '-')
	}
	switch {
	case whole >= 100:
		dst = append(dst, byte('0'+whole/100), byte('0'+whole/10%10), byte('0'+whole%10))
	case whole >= 10:
		dst = append(dst, byte('0'+whole/10), byte('0'+whole%10))
	default:
		dst = append(dst, byte('0'+whole))
	}
	if frac == 0 {
		return dst
	}
	// frac's 8 digits, the first (always 0) in the lowest byte: the zero
	// bytes on top are the trailing zeros.
	d := digits8(frac)
	end := 8 - bits.LeadingZeros64(d)/8
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], d+0x30303030_30303030)
	dst = append(dst, '.')
	return append(dst, b[1:end]...)
}

// put8 writes v < 10⁸ as 8 digits, with leading zeros.
func put8(b []byte, v uint32) {
	binary.LittleEndian.PutUint64(b, digits8(v)+0x30303030_30303030)
}

// digits8 is v < 10⁸ as 8 digit values (0 to 9), one a byte. It divides
// in lanes of one uint64 (SWAR): two 4-digit halves in 32-bit lanes are
// split into four 2-digit ones in 16-bit lanes, then into eight digits in
// bytes, each multiply-and-shift standing for a division exact on the
// lane's range (×10486>>20 is /100 below 43,699; ×103>>10 is /10 below
// 179), and the first digit lands in the lowest byte.
func digits8(v uint32) uint64 {
	x := uint64(v/1e4) | uint64(v%1e4)<<32
	q := (x * 10486 >> 20) & 0x0000007f_0000007f
	x = q | (x-q*100)<<16
	q = (x * 103 >> 10) & 0x000f000f_000f000f
	return q | (x-q*10)<<8
}

// digits10 is the number of decimal digits of n, 1 for 0.
func digits10(n uint64) int {
	d := (bits.Len64(n) * 1233) >> 12 // ⌊log₁₀ 2ᵇ⌋: exact or one short
	if d < len(pow10) && n >= pow10[d] {
		d++
	}
	return max(d, 1)
}

// pow10[k] is 10ᵏ, for k up to 19, the most a uint64 holds.
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// fracDigits[s] is the largest k with 10ᵏ < 2ˢ (never equal), the
// fraction digits that may name a float64 spaced 2⁻ˢ apart in one way only.
var fracDigits = func() (f [64]int) {
	for s := 1; s < len(f); s++ {
		for pow10[f[s]+1] < 1<<s {
			f[s]++
		}
	}
	return f
}()

// RoundTo rounds x to digits decimals, half away from zero, which
// AppendNumber then writes in at most digits decimals: distances are kept
// to the millimetre (3), bearings to the hundredth of a degree (2).
func RoundTo(x float64, digits int) float64 {
	if digits < 0 || digits >= len(pow10) {
		p := math.Pow(10, float64(digits))
		return math.Round(x*p) / p
	}
	p := float64(pow10[digits]) // exact, as math.Pow gives it, at a table's cost
	return math.Round(x*p) / p
}

// AppendRounded appends RoundTo(x, digits) as AppendNumber writes it.
func AppendRounded(dst []byte, x float64, digits int) []byte {
	if digits < 0 || digits > maxScaledDigits {
		return AppendNumber(dst, RoundTo(x, digits))
	}
	return appendScaled(dst, math.Round(x*float64(pow10[digits])), digits)
}

// maxScaledDigits is the most decimals appendScaled writes itself.
const maxScaledDigits = 7

// appendScaled appends n/10^digits, n a whole number, as AppendNumber
// writes the float64 n / 10^digits (which is RoundTo's result when n is
// x·10^digits rounded), for digits up to maxScaledDigits. Below 2⁵⁰ that
// float is spaced less than a quarter of 10^-digits apart, so the decimal
// n/10^digits, with its trailing zeros cut, is the only decimal of at most
// digits places that parses back to it, and no shorter one does:
// AppendNumber's answer, written here without its search. Other n, zero
// among them for its sign, take AppendNumber.
func appendScaled(dst []byte, n float64, digits int) []byte {
	p := pow10[digits]
	if !(math.Abs(n) < 1<<50) || n == 0 {
		return AppendNumber(dst, n/float64(p))
	}
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	u := uint64(n)
	dst = strconv.AppendUint(dst, u/p, 10)
	frac := u % p
	if frac == 0 {
		return dst
	}
	// frac's digits with its leading zeros, the trailing ones cut.
	var b [maxScaledDigits]byte
	for k := digits - 1; k >= 0; k-- {
		b[k] = byte('0' + frac%10)
		frac /= 10
	}
	end := digits
	for b[end-1] == '0' {
		end--
	}
	dst = append(dst, '.')
	return append(dst, b[:end]...)
}

// AppendJSONString appends s as a JSON string (RFC 8259), escaping only what
// JSON requires, so text keeps its characters as written. Unlike
// strconv.Quote it never writes Go-only escapes such as \x01, and invalid
// UTF-8 becomes U+FFFD, so the output is always valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	// Most strings (ids, names in ASCII) need no escape: one copy.
	plain := 0
	for plain < len(s) && s[plain] >= 0x20 && s[plain] < utf8.RuneSelf && s[plain] != '"' && s[plain] != '\\' {
		plain++
	}
	dst = append(dst, s[:plain]...)
	for i := plain; i < len(s); {
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
				// The character itself, not its escape: text read back
				// and written again then stays the same, byte for byte.
				dst = utf8.AppendRune(dst, utf8.RuneError)
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
