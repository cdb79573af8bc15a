package server_test

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
)

// qgisScript loads each collection named in argv[2:] from the server at
// argv[1] with QGIS's OAPIF provider, as the QGIS desktop does, and prints
// what QGIS made of it as JSON: its fields and geometry type, how many
// features it read whole, within a box (which QGIS asks the server for by
// bbox), and under a subset string.
const qgisScript = `
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer, QgsFeatureRequest, QgsRectangle, QgsWkbTypes
app = QgsApplication([], False)
app.initQgis()
base, box, subset = sys.argv[1], [float(v) for v in sys.argv[2].split(",")], sys.argv[3]
out = {}
for name in sys.argv[4:]:
    # A layer each: QGIS answers later requests from the features it has.
    layers = [QgsVectorLayer(f"url='{base}' typename='{name}' restrictToRequestBBOX='1'", name, "OAPIF") for _ in range(3)]
    whole, inBox, subsetted = layers
    if not whole.isValid():
        out[name] = {"error": whole.error().summary()}
        continue
    d = {
        "fields": {f.name(): f.typeName() for f in whole.fields()},
        "geometry": QgsWkbTypes.displayString(whole.wkbType()),
        "count": sum(1 for _ in whole.getFeatures()),
        "inBox": sorted(str(f["id"]) for f in inBox.getFeatures(QgsFeatureRequest().setFilterRect(QgsRectangle(*box)))),
    }
    if subsetted.setSubsetString(subset):
        d["subset"] = sum(1 for _ in subsetted.getFeatures())
    out[name] = d
    del whole, inBox, subsetted, layers
print(json.dumps(out))
app.exitQgis()
`

// qgisTypes are the JSON Schema types of the schema resource, with their
// formats, as QGIS names its field types.
var qgisTypes = map[string]string{"string": "String", "string/date-time": "DateTime", "string/date": "Date", "integer": "Integer", "number": "Real", "boolean": "Boolean"}

// TestQGIS: QGIS (PyQGIS, headless) loads every collection through its
// OAPIF provider: counts match, every field it makes has the schema's type,
// its geometry type is one the collection holds, and a map extent is asked
// of the server as a bbox (visible in the request log) whose features are
// those the server finds in it. QGIS 3.22 reads fields and the geometry
// type from the first 10 features rather than the describedBy schema, and
// applies subset strings itself: the subset count is checked, not where it
// is computed.
func TestQGIS(t *testing.T) {
	python := testenv.PythonModule(t, "qgis.core")
	var logs logBuffer
	addr := liveServer(t, server.Limits{}, logTo(&logs))
	f := newFixture(t)
	const (
		box    = "30.3,50.3,30.8,50.6"
		subset = "kind = 'substation'"
	)
	var names []string
	for _, l := range f.ix.Layers() {
		if l.Len() > 0 {
			names = append(names, l.Name())
		}
	}
	home := t.TempDir() // QGIS writes its profile under HOME
	cmd := exec.CommandContext(t.Context(), python, append([]string{"-c", qgisScript, "http://" + addr, box, subset}, names...)...)
	cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen", "HOME="+home, "XDG_RUNTIME_DIR="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyqgis: %v\n%s", err, out)
	}
	var got map[string]struct {
		Error    string
		Fields   map[string]string
		Geometry string
		Count    int
		InBox    []string
		Subset   *int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("pyqgis printed %s: %v", out, err)
	}
	requests := logs.String()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			g, ok := got[name]
			if !ok || g.Error != "" {
				t.Fatalf("QGIS did not load %s: %q", name, g.Error)
			}
			l, _ := f.ix.Layer(name)
			if g.Count != l.Len() {
				t.Errorf("QGIS read %d features, the collection holds %d", g.Count, l.Len())
			}
			props := schemaTypes(t, f, name)
			if len(g.Fields) < 2 {
				t.Errorf("QGIS made fields %v", g.Fields)
			}
			for field, typ := range g.Fields {
				want, ok := props[field]
				switch {
				case field == "id":
					// QGIS's own, from the feature ids.
				case !ok:
					t.Errorf("QGIS made field %s, which the schema lacks", field)
				case want == "number" && typ == "Integer", want == "string" && (typ == "DateTime" || typ == "Date"):
					t.Logf("QGIS typed %s %s from its first features; the schema says %s", field, typ, want)
				case qgisTypes[want] != typ:
					t.Errorf("field %s: QGIS made it %s, the schema says %s", field, typ, want)
				}
			}
			for field := range props {
				if _, ok := g.Fields[field]; !ok {
					t.Logf("QGIS made no field %s: none of its first features carries it", field)
				}
			}
			if !strings.Contains(geometryOf(t, f, name), g.Geometry) {
				t.Errorf("QGIS typed the layer %s; the collection holds %s", g.Geometry, geometryOf(t, f, name))
			}
			want := itemIDs(t, f, "/collections/"+name+"/items?limit=10000&bbox="+box)
			slices.Sort(want)
			if !slices.Equal(g.InBox, want) {
				t.Errorf("in the box QGIS read %v, the server finds %v", g.InBox, want)
			}
			if !strings.Contains(requests, "/collections/"+name+"/items?limit=1000&bbox=30.3") {
				t.Errorf("QGIS did not ask the server for the box; requests:\n%s", requests)
			}
			if wantSubset := len(itemIDs(t, f, "/collections/"+name+"/items?limit=10000&filter="+url.QueryEscape(subset))); g.Subset == nil || *g.Subset != wantSubset {
				t.Errorf("subset %q: QGIS read %v features, the server filters %d", subset, g.Subset, wantSubset)
			}
		})
	}
}

// schemaTypes are the JSON Schema types (type/format where a format is
// given) of the properties of collection
// name's features, by its schema resource.
func schemaTypes(t *testing.T, f *fixture, name string) map[string]string {
	t.Helper()
	var schema struct {
		Properties struct {
			Properties struct {
				Properties map[string]struct{ Type, Format string }
			}
		}
	}
	if err := json.Unmarshal(f.get(t, "/collections/"+name+"/schema").Body.Bytes(), &schema); err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for k, v := range schema.Properties.Properties.Properties {
		types[k] = v.Type
		if v.Format != "" {
			types[k] += "/" + v.Format
		}
	}
	return types
}

// geometryOf is how the schema of collection name describes its geometry.
func geometryOf(t *testing.T, f *fixture, name string) string {
	t.Helper()
	var schema struct {
		Properties struct{ Geometry struct{ Description string } }
	}
	if err := json.Unmarshal(f.get(t, "/collections/"+name+"/schema").Body.Bytes(), &schema); err != nil {
		t.Fatal(err)
	}
	return schema.Properties.Geometry.Description
}

// itemIDs are the ids of the features at target, sorted.
func itemIDs(t *testing.T, f *fixture, target string) []string {
	t.Helper()
	ids := featureIDs(t, decode(t, f.get(t, target).Body.Bytes()))
	slices.Sort(ids)
	return ids
}
