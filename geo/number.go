package geo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// IsNumber reports whether s is exactly one number in JSON's syntax
// (RFC 8259 §6): an optional '-', digits without leading zeros, an
// optional fraction and exponent. "+1", ".5", "1.", "01", "0x1p4", "1_0",
// "Inf" and "NaN" are not, though strconv.ParseFloat takes several.
func IsNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// ParseNumber reads s, spaces around it trimmed, as a finite number in
// JSON's syntax (see IsNumber): the one number syntax every reader of
// protectmap takes, whether the number comes in JSON, CSV or a query
// parameter. A number too large for a float64 is refused too.
func ParseNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if !IsNumber(t) {
		return 0, fmt.Errorf("%q is not a number (digits, an optional '-', fraction and exponent)", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is beyond the range of a number", s)
	}
	return f, nil
}
