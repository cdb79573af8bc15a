package importer

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// maxSkipsKept bounds the skipped items a Result remembers one by one; a
// country extract can have thousands (ways cut at the extract's edge), and
// beyond this only the count grows.
const maxSkipsKept = 1000

// validateChunk is how many features are checked by geo in one go.
const validateChunk = 2048

// Result holds what an import read, by layer, and what it skipped and why.
// WriteDir merges it into a data directory.
type Result struct {
	// RemoveVanished makes WriteDir remove the existing features this
	// import's source no longer holds: those whose source property is the
	// source of an imported feature of the layer, under an id the import
	// lacks. Set it only when the input covers all that the layer holds
	// from that source (a whole extract or database, not a part of it).
	RemoveVanished bool
	// Imported is the day WriteDir records, as the "imported" property
	// (YYYY-MM-DD, UTC), on every feature it adds or replaces; a feature
	// imported again unchanged keeps the day it was first written. The
	// importers set it to the time they ran.
	Imported time.Time

	layers  []*pending
	byName  map[string]*pending
	skipped []Skip
	skips   int
	ignored int
	// ignoredWhat says what Ignored counts, such as "rows of other countries".
	ignoredWhat string
}

// Skip is an input item left out of the layers, and why.
type Skip struct {
	// Item names the item: "osm:way/42", "line 17", "feature 3".
	Item   string
	Reason string
}

func (s Skip) String() string { return s.Item + ": " + s.Reason }

type pending struct {
	name  string
	feats []newFeature
	index map[string]int // feature id → position in feats
}

type newFeature struct {
	geo.Feature
	// origin names the input item, for messages.
	origin string
	// replaces lists further ids this feature stands for, such as the bridge
	// segments merged into it; they are removed from an existing layer.
	replaces []string
}

func newResult() *Result { return &Result{byName: map[string]*pending{}, Imported: time.Now()} }

// layer returns the pending layer name, creating it (empty) if needed, so
// every layer of a mapping is written even when the input has none of it.
func (r *Result) layer(name string) *pending {
	p, ok := r.byName[name]
	if !ok {
		p = &pending{name: name, index: map[string]int{}}
		r.byName[name] = p
		r.layers = append(r.layers, p)
	}
	return p
}

func (r *Result) skip(item, reason string) {
	r.skips++
	if len(r.skipped) < maxSkipsKept {
		r.skipped = append(r.skipped, Skip{item, reason})
	}
}

// add queues f for layer; a feature whose id repeats one of this import is
// skipped, as is one that GeoJSON could not carry.
func (r *Result) add(layer string, f newFeature) {
	if err := encodable(&f.Feature); err != nil {
		r.skip(f.origin, err.Error())
		return
	}
	p := r.layer(layer)
	if i, dup := p.index[f.ID]; dup {
		r.skip(f.origin, fmt.Sprintf("same id %q as %s in layer %s", f.ID, p.feats[i].origin, layer))
		return
	}
	p.index[f.ID] = len(p.feats)
	p.feats = append(p.feats, f)
}

// Len is the number of features read, over all layers, before validation.
func (r *Result) Len() int {
	n := 0
	for _, p := range r.layers {
		n += len(p.feats)
	}
	return n
}

// encodable rejects what geojson.AppendFeature cannot write as valid JSON: an
// id with control or unprintable characters, or a coordinate that is NaN or
// infinite.
func encodable(f *geo.Feature) error {
	if f.ID == "" || !utf8.ValidString(f.ID) {
		return errors.New("id is empty or not valid UTF-8")
	}
	for _, c := range f.ID {
		if !unicode.IsPrint(c) {
			return fmt.Errorf("id %q has an unprintable character", f.ID)
		}
	}
	finite := true
	geodesy.VertexRuns(f.Geometry, func(run []orb.Point, _ bool) {
		for _, p := range run {
			finite = finite && !math.IsNaN(p[0]+p[1]) && !math.IsInf(p[0]+p[1], 0)
		}
	})
	if !finite {
		return errors.New("a coordinate is not a finite number")
	}
	return nil
}

// Summary reports what WriteDir did: features per layer and kind, and the
// input items skipped with their reasons.
type Summary struct {
	Layers []LayerSummary
	// Skipped lists the first skipped items; SkippedTotal counts them all.
	Skipped      []Skip
	SkippedTotal int
	// Ignored counts input outside the import's scope, described by
	// IgnoredWhat (e.g. "rows of other countries"); they are not problems.
	Ignored     int
	IgnoredWhat string
}

// LayerSummary is one written layer file.
type LayerSummary struct {
	Name, File string
	// Added are new ids, Replaced existing ids given new content,
	// Unchanged existing ids imported again as they were, Removed existing
	// features that a merged feature now stands for or (RemoveVanished)
	// that vanished from their source, and Kept existing
	// features the import did not touch.
	Added, Replaced, Unchanged, Removed, Kept int
	// Merges are imported records of sites the layer holds under another
	// id (cited by the site, or a point inside its outline): not added, the
	// site cites them. NearMisses are points added within NearMissMeters of
	// a site of the same kind.
	Merges     []Merge
	NearMisses []NearMiss
	// Kinds counts the imported (added or replacing) features by kind.
	Kinds map[string]int
}

// Total is the number of features in the written file.
func (l *LayerSummary) Total() int { return l.Added + l.Replaced + l.Unchanged + l.Kept }

// WriteDir validates the imported features with geo's rules, merges each
// layer into dir/LAYER.geojson (same id replaces, other features are kept)
// and writes it atomically, so a reader never sees half a file. Features geo
// refuses are skipped with geo's reason; an existing layer that is itself
// invalid is left alone and reported as an error.
func (r *Result) WriteDir(dir string) (*Summary, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Summary{Ignored: r.ignored, IgnoredWhat: r.ignoredWhat}
	layers := slices.Clone(r.layers)
	slices.SortFunc(layers, func(a, b *pending) int { return cmp.Compare(a.name, b.name) })
	var errs []error
	for _, p := range layers {
		ok, err := r.validate(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ls, err := mergeLayer(dir, p, ok, r.RemoveVanished, r.Imported.UTC().Format(time.DateOnly))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Layers = append(s.Layers, ls)
	}
	s.Skipped, s.SkippedTotal = r.skipped, r.skips
	return s, errors.Join(errs...)
}

// validate has geo decode the features of p, a chunk at a time, so the
// written layer is exactly one the server accepts. ok[i] reports whether
// geo accepted feature i; the others are recorded as skipped, with geo's
// reason.
func (r *Result) validate(p *pending) ([]bool, error) {
	ok := make([]bool, len(p.feats))
	var buf []byte
	enc := make([][]byte, validateChunk)
	for start := 0; start < len(p.feats); start += validateChunk {
		end := min(start+validateChunk, len(p.feats))
		buf = buf[:0]
		for i := start; i < end; i++ {
			n := len(buf)
			buf = geojson.AppendFeature(buf, &p.feats[i].Feature)
			ok[i] = true
			enc[i-start] = buf[n:len(buf):len(buf)]
		}
		// geo lists at most 100 problems per document: repeat until clean.
		var doc []byte
		for {
			var alive []int
			doc = append(doc[:0], `{"type":"FeatureCollection","features":[`...)
			for i := start; i < end; i++ {
				if ok[i] {
					if len(alive) > 0 {
						doc = append(doc, ',')
					}
					doc = append(doc, enc[i-start]...)
					alive = append(alive, i)
				}
			}
			doc = append(doc, "]}"...)
			_, err := geojson.DecodeLayer(p.name, "import", bytes.NewReader(doc))
			if err == nil {
				break
			}
			dropped := 0
			for _, pe := range parseErrors(err) {
				if pe.Feature < 0 || pe.Feature >= len(alive) {
					continue
				}
				i := alive[pe.Feature]
				r.skip(p.feats[i].origin, pe.Err.Error())
				ok[i] = false
				dropped++
			}
			if dropped == 0 {
				return nil, fmt.Errorf("layer %s: the importer wrote a layer geo refuses: %w", p.name, err)
			}
		}
	}
	return ok, nil
}

// parseErrors flattens geo's joined errors into its *ParseErrors.
func parseErrors(err error) []*geo.ParseError {
	if pe, ok := err.(*geo.ParseError); ok {
		return []*geo.ParseError{pe}
	}
	var all []*geo.ParseError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			all = append(all, parseErrors(e)...)
		}
	}
	return all
}

// mergeLayer writes dir/NAME.geojson: the existing features in their order,
// each replaced in place by an imported feature with the same id (or, with
// removeVanished, left out when its source is one imported and its id is
// not), then the imported features that are new, each stamped with the
// import day. Features are encoded as they are written, so the file is never
// held in memory whole.
func mergeLayer(dir string, p *pending, ok []bool, removeVanished bool, day string) (LayerSummary, error) {
	file := filepath.Join(dir, p.name+geojson.LayerExt)
	ls := LayerSummary{Name: p.name, File: file, Kinds: map[string]int{}}
	var old *geo.Layer
	if _, err := os.Stat(file); err == nil {
		if old, err = geojson.LoadFile(p.name, file); err != nil {
			return ls, fmt.Errorf("%s is not a valid layer, so nothing was merged into it: %w", file, err)
		}
	}
	replaces := map[string]bool{}
	for i, f := range p.feats {
		if ok[i] {
			for _, id := range f.replaces {
				replaces[id] = true
			}
		}
	}
	sources := map[string]bool{}
	if removeVanished {
		for i := range p.feats {
			if ok[i] {
				sources[sourceOf(p.feats[i].Properties)] = true
			}
		}
		delete(sources, "")
	}
	// Records new by id that describe a site the layer already holds are
	// merged into it rather than added beside it.
	c, err := newConflation(old)
	if err != nil {
		return ls, err
	}
	merged := make([]bool, len(p.feats))
	cites := map[string][]string{} // site id -> record ids its outline now also stands for
	for j := range p.feats {
		f := &p.feats[j].Feature
		if !ok[j] || hasID(old, f.ID) {
			continue
		}
		m, near := c.match(f)
		ls.NearMisses = append(ls.NearMisses, near...)
		if m == nil {
			continue
		}
		merged[j] = true
		ls.Merges = append(ls.Merges, *m)
		if m.Why != "cited by the site" {
			cites[m.Into] = append(cites[m.Into], f.ID)
		}
	}
	err = writeAtomic(file, func(w *bufio.Writer) error {
		w.WriteString(`{"type":"FeatureCollection","features":[`)
		var scratch []byte
		n := 0
		put := func(f *geo.Feature) {
			scratch = append(scratch[:0], ",\n"...)
			if n == 0 {
				scratch = scratch[1:]
			}
			scratch = geojson.AppendFeature(scratch, f)
			w.Write(scratch)
			n++
		}
		written := make([]bool, len(p.feats))
		for i := range oldLen(old) {
			f := old.Feature(i)
			j, isNew := p.index[f.ID]
			switch {
			case isNew && ok[j]:
				if sameFeature(f, importedOn(&p.feats[j].Feature, importDay(f.Properties))) {
					ls.Unchanged++
					put(f)
				} else {
					ls.Replaced++
					put(importedOn(&p.feats[j].Feature, day))
				}
				written[j] = true
				ls.Kinds[p.feats[j].Kind]++
			case replaces[f.ID]:
				ls.Removed++
			case cites[f.ID] != nil:
				site := *f
				site.Properties = citing(f.Properties, cites[f.ID])
				put(&site)
				ls.Kept++
			case sources[sourceOf(f.Properties)]:
				ls.Removed++
			default:
				put(f)
				ls.Kept++
			}
		}
		for j := range p.feats {
			if ok[j] && !written[j] && !merged[j] {
				put(importedOn(&p.feats[j].Feature, day))
				ls.Added++
				ls.Kinds[p.feats[j].Kind]++
			}
		}
		_, err := w.WriteString("\n]}\n")
		return err
	})
	return ls, err
}

// sourceOf is the source property of a feature's properties, or "".
func sourceOf(props []byte) string { return stringMember(props, "source") }

// importDay is the imported property of a feature's properties, or "".
func importDay(props []byte) string { return stringMember(props, "imported") }

// stringMember is the string value of the member key of a JSON object, or "".
func stringMember(obj []byte, key string) string {
	var s string
	jsonscan.EachMember(obj, func(k, value []byte) bool {
		if string(k) != key {
			return true
		}
		s, _ = jsonscan.String(value)
		return false
	})
	return s
}

// importedOn is f with its imported property set to day (YYYY-MM-DD); an
// empty day leaves f as it is.
func importedOn(f *geo.Feature, day string) *geo.Feature {
	if day == "" {
		return f
	}
	g := *f
	g.Properties = setMember(f.Properties, "imported", geojson.AppendJSONString(nil, day))
	return &g
}

// sameFeature reports whether an imported feature repeats an existing one exactly.
func sameFeature(a, b *geo.Feature) bool {
	return bytes.Equal(geojson.AppendFeature(nil, a), geojson.AppendFeature(nil, b))
}

func hasID(l *geo.Layer, id string) bool {
	if l == nil {
		return false
	}
	_, _, ok := l.Lookup(id)
	return ok
}

func oldLen(l *geo.Layer) int {
	if l == nil {
		return 0
	}
	return l.Len()
}

// writeAtomic has write fill a temporary file beside file, then renames it
// over file, so a reader never sees half a layer.
func writeAtomic(file string, write func(*bufio.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// jsonObject builds a JSON object member by member, keeping their order.
type jsonObject struct{ b []byte }

func (o *jsonObject) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = geojson.AppendJSONString(o.b, k)
	o.b = append(o.b, ':')
}

// str adds a string member; empty values are left out.
func (o *jsonObject) str(k, v string) {
	if v == "" {
		return
	}
	o.key(k)
	o.b = geojson.AppendJSONString(o.b, v)
}

func (o *jsonObject) num(k string, v float64) {
	o.key(k)
	o.b = geojson.AppendNumber(o.b, v)
}

// raw adds a member whose value is already JSON.
func (o *jsonObject) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

func (o *jsonObject) bytes() []byte {
	if len(o.b) == 0 {
		return []byte("{}")
	}
	return append(o.b, '}')
}
