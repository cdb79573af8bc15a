package geojson

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// checkFloat fails unless AppendNumber writes x exactly as strconv does, in
// the fewest digits that parse back to the same float64, and NaN and the
// infinities as null.
func checkFloat(t *testing.T, x float64) {
	t.Helper()
	got := string(AppendNumber([]byte("["), x))[1:]
	if math.IsNaN(x) || math.IsInf(x, 0) {
		if got != "null" {
			t.Fatalf("AppendNumber(%v) = %s, want null", x, got)
		}
		return
	}
	want := strconv.FormatFloat(x, 'f', -1, 64)
	if got != want {
		t.Fatalf("AppendNumber(%b) = %s, strconv writes %s", x, got, want)
	}
	back, err := strconv.ParseFloat(got, 64)
	if err != nil || math.Float64bits(back) != math.Float64bits(x) {
		t.Fatalf("AppendNumber(%b) = %s parses back to %b (%v)", x, got, back, err)
	}
}

func TestAppendNumber(t *testing.T) {
	tests := []struct {
		name string
		x    float64
	}{
		{"zero", 0},
		{"negative zero", math.Copysign(0, -1)},
		{"antimeridian", 180},
		{"antimeridian west", -180},
		{"pole", 90},
		{"south pole", -90},
		{"one", 1},
		{"half", 0.5},
		{"seven decimals", 30.5234567},
		{"negative seven decimals", -0.1234567},
		{"fifteen digits", 30.5234567890123},
		{"sixteen digits", 48.45678901234567},
		{"seventeen digits", 0.30000000000000004},
		{"next after 180 down", math.Nextafter(180, 0)},
		{"next after 180 up", math.Nextafter(180, 200)},
		{"next after 0.1", math.Nextafter(0.1, 1)},
		{"below 10", math.Nextafter(10, 0)},
		{"smallest handled", 0x1p-11},
		{"just below the smallest handled", math.Nextafter(0x1p-11, 0)},
		{"tiny", 1e-300},
		{"smallest subnormal", math.SmallestNonzeroFloat64},
		{"largest", math.MaxFloat64},
		{"2^52 - 0.5", 0x1p52 - 0.5},
		{"2^52", 0x1p52},
		{"2^53 + 2", 0x1p53 + 2},
		{"power of two", 32},
		{"above a power of two", math.Nextafter(32, 64)},
		{"below a power of two", math.Nextafter(32, 0)},
		{"infinity", math.Inf(1)},
		{"minus infinity", math.Inf(-1)},
		{"NaN", math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkFloat(t, tt.x) })
	}
}

// TestAppendNumberRandom compares with strconv over random float64s of every
// magnitude that takes the shortcut, over coordinates with a few to 17
// significant digits, and over the neighbours of short decimals, where
// halfway cases live.
func TestAppendNumberRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	for range n {
		// Any exponent from 2⁻¹⁴ to 2⁵⁴, any mantissa.
		x := math.Ldexp(1+r.Float64(), r.IntN(69)-14)
		checkFloat(t, x)
		checkFloat(t, -x)
		// A coordinate in degrees, rounded to 0–17 decimals.
		c := r.Float64()*360 - 180
		p := math.Pow(10, float64(r.IntN(18)))
		checkFloat(t, math.Round(c*p)/p)
		checkFloat(t, c)
		// The floats next to a short decimal.
		d := math.Round(c*1e7) / 1e7
		checkFloat(t, math.Nextafter(d, math.Inf(1)))
		checkFloat(t, math.Nextafter(d, math.Inf(-1)))
		// Random bits: every class of float64.
		checkFloat(t, math.Float64frombits(r.Uint64()))
	}
}

// FuzzAppendNumber: any finite float64 is written as strconv writes it.
func FuzzAppendNumber(f *testing.F) {
	for _, x := range []float64{0, -180, 180, 30.5234567, 0.30000000000000004, 1e-300, 0x1p52 - 0.5} {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, u uint64) { checkFloat(t, math.Float64frombits(u)) })
}

func BenchmarkAppendNumber(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = 22 + r.Float64()*18 // longitudes across Ukraine, full precision
	}
	// Longitudes as sources give them, to 6 or 7 decimals.
	short := make([]float64, len(xs))
	for i, x := range xs {
		p := float64(pow10[6+i%2])
		short[i] = math.Round(x*p) / p
	}
	buf := make([]byte, 0, 32)
	b.Run("AppendNumber", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			buf = AppendNumber(buf[:0], xs[i%len(xs)])
		}
	})
	b.Run("AppendNumber/7decimals", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			buf = AppendNumber(buf[:0], short[i%len(short)])
		}
	})
	b.Run("strconv", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			buf = strconv.AppendFloat(buf[:0], xs[i%len(xs)], 'f', -1, 64)
		}
	})
}

// TestRoundedNumbers holds the precision rule: a value rounded by RoundTo
// is written in at most that many decimals, and parses back to the
// rounded value.
func TestRoundedNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		digits := r.IntN(7)
		x := RoundTo((r.Float64()-0.5)*4e5, digits) // distances up to 200 km, either sign
		got := string(AppendNumber(nil, x))
		if i := strings.IndexByte(got, '.'); i >= 0 && len(got)-i-1 > digits {
			t.Fatalf("AppendNumber(RoundTo(x, %d)) = %s: more than %d decimals", digits, got, digits)
		}
		if back, err := strconv.ParseFloat(got, 64); err != nil || back != x {
			t.Fatalf("AppendNumber(%v) = %s parses back to %v (%v)", x, got, back, err)
		}
	}
	for _, tc := range []struct {
		x      float64
		digits int
		want   string
	}{
		{1234.56789, 3, "1234.568"},
		{0.0005, 3, "0.001"},
		{-0.0005, 3, "-0.001"},
		{359.996, 2, "360"},
		{100, 3, "100"},
	} {
		if got := string(AppendNumber(nil, RoundTo(tc.x, tc.digits))); got != tc.want {
			t.Errorf("AppendNumber(RoundTo(%v, %d)) = %s, want %s", tc.x, tc.digits, got, tc.want)
		}
	}
}

// checkRounded fails unless AppendRounded writes what AppendNumber writes
// for RoundTo(x, digits).
func checkRounded(t *testing.T, x float64, digits int) {
	t.Helper()
	want := string(AppendNumber([]byte("["), RoundTo(x, digits)))
	if got := string(AppendRounded([]byte("["), x, digits)); got != want {
		t.Fatalf("AppendRounded(%b, %d) = %s, AppendNumber(RoundTo) writes %s", x, digits, got[1:], want[1:])
	}
}

// TestAppendRounded: distances and bearings as answers round them, over
// every magnitude, the halfway cases, the neighbours of short decimals,
// the signs and the values beyond the shortcut.
func TestAppendRounded(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 0.0004, 0.0005, -0.0005, 1e-9, 359.996, 359.994,
		100, 1234.56789, 0x1p50 / 1000, 0x1p53, 1e300, -1e300, math.NaN(), math.Inf(1), math.Inf(-1)} {
		for digits := -1; digits <= maxScaledDigits+1; digits++ {
			checkRounded(t, x, digits)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	for range n {
		digits := r.IntN(maxScaledDigits + 1)
		x := math.Ldexp(1+r.Float64(), r.IntN(80)-30)
		checkRounded(t, x, digits)
		checkRounded(t, -x, digits)
		// Halfway between two decimals of digits places, and beside it.
		half := (math.Round(x*float64(pow10[digits])) + 0.5) / float64(pow10[digits])
		checkRounded(t, half, digits)
		checkRounded(t, math.Nextafter(half, math.Inf(1)), digits)
		checkRounded(t, math.Nextafter(half, math.Inf(-1)), digits)
		checkRounded(t, math.Float64frombits(r.Uint64()), digits)
	}
}

// FuzzAppendRounded: any float64 rounded to any number of decimals is
// written as AppendNumber writes it once RoundTo has rounded it.
func FuzzAppendRounded(f *testing.F) {
	f.Add(math.Float64bits(1234.56789), uint8(3))
	f.Add(math.Float64bits(359.996), uint8(2))
	f.Add(math.Float64bits(0.0005), uint8(3))
	f.Fuzz(func(t *testing.T, u uint64, digits uint8) {
		checkRounded(t, math.Float64frombits(u), int(digits%(maxScaledDigits+3))-1)
	})
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "s123", `"s123"`},
		{"empty", "", `""`},
		{"quote after plain text", `a"b`, `"a\"b"`},
		{"backslash first", `\x`, `"\\x"`},
		{"controls", "a\nb\tc\rd\x01", `"a\nb\tc\rd\u0001"`},
		{"non-ASCII kept as written", "Київ", `"Київ"`},
		{"invalid UTF-8 after plain text", "ab\xffc", "\"ab\uFFFDc\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendJSONString([]byte("x"), tt.in)); got != "x"+tt.want {
				t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got[1:], tt.want)
			}
		})
	}
}

// FuzzAppendJSONString: the output is one JSON string that decodes to what
// encoding/json makes of the input.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"s1", `a"b\c`, "\x00\x1f", "Київ", "\xff\xfe", "a\u2028b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(AppendJSONString(nil, s), &got); err != nil {
			t.Fatalf("AppendJSONString(%q) is not a JSON string: %v", s, err)
		}
		b, _ := json.Marshal(s)
		if err := json.Unmarshal(b, &want); err != nil || got != want {
			t.Fatalf("AppendJSONString(%q) decodes to %q, encoding/json's to %q", s, got, want)
		}
	})
}

// TestAppendHitBearing: a bearing that rounds up to 360° is written as 0°,
// inside the documented [0, 360); at distance 0 it is null.
func TestAppendHitBearing(t *testing.T) {
	l, err := geo.NewLayer("x", "test", []geo.Feature{{ID: "0", Geometry: orb.Point{30, 50}}})
	if err != nil {
		t.Fatal(err)
	}
	f := l.Feature(0)
	for bearing, want := range map[float64]string{359.996: "0", 359.994: "359.99", 0.004: "0", 90: "90", math.NaN(): "null"} {
		h := geo.Hit{Layer: l, Feature: f, Bearing: bearing}
		var got struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(AppendHit(nil, f, &h), &got); err != nil {
			t.Fatal(err)
		}
		if b := string(got.Properties["bearing_deg"]); b != want {
			t.Errorf("bearing %v written as %s, want %s", bearing, b, want)
		}
	}
}
