// Package jsonscan reads JSON where it lies, without decoding it. One
// scanner, Text, checks a value against JSON's grammar (text from outside)
// or, for text checked already, skips values by their quotes and brackets
// alone. The layer decoder walks features with it, and the walks here
// (EachMember, Depth, CheckText, String) read the properties of every
// filtered request and every strike with it, where encoding/json would
// allocate for each token.
package jsonscan

// EachMember calls fn with the key (unescaped) and the value (as written)
// of each member of the object obj, valid JSON, in order, until fn returns
// false. The key is only valid during the call. Malformed input ends the
// walk early; it never panics.
func EachMember(obj []byte, fn func(key, value []byte) bool) {
	t := Text{B: obj, Checked: true}
	if t.Peek() != '{' {
		return
	}
	t.Members(func(key, value []byte) bool { //nolint:errcheck // malformed input just ends the walk
		for _, c := range key { // keys are short: a loop beats a call
			if c == '\\' {
				k, ok := unescape(key)
				if !ok {
					return false
				}
				key = []byte(k)
				break
			}
		}
		return fn(key, value)
	})
}
