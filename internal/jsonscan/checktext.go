package jsonscan

import "errors"

// Errors of CheckText.
var (
	ErrNUL           = errors.New(`a string holds NUL (\u0000), which database text, XML and spreadsheets cannot hold`)
	ErrLoneSurrogate = errors.New(`a string holds a lone UTF-16 surrogate escape (\uD800 to \uDFFF unpaired), which is no character`)
)

// CheckText refuses JSON text b whose strings escape NUL or a lone
// surrogate: encoding/json would quietly read the one as a character no
// database text, XML or spreadsheet holds and the other as U+FFFD, so the
// value stored or served would not be the value sent. Strikes and site
// layers alike are checked with it when read. b is otherwise taken to be
// valid JSON.
func CheckText(b []byte) error {
	t := Text{B: b, Checked: true}
	for t.I < len(b) {
		if b[t.I] != '"' {
			t.I++
			continue
		}
		start := t.I
		escaped, ok := t.skipString()
		if !ok {
			return nil
		}
		if escaped {
			if err := checkEscapes(b[start+1 : t.I-1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEscapes refuses a string body whose \u escapes give NUL or a lone
// surrogate.
func checkEscapes(s []byte) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 < len(s) && s[i+1] == 'u' {
			switch v := hex4(s, i+2); {
			case v == 0:
				return ErrNUL
			case v >= 0xD800 && v <= 0xDBFF:
				if i+7 >= len(s) || s[i+6] != '\\' || s[i+7] != 'u' {
					return ErrLoneSurrogate
				}
				if w := hex4(s, i+8); w < 0xDC00 || w > 0xDFFF {
					return ErrLoneSurrogate
				}
				i += 6
			case v >= 0xDC00 && v <= 0xDFFF:
				return ErrLoneSurrogate
			}
		}
		i++
	}
	return nil
}

// hex4 reads the four hex digits at s[i:], or -1.
func hex4(s []byte, i int) int {
	if i+4 > len(s) {
		return -1
	}
	v := 0
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return v
}
