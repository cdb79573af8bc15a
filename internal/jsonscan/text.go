package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text checks and walks one JSON value held in memory. Layers hold up
// to millions of features: encoding/json would scan each several times
// over (to split it off, into its members, into its geometry) and allocate
// for every member; this reads each byte once and allocates nothing.
type Text struct {
	B     []byte
	I     int
	depth int
	// checked text was checked already: values are then skipped by their
	// brackets and quotes alone.
	Checked bool
}

// SyntaxError is a syntax error at byte At of a Text.
type SyntaxError struct {
	At  int
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// maxJSONDepth bounds nesting, as in encoding/json, so hostile input cannot
// exhaust the stack.
const maxJSONDepth = 10000

func (t *Text) fail(format string, args ...any) error {
	return &SyntaxError{At: t.I, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the byte at t.I, or the end of input, as out of place.
func (t *Text) unexpected(context string) error {
	if t.I >= len(t.B) {
		return t.fail("unexpected end of input")
	}
	return t.fail("invalid character %s %s", QuoteByte(t.B[t.I]), context)
}

func QuoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRuneToASCII(rune(c))
	}
	return fmt.Sprintf(`'\x%02x'`, c)
}

func (t *Text) WS() {
	for t.I < len(t.B) {
		switch t.B[t.I] {
		case ' ', '\t', '\n', '\r':
			t.I++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte, or 0 at the end.
func (t *Text) Peek() byte {
	t.WS()
	if t.I < len(t.B) {
		return t.B[t.I]
	}
	return 0
}

// Whole checks that the text is exactly one JSON value.
func (t *Text) Whole() error {
	if err := t.value(); err != nil {
		return err
	}
	if t.Peek() != 0 {
		return t.unexpected("after top-level value")
	}
	return nil
}

// Value checks the value at t.I, or in checked text skips it, and moves
// past it.
func (t *Text) Value() error { return t.value() }

// value checks the value at t.I and moves past it.
func (t *Text) value() error {
	if t.Checked {
		if _, ok := t.skipChecked(); !ok {
			return t.unexpected("looking for a value")
		}
		return nil
	}
	switch c := t.Peek(); c {
	case '{':
		return t.Members(nil)
	case '[':
		return t.Array(nil)
	case '"':
		_, err := t.str()
		return err
	case 't':
		return t.literal("true")
	case 'f':
		return t.literal("false")
	case 'n':
		return t.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return t.number()
		}
		return t.unexpected("looking for beginning of value")
	}
}

// Members checks the object at t.I and calls fn with each member's key (as
// written, between its quotes) and raw value, until fn returns false; t.I
// then lies just past that member. In checked text keys are skipped by their
// quotes alone.
func (t *Text) Members(fn func(key, value []byte) bool) error {
	if t.depth++; t.depth > maxJSONDepth {
		return t.fail("exceeded max depth")
	}
	t.I++
	if t.Peek() == '}' {
		t.I++
		t.depth--
		return nil
	}
	for {
		if t.Peek() != '"' {
			return t.unexpected("looking for beginning of object key string")
		}
		ks := t.I
		if t.Checked {
			if _, ok := t.skipString(); !ok {
				return t.unexpected("")
			}
		} else if _, err := t.str(); err != nil {
			return err
		}
		key := t.B[ks+1 : t.I-1]
		if t.Peek() != ':' {
			return t.unexpected("after object key")
		}
		t.I++
		t.WS()
		vs := t.I
		if err := t.value(); err != nil {
			return err
		}
		if fn != nil && !fn(key, t.B[vs:t.I]) {
			return nil
		}
		switch t.Peek() {
		case ',':
			t.I++
		case '}':
			t.I++
			t.depth--
			return nil
		default:
			return t.unexpected("after object key:value pair")
		}
	}
}

// Fields checks the object at t.I and sets values[k] to the raw value of
// its member names[k], matched as encoding/json matches struct fields (the
// last such member wins); values of absent members stay nil.
func (t *Text) Fields(names []string, values [][]byte) error {
	return t.Members(func(key, value []byte) bool {
		for k, name := range names {
			if keyIs(key, name) {
				values[k] = value
				break
			}
		}
		return true
	})
}

// Array checks the array at t.I and calls fn, when not nil, with each
// element's raw value.
func (t *Text) Array(fn func(value []byte)) error {
	if t.depth++; t.depth > maxJSONDepth {
		return t.fail("exceeded max depth")
	}
	t.I++
	if t.Peek() == ']' {
		t.I++
		t.depth--
		return nil
	}
	for {
		t.WS()
		vs := t.I
		if err := t.value(); err != nil {
			return err
		}
		if fn != nil {
			fn(t.B[vs:t.I])
		}
		switch t.Peek() {
		case ',':
			t.I++
		case ']':
			t.I++
			t.depth--
			return nil
		default:
			return t.unexpected("after array element")
		}
	}
}

// str checks the string at t.I and reports whether it holds escapes.
func (t *Text) str() (escaped bool, err error) {
	t.I++
	for t.I < len(t.B) {
		switch c := t.B[t.I]; {
		case c == '"':
			t.I++
			return escaped, nil
		case c == '\\':
			escaped = true
			t.I++
			if t.I >= len(t.B) {
				return escaped, t.unexpected("")
			}
			switch t.B[t.I] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				t.I++
			case 'u':
				t.I++
				for range 4 {
					if t.I >= len(t.B) || !isHex(t.B[t.I]) {
						return escaped, t.unexpected(`in \u hexadecimal character escape`)
					}
					t.I++
				}
			default:
				return escaped, t.unexpected("in string escape code")
			}
		case c < ' ':
			return escaped, t.unexpected("in string literal")
		default:
			t.I++
		}
	}
	return escaped, t.unexpected("")
}

// skipChecked moves past a value of checked text and returns how deeply it
// nests objects and arrays; ok is false when the text ends first or holds
// no value at t.I.
func (t *Text) skipChecked() (deepest int, ok bool) {
	depth := 0
	for t.Peek(); t.I < len(t.B); {
		switch t.B[t.I] {
		case '"':
			if _, ok := t.skipString(); !ok {
				return deepest, false
			}
		case '{', '[':
			if depth++; depth > deepest {
				deepest = depth
			}
			t.I++
		case '}', ']':
			if depth == 0 {
				return deepest, false
			}
			depth--
			t.I++
		default:
			if depth == 0 && delimiter[t.B[t.I]] {
				return deepest, false
			}
			t.I++
			for t.I < len(t.B) && !structural[t.B[t.I]] && (depth > 0 || !delimiter[t.B[t.I]]) {
				t.I++
			}
		}
		if depth == 0 {
			return deepest, true
		}
	}
	return deepest, false
}

// skipString moves past the string at t.I in checked text, following its
// quotes and backslashes alone; ok is false when the text ends first.
func (t *Text) skipString() (escaped, ok bool) {
	for j := t.I + 1; j < len(t.B); j++ {
		switch t.B[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			t.I = j + 1
			return escaped, true
		}
	}
	t.I = len(t.B)
	return escaped, false
}

// structural marks the bytes skip must look at inside a value.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// delimiter marks the bytes that end a number or literal.
var delimiter = [256]bool{',': true, '}': true, ']': true, ' ': true, '\t': true, '\n': true, '\r': true}

// Structural reports whether a skip must look at c inside a value.
func Structural(c byte) bool { return structural[c] }

// Delimiter reports whether c ends a number or literal.
func Delimiter(c byte) bool { return delimiter[c] }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func IsDigit(c byte) bool { return c >= '0' && c <= '9' }

// number checks a number against JSON's grammar: strconv.ParseFloat alone
// would also take "+1", ".5", "01" or "Inf".
func (t *Text) number() error {
	if t.B[t.I] == '-' {
		t.I++
	}
	switch {
	case t.I < len(t.B) && t.B[t.I] == '0':
		t.I++
	case t.I < len(t.B) && IsDigit(t.B[t.I]):
		t.digits()
	default:
		return t.unexpected("in numeric literal")
	}
	if t.I < len(t.B) && t.B[t.I] == '.' {
		t.I++
		if t.I >= len(t.B) || !IsDigit(t.B[t.I]) {
			return t.unexpected("after decimal point in numeric literal")
		}
		t.digits()
	}
	if t.I < len(t.B) && (t.B[t.I] == 'e' || t.B[t.I] == 'E') {
		t.I++
		if t.I < len(t.B) && (t.B[t.I] == '+' || t.B[t.I] == '-') {
			t.I++
		}
		if t.I >= len(t.B) || !IsDigit(t.B[t.I]) {
			return t.unexpected("in exponent of numeric literal")
		}
		t.digits()
	}
	return nil
}

func (t *Text) digits() {
	for t.I < len(t.B) && IsDigit(t.B[t.I]) {
		t.I++
	}
}

func (t *Text) literal(word string) error {
	for k := range len(word) {
		if t.I >= len(t.B) || t.B[t.I] != word[k] {
			return t.unexpected("in literal " + word + " (expecting " + strconv.QuoteRuneToASCII(rune(word[k])) + ")")
		}
		t.I++
	}
	return nil
}

// ErrTruncated is the end of input inside a JSON text.
var ErrTruncated = errors.New("invalid JSON: unexpected end of input")

// Reword words an encoding/json decoding error the way the layer
// decoder words its own.
func Reword(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// IsNull reports whether a checked raw value is absent or null.
func IsNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// keyIs reports whether a member key, as written, names the field name the
// way encoding/json matches struct fields: exactly or, failing that, equal
// under Unicode case folding.
func keyIs(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	if bytes.IndexByte(key, '\\') >= 0 {
		s, ok := unescape(key)
		return ok && strings.EqualFold(s, name)
	}
	return strings.EqualFold(string(key), name)
}

// AppendUnquoted appends the contents of a checked JSON string literal,
// escapes resolved and invalid UTF-8 replaced, as encoding/json decodes it.
func AppendUnquoted(dst, raw []byte) []byte {
	body := raw[1 : len(raw)-1]
	if asWritten(body) {
		return append(dst, body...)
	}
	s, _ := unescape(body) // raw was checked, so this cannot fail
	return append(dst, s...)
}

// String decodes a string value of checked JSON text as encoding/json
// does; ok is false when raw is not a string.
func String(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if asWritten(body) {
		return string(body), true
	}
	return unescape(body)
}

// asWritten reports whether the body of a checked string literal decodes
// to itself: no escapes, valid UTF-8.
func asWritten(body []byte) bool {
	return bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)
}

// unescape decodes the body of a JSON string literal, its text between the
// quotes, where escapes or invalid UTF-8 call for encoding/json.
func unescape(body []byte) (string, bool) {
	quoted := make([]byte, 0, len(body)+2)
	quoted = append(append(append(quoted, '"'), body...), '"')
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err == nil
}

// AppendCompact appends checked JSON without the white space between its
// tokens, as json.Compact does.
func AppendCompact(dst, src []byte) []byte {
	inString := false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}
