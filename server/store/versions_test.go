package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// part is a VersionPart writing body in small pieces, as an encoder does.
func part(name string, body []byte) VersionPart {
	return VersionPart{Name: name, Write: func(w io.Writer) error {
		for b := body; len(b) > 0; {
			n := min(len(b), 1000)
			if _, err := w.Write(b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
		return nil
	}}
}

// loadParts reads every part of a kept version back.
func loadParts(t *testing.T, st Store, version string) (DataVersion, map[string][]byte) {
	t.Helper()
	got := map[string][]byte{}
	v, err := st.LoadVersion(ctx, version, func(name string, r io.Reader) error {
		b, err := io.ReadAll(r)
		got[name] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, got
}

func TestDataVersions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		rng := rand.New(rand.NewPCG(1, 2))
		// A layer over two chunks, compressible like GeoJSON, and one
		// that is not compressible at all.
		large := bytes.Repeat([]byte(`{"type":"Feature","id":"x","geometry":{"type":"Point","coordinates":[30.5,50.4]}},`), chunkBytes/40)
		noise := make([]byte, 100_000)
		for i := range noise {
			noise[i] = byte(rng.Uint32())
		}
		at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		v1 := DataVersion{Version: "v1", FirstServed: at, AgreementsDigest: "d1", Layers: []VersionLayer{{"energy", 2}, {"noise", 1}}}
		if err := st.SaveVersion(ctx, v1, []VersionPart{part("layer:energy", large), part("layer:noise", noise), part("agreements", []byte(`{"agreements":[]}`))}); err != nil {
			t.Fatal(err)
		}
		got, parts := loadParts(t, st, "v1")
		if !bytes.Equal(parts["layer:energy"], large) || !bytes.Equal(parts["layer:noise"], noise) || string(parts["agreements"]) != `{"agreements":[]}` {
			t.Fatalf("the parts read back differ (%d, %d bytes)", len(parts["layer:energy"]), len(parts["layer:noise"]))
		}
		if got.Version != "v1" || !got.FirstServed.Equal(at) || !slices.Equal(got.Layers, v1.Layers) || got.Bytes != int64(len(large)+len(noise)+17) {
			t.Errorf("v1 read back as %+v", got)
		}
		if got.StoredBytes >= int64(len(large))/4 {
			t.Errorf("%d bytes stored for %d: not compressed", got.StoredBytes, got.Bytes)
		}

		// v2 changes only the small layer: the large one's chunks are shared.
		chunks := func() int {
			var n int
			if err := st.db.QueryRowContext(ctx, "SELECT count(*) FROM data_chunks").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := chunks()
		v2 := DataVersion{Version: "v2", FirstServed: at.Add(time.Hour), AgreementsDigest: "d1", Layers: []VersionLayer{{"energy", 2}, {"noise", 1}}}
		if err := st.SaveVersion(ctx, v2, []VersionPart{part("layer:energy", large), part("layer:noise", noise[:50]), part("agreements", []byte(`{"agreements":[]}`))}); err != nil {
			t.Fatal(err)
		}
		if added := chunks() - before; added != 1 {
			t.Errorf("v2 added %d chunks, want 1 (the changed layer)", added)
		}
		if _, err := st.LoadVersion(ctx, "v0", nil); !errors.Is(err, ErrNoVersion) {
			t.Errorf("an unknown version: %v", err)
		}
		if ok, err := st.MarkServed(ctx, "v1", at.Add(2*time.Hour)); !ok || err != nil {
			t.Errorf("MarkServed v1: %v, %v", ok, err)
		}
		if ok, err := st.MarkServed(ctx, "v0", at); ok || err != nil {
			t.Errorf("MarkServed of an unknown version: %v, %v", ok, err)
		}
		list, err := st.Versions(ctx)
		if err != nil || len(list) != 2 || list[0].Version != "v1" || !list[0].LastServed.Equal(at.Add(2*time.Hour)) {
			t.Fatalf("Versions: %+v, %v", list, err)
		}

		// A strike judged on v2 keeps it; of the others only the last
		// served is kept.
		s := sampleStrike(1)
		s.Verdict = &Verdict{DataVersion: "v2", JudgedAt: at, Body: []byte(`{"verdict":"no_protected_site"}`)}
		if _, err := st.Put(ctx, "tester", []Strike{s}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			v := DataVersion{Version: fmt.Sprint("v", 3+i), FirstServed: at.Add(time.Duration(3+i) * time.Hour)}
			if err := st.SaveVersion(ctx, v, []VersionPart{part("agreements", []byte(v.Version))}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := st.PruneVersions(ctx, 1); err != nil || n != 3 {
			t.Errorf("PruneVersions: %d, %v", n, err)
		}
		list, _ = st.Versions(ctx)
		var kept []string
		for _, v := range list {
			kept = append(kept, v.Version)
		}
		if !slices.Equal(kept, []string{"v5", "v2"}) {
			t.Errorf("kept %v, want v5 (the last served) and v2 (judged on)", kept)
		}
		if _, parts := loadParts(t, st, "v2"); !bytes.Equal(parts["layer:energy"], large) {
			t.Error("v2's shared chunks went with v1")
		}
		if _, err := st.LoadVersion(ctx, "v1", nil); !errors.Is(err, ErrNoVersion) {
			t.Errorf("v1 after pruning: %v", err)
		}
	})
}

// TestSaveVersionFails: a part that fails after many chunks, or a
// cancelled save, returns the error, keeps no version, and leaves no
// goroutine waiting.
func TestSaveVersionFails(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		broken := errors.New("the encoder broke")
		big := bytes.Repeat([]byte("0123456789abcdef"), 5*chunkBytes/16)
		parts := []VersionPart{part("layer:a", big), {Name: "layer:b", Write: func(w io.Writer) error {
			if _, err := w.Write(big); err != nil {
				return err
			}
			return broken
		}}}
		if err := st.SaveVersion(ctx, DataVersion{Version: "broken", FirstServed: time.Now()}, parts); !errors.Is(err, broken) {
			t.Errorf("SaveVersion with a failing part: %v", err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := st.SaveVersion(cancelled, DataVersion{Version: "cancelled", FirstServed: time.Now()}, parts[:1]); err == nil {
			t.Error("a cancelled SaveVersion succeeded")
		}
		if kept, err := st.Versions(ctx); err != nil || len(kept) != 0 {
			t.Errorf("kept %v, %v", kept, err)
		}
	})
}

// TestPruneKeepsHistoryVersions: a verdict a strike's history still shows
// keeps its data version after the strike is judged again on newer data,
// and after the strike is deleted, so that verdict can be judged again.
func TestPruneKeepsHistoryVersions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		save := func(version string, hour int) {
			t.Helper()
			v := DataVersion{Version: version, FirstServed: at.Add(time.Duration(hour) * time.Hour)}
			if err := st.SaveVersion(ctx, v, []VersionPart{part("agreements", []byte(version))}); err != nil {
				t.Fatal(err)
			}
		}
		// judge records strikes judged on version; notes tells a report
		// corrected from the one first posted, which is judged again.
		judge := func(version, notes string, strikes ...int) []PutResult {
			t.Helper()
			var batch []Strike
			for _, i := range strikes {
				s := sampleStrike(i)
				s.Notes += notes
				s.Verdict = &Verdict{DataVersion: version, JudgedAt: at, Body: []byte(`{"verdict":"` + version + `"}`)}
				batch = append(batch, s)
			}
			res, err := st.Put(ctx, "tester", batch)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		save("a", 0)
		save("b", 1)
		save("unjudged", 2)
		judge("a", "", 1)
		judge("b", "", 2)
		for i := range 4 {
			save(fmt.Sprint("v", i), 3+i)
		}
		res := judge("v3", " (corrected)", 1, 2)
		if res[0].Created || res[1].Created {
			t.Fatalf("posting the strikes again created new ones: %+v", res)
		}
		if err := st.Delete(ctx, "tester", res[1].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := st.PruneVersions(ctx, 1); err != nil || n != 4 {
			t.Errorf("PruneVersions: %d, %v; want 4 forgotten", n, err)
		}
		kept := keptVersions(t, st)
		if !slices.Equal(kept, []string{"v3", "b", "a"}) {
			t.Errorf("kept %v, want v3 (the last served and the current verdicts'), b and a (earlier verdicts')", kept)
		}
	})
}

// keptVersions lists the versions st keeps, latest served first.
func keptVersions(t *testing.T, st *sqlStore) []string {
	t.Helper()
	list, err := st.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, v := range list {
		kept = append(kept, v.Version)
	}
	return kept
}
