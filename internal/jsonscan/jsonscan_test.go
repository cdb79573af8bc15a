package jsonscan

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestEachMember walks objects with escapes, nesting, spacing and strings
// holding brackets.
func TestEachMember(t *testing.T) {
	tests := []struct {
		name, obj string
		want      []string // key=value
	}{
		{"empty", `{}`, nil},
		{"scalars", `{"a":1,"b":true,"c":null,"d":-2.5e3}`, []string{"a=1", "b=true", "c=null", "d=-2.5e3"}},
		{"spaced", " {\n \"a\" : 1 ,\t\"b\": [ 1, 2 ] }", []string{"a=1", "b=[ 1, 2 ]"}},
		{"escaped key and value", `{"na\"me":"x\\y","é":"\u00e9"}`, []string{`na"me="x\\y"`, `é="\u00e9"`}},
		{"nesting with brackets in strings", `{"a":{"b":"}"},"c":[1,"]",[2]],"d":0}`, []string{`a={"b":"}"}`, `c=[1,"]",[2]]`, "d=0"}},
		{"cut short", `{"a":1,"b":`, []string{"a=1"}},
		{"unterminated string", `{"a":"x`, nil},
		{"not an object", `[1,2]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			EachMember([]byte(tc.obj), func(key, value []byte) bool {
				got = append(got, string(key)+"="+string(value))
				return true
			})
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, want %q", tc.obj, got, tc.want)
			}
		})
	}
}

// FuzzEachMember: the walk never panics and, on any valid object, visits
// exactly its members, with values that are valid JSON.
func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":"x\"y","b":[1,{"c":"]"}],"d":null}`, `{"a":`, `{"a"1}`, `[1]`, `{"\u00e9":true}`, ` { "a" : { } } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []string
		EachMember(b, func(key, value []byte) bool {
			keys = append(keys, string(key))
			if json.Valid(b) && !json.Valid(value) {
				t.Fatalf("%q: member %q has invalid value %q", b, key, value)
			}
			return true
		})
		// encoding/json replaces invalid UTF-8 in keys; the walk keeps bytes.
		var m map[string]json.RawMessage
		if utf8.Valid(b) && json.Unmarshal(b, &m) == nil && m != nil {
			for _, k := range keys {
				if _, ok := m[k]; !ok {
					t.Fatalf("%q: visited %q, not a member", b, k)
				}
			}
			if len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(m) {
				t.Fatalf("%q: visited %q, members %d", b, keys, len(m))
			}
		}
	})
}

func TestString(t *testing.T) {
	tests := []struct {
		name, raw string
		want      string
		ok        bool
	}{
		{"plain", `"Kyiv"`, "Kyiv", true},
		{"escapes", `"a\"b\\c\u00e9"`, `a"b\cé`, true},
		{"invalid UTF-8 replaced", "\"a\xffb\"", "a\uFFFDb", true},
		{"not a string", `12`, "", false},
		{"empty", ``, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := String([]byte(tc.raw))
			if got != tc.want || ok != tc.ok {
				t.Errorf("String(%s) = %q, %v, want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzString: String never panics and, on every valid JSON value, agrees
// with encoding/json.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"a"`, `"a\"b"`, `"\u00e9\ud83d"`, `"x`, `"a"b`, `1`, "\"\xff\"", "\"\x15\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := String(b)
		if !json.Valid(b) || len(bytes.TrimSpace(b)) != len(b) {
			return
		}
		var want string
		wantOK := json.Unmarshal(b, &want) == nil
		if ok != wantOK || got != want {
			t.Fatalf("String(%q) = %q, %v; encoding/json: %q, %v", b, got, ok, want, wantOK)
		}
	})
}
