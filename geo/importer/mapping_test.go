package importer

import (
	"strings"
	"testing"

	"github.com/paulmach/osm"
)

func tags(kv ...string) osm.Tags {
	var t osm.Tags
	for i := 0; i+1 < len(kv); i += 2 {
		t = append(t, osm.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return t
}

func TestConditions(t *testing.T) {
	cases := []struct {
		name, cond string
		tags       osm.Tags
		want       bool
	}{
		{"key present", "bridge", tags("bridge", "viaduct"), true},
		{"key=no is absent", "bridge", tags("bridge", "no"), false},
		{"key missing", "bridge", tags("highway", "primary"), false},
		{"value in list", "power=line,minor_line", tags("power", "minor_line"), true},
		{"value not in list", "power=line,minor_line", tags("power", "cable"), false},
		{"negation holds", "bridge!=no", tags("bridge", "yes"), true},
		{"negation fails", "bridge!=no,abandoned", tags("bridge", "abandoned"), false},
		{"negation needs the key", "bridge!=no", tags(), false},
		{"second alternative", "amenity=hospital|healthcare=hospital", tags("healthcare", "hospital"), true},
		{"no alternative", "highway|railway", tags("waterway", "canal"), false},
		{"spaces around parts", " power = plant , generator ", tags("power", "generator"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cond, err := parseCondition(c.cond)
			if err != nil {
				t.Fatal(err)
			}
			if got := cond.holds(c.tags); got != c.want {
				t.Errorf("%q on %v = %v, want %v", c.cond, c.tags, got, c.want)
			}
		})
	}
}

func TestReadMappingErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"not JSON", `{`, "mapping: unexpected EOF"},
		{"unknown field", `{"rules":[{"layer":"a","kind":"b","match":["x"],"colour":"red"}]}`, `unknown field "colour"`},
		{"no rules", `{"rules":[]}`, "no rules"},
		{"bad layer", `{"rules":[{"layer":"a b","kind":"b","match":["x"]}]}`, `rule 0 (layer "a b", kind "b"): layer: "a b" is not a valid layer name`},
		{"no kind", `{"rules":[{"layer":"a","match":["x"]}]}`, "kind: missing"},
		{"bad elements", `{"rules":[{"layer":"a","kind":"b","elements":"nx","match":["x"]}]}`, `elements: "nx"`},
		{"bad area", `{"rules":[{"layer":"a","kind":"b","area":"maybe","match":["x"]}]}`, `area: "maybe"`},
		{"no match", `{"rules":[{"layer":"a","kind":"b"}]}`, "match: no conditions"},
		{"empty value", `{"rules":[{"layer":"a","kind":"b","match":["power="]}]}`, `match 0: "power=": no value`},
		{"empty list item", `{"rules":[{"layer":"a","kind":"b","match":["power=line,,cable"]}]}`, "empty value in the list"},
		{"empty alternative", `{"rules":[{"layer":"a","kind":"b","match":["highway|"]}]}`, "no tag key"},
		{"reserved keep", `{"rules":[{"layer":"a","kind":"b","match":["x"],"keep":["source"]}]}`, `keep: "source" is set by the importer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadMapping(strings.NewReader(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestMatchFirstRulePerLayer(t *testing.T) {
	mt, err := newMatcher(DefaultMapping(), []string{"clinics"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		elem  byte
		tags  osm.Tags
		kinds []string // layer/kind of each hit
	}{
		{"hospital that is also a clinic", 'n', tags("amenity", "hospital", "healthcare", "clinic"), []string{"hospitals/hospital"}},
		{"power line is a way rule only", 'n', tags("power", "line"), nil},
		{"power line way", 'w', tags("power", "line"), []string{"energy/line"}},
		{"railway bridge", 'w', tags("railway", "rail", "bridge", "yes"), []string{"bridges/bridge"}},
		{"bridge=no", 'w', tags("railway", "rail", "bridge", "no"), nil},
		{"plant on a bridge feeds two layers", 'w', tags("power", "plant", "man_made", "bridge"), []string{"energy/plant", "bridges/bridge"}},
		{"untagged", 'w', nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, r := range mt.match(c.elem, c.tags) {
				got = append(got, r.Layer+"/"+r.Kind)
			}
			if strings.Join(got, " ") != strings.Join(c.kinds, " ") || mt.any(c.elem, c.tags) != (len(c.kinds) > 0) {
				t.Errorf("hits %v, want %v", got, c.kinds)
			}
		})
	}
}
