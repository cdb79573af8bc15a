package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonText checks and walks one JSON value held in memory. Layers hold up
// to millions of features: encoding/json would scan each several times
// over (to split it off, into its members, into its geometry) and allocate
// for every member; this reads each byte once and allocates nothing.
type jsonText struct {
	b     []byte
	i     int
	depth int
	// checked text was checked already: values are then skipped by their
	// brackets and quotes alone.
	checked bool
}

// jsonSyntaxError is a syntax error at byte At of a jsonText.
type jsonSyntaxError struct {
	At  int
	Msg string
}

func (e *jsonSyntaxError) Error() string { return e.Msg }

// maxJSONDepth bounds nesting, as in encoding/json, so hostile input cannot
// exhaust the stack.
const maxJSONDepth = 10000

func (t *jsonText) fail(format string, args ...any) error {
	return &jsonSyntaxError{At: t.i, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the byte at t.i, or the end of input, as out of place.
func (t *jsonText) unexpected(context string) error {
	if t.i >= len(t.b) {
		return t.fail("unexpected end of input")
	}
	return t.fail("invalid character %s %s", quoteByte(t.b[t.i]), context)
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRuneToASCII(rune(c))
	}
	return fmt.Sprintf(`'\x%02x'`, c)
}

func (t *jsonText) ws() {
	for t.i < len(t.b) {
		switch t.b[t.i] {
		case ' ', '\t', '\n', '\r':
			t.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, or 0 at the end.
func (t *jsonText) peek() byte {
	t.ws()
	if t.i < len(t.b) {
		return t.b[t.i]
	}
	return 0
}

// whole checks that the text is exactly one JSON value.
func (t *jsonText) whole() error {
	if err := t.value(); err != nil {
		return err
	}
	if t.peek() != 0 {
		return t.unexpected("after top-level value")
	}
	return nil
}

// value checks the value at t.i and moves past it.
func (t *jsonText) value() error {
	if t.checked {
		t.skipChecked()
		return nil
	}
	switch c := t.peek(); c {
	case '{':
		return t.object(nil)
	case '[':
		return t.array(nil)
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

// object checks the object at t.i and calls fn, when not nil, with each
// member's key (as written, between its quotes) and raw value.
func (t *jsonText) object(fn func(key, value []byte)) error {
	if t.depth++; t.depth > maxJSONDepth {
		return t.fail("exceeded max depth")
	}
	t.i++
	if t.peek() == '}' {
		t.i++
		t.depth--
		return nil
	}
	for {
		if t.peek() != '"' {
			return t.unexpected("looking for beginning of object key string")
		}
		ks := t.i
		if _, err := t.str(); err != nil {
			return err
		}
		key := t.b[ks+1 : t.i-1]
		if t.peek() != ':' {
			return t.unexpected("after object key")
		}
		t.i++
		t.ws()
		vs := t.i
		if err := t.value(); err != nil {
			return err
		}
		if fn != nil {
			fn(key, t.b[vs:t.i])
		}
		switch t.peek() {
		case ',':
			t.i++
		case '}':
			t.i++
			t.depth--
			return nil
		default:
			return t.unexpected("after object key:value pair")
		}
	}
}

// fields checks the object at t.i and sets values[k] to the raw value of
// its member names[k], matched as encoding/json matches struct fields (the
// last such member wins); values of absent members stay nil.
func (t *jsonText) fields(names []string, values [][]byte) error {
	return t.object(func(key, value []byte) {
		for k, name := range names {
			if keyIs(key, name) {
				values[k] = value
				return
			}
		}
	})
}

// array checks the array at t.i and calls fn, when not nil, with each
// element's raw value.
func (t *jsonText) array(fn func(value []byte)) error {
	if t.depth++; t.depth > maxJSONDepth {
		return t.fail("exceeded max depth")
	}
	t.i++
	if t.peek() == ']' {
		t.i++
		t.depth--
		return nil
	}
	for {
		t.ws()
		vs := t.i
		if err := t.value(); err != nil {
			return err
		}
		if fn != nil {
			fn(t.b[vs:t.i])
		}
		switch t.peek() {
		case ',':
			t.i++
		case ']':
			t.i++
			t.depth--
			return nil
		default:
			return t.unexpected("after array element")
		}
	}
}

// str checks the string at t.i and reports whether it holds escapes.
func (t *jsonText) str() (escaped bool, err error) {
	t.i++
	for t.i < len(t.b) {
		switch c := t.b[t.i]; {
		case c == '"':
			t.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			t.i++
			if t.i >= len(t.b) {
				return escaped, t.unexpected("")
			}
			switch t.b[t.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				t.i++
			case 'u':
				t.i++
				for range 4 {
					if t.i >= len(t.b) || !isHex(t.b[t.i]) {
						return escaped, t.unexpected(`in \u hexadecimal character escape`)
					}
					t.i++
				}
			default:
				return escaped, t.unexpected("in string escape code")
			}
		case c < ' ':
			return escaped, t.unexpected("in string literal")
		default:
			t.i++
		}
	}
	return escaped, t.unexpected("")
}

// skipChecked moves past a value of checked text.
func (t *jsonText) skipChecked() {
	depth := 0
	for t.peek(); t.i < len(t.b); {
		switch t.b[t.i] {
		case '"':
			t.str()
		case '{', '[':
			depth++
			t.i++
		case '}', ']':
			depth--
			t.i++
		default:
			t.i++
			for t.i < len(t.b) && !structural[t.b[t.i]] && (depth > 0 || !delimiter[t.b[t.i]]) {
				t.i++
			}
		}
		if depth == 0 {
			return
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number checks a number against JSON's grammar: strconv.ParseFloat alone
// would also take "+1", ".5", "01" or "Inf".
func (t *jsonText) number() error {
	if t.b[t.i] == '-' {
		t.i++
	}
	switch {
	case t.i < len(t.b) && t.b[t.i] == '0':
		t.i++
	case t.i < len(t.b) && isDigit(t.b[t.i]):
		t.digits()
	default:
		return t.unexpected("in numeric literal")
	}
	if t.i < len(t.b) && t.b[t.i] == '.' {
		t.i++
		if t.i >= len(t.b) || !isDigit(t.b[t.i]) {
			return t.unexpected("after decimal point in numeric literal")
		}
		t.digits()
	}
	if t.i < len(t.b) && (t.b[t.i] == 'e' || t.b[t.i] == 'E') {
		t.i++
		if t.i < len(t.b) && (t.b[t.i] == '+' || t.b[t.i] == '-') {
			t.i++
		}
		if t.i >= len(t.b) || !isDigit(t.b[t.i]) {
			return t.unexpected("in exponent of numeric literal")
		}
		t.digits()
	}
	return nil
}

func (t *jsonText) digits() {
	for t.i < len(t.b) && isDigit(t.b[t.i]) {
		t.i++
	}
}

func (t *jsonText) literal(word string) error {
	for k := range len(word) {
		if t.i >= len(t.b) || t.b[t.i] != word[k] {
			return t.unexpected("in literal " + word + " (expecting " + strconv.QuoteRuneToASCII(rune(word[k])) + ")")
		}
		t.i++
	}
	return nil
}

// syntaxError words an encoding/json decoding error the way the layer
// decoder words its own.
func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// isNull reports whether a checked raw value is absent or null.
func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// keyIs reports whether a member key, as written, names the field name the
// way encoding/json matches struct fields: exactly or, failing that, equal
// under Unicode case folding.
func keyIs(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	for _, c := range key {
		if c == '\\' {
			var s string
			if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &s) != nil {
				return false
			}
			return strings.EqualFold(s, name)
		}
	}
	return strings.EqualFold(string(key), name)
}

// appendUnquoted appends the contents of a checked JSON string literal,
// escapes resolved and invalid UTF-8 replaced, as encoding/json decodes it.
func appendUnquoted(dst, raw []byte) []byte {
	body := raw[1 : len(raw)-1]
	plain := utf8.Valid(body)
	for _, c := range body {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return append(dst, body...)
	}
	var s string
	_ = json.Unmarshal(raw, &s) // raw was checked, so this cannot fail
	return append(dst, s...)
}

// appendCompact appends checked JSON without the white space between its
// tokens, as json.Compact does.
func appendCompact(dst, src []byte) []byte {
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
