package jsonscan

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/internal/testenv"
)

// energyLayer returns the embedded energy layer and the properties object
// of each of its features: the text the layer decoder and the server's
// property walks read.
func energyLayer(b *testing.B) (layer []byte, props [][]byte) {
	layer, err := data.Layers().ReadFile("energy.geojson")
	if err != nil {
		b.Fatal(err)
	}
	var fc struct {
		Features []struct{ Properties json.RawMessage }
	}
	if err := json.Unmarshal(layer, &fc); err != nil {
		b.Fatal(err)
	}
	for _, f := range fc.Features {
		props = append(props, f.Properties)
	}
	return layer, props
}

// benchProps runs fn over every properties object of the energy layer,
// reporting the CPU time per object, which leaves out what other
// processes on a shared machine take.
func benchProps(b *testing.B, fn func(p []byte)) {
	_, props := energyLayer(b)
	n := 0
	for _, p := range props {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu := testenv.ThreadCPU(b)
	for range b.N {
		for _, p := range props {
			fn(p)
		}
	}
	b.ReportMetric(float64((testenv.ThreadCPU(b)-cpu).Nanoseconds())/float64(b.N*len(props)), "cpu-ns/object")
}

func BenchmarkEachMember(b *testing.B) {
	members := 0
	benchProps(b, func(p []byte) {
		EachMember(p, func(key, value []byte) bool {
			members++
			return true
		})
	})
	if members == 0 {
		b.Fatal("no members walked")
	}
}

func BenchmarkString(b *testing.B) {
	var n int
	benchProps(b, func(p []byte) {
		EachMember(p, func(key, value []byte) bool {
			if s, ok := String(value); ok {
				n += len(s)
			}
			return true
		})
	})
}

func BenchmarkDepth(b *testing.B) {
	benchProps(b, func(p []byte) {
		if Depth(p) != 1 {
			b.Fatalf("Depth(%s) != 1", p)
		}
	})
}

func BenchmarkCheckText(b *testing.B) {
	benchProps(b, func(p []byte) {
		if err := CheckText(p); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkText checks the whole energy layer, then skips it as checked
// text, as the layer decoder does.
func BenchmarkText(b *testing.B) {
	layer, _ := energyLayer(b)
	for _, checked := range []bool{false, true} {
		name := "check"
		if checked {
			name = "skip"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(layer)))
			b.ReportAllocs()
			for range b.N {
				t := Text{B: layer, Checked: checked}
				if err := t.Whole(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFields finds the members of every properties object the layer
// decoder asks for.
func BenchmarkFields(b *testing.B) {
	names := []string{"name", "kind", "energy_class"}
	values := make([][]byte, len(names))
	benchProps(b, func(p []byte) {
		t := Text{B: p, Checked: true}
		if err := t.Fields(names, values); err != nil {
			b.Fatal(err)
		}
	})
}
