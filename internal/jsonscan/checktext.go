package jsonscan

import (
	"errors"
	"strconv"
)

// Errors of CheckText.
var (
	ErrNUL           = errors.New(`a string holds NUL (\u0000), which text in the strike log cannot`)
	ErrLoneSurrogate = errors.New(`a string holds a lone UTF-16 surrogate escape (\uD800 to \uDFFF unpaired), which is no character`)
)

// CheckText refuses JSON text b whose strings escape NUL or a lone
// surrogate: encoding/json would quietly read the one as a character no
// database text holds and the other as U+FFFD, so the value stored would
// not be the value sent. b is otherwise taken to be valid JSON.
func CheckText(b []byte) error {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case inString && c == '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				v := hex4(b, i+2)
				switch {
				case v == 0:
					return ErrNUL
				case v >= 0xD800 && v <= 0xDBFF:
					if i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
						return ErrLoneSurrogate
					}
					if w := hex4(b, i+8); w < 0xDC00 || w > 0xDFFF {
						return ErrLoneSurrogate
					}
					i += 6
				case v >= 0xDC00 && v <= 0xDFFF:
					return ErrLoneSurrogate
				}
			}
			i++
		}
	}
	return nil
}

// hex4 reads the four hex digits at b[i:], or -1.
func hex4(b []byte, i int) int {
	if i+4 > len(b) {
		return -1
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 16)
	if err != nil {
		return -1
	}
	return int(v)
}
