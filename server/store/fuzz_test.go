package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// decodeAll reads dec to the end, at most limit records, failing the test
// on anything but EOF, a strike or a *RecordError.
func decodeAll(t *testing.T, dec Decoder, limit int) []Strike {
	var out []Strike
	for range limit {
		s, err := dec.Next()
		var re *RecordError
		switch {
		case err == io.EOF:
			return out
		case errors.As(err, &re):
			if re.Err == nil || re.Error() == "" {
				t.Fatalf("empty record error %#v", re)
			}
		case err != nil:
			t.Fatalf("error of type %T: %v", err, err)
		default:
			out = append(out, s)
		}
	}
	t.Fatalf("more than %d records from a small input", limit)
	return nil
}

func seedFiles(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "strikes", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzGeoJSONDecoder: never panics or loops; every strike it returns is
// valid, and writing it out with AppendFeature and reading it back gives
// the same strike.
func FuzzGeoJSONDecoder(f *testing.F) {
	seedFiles(f, "strikes.geojson", "bad.geojson")
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e308,-0]},"properties":{"datetime":"0001-01-01T00:00:00Z","a":{"b":[1,"\u0000"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range decodeAll(t, NewGeoJSONDecoder(bytes.NewReader(data)), len(data)+2) {
			if fe := check(&s); fe != nil {
				t.Fatalf("accepted an invalid strike: %s: %v", fe.field, fe.err)
			}
			out := AppendFeature(nil, &s)
			back := decodeAll(t, NewGeoJSONDecoder(bytes.NewReader(out)), 2)
			if len(back) != 1 || !back[0].Time.Equal(s.Time) {
				t.Fatalf("%s read back as %+v", out, back)
			}
			back[0].Time = s.Time
			sameContent(t, back[0], s)
		}
	})
}

// FuzzCSVDecoder: never panics or loops; every strike it returns is valid
// and has one of the uncertainties its data set's precision codes map to.
func FuzzCSVDecoder(f *testing.F) {
	seedFiles(f, "acled.csv", "bad.csv", "acled_export.csv", "ucdp.csv", "ucdp_bad.csv")
	f.Add([]byte("event_id_cnty,event_date,latitude,longitude,geo_precision\nA,2025-03-20,NaN,Inf,1\nB,0000-01-01,0,0,2\n"))
	f.Add([]byte("id,date_start,date_end,latitude,longitude,where_prec\n1,12/31/2022 11:59:59 PM,1/1/2023 00:00,50,30,7\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range decodeAll(t, NewCSVDecoder(bytes.NewReader(data)), bytes.Count(data, []byte{'\n'})+2) {
			checkDecoded(t, &s)
			codes := geoPrecisionMeters
			if s.Source == UCDPSource {
				codes = wherePrecMeters
			}
			if !slices.Contains(slices.Collect(maps.Values(codes)), s.UncertaintyMeters) {
				t.Fatalf("uncertainty %v", s.UncertaintyMeters)
			}
		}
	})
}

// FuzzMappedCSVDecoder: any mapping ParseColumns accepts reads any CSV
// without a panic or a loop, and every strike it returns is valid.
func FuzzMappedCSVDecoder(f *testing.F) {
	f.Add("lat=y,lon=x,time=t,end=e,id=i,uncertainty=u", []byte("x,y,t,e,i,u,note\n30,50,2025-03-20,2025-03-21,A,500,n\n30,50,2025-03-20T04:10:00+02:00,,B,-1,\n"))
	f.Add("lat=a,lon=a,time=a,source=a", []byte("a\n50\n"))
	f.Fuzz(func(t *testing.T, spec string, data []byte) {
		c, err := ParseColumns(spec)
		if err != nil {
			return
		}
		for _, s := range decodeAll(t, NewMappedCSVDecoder(bytes.NewReader(data), c), bytes.Count(data, []byte{'\n'})+2) {
			checkDecoded(t, &s)
		}
	})
}

// checkDecoded fails t unless s is a strike the store would take.
func checkDecoded(t *testing.T, s *Strike) {
	t.Helper()
	if fe := check(s); fe != nil {
		t.Fatalf("accepted an invalid strike: %s: %v", fe.field, fe.err)
	}
	if s.Extra != nil && !json.Valid(s.Extra) {
		t.Fatalf("extra %s is not JSON", s.Extra)
	}
}
