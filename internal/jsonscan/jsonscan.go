// Package jsonscan reads JSON where it lies, without decoding it: Text checks
// and walks a value (the layer decoder's scanner) and EachMember walks the
// members of an object (properties, read on every filtered request and
// every strike), where encoding/json would allocate for each token.
package jsonscan

import (
	"bytes"
	"encoding/json"
)

// EachMember calls fn with the key (unescaped) and the value (as written)
// of each member of obj, in order, until fn returns false. The key is only
// valid during the call. Malformed input ends the walk early; it never
// panics.
func EachMember(obj []byte, fn func(key, value []byte) bool) {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
		if i == len(obj) || obj[i] != '"' {
			return
		}
		kend := valueEnd(obj, i)
		if kend < 0 {
			return
		}
		key := obj[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			k, ok := String(obj[i:kend])
			if !ok {
				return
			}
			key = []byte(k)
		}
		i = skipSpace(obj, kend)
		if i == len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		vend := valueEnd(obj, i)
		if vend < 0 {
			return
		}
		if !fn(key, obj[i:vend]) {
			return
		}
		i = vend
	}
}

// String decodes a JSON string value.
func String(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value starting at i, or -1
// when it is cut short.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := valueEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
