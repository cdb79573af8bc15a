package store

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkPut records strikes one per Put (one fsync'd commit each) and
// in batches of 1,000, on both backends, and reports strikes per second.
func BenchmarkPut(b *testing.B) {
	for _, backend := range backends {
		for _, size := range []int{1, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", backend, size), func(b *testing.B) {
				st := openStore(b, freshDSN(b, backend))
				batch := samples(0, size)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					for k := range batch {
						batch[k].SourceEventID = fmt.Sprintf("b%d-%d", i, k)
					}
					if _, err := st.Put(ctx, "tester", batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "strikes/s")
			})
		}
	}
}

// BenchmarkDecode reads 10,000 strikes from GeoJSON and from CSV.
func BenchmarkDecode(b *testing.B) {
	const n = 10_000
	var geojson, csv bytes.Buffer
	geojson.WriteString(`{"type":"FeatureCollection","features":[`)
	csv.WriteString("event_id_cnty,event_date,latitude,longitude,geo_precision,event_type,sub_event_type,notes\n")
	for i := range n {
		if i > 0 {
			geojson.WriteString(",\n")
		}
		fmt.Fprintf(&geojson, `{"type":"Feature","geometry":{"type":"Point","coordinates":[30.%06d,50.1]},`+
			`"properties":{"datetime":"2025-03-20T04:10:00Z","uncertainty_m":500,"source":"bench","event_id":"E%d",`+
			`"weapon":"drone","notes":"%s","damage":{"level":"moderate"}}}`, i, i, strings.Repeat("n", 100))
		fmt.Fprintf(&csv, "E%d,2025-03-20,50.1,30.%06d,1,Explosions/Remote violence,Air/drone strike,%s\n", i, i, strings.Repeat("n", 100))
	}
	geojson.WriteString("]}")
	for name, c := range map[string]struct {
		data []byte
		dec  func(io.Reader) Decoder
	}{
		"geojson": {geojson.Bytes(), func(r io.Reader) Decoder { return NewGeoJSONDecoder(r) }},
		"csv":     {csv.Bytes(), func(r io.Reader) Decoder { return NewCSVDecoder(r) }},
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for range b.N {
				dec := c.dec(bytes.NewReader(c.data))
				for {
					if _, err := dec.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "strikes/s")
		})
	}
}

// BenchmarkPruneVersions prunes a store whose audit log holds 100,000
// events with verdicts, on both backends, keeping the last version served
// and the seven judged on: the verdicts' versions are read from every
// event's record at each prune.
func BenchmarkPruneVersions(b *testing.B) {
	const events = 100_000
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			st := openStore(b, freshDSN(b, backend))
			for i := range 8 {
				v := DataVersion{Version: fmt.Sprint("v", i)}
				if err := st.SaveVersion(ctx, v, []VersionPart{part("agreements", []byte(v.Version))}); err != nil {
					b.Fatal(err)
				}
			}
			for from := 0; from < events; from += 1000 {
				batch := samples(from, from+1000)
				for k := range batch {
					batch[k].Verdict = &Verdict{DataVersion: fmt.Sprint("v", from%7), Body: []byte(`{"verdict":"no_protected_site"}`)}
				}
				if _, err := st.Put(ctx, "tester", batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				if _, err := st.PruneVersions(ctx, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/prune")
		})
	}
}
