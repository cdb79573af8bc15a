package store

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/protectmap/protectmap/internal/jsonscan"
)

// The audit log's canonical JSON is what encoding/json writes, without
// HTML escaping, for the values the store keeps (structs with fields in
// key order, maps with sorted keys, numbers as written). It is written
// here directly: through encoding/json, its reflection and a decoded map
// for every object cost more than the rest of a write.

// appendString appends s as encoding/json writes a string without HTML
// escaping: \b, \f, \n, \r, \t and \" \\ short, other control characters
// as \u00XX, U+2028 and U+2029 escaped, and invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// appendFloat appends x as encoding/json writes a float64: the shortest
// decimal that reads back as x, in exponent form below 1e-6 and from 1e21.
// x must be finite.
func appendFloat(dst []byte, x float64) []byte {
	format := byte('f')
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, x, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// errNotJSON is canonicalJSON's answer to input that is not one JSON value.
var errNotJSON = errors.New("not a JSON value")

// canonicalJSON rewrites a JSON value with object keys sorted (the last of
// a repeated key kept), strings escaped as appendString does, no spaces,
// and numbers kept as written: what encoding/json writes for the value it
// decodes with UseNumber.
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(raw) {
		return nil, errNotJSON
	}
	return appendCanonical(make([]byte, 0, len(raw)), raw), nil
}

// member is an object member on its way to canonical order.
type member struct {
	key   string
	value []byte
}

// appendCanonical appends the canonical form of raw, valid JSON.
func appendCanonical(dst, raw []byte) []byte {
	t := jsonscan.Text{B: raw, Checked: true}
	t.WS()
	switch c := t.Peek(); c {
	case '{':
		var members []member
		jsonscan.EachMember(raw[t.I:], func(key, value []byte) bool {
			members = append(members, member{validKey(key), value})
			return true
		})
		// Stable, so that of a repeated key the last is last, and kept.
		slices.SortStableFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
		dst = append(dst, '{')
		first := true
		for i, m := range members {
			if i+1 < len(members) && members[i+1].key == m.key {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(appendString(dst, m.key), ':')
			dst = appendCanonical(dst, m.value)
		}
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		n := 0
		t.Array(func(value []byte) { //nolint:errcheck // raw is valid
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendCanonical(dst, value)
		})
		return append(dst, ']')
	case '"':
		end := len(raw)
		for end > 0 && raw[end-1] != '"' {
			end--
		}
		return appendString(dst, string(jsonscan.AppendUnquoted(nil, raw[t.I:end])))
	default:
		end := len(raw)
		for end > t.I && (raw[end-1] == ' ' || raw[end-1] == '\t' || raw[end-1] == '\n' || raw[end-1] == '\r') {
			end--
		}
		return append(dst, raw[t.I:end]...)
	}
}

// validKey is an object key as encoding/json decodes it: each byte of
// invalid UTF-8 becomes U+FFFD.
func validKey(key []byte) string {
	if utf8.Valid(key) {
		return string(key)
	}
	return string([]rune(string(key)))
}
