package server

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/geo/crs"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/geo/geojson"
)

// itemsQuery is a parsed /collections/{id}/items request.
type itemsQuery struct {
	bbox    geo.BBox
	hasBBox bool
	// bboxText is the bbox as given, read in bboxCRS once every parameter
	// is; bboxShape is its outline when that CRS's boxes are not
	// longitude/latitude boxes, applied as a spatial filter.
	bboxText           string
	bboxGiven          bool
	bboxCRS, filterCRS *crs.CRS
	bboxShape          orb.Geometry
	limit              int
	cursor             cursor
	// offset skips that many matching features before the page; only
	// from the start (no cursor).
	offset  int
	when    span
	hasTime bool
	filters []propFilter
	// filter is the CQL2 filter, read from filterText in filterLang.
	filter                 *cqlFilter
	filterText, filterLang string
	// format is GeoJSON pages, or an export streamed whole (see exportItems);
	// html asks for a GeoJSON page shown as an HTML page.
	format export.Format
	html   bool
	// sortby is the sortby parameter as given; sort is it read, then pages
	// go by offset rather than cursor.
	sortby    string
	hasSortby bool
	sort      []sortKey
	shape     shape
}

// cursor says where a page starts in the collection's matching features,
// which are ordered by their position in the layer: just after feature
// index at, or, paging backwards, just before it. Positions rather than
// counts keep every page O(limit) to select, however deep.
type cursor struct {
	backward bool
	at       int
}

// start is the cursor of the first page.
var start = cursor{at: -1}

func (c cursor) String() string {
	if c.backward {
		return "p" + strconv.Itoa(c.at)
	}
	return "n" + strconv.Itoa(c.at)
}

func parseCursor(v string) (cursor, error) {
	if len(v) > 1 && (v[0] == 'n' || v[0] == 'p') {
		backward := v[0] == 'p'
		if at, err := strconv.Atoi(v[1:]); err == nil && v[1] != '+' && (at >= 0 || at == -1 && !backward) {
			return cursor{backward: backward, at: at}, nil
		}
	}
	return start, fmt.Errorf("%q is not a cursor of this server; follow the next and prev links", v)
}

var itemsParams = params[itemsQuery]{
	"f": func(q *itemsQuery, v string) error {
		if featureFormat(v) == nil || v == asHTML.f {
			q.format, q.html = export.GeoJSON, v == asHTML.f
			return nil
		}
		f, err := export.ParseFormat(v)
		if err != nil {
			return formatsNotAcceptable(itemsOffer(), v).or(asHTML)
		}
		q.format = f
		return nil
	},
	"bbox":     func(q *itemsQuery, v string) error { q.bboxText, q.bboxGiven = v, true; return nil },
	"bbox-crs": func(q *itemsQuery, v string) (err error) { q.bboxCRS, err = parseCRS(v); return err },
	"crs":      func(q *itemsQuery, v string) (err error) { q.shape.crs, err = parseCRS(v); return err },
	"limit": func(q *itemsQuery, v string) (err error) {
		q.limit, err = parseCount(v, maxItemsLimit)
		return err
	},
	"cursor": func(q *itemsQuery, v string) (err error) {
		q.cursor, err = parseCursor(v)
		return err
	},
	"offset": func(q *itemsQuery, v string) (err error) {
		q.offset, err = parseOffset(v)
		return err
	},
	"filter":      func(q *itemsQuery, v string) error { q.filterText = v; return nil },
	"filter-lang": func(q *itemsQuery, v string) error { q.filterLang = v; return nil },
	"filter-crs":  func(q *itemsQuery, v string) (err error) { q.filterCRS, err = parseCRS(v); return err },
	"datetime": func(q *itemsQuery, v string) (err error) {
		q.when, err = parseDatetime(v)
		q.hasTime = err == nil
		return err
	},
	"sortby": func(q *itemsQuery, v string) error { q.sortby, q.hasSortby = v, true; return nil },
	"properties": func(q *itemsQuery, v string) error {
		q.shape.props, q.shape.selected = parseProperties(v), true
		return nil
	},
	"skipGeometry": func(q *itemsQuery, v string) (err error) {
		q.shape.skipGeometry, err = parseBool(v)
		return err
	},
}

// parseBool reads true or false.
func parseBool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// readFilter reads the CQL2 filter in filter-lang and filter-crs, once
// every parameter is read; known says which properties features carry.
func (q *itemsQuery) readFilter(known func(name string) bool) (err error) {
	if q.filterText == "" {
		if q.filterLang != "" && !slices.Contains(filterLangs, q.filterLang) {
			return paramError("filter-lang", "%q is not offered; use %s or %s", q.filterLang, langText, langJSON)
		}
		return nil
	}
	var in cql2.Coordinates
	if q.filterCRS != nil && !q.filterCRS.IsCRS84() {
		in = q.filterCRS
	}
	q.filter, err = parseFilter(q.filterText, q.filterLang, in, known)
	return err
}

// readBBox reads the bbox in bbox-crs, once both are read.
func (q *itemsQuery) readBBox() (err error) {
	if !q.bboxGiven {
		return nil
	}
	q.bbox, q.bboxShape, err = parseBBoxIn(q.bboxText, q.bboxCRS)
	if err != nil {
		return paramError("bbox", "%s", userMessage(err))
	}
	q.hasBBox = q.bboxShape == nil
	return nil
}

// checkShape reads sortby and checks properties, once the collection is
// known: sortable and known say which names it can sort by and which
// properties its features carry.
func (q *itemsQuery) checkShape(sortable, known func(name string) bool) (err error) {
	if q.hasSortby {
		if q.sort, err = parseSortby(q.sortby, sortable); err != nil {
			return err
		}
	}
	return q.shape.checkProperties(known)
}

// pageOnly refuses sortby, properties and skipGeometry in an answer other
// than GeoJSON pages: exports stream whole features in the collection's
// order.
func (q *itemsQuery) pageOnly() error {
	for _, p := range []struct {
		name  string
		given bool
	}{{"crs", q.shape.projects()}, {"properties", q.shape.selected}, {"skipGeometry", q.shape.skipGeometry}, {"sortby", q.hasSortby}} {
		if p.given && q.format != export.GeoJSON {
			return paramError(p.name, "shapes GeoJSON pages only; f=%s streams whole features in the collection's order", q.format)
		}
	}
	return nil
}

// parseItemsQuery reads an items request; any other parameter must be one
// of the collection's queryables, as a property=value filter.
func parseItemsQuery(raw string, m *layerMeta) (itemsQuery, error) {
	q := itemsQuery{limit: defaultItemsLimit, cursor: start}
	err := itemsParams.parse(raw, &q, func(q *itemsQuery, name, v string) (bool, error) {
		qa, ok := m.queryable(name)
		if !ok {
			return false, nil
		}
		f, err := newPropFilter(qa, v)
		if err == nil {
			q.filters = append(q.filters, f)
		}
		return true, err
	})
	if err != nil {
		var pe *ParamError
		if errors.As(err, &pe) && strings.HasPrefix(pe.Reason, "unknown parameter") {
			pe.Reason += "; or a property the collection's queryables list"
		}
		return q, err
	}
	if q.offset > 0 && q.cursor != start {
		return q, paramError("offset", "give offset or cursor, not both; the next and prev links carry a cursor")
	}
	if err := q.readBBox(); err != nil {
		return q, err
	}
	if err := q.checkShape(m.sortable, m.hasField); err != nil {
		return q, err
	}
	if q.sort != nil && q.cursor != start {
		return q, paramError("cursor", "a sorted selection pages by offset, not cursor; follow the next and prev links")
	}
	if err := q.readFilter(m.hasField); err != nil {
		return q, err
	}
	if q.bboxShape != nil {
		var e cql2.Expr = cql2.Spatial{Op: cql2.Intersects, Geometry: q.bboxShape}
		if q.filter != nil {
			e = cql2.And{Args: []cql2.Expr{e, q.filter.expr}}
		}
		q.filter = newCQLFilter(e)
	}
	return q, nil
}

// maxOffset is beyond any collection (feature indexes are int32), so a
// larger offset is clamped to it: the page is empty either way, and
// offset+limit cannot overflow.
const maxOffset = math.MaxInt32

// parseOffset reads a count of features to skip, 0 or more.
func parseOffset(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(v), "-") {
			return maxOffset, nil
		}
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not an integer of 0 or more", v)
	}
	return min(n, maxOffset), nil
}

// parseDatetime reads OGC API's datetime: an instant, a date (the whole
// day, UTC), or an interval "start/end" whose open ends are ".." or empty.
func parseDatetime(v string) (span, error) {
	bad := fmt.Errorf("%q is not an RFC 3339 date-time, a date, or an interval start/end with '..' for an open end", v)
	a, b, interval := strings.Cut(v, "/")
	if !interval {
		s, err := parseInstant(v)
		if err != nil {
			return noSpan, bad
		}
		return s, nil
	}
	s := openSpan
	if a != ".." && a != "" {
		t, err := parseInstant(a)
		if err != nil {
			return noSpan, bad
		}
		s.start = t.start
	}
	if b != ".." && b != "" {
		t, err := parseInstant(b)
		if err != nil {
			return noSpan, bad
		}
		s.end = t.end
	}
	if s.empty() {
		return noSpan, fmt.Errorf("interval %q ends before it starts", v)
	}
	return s, nil
}

// page is one page of matching features.
type page struct {
	idx        []int32 // feature indexes, ascending
	matched    int
	prev, next bool
	// first and last bound the page for the prev and next cursors, even
	// when it is empty.
	first, last int
}

// pageKeys is the scratch space a page is selected in: room for its keys,
// and as much again to sort them in.
type pageKeys struct{ keys, spare []int32 }

var scratch = newPool(func() *pageKeys { return &pageKeys{keys: make([]int32, 0, defaultItemsLimit)} })

// selectPage finds the page q asks for in l, unless gone stops it first
// (then the page is incomplete). The page's indexes live in top.
func selectPage(l *geo.Layer, m *layerMeta, q *itemsQuery, top *pageKeys, gone *stopper) page {
	if q.sort != nil {
		return selectSorted(l, m, q, top, gone)
	}
	n, c, limit, offset := l.Len(), q.cursor, q.limit, q.offset
	if !q.hasBBox && !q.hasTime && len(q.filters) == 0 && q.filter == nil {
		lo, hi := min(c.at+1+offset, n), 0
		if c.backward {
			hi = min(c.at, n)
			lo = max(0, hi-limit)
		} else {
			hi = min(n, lo+limit)
		}
		top.keys = top.keys[:0]
		for i := lo; i < hi; i++ {
			top.keys = append(top.keys, int32(i))
		}
		return page{idx: top.keys, matched: n, prev: lo > 0, next: hi < n, first: lo, last: hi - 1}
	}

	// Keep the limit smallest keys: the key is the index going forwards
	// and its negation going backwards.
	h := smallest{keys: top.keys[:0], spare: top.spare, limit: offset + limit}
	defer h.giveBack(top)
	var p page
	inside, outside := 0, 0
	visit := func(i int) bool {
		if gone.stop() {
			return false
		}
		if !q.matches(l, m, i) {
			return true
		}
		p.matched++
		switch {
		case !c.backward && i > c.at:
			inside++
			h.offer(int32(i))
		case c.backward && i < c.at:
			inside++
			h.offer(int32(-i))
		default:
			outside++
		}
		return true
	}
	q.matchCandidates(l, visit)
	p.idx = h.result()
	if c.backward {
		// Negated, the keys are in the reverse order of the indexes.
		for k := range p.idx {
			p.idx[k] = -p.idx[k]
		}
		slices.Reverse(p.idx)
	}
	p.idx = p.idx[min(offset, len(p.idx)):]
	more := inside > offset+limit
	if c.backward {
		p.prev, p.next = more, outside > 0
		p.first, p.last = c.at, c.at-1
	} else {
		p.prev, p.next = outside > 0 || offset > 0 && p.matched > 0, more
		p.first, p.last = c.at+1, c.at
		if offset > 0 {
			// Skipped past every match: the previous page is the last.
			p.first = n
		}
	}
	if len(p.idx) > 0 {
		p.first, p.last = int(p.idx[0]), int(p.idx[len(p.idx)-1])
	}
	return p
}

// selectSorted finds the page of a sorted selection: the offset+limit
// first matches in the order, kept as they are found (see smallest), so a
// page costs one pass over the candidates and room for twice its keys.
func selectSorted(l *geo.Layer, m *layerMeta, q *itemsQuery, top *pageKeys, gone *stopper) page {
	o := m.orderOf(l, q.sort)
	h := smallest{keys: top.keys[:0], spare: top.spare, limit: q.offset + q.limit, less: o.less}
	defer h.giveBack(top)
	var p page
	q.matchCandidates(l, func(i int) bool {
		if gone.stop() {
			return false
		}
		if q.matches(l, m, i) {
			p.matched++
			h.offer(int32(i))
		}
		return true
	})
	keys := h.result()
	slices.SortFunc(keys, func(a, b int32) int {
		if o.less(a, b) {
			return -1
		}
		return 1 // keys are distinct: ties go by index
	})
	p.idx = keys[min(q.offset, len(keys)):]
	p.prev = q.offset > 0 && p.matched > 0
	p.next = q.offset+q.limit < p.matched
	return p
}

// candidates visits, in any order, every feature of l the query may
// match: the R-tree finds those in the bbox, or the filter narrows them.
func (q *itemsQuery) candidates(l *geo.Layer, visit func(i int) bool) {
	switch {
	case q.hasBBox:
		l.Search(q.bbox, visit)
	case q.filter != nil:
		q.filter.candidates(l, visit)
	default:
		for i := range l.Len() {
			if !visit(i) {
				return
			}
		}
	}
}

// matchCandidates visits the candidates as candidates does. When matching
// reads their kinds it visits them in batches, each batch's kinds read
// first (geo.Layer.TouchKinds): the candidates of a box lie scattered over
// a large layer in index order, so each kind read alone waits on memory.
func (q *itemsQuery) matchCandidates(l *geo.Layer, visit func(i int) bool) {
	if !q.readsKind() {
		q.candidates(l, visit)
		return
	}
	var batch [64]int32
	n, more := 0, true
	flush := func() bool {
		l.TouchKinds(batch[:n])
		for _, i := range batch[:n] {
			if more = visit(int(i)); !more {
				return false
			}
		}
		n = 0
		return true
	}
	q.candidates(l, func(i int) bool {
		batch[n] = int32(i)
		if n++; n < len(batch) {
			return true
		}
		return flush()
	})
	if more {
		flush()
	}
}

// readsKind reports whether matching a candidate reads its kind.
func (q *itemsQuery) readsKind() bool {
	for k := range q.filters {
		if q.filters[k].byKind() {
			return true
		}
	}
	return q.filter != nil && q.filter.readsKind
}

// matches applies the query's time, property and CQL2 filters to feature
// i; the bounding box is the R-tree's to apply.
func (q *itemsQuery) matches(l *geo.Layer, m *layerMeta, i int) bool {
	if q.hasTime && !m.spanOf(i).overlaps(q.when) {
		return false
	}
	f := l.Feature(i) // only its address: read, it is a cache miss
	for k := range q.filters {
		if !q.filters[k].matches(l, f, i) {
			return false
		}
	}
	return q.filter == nil || q.filter.matches(l, i)
}

// spanOf is when feature i is; empty when the layer has no time.
func (m *layerMeta) spanOf(i int) span {
	if m.spans == nil {
		return noSpan
	}
	return m.spans[i]
}

// smallest keeps the limit smallest keys offered, in no order; smallest by
// less, or by value when less is nil. Keys must be distinct. It gathers
// keys in room for twice the limit; when that fills, it moves the limit
// smallest to the front, drops the rest, and refuses at once every later
// key not below the largest of those it kept. A key costs a comparison or
// an append and, over the room's fillings, a share of selections linear
// in the room, where a heap sifted each key that replaced its top through
// unpredictable branches. By value, the room is sorted rather than
// selected in (see sortKeys), so the keys come out in order.
type smallest struct {
	keys  []int32
	spare []int32 // sortKeys' room
	limit int
	less  func(a, b int32) bool
	// bound is the largest key kept at the last selection; bounded is
	// false until there was one.
	bound   int32
	bounded bool
}

func (s *smallest) lt(a, b int32) bool {
	if s.less == nil {
		return a < b
	}
	return s.less(a, b)
}

func (s *smallest) offer(k int32) {
	if s.bounded && !s.lt(k, s.bound) || s.limit == 0 {
		return
	}
	s.keys = append(s.keys, k)
	if len(s.keys) == 2*s.limit {
		s.keep()
	}
}

// keep drops all but the limit smallest keys, and bounds later ones by
// the largest of them; by value, it sorts those it keeps.
func (s *smallest) keep() {
	if s.less == nil {
		s.spare = sortKeys(s.keys, s.spare)
	} else if len(s.keys) > s.limit {
		s.selectNth(s.limit - 1)
	}
	if len(s.keys) > s.limit {
		s.keys = s.keys[:s.limit]
		s.bound, s.bounded = s.keys[s.limit-1], true
	}
}

// result is the limit smallest keys offered: in order by value, in no
// order by less.
func (s *smallest) result() []int32 {
	s.keep()
	return s.keys
}

// radixMin is the fewest keys sortKeys sorts by radix: below it, clearing
// the counts of every byte value costs more than the comparisons.
const radixMin = 64

// giveBack returns the room, grown as it was, to top.
func (s *smallest) giveBack(top *pageKeys) { top.keys, top.spare = s.keys[:0], s.spare }

// sortKeys sorts keys by value and returns spare, grown to hold as many.
// It sorts a byte at a time, least significant first, counting the keys
// of each byte value to place them (radix sort); a byte the keys all
// share is skipped. A page's keys are feature indexes scattered over a
// layer, on which a comparison sort mispredicts about every other branch:
// these passes only load, count and store. Fewer keys than radixMin are
// sorted by comparison, so a small limit's room, kept again and again as
// keys arriving in descending order fill it, never pays for the counts.
func sortKeys(keys, spare []int32) []int32 {
	if len(keys) < radixMin {
		slices.Sort(keys)
		return spare
	}
	spare = slices.Grow(spare[:0], len(keys))[:len(keys)]
	// Flipping the sign bit orders negative keys (a backward page's) first.
	const flip = 1 << 31
	var counts [4][256]int32
	for _, k := range keys {
		u := uint32(k) ^ flip
		counts[0][u&0xff]++
		counts[1][u>>8&0xff]++
		counts[2][u>>16&0xff]++
		counts[3][u>>24]++
	}
	src, dst := keys, spare
	for d := range counts {
		shift, c := 8*d, &counts[d]
		if c[(uint32(src[0])^flip)>>shift&0xff] == int32(len(src)) {
			continue
		}
		at := int32(0)
		for b, n := range c {
			c[b], at = at, at+n
		}
		for _, k := range src {
			b := (uint32(k) ^ flip) >> shift & 0xff
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return spare
}

// selectNth reorders keys so that the one at n is the one sorting
// there, with none after it smaller and none before it larger
// (quickselect, pivot the median of three). Keys that keep choosing poor
// pivots are sorted instead, so no order of keys takes quadratic time.
func (s *smallest) selectNth(n int) {
	k := s.keys
	lo, hi := 0, len(k)-1
	for rounds := 2 * bits.Len(uint(len(k))); hi > lo; rounds-- {
		if rounds == 0 {
			slices.SortFunc(k[lo:hi+1], func(a, b int32) int {
				if s.lt(a, b) {
					return -1
				}
				return 1 // keys are distinct
			})
			return
		}
		mid := lo + (hi-lo)/2
		if s.lt(k[mid], k[lo]) {
			k[mid], k[lo] = k[lo], k[mid]
		}
		if s.lt(k[hi], k[lo]) {
			k[hi], k[lo] = k[lo], k[hi]
		}
		if s.lt(k[hi], k[mid]) {
			k[hi], k[mid] = k[mid], k[hi]
		}
		// k[lo] ≤ k[mid] ≤ k[hi]: partition lo+1 .. hi-1 around k[mid].
		pivot := k[mid]
		i, j := lo, hi
		for i <= j {
			for s.lt(k[i], pivot) {
				i++
			}
			for s.lt(pivot, k[j]) {
				j--
			}
			if i <= j {
				k[i], k[j] = k[j], k[i]
				i++
				j--
			}
		}
		// lo .. j are at most the pivot, i .. hi at least, j < i.
		switch {
		case n <= j:
			hi = j
		case n >= i:
			lo = i
		default:
			return
		}
	}
}

// layerOf resolves the collectionId path parameter.
func (h *handlers) layerOf(c echo.Context) (*geo.Index, *geo.Layer, error) {
	ix := h.index(c)
	id := pathParam(c, "collectionId")
	l, ok := ix.Layer(id)
	if !ok {
		return nil, nil, notFound("no collection %q; GET /collections lists them", id)
	}
	return ix, l, nil
}

func (h *handlers) items(c echo.Context) error {
	ix, l, err := h.layerOf(c)
	if err != nil {
		return err
	}
	m := h.catalogFor(ix).meta(l)
	q, err := parseItemsQuery(c.QueryString(), m)
	if err != nil {
		return err
	}
	if q.filter != nil {
		if err := q.filter.prepare(ix, l); err != nil {
			return err
		}
	}
	if q.format == "" {
		if q.format, q.html, err = negotiatePage(c, itemsOffer()); err != nil {
			return err
		}
	}
	if err := q.pageOnly(); err != nil {
		return err
	}
	gone := newStopper(c.Request().Context())
	if q.format != export.GeoJSON {
		return h.exportItems(c, l, m, &q, gone)
	}
	reserved, err := h.reserveSites(c, q.limit)
	if err != nil {
		return err
	}
	defer reserved.release()
	top := scratch.get()
	defer scratch.put(top)
	p := selectPage(l, m, &q, top, gone)
	if gone.err != nil {
		return gone.err
	}

	buf := getBuffer()
	defer putBuffer(buf)
	copies := copiesFor(c)
	defer putCopies(copies)
	b := append(*buf, `{"type":"FeatureCollection","numberMatched":`...)
	b = appendInt(b, p.matched)
	b = append(b, `,"numberReturned":`...)
	b = appendInt(b, len(p.idx))
	b = append(b, `,"links":[`...)
	b = h.appendSelfLink(b, c, "this page")
	b = h.appendAlternateLinks(b, c, itemsOffer()[1:]...) // the page is the first, GeoJSON
	b = h.appendHTMLLink(append(b, ','), c)
	limit := strconv.Itoa(q.limit)
	next, prev := cursor{at: p.last}.String(), cursor{backward: true, at: p.first}.String()
	nextOffset, prevOffset := "", ""
	if q.sort != nil {
		next, prev = "", ""
		nextOffset, prevOffset = strconv.Itoa(q.offset+q.limit), strconv.Itoa(max(0, q.offset-q.limit))
	}
	if p.next {
		b = h.appendPageLink(append(b, ','), c, next, nextOffset, limit, "next", "next page")
	}
	if p.prev {
		b = h.appendPageLink(append(b, ','), c, prev, prevOffset, limit, "prev", "previous page")
	}
	b = h.appendCollectionLink(append(b, ','), c, l.Name())
	b = append(b, `],"features":[`...)
	bodies := h.dataset(c).bodies
	for at := 0; at < len(p.idx); at += checkEvery {
		if at > 0 {
			if err := c.Request().Context().Err(); err != nil {
				return err
			}
			b = append(b, ',')
		}
		b = q.shape.appendFeatures(b, bodies, copies, l, p.idx[at:min(at+checkEvery, len(p.idx))])
	}
	*buf = append(b, "]}\n"...)
	if q.html {
		return h.sendItemsPage(c, l.Name(), *buf)
	}
	q.shape.setContentCRS(c)
	return sendKept(c, mediaGeoJSON, *buf, bodies, copies, true)
}

// appendPageLink appends the link to the page of the request's results
// at cursor at, or for a sorted selection at offset, limit features long.
func (h *handlers) appendPageLink(b []byte, c echo.Context, at, offset, limit, rel, title string) []byte {
	b = appendHref(b, func(b []byte) []byte {
		return h.appendWithQuery(b, c, func(name string) (string, bool) {
			switch name {
			case "cursor":
				return at, true
			case "limit":
				return limit, true
			case "offset":
				return offset, true
			}
			return "", false
		}, "cursor", "limit", "offset")
	})
	return appendLinkEnd(b, rel, mediaGeoJSON, title)
}

// appendAlternateLinks appends, each after a comma, the links to every
// item the request matches downloaded in each of formats. The links'
// URLs differ only in their f, so the first is built from the request and
// the others copy it around their own f.
func (h *handlers) appendAlternateLinks(b []byte, c echo.Context, formats ...export.Format) []byte {
	// The href built, of format built, at b[start:end], its f's value at
	// value; none yet.
	start, value, end, built := 0, -1, 0, export.Format("")
	for _, f := range formats {
		b = append(b, ',')
		if value < 0 {
			start, built = len(b), f
			b = appendHref(b, func(b []byte) []byte {
				return h.appendWithQuery(b, c, func(name string) (string, bool) {
					switch name {
					case "f":
						return string(f), true
					case "cursor", "limit", "offset", "sortby", "properties", "skipGeometry":
						return "", true // an export streams every item matching, whole
					}
					return "", false
				}, "f", "cursor", "limit", "offset", "sortby", "properties", "skipGeometry")
			})
			end = len(b)
			value = paramValue(b[start:end], "f", string(f))
			if value >= 0 {
				value += start
			}
		} else {
			b = append(b, b[start:value]...)
			b = append(b, f...)
			b = append(b, b[value+len(built):end]...)
		}
		b = appendLinkEnd(b, "alternate", f.ContentType(), "every item matching, as "+strings.ToUpper(string(f)))
	}
	return b
}

// paramValue is where, in a link's href (`{"href":"…"`), the value v of
// the query parameter name begins; -1 when it is not there. A query's
// names and values are escaped, so "name=v" after a "?" or "&" and before
// an "&" or the closing quote is that parameter.
func paramValue(href []byte, name, v string) int {
	pair := []byte(name + "=" + v)
	for from := 0; ; from++ {
		n := bytes.Index(href[from:], pair)
		if n < 0 {
			return -1
		}
		from += n
		after := from + len(pair)
		if from > 0 && (href[from-1] == '?' || href[from-1] == '&') && after < len(href) && (href[after] == '&' || href[after] == '"') {
			return from + len(name) + 1
		}
	}
}

// appendHTMLLink appends the link to this page of results as a web page.
func (h *handlers) appendHTMLLink(b []byte, c echo.Context) []byte {
	b = appendHref(b, func(b []byte) []byte {
		return h.appendWithQuery(b, c, func(name string) (string, bool) {
			return "html", name == "f"
		}, "f")
	})
	return appendLinkEnd(b, "alternate", "text/html", "this page as a web page")
}

func (h *handlers) item(c echo.Context) error {
	_, l, err := h.layerOf(c)
	if err != nil {
		return err
	}
	var sh shape
	if err := itemParams.parse(c.QueryString(), &sh, nil); err != nil {
		return err
	}
	html, err := htmlAsked(c, asGeoJSON)
	if err != nil {
		return err
	}
	id := pathParam(c, "featureId")
	f, _, ok := l.Lookup(id)
	if !ok {
		return notFound("collection %q has no feature %q", l.Name(), id)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	var scratch []byte
	shaped := sh.apply(f, &scratch)
	b := geojson.AppendFeature(*buf, &shaped)
	b = append(b[:len(b)-1], `,"links":[`...)
	b = h.appendSelfLink(b, c, f.ID)
	b = h.appendCollectionLink(append(b, ','), c, l.Name())
	*buf = append(b, "]}\n"...)
	if html {
		return h.sendItemPage(c, l.Name(), *buf)
	}
	sh.setContentCRS(c)
	return send(c, mediaGeoJSON, *buf, true)
}

var itemParams = params[shape]{
	"f": func(_ *shape, v string) error {
		if v == asHTML.f || featureFormat(v) == nil {
			return nil
		}
		return notAcceptable([]representation{asGeoJSON, asHTML}, v)
	},
	"crs": func(s *shape, v string) (err error) { s.crs, err = parseCRS(v); return err },
}

// pathParam is a path parameter, unescaped: the router matches the escaped
// path when the request escapes more than it must.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath != "" {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// appendLink appends a link object.
func appendLink(b []byte, href, rel, typ, title string) []byte {
	b = append(b, `{"href":`...)
	b = geojson.AppendJSONString(b, href)
	return appendLinkEnd(b, rel, typ, title)
}
