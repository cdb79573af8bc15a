package server_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
)

// owslibScript asks a server for items as OWSLib's OGC API - Features
// client does, with a CQL2 filter, sortby and property selection, and
// prints what it got as JSON.
const owslibScript = `
import json, sys
from owslib.ogcapi.features import Features
api = Features(sys.argv[1])
out = {"conformance": api.conformance()["conformsTo"]}
r = api.collection_items("energy", filter="voltage_kv >= 330 AND kind = 'substation'", sortby="-voltage_kv,name", limit=100)
out["filtered"] = [f["id"] for f in r["features"]]
out["matched"] = r["numberMatched"]
r = api.collection_items("energy", properties="name", skipGeometry="true", limit=5)
out["properties"] = sorted({k for f in r["features"] for k in f["properties"]})
out["geometries"] = [f["geometry"] for f in r["features"]]
print(json.dumps(out))
`

// TestOWSLib: OWSLib, a Python client of OGC API - Features, filters,
// sorts and selects properties on the server.
func TestOWSLib(t *testing.T) {
	python := testenv.PythonModule(t, "owslib")
	addr := liveServer(t, server.Limits{})
	out, err := exec.Command(python, "-c", owslibScript, "http://"+addr).CombinedOutput()
	if err != nil {
		t.Fatalf("owslib: %v\n%s", err, out)
	}
	var got struct {
		Conformance []string
		Filtered    []string
		Matched     int
		Properties  []string
		Geometries  []any
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("owslib printed %s: %v", out, err)
	}
	f := newFixture(t)
	energy, _ := f.ix.Layer("energy")
	want := sortedIDs(t, energy, "-voltage_kv,name", func(i int) bool {
		var p struct {
			Kind    string   `json:"kind"`
			Voltage *float64 `json:"voltage_kv"`
		}
		json.Unmarshal(energy.Feature(i).Properties, &p)
		return p.Kind == "substation" && p.Voltage != nil && *p.Voltage >= 330
	})
	if !slices.Equal(got.Filtered, want) || got.Matched != len(want) || len(want) < 3 {
		t.Errorf("filtered and sorted: %v (numberMatched %d), want %v", got.Filtered, got.Matched, want)
	}
	if !slices.Equal(got.Properties, []string{"name"}) || len(got.Geometries) != 5 || slices.ContainsFunc(got.Geometries, func(g any) bool { return g != nil }) {
		t.Errorf("properties=name&skipGeometry=true: properties %v, geometries %v", got.Properties, got.Geometries)
	}
	if !slices.ContainsFunc(got.Conformance, func(c string) bool { return strings.HasSuffix(c, "/conf/features-filter") }) {
		t.Errorf("conformance %v", got.Conformance)
	}
}
