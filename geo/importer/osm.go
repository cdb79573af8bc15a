package importer

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/paulmach/osm/osmxml"
)

// osmSourceProperty and osmLicence are the source and licence properties
// of every OpenStreetMap feature.
const (
	osmSourceProperty = "OpenStreetMap contributors (ODbL 1.0)"
	osmLicence        = "ODbL-1.0"
)

// energyClass is the energy_class of an energy feature of kind, as
// data/build names them (data/SOURCES.md), or "" for a kind outside that
// vocabulary: a plant or generator whose source is nuclear is a
// nuclear_plant, any other a power_plant.
func energyClass(kind string, tags osm.Tags) string {
	switch kind {
	case "plant", "generator":
		if tags.Find("plant:source") == "nuclear" || tags.Find("generator:source") == "nuclear" {
			return "nuclear_plant"
		}
		return "power_plant"
	case "substation":
		return "substation"
	case "line":
		return "transmission_line"
	}
	return ""
}

// OSMOptions configures an OpenStreetMap import.
type OSMOptions struct {
	// Mapping says which elements go to which layer; nil means DefaultMapping.
	Mapping *Mapping
	// With enables optional rule groups, such as "clinics".
	With []string
	// NoMerge keeps every way its own feature, even under a rule with Merge.
	NoMerge bool
	// Progress, if set, is told how each pass over the file advances.
	Progress Progress
}

// OSM reads an OpenStreetMap file (.osm.pbf, or .osm XML, plain or gzip or
// bzip2 compressed; the format is detected from the content) into the
// mapping's layers. Every layer of the mapping is in the result, even if
// empty.
//
// Memory stays bounded by what matches, not by the file: the file is read
// up to three times, first for the multipolygon relations that match, then
// for the ways that match or are their members, last for the coordinates of
// just the nodes those ways use (16 bytes each) and for matching nodes.
//
// Feature ids are "osm:node/N", "osm:way/N" and "osm:relation/N".
// Properties are name (the name tag), kind (the rule's), the rule's kept
// tags under their own keys, energy_class in the energy layer (see
// energyClass), source and licence. Ways and relations whose nodes or
// member ways are missing from the file, or whose rings do not close, are
// skipped and listed in the result with the reason.
func OSM(ctx context.Context, file string, opt OSMOptions) (*Result, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not an OSM file", file)
	}
	src := osmSource{name: file, size: st.Size(), open: func() (io.ReadCloser, error) { return os.Open(file) }}
	return importOSM(ctx, src, opt)
}

// osmSource is an OSM file that can be read more than once.
type osmSource struct {
	name string
	size int64
	open func() (io.ReadCloser, error)
}

type osmImport struct {
	src osmSource
	opt OSMOptions
	mt  *matcher
	res *Result

	rels        []relRec
	memberWays  map[osm.WayID]bool         // way members of matching relations
	memberNodes map[osm.WayID][]osm.NodeID // their node lists, once read
	ways        []wayRec
	nodes       nodeStore
}

type relRec struct {
	id   osm.RelationID
	ways []osm.WayID // way members, in relation order
	hits []hit
}

type wayRec struct {
	id    osm.WayID
	nodes []osm.NodeID
	hits  []hit
}

// hit is one rule an element matched, with what the rule takes from it.
type hit struct {
	rule  *Rule
	props []byte
	// area says whether the way, if closed, is a polygon.
	area bool
	// name and ref decide which line features may merge.
	name, ref string
}

func importOSM(ctx context.Context, src osmSource, opt OSMOptions) (*Result, error) {
	mt, err := newMatcher(opt.Mapping, opt.With)
	if err != nil {
		return nil, err
	}
	imp := &osmImport{src: src, opt: opt, mt: mt, res: newResult(),
		memberWays: map[osm.WayID]bool{}, memberNodes: map[osm.WayID][]osm.NodeID{}}
	for _, l := range mt.layers() {
		imp.res.layer(l)
	}
	// Relations need their member ways, and ways their nodes.
	hasRels := len(mt.byElem['r']) > 0
	needWays := hasRels || len(mt.byElem['w']) > 0
	passes := 1
	for _, more := range []bool{hasRels, needWays} {
		if more {
			passes++
		}
	}
	pass := 0
	phase := func(what string) string {
		pass++
		return fmt.Sprintf("%s (pass %d/%d)", what, pass, passes)
	}
	if hasRels {
		if err := imp.scan(ctx, phase("relations"), filter{rel: imp.wantRelation}, imp.addRelation); err != nil {
			return nil, err
		}
	}
	if needWays {
		if err := imp.scan(ctx, phase("ways"), filter{way: imp.wantWay}, imp.addWay); err != nil {
			return nil, err
		}
	}
	imp.nodes.freeze()
	if err := imp.scan(ctx, phase("nodes"), filter{node: imp.wantNode}, imp.addNode); err != nil {
		return nil, err
	}
	imp.assembleWays()
	imp.assembleRelations()
	return imp.res, nil
}

func (imp *osmImport) wantRelation(r *osm.Relation) bool {
	return r.Tags.Find("type") == "multipolygon" && imp.mt.any('r', r.Tags)
}

func (imp *osmImport) wantWay(w *osm.Way) bool {
	return imp.memberWays[w.ID] || imp.mt.any('w', w.Tags)
}

func (imp *osmImport) wantNode(n *osm.Node) bool {
	return imp.nodes.has(n.ID) || imp.mt.any('n', n.Tags)
}

func (imp *osmImport) addRelation(o osm.Object, m *meter) {
	r := o.(*osm.Relation)
	rec := relRec{id: r.ID, hits: imp.hits('r', r.Tags, nil)}
	for _, mem := range r.Members {
		if mem.Type == osm.TypeWay {
			rec.ways = append(rec.ways, osm.WayID(mem.Ref))
			imp.memberWays[osm.WayID(mem.Ref)] = true
		}
	}
	if len(rec.ways) == 0 {
		imp.res.skip(relationID(r.ID), "multipolygon has no way members")
		return
	}
	m.found.Add(1)
	imp.rels = append(imp.rels, rec)
}

func (imp *osmImport) addWay(o osm.Object, m *meter) {
	w := o.(*osm.Way)
	ids := make([]osm.NodeID, len(w.Nodes))
	for i, n := range w.Nodes {
		ids[i] = n.ID
	}
	used := false
	if imp.memberWays[w.ID] {
		imp.memberNodes[w.ID] = ids
		used = true
	}
	if hits := imp.hits('w', w.Tags, w); len(hits) > 0 {
		imp.ways = append(imp.ways, wayRec{id: w.ID, nodes: ids, hits: hits})
		m.found.Add(1)
		used = true
	}
	if used {
		imp.nodes.need(ids)
	}
}

func (imp *osmImport) addNode(o osm.Object, m *meter) {
	n := o.(*osm.Node)
	imp.nodes.set(n.ID, n.Lon, n.Lat)
	hits := imp.hits('n', n.Tags, nil)
	if len(hits) == 0 {
		return
	}
	m.found.Add(1)
	p, err := toE7(n.Lon, n.Lat).point(n.ID)
	if err != nil {
		imp.res.skip(nodeID(n.ID), err.Error())
		return
	}
	for _, h := range hits {
		imp.res.add(h.rule.Layer, newFeature{Feature: feature(nodeID(n.ID), p, h), origin: nodeID(n.ID)})
	}
}

// hits matches tags against the rules and builds each hit's properties; w
// is the way being matched, for the area rules.
func (imp *osmImport) hits(elem byte, tags osm.Tags, w *osm.Way) []hit {
	rules := imp.mt.match(elem, tags)
	hits := make([]hit, len(rules))
	for i, r := range rules {
		var o jsonObject
		o.str("name", tags.Find("name"))
		o.str("kind", r.Kind)
		for _, k := range r.Keep {
			o.str(k, tags.Find(k))
		}
		if r.Layer == "energy" {
			o.str("energy_class", energyClass(r.Kind, tags))
		}
		o.str("source", osmSourceProperty)
		o.str("licence", osmLicence)
		hits[i] = hit{rule: r, props: o.bytes()}
		if r.Merge && !imp.opt.NoMerge {
			hits[i].name, hits[i].ref = tags.Find("name"), tags.Find("ref")
		}
		if w != nil {
			hits[i].area = isArea(r, w)
		}
	}
	return hits
}

// isArea applies a rule's area setting to a way; whether the way is closed
// is checked later, on its nodes.
func isArea(r *Rule, w *osm.Way) bool {
	switch r.Area {
	case "yes":
		return w.Tags.Find("area") != "no"
	case "no":
		return w.Tags.Find("area") == "yes"
	}
	return w.Polygon()
}

func nodeID(id osm.NodeID) string         { return "osm:node/" + strconv.FormatInt(int64(id), 10) }
func wayID(id osm.WayID) string           { return "osm:way/" + strconv.FormatInt(int64(id), 10) }
func relationID(id osm.RelationID) string { return "osm:relation/" + strconv.FormatInt(int64(id), 10) }

// filter selects one element type of a pass; the others are skipped, in a
// PBF file without even being decoded.
type filter struct {
	node func(*osm.Node) bool
	way  func(*osm.Way) bool
	rel  func(*osm.Relation) bool
}

func (f filter) keep(o osm.Object) bool {
	switch o := o.(type) {
	case *osm.Node:
		return f.node != nil && f.node(o)
	case *osm.Way:
		return f.way != nil && f.way(o)
	case *osm.Relation:
		return f.rel != nil && f.rel(o)
	}
	return false
}

type osmScanner interface {
	Scan() bool
	Object() osm.Object
	Err() error
	Close() error
}

// scan reads the whole file once and calls visit with each element the
// filter keeps, in file order.
func (imp *osmImport) scan(ctx context.Context, phase string, f filter, visit func(osm.Object, *meter)) error {
	var m meter
	rc, err := imp.src.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	stop := track(imp.opt.Progress, phase, imp.src.size, &m)
	defer stop()
	s, err := openScanner(ctx, countingReader{rc, &m}, f)
	if err != nil {
		return fmt.Errorf("%s: %w", imp.src.name, err)
	}
	defer s.Close()
	for s.Scan() {
		visit(s.Object(), &m)
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("%s: reading %s: %w", imp.src.name, phase, err)
	}
	return nil
}

// openScanner detects the file's compression and format from its first bytes.
func openScanner(ctx context.Context, r io.Reader, f filter) (osmScanner, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReaderSize(gz, 1<<16)
	case bytes.HasPrefix(head, []byte("BZh")):
		br = bufio.NewReaderSize(bzip2.NewReader(br), 1<<16)
	}
	if isXML(br) {
		lines := &lineCounter{br: br, line: 1}
		return &xmlScanner{Scanner: osmxml.New(ctx, lines), f: f, lines: lines}, nil
	}
	if head, _ := br.Peek(64); !bytes.Contains(head, []byte("OSMHeader")) {
		return nil, errors.New("neither OSM XML nor OSM PBF: a PBF file starts with an OSMHeader block")
	}
	s := osmpbf.New(ctx, br, runtime.GOMAXPROCS(0))
	s.SkipNodes, s.SkipWays, s.SkipRelations = f.node == nil, f.way == nil, f.rel == nil
	s.FilterNode, s.FilterWay, s.FilterRelation = f.node, f.way, f.rel
	return s, nil
}

// isXML reports whether the stream starts, after a byte-order mark and
// white space, with '<'; a PBF file starts with a binary length.
func isXML(br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '<'
}

// xmlScanner applies a pass's filter to the XML reader, which cannot skip,
// and says on which line reading failed.
type xmlScanner struct {
	*osmxml.Scanner
	f     filter
	lines *lineCounter
}

// Err adds the line to errors that lack one, such as a bad coordinate: the
// line on which the element with the bad value ends.
func (x *xmlScanner) Err() error {
	err := x.Scanner.Err()
	var syntax *xml.SyntaxError
	if err == nil || errors.As(err, &syntax) {
		return err
	}
	return fmt.Errorf("line %d: %w", x.lines.line, err)
}

// lineCounter counts the lines the XML decoder has read. The decoder reads
// an io.ByteReader byte by byte, without buffering ahead of it.
type lineCounter struct {
	br   *bufio.Reader
	line int // the line being read, from 1
}

func (l *lineCounter) ReadByte() (byte, error) {
	c, err := l.br.ReadByte()
	if c == '\n' && err == nil {
		l.line++
	}
	return c, err
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.br.Read(p)
	l.line += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}

func (x *xmlScanner) Scan() bool {
	for x.Scanner.Scan() {
		if x.f.keep(x.Scanner.Object()) {
			return true
		}
	}
	return false
}

func (mt *matcher) layers() []string {
	var names []string
	for _, rules := range [][]*Rule{mt.byElem['n'], mt.byElem['w'], mt.byElem['r']} {
		for _, r := range rules {
			if !slices.Contains(names, r.Layer) {
				names = append(names, r.Layer)
			}
		}
	}
	return names
}
