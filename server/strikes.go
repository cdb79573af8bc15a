package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/geo/crs"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server/store"
)

// strikesCollection is the id of the strike log as an OGC collection.
const strikesCollection = "strikes"

// mediaCSV is the type of CSV exports.
const mediaCSV = "text/csv; charset=utf-8"

// Bounds of one POST /strikes. Its strikes are held in memory to be
// written in one transaction, all or nothing; larger imports are split
// over several requests (each idempotent on the source's event ids).
const (
	maxStrikeBody    = 64 << 20
	maxStrikesPerPut = 100_000
	// maxRecordErrors caps the bad records one answer lists.
	maxRecordErrors = 100
)

// errStrikeMedia is a POST /strikes body of a type it does not read.
var errStrikeMedia = errors.New("send strikes as application/geo+json (a Feature or FeatureCollection) or text/csv (ACLED or UCDP columns, or any with columns=)")

// recordsError is a POST /strikes refused for its bad records; nothing
// was recorded.
type recordsError struct {
	errs []error
	more bool // reading stopped at maxRecordErrors
}

func (e *recordsError) Error() string { return errors.Join(e.errs...).Error() }

// asRecordsError turns the store's complaint about bad strikes (one error,
// or several joined) into a recordsError; other errors pass through.
func asRecordsError(err error) error {
	if !errors.Is(err, store.ErrInvalid) {
		return err
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return &recordsError{errs: joined.Unwrap()}
	}
	return &recordsError{errs: []error{err}}
}

// postStrikesQuery is what POST /strikes takes besides its body: the
// columns of a CSV of another layout than ACLED's or UCDP's, and their
// source.
type postStrikesQuery struct {
	columns *store.Columns
	source  string
}

var postStrikesParams = params[postStrikesQuery]{
	"f": func(_ *postStrikesQuery, v string) error { return jsonFormat(v) },
	"columns": func(q *postStrikesQuery, v string) error {
		c, err := store.ParseColumns(v)
		q.columns = &c
		return err
	},
	"source": func(q *postStrikesQuery, v string) error {
		q.source = v
		return nil
	},
}

// postStrikes answers POST /strikes: a GeoJSON Feature, a FeatureCollection
// or ACLED-style CSV (Content-Type text/csv) of strikes, recorded in one
// transaction. A strike whose source and event id are already recorded
// updates that strike, unless it is the same in every field: so posting
// the same file again changes nothing, updated_at included. A
// lone Feature is answered with the strike as stored and its verdict; a
// collection or CSV with the id and status of each strike.
func (h *handlers) postStrikes(c echo.Context) error {
	var q postStrikesQuery
	if err := postStrikesParams.parse(c.QueryString(), &q, nil); err != nil {
		return err
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxStrikeBody)
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		mt = ""
	}
	if q.columns == nil && q.source != "" {
		return paramError("source", "names the source of a CSV read through columns")
	}
	var dec store.Decoder
	var geoJSON *store.GeoJSONDecoder
	switch {
	case mt == "text/csv" && q.columns != nil:
		q.columns.SourceName = q.source
		dec = store.NewMappedCSVDecoder(body, *q.columns)
	case mt == "text/csv":
		dec = store.NewCSVDecoder(body)
	case q.columns != nil:
		return paramError("columns", "maps the columns of a CSV (Content-Type text/csv)")
	case mt == mediaGeoJSON || mt == mediaJSON:
		geoJSON = store.NewGeoJSONDecoder(body)
		dec = geoJSON
	default:
		return errStrikeMedia
	}
	strikes, err := decodeStrikes(dec)
	if err != nil {
		return err
	}
	if len(strikes) == 0 {
		return paramError("body", "no strikes in it")
	}
	first, err := h.recordVerdicts(c, strikes)
	if err != nil {
		return err
	}
	// Only a data set's CSV comes in thinner copies; a GeoJSON strike
	// posted without a property it was recorded with drops it.
	linked := make([]string, len(strikes))
	if mt == "text/csv" {
		if linked, err = h.linkCopies(c, strikes); err != nil {
			return err
		}
	}
	results, err := h.putLinked(c, strikes, linked)
	if err != nil {
		return asRecordsError(err)
	}
	status := http.StatusOK // every strike was already recorded: nothing new
	for _, r := range results {
		if r.Created {
			status = http.StatusCreated
		}
	}
	if geoJSON != nil && geoJSON.Lone() {
		c.Response().Header().Set(echo.HeaderLocation, h.strikeURL(c, results[0].ID))
		return h.sendStrike(c, results[0].Strike, strikeQuery{}, first, status)
	}
	return h.sendPutResults(c, results, status)
}

// strikeBlock is how many strikes decodeStrikes gathers in a block at most.
const strikeBlock = 256

// decodeStrikes reads every strike from dec, or lists the bad records.
// They are gathered in blocks, joined once at the end: a slice grown by
// appending copied (and, being pointers, put through the collector's write
// barrier) every strike read so far each time it grew, and a Strike is
// large.
func decodeStrikes(dec store.Decoder) ([]store.Strike, error) {
	var blocks [][]store.Strike
	n := 0
	bad := &recordsError{}
	for {
		s, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				return nil, err // the body could not be read
			}
			if len(bad.errs) == maxRecordErrors {
				bad.more = true
				break
			}
			bad.errs = append(bad.errs, err)
			continue
		}
		if n == maxStrikesPerPut {
			return nil, paramError("body", "more than %d strikes; split them over several requests", maxStrikesPerPut)
		}
		if len(bad.errs) > 0 {
			continue
		}
		if last := len(blocks) - 1; last < 0 || len(blocks[last]) == cap(blocks[last]) {
			// Blocks double, from one strike (a lone Feature's) up to strikeBlock.
			blocks = append(blocks, make([]store.Strike, 0, min(max(n, 1), strikeBlock)))
		}
		blocks[len(blocks)-1] = append(blocks[len(blocks)-1], s)
		n++
	}
	switch {
	case len(bad.errs) > 0:
		return nil, bad
	case len(blocks) == 1:
		return blocks[0], nil
	}
	return slices.Concat(blocks...), nil
}

// sendPutResults answers a batch: how many strikes were created, updated
// and found recorded exactly as given, and where each is. Location names
// the strike log.
func (h *handlers) sendPutResults(c echo.Context, results []putOutcome, status int) error {
	var created, updated, unchanged, linked int
	// The base URL is worked out once, not for each strike's href.
	list := h.baseURL(c) + "/strikes"
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"strikes":[`...)
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = geojson.AppendJSONString(b, r.ID)
		b = append(b, `,"status":`...)
		switch {
		case r.linked:
			linked++
			b = append(b, `"linked"`...)
		case r.Created:
			created++
			b = append(b, `"created"`...)
		case r.Unchanged:
			unchanged++
			b = append(b, `"unchanged"`...)
		default:
			updated++
			b = append(b, `"updated"`...)
		}
		b = append(b, `,"href":`...)
		b = append(geojson.AppendJSONString(b, strikeHref(list, r.ID)), '}')
	}
	b = append(b, `],"created":`...)
	b = appendInt(b, created)
	b = append(b, `,"updated":`...)
	b = appendInt(b, updated)
	b = append(b, `,"unchanged":`...)
	b = appendInt(b, unchanged)
	b = append(b, `,"linked":`...)
	b = appendInt(b, linked)
	b = append(b, `,"links":[`...)
	b = appendLink(b, list, "collection", mediaGeoJSON, "the strike log")
	*buf = append(b, "]}\n"...)
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderLocation, list)
	hdr.Set(echo.HeaderContentType, mediaJSON)
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(*buf)
	return err
}

func (h *handlers) strikeURL(c echo.Context, id string) string {
	return strikeHref(h.baseURL(c)+"/strikes", id)
}

// strikeHref is the URL of strike id in the strike log at list.
func strikeHref(list, id string) string { return list + "/" + url.PathEscape(id) }

// strikeQuery is a parsed GET /strikes/{id}: the collections judged and
// the CRS of the point.
type strikeQuery struct {
	scope []string
	shape shape
}

// strikeParams are the parameters of GET /strikes/{id}.
var strikeParams = params[strikeQuery]{
	"f":            func(_ *strikeQuery, v string) error { return featureFormat(v) },
	"data_version": func(*strikeQuery, string) error { return nil }, // read by atVersion
	"scope": func(q *strikeQuery, v string) (err error) {
		q.scope, err = parseNames(v)
		return err
	},
	"crs": func(q *strikeQuery, v string) (err error) { q.shape.crs, err = parseCRS(v); return err },
}

// getStrike answers GET /strikes/{id}: the strike, with its verdict
// against the layers and agreements served now.
func (h *handlers) getStrike(c echo.Context) error {
	var q strikeQuery
	if err := strikeParams.parse(c.QueryString(), &q, nil); err != nil {
		return err
	}
	if err := checkCollections(h.index(c), "scope", q.scope); err != nil {
		return err
	}
	if err := acceptsOnly(c, asGeoJSON); err != nil {
		return err
	}
	id := pathParam(c, "featureId")
	st, err := h.cfg.Store.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.sendStrike(c, &st, q, nil, http.StatusOK)
}

// sendStrike sends a recorded strike, as the store holds it, with its
// verdict and links. judged, when not nil, is its unscoped verdict against
// the request's data, already computed; otherwise it is judged here.
func (h *handlers) sendStrike(c echo.Context, st *store.Strike, q strikeQuery, judged *judgement, status int) error {
	scope := q.scope
	d := h.dataset(c)
	set, err := h.agreementsFor(d.Index)
	if err != nil {
		return err
	}
	// The recorded verdict is unscoped, so the verdict now is judged
	// unscoped to compare with it; only a scope asks for a second one.
	if judged == nil {
		j := judgeUnscoped(set, st, nil)
		judged = &j
	}
	v, err := judged.verdict, judged.err
	if len(scope) > 0 {
		q := agreement.NewVerdictQuery(st.Geo())
		q.Scope = scope
		v, err = set.Verdict(q)
	}
	var verdict geojson.Member
	if err != nil {
		// Only a reach beyond geo.MaxRadiusMeters gets here: the strike
		// is recorded, its verdict cannot be computed.
		verdict = geojson.Member{Key: "verdict_error", Value: userMessage(err)}
	} else {
		verdict = geojson.Member{Key: "verdict", Value: v}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	facts, err := factsOf(c.Request().Context(), h.cfg.Store, d.Index, scope, []store.Strike{*st})
	if err != nil {
		return err
	}
	members := append(append([]geojson.Member{verdict}, verdictMembers(st, judged.body, d.Version)...), facts[0].members()...)
	f := st.Feature(members...)
	var scratch []byte
	f = q.shape.apply(&f, &scratch)
	b := geojson.AppendFeature(*buf, &f, members...)
	b = b[:len(b)-1]
	if v != nil {
		// The verdict under each reading, where /proximity gives it.
		b = append(b, `,"summary":{"verdict":`...)
		b = geojson.AppendJSONString(b, string(v.Outcome))
		b = append(appendReadings(append(b, ','), v), '}')
	}
	b = append(b, `,"links":[`...)
	b = appendLink(b, h.strikeURL(c, st.ID), "self", mediaGeoJSON, "this strike")
	b = appendLink(append(b, ','), h.baseURL(c)+"/strikes", "collection", mediaGeoJSON, "the strike log")
	*buf = append(b, "]}\n"...)
	q.shape.setContentCRS(c)
	if status != http.StatusOK {
		c.Response().Header().Set(echo.HeaderContentType, mediaGeoJSON)
		c.Response().WriteHeader(status)
		_, err := c.Response().Write(*buf)
		return err
	}
	return send(c, mediaGeoJSON, *buf, false)
}

// deleteStrike answers DELETE /strikes/{id} with 204.
func (h *handlers) deleteStrike(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	id := pathParam(c, "featureId")
	if err := h.cfg.Store.Delete(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// strikesQuery is a parsed GET /strikes request: items' bbox, datetime,
// limit and format, and the store's cursor.
type strikesQuery struct {
	itemsQuery
	cursor  string
	sources []string
	// where is what the filter and property=value parameters ask of each
	// strike; nil when they ask nothing.
	where cql2.Expr
	eq    []cql2.Expr
	// sel is what the analyst's parameters ask; filter is sel checked
	// against the data served.
	sel       strikeSelection
	selection *strikeFilter
}

var strikesParams = lift(itemsParams, func(q *strikesQuery) *itemsQuery { return &q.itemsQuery },
	"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f", "sortby", "properties", "skipGeometry", "filter", "filter-lang", "filter-crs").with(params[strikesQuery]{
	"cursor": func(q *strikesQuery, v string) error { q.cursor = v; return nil },
	"source": func(q *strikesQuery, v string) (err error) { q.sources, err = parseSources(v); return err },
}).with(lift(selectionParams, func(q *strikesQuery) *strikeSelection { return &q.sel }, selectionNames...))

// newStrikesQuery is a query before its parameters are read.
func newStrikesQuery() strikesQuery {
	return strikesQuery{itemsQuery: itemsQuery{limit: defaultItemsLimit}, sel: strikeSelection{window: openSpan}}
}

// storeQuery is the store's form of the query.
func (q *strikesQuery) storeQuery() store.Query {
	sq := store.Query{Limit: q.limit, Cursor: q.cursor, Offset: q.offset, Descending: len(q.sort) > 0 && q.sort[0].desc, Sources: q.sources}
	if q.hasBBox {
		sq.BBox = &q.bbox
	}
	if q.hasTime {
		sq.From, sq.To = q.when.from(), q.when.to()
	}
	q.selection.narrow(&sq)
	return sq
}

// matches reports whether st passes the filter and the selection.
func (q *strikesQuery) matches(st *store.Strike) (bool, error) {
	if !matchesStrike(q.where, st) {
		return false, nil
	}
	_, ok, err := q.selection.examine(st, false)
	return ok, err
}

// prepare reads what a strike log query's parameters, once parsed, ask
// together, and checks the selection against the data served.
func (h *handlers) prepareStrikesQuery(c echo.Context, q *strikesQuery) error {
	if err := q.readWhere(); err != nil {
		return err
	}
	if err := q.readBBox(); err != nil {
		return err
	}
	if q.bboxShape != nil {
		return paramError("bbox-crs", "the strike log takes a bbox in %s, EPSG:4326 or EPSG:3857, whose boxes are longitude/latitude boxes", crs84URI)
	}
	var err error
	q.selection, err = h.filter(c, q.sel)
	return err
}

// listStrikes answers GET /strikes and GET /collections/strikes/items: a
// page of strikes by time, then id, as GeoJSON with a next link, or as CSV
// with the next page in a Link header; or every strike matching, streamed
// as newline-delimited GeoJSON or KML (see exportStrikes). The format is
// f's, else the Accept header's.
func (h *handlers) listStrikes(c echo.Context) error {
	q := newStrikesQuery()
	if err := strikesParams.parse(c.QueryString(), &q, strikeEquality); err != nil {
		return err
	}
	if err := h.prepareStrikesQuery(c, &q); err != nil {
		return err
	}
	if err := q.checkShape(isStrikeSortKey, isStrikeField); err != nil {
		return err
	}
	if q.format == "" {
		var err error
		if q.format, err = negotiate(c, strikesOffer()); err != nil {
			return err
		}
	}
	if err := q.pageOnly(); err != nil {
		return err
	}
	if q.format == export.NDJSON || q.format == export.KML {
		return h.exportStrikes(c, &q)
	}
	if q.offset > 0 && q.cursor != "" {
		return paramError("offset", "give offset or cursor, not both; the next link carries a cursor")
	}
	sq := q.storeQuery()
	sq.Count = q.format != export.CSV
	page, err := h.strikesOrFiltered(c, &q, sq)
	if err != nil {
		return err
	}
	next := ""
	if page.Next != "" {
		next = h.withQuery(c, map[string]string{"cursor": page.Next, "limit": strconv.Itoa(q.limit), "offset": ""})
	}
	if q.format == export.CSV {
		if next != "" {
			c.Response().Header().Set("Link", "<"+next+`>; rel="next"`)
		}
		return sendCSV(c, strikeHeader, nil, func(w *export.CSVWriter) error {
			for i := range page.Strikes {
				if err := w.Write(strikeRecord(nil, &page.Strikes[i])); err != nil {
					return fmt.Errorf("strike %s: %w", page.Strikes[i].ID, err)
				}
			}
			return nil
		})
	}
	ctx := c.Request().Context()
	links, err := linksAround(ctx, h.cfg.Store, page.Strikes)
	if err != nil {
		return err
	}
	events, err := h.countEvents(c, &q, sq, page.Matched)
	if err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"type":"FeatureCollection","numberMatched":`...)
	b = appendInt(b, page.Matched)
	if events >= 0 {
		b = append(b, `,"numberEvents":`...)
		b = appendInt(b, events)
	}
	b = append(b, `,"numberReturned":`...)
	b = appendInt(b, len(page.Strikes))
	b = append(b, `,"timeStamp":`...)
	b = geojson.AppendJSONString(b, time.Now().UTC().Format(time.RFC3339))
	b = append(b, `,"links":[`...)
	b = appendLink(b, h.selfURL(c), "self", mediaGeoJSON, "this page")
	if next != "" {
		b = appendLink(append(b, ','), next, "next", mediaGeoJSON, "next page")
	}
	b = appendLink(append(b, ','), h.withQuery(c, map[string]string{"f": "csv"}), "alternate", mediaCSV, "this page as CSV")
	b = h.appendAlternateLinks(b, c, export.NDJSON, export.KML)
	b = appendLink(append(b, ','), h.baseURL(c)+collectionPath(strikesCollection), "collection", mediaJSON, "the strike log")
	b = append(b, `],"features":[`...)
	scratch := getBuffer()
	defer putBuffer(scratch)
	for i := range page.Strikes {
		if i > 0 {
			b = append(b, ',')
		}
		st := &page.Strikes[i]
		members := linkMembers(links[st.ID])
		if st.Verdict != nil {
			members = append(members, geojson.Member{Key: "verdict_recorded", Value: json.RawMessage(appendVerdict(nil, st.Verdict))})
		}
		members = q.shape.members(members)
		f := st.Feature(members...)
		f = q.shape.apply(&f, scratch)
		b = geojson.AppendFeature(b, &f, members...)
	}
	*buf = append(b, "]}\n"...)
	q.shape.setContentCRS(c)
	return send(c, mediaGeoJSON, *buf, false)
}

// strikesPage reads a page of the log.
func (h *handlers) strikesPage(c echo.Context, sq store.Query) (store.Page, error) {
	return h.cfg.Store.List(c.Request().Context(), sq)
}

// strikeHeader names the columns of strikeRecord. The geometry is also
// WKT, as in the layers' CSV exports, which GDAL reads by its name.
var strikeHeader = []string{"id", "datetime", "longitude", "latitude", "uncertainty_m", "source", "event_id", "weapon", "notes", "wkt"}

// strikeRecord appends a strike's CSV fields to rec.
func strikeRecord(rec []string, s *store.Strike) []string {
	return append(rec, s.ID, s.Time.UTC().Format(time.RFC3339Nano),
		strconv.FormatFloat(s.Point[0], 'f', -1, 64), strconv.FormatFloat(s.Point[1], 'f', -1, 64),
		strconv.FormatFloat(s.UncertaintyMeters, 'f', -1, 64), s.Source, s.SourceEventID, s.Weapon, s.Notes,
		wkt.MarshalString(s.Point))
}

// sendCSV sends a header row and the rows write adds; sign, when given,
// sees the whole body before it is sent, to set headers about it. Rows
// go to a buffer, so a row the CSV writer refuses (export.ErrText) fails
// the request before anything is sent, rather than going missing.
func sendCSV(c echo.Context, header []string, sign func(body []byte), write func(*export.CSVWriter) error) error {
	buf := getBuffer()
	defer putBuffer(buf)
	out := bytes.NewBuffer(*buf)
	w := export.NewCSVWriter(out)
	if err := errors.Join(w.Write(header), write(w)); err != nil {
		return err
	}
	w.Flush()
	*buf = out.Bytes()
	if sign != nil {
		sign(*buf)
	}
	return send(c, mediaCSV, *buf, false)
}

// strikeFields are the properties every strike carries (see
// store.AppendFeature); those given on import beyond them vary.
var strikeFields = []field{
	{Name: "created_at", Type: "string", Format: "date-time"},
	{Name: "datetime", Type: "string", Format: "date-time"},
	{Name: "event_id", Type: "string"},
	// The records of other sources linked to it as one event, and those it
	// matches without linking (see crosslink.go); null when none.
	{Name: propCandidates, Type: "array"},
	{Name: propLinkedTo, Type: "array"},
	{Name: "notes", Type: "string"},
	{Name: "source", Type: "string"},
	{Name: "uncertainty_m", Type: "number"},
	{Name: "updated_at", Type: "string", Format: "date-time"},
	// The verdict stored with the strike, when it was judged on record.
	{Name: "verdict_recorded", Type: "object"},
	{Name: "weapon", Type: "string"},
}

// strikeQueryables are the properties of strikes that filters, sortby
// aside, can test: every scalar one but datetime, which the datetime
// parameter has.
var strikeQueryables = func() []queryable {
	var qs []queryable
	for _, f := range strikeFields {
		if (f.Type == "string" || f.Type == "number") && f.Name != propDatetime {
			qs = append(qs, queryable{Name: f.Name, Type: f.Type})
		}
	}
	return qs
}()

// strikeEquality takes a property=value parameter on a strike queryable
// as the filter property = value.
func strikeEquality(q *strikesQuery, name, v string) (bool, error) {
	i := slices.IndexFunc(strikeQueryables, func(s queryable) bool { return s.Name == name })
	if i < 0 {
		return false, nil
	}
	lit := cql2.Value{Kind: cql2.String, Str: v}
	if strikeQueryables[i].Type == "number" {
		n, err := parseFloat(v)
		if err != nil {
			return true, err
		}
		lit = cql2.Value{Kind: cql2.Number, Num: n}
	}
	q.eq = append(q.eq, cql2.Comparison{Op: "=", Left: cql2.Operand{Property: name}, Right: cql2.Operand{Literal: lit}})
	return true, nil
}

// readWhere reads the filter, once every parameter is, and joins it with
// the property=value tests.
func (q *strikesQuery) readWhere() error {
	if err := q.readFilter(isStrikeField); err != nil {
		return err
	}
	all := q.eq
	if q.filter != nil {
		all = append(all, q.filter.expr)
	}
	switch len(all) {
	case 0:
	case 1:
		q.where = all[0]
	default:
		q.where = cql2.And{Args: all}
	}
	return nil
}

// filteredStrikesPage reads the page of strikes that q's filter selects.
// The store narrows by bbox and datetime; the filter is evaluated here, on
// every strike they select, so numberMatched stays exact. The next cursor
// continues after the page's last strike.
func (h *handlers) filteredStrikesPage(c echo.Context, q *strikesQuery, sq store.Query) (store.Page, error) {
	sq.Limit, sq.Count, sq.Offset = store.MaxLimit, false, 0
	var out store.Page
	skipped := 0
	err := h.eachStrike(c, q.matches, sq, func(st *store.Strike) {
		out.Matched++
		switch {
		case skipped < q.offset:
			skipped++
		case len(out.Strikes) < q.limit:
			out.Strikes = append(out.Strikes, *st)
		case out.Next == "":
			out.Next = store.CursorAfter(&out.Strikes[len(out.Strikes)-1])
		}
	})
	if err != nil || sq.Cursor == "" {
		return out, err
	}
	// numberMatched counts the whole selection, as on the first page.
	sq.Cursor, out.Matched = "", 0
	return out, h.eachStrike(c, q.matches, sq, func(*store.Strike) { out.Matched++ })
}

// maxFilterScan bounds how many strikes one filtered request reads, so a
// filter that matches nothing in a huge log cannot hold the store long.
const maxFilterScan = 1_000_000

// eachStrike calls fn with every strike sq selects that match takes, in
// order, reading the log a page at a time.
func (h *handlers) eachStrike(c echo.Context, match func(*store.Strike) (bool, error), sq store.Query, fn func(*store.Strike)) error {
	for scanned := 0; ; {
		page, err := h.strikesPage(c, sq)
		if err != nil {
			return err
		}
		for i := range page.Strikes {
			ok, err := match(&page.Strikes[i])
			if err != nil {
				return err
			}
			if ok {
				fn(&page.Strikes[i])
			}
		}
		if scanned += len(page.Strikes); page.Next == "" {
			return nil
		}
		if scanned >= maxFilterScan {
			return paramError("filter", "the bbox and datetime select more than the %d strikes a filter may read; narrow them", maxFilterScan)
		}
		if err := c.Request().Context().Err(); err != nil {
			return err
		}
		sq.Cursor = page.Next
	}
}

// strikesOrFiltered reads the page q asks for, by the store alone when q
// has no filter.
func (h *handlers) strikesOrFiltered(c echo.Context, q *strikesQuery, sq store.Query) (store.Page, error) {
	if q.where == nil && !q.selection.active() {
		return h.strikesPage(c, sq)
	}
	return h.filteredStrikesPage(c, q, sq)
}

// matchesStrike evaluates a filter on a strike.
func matchesStrike(where cql2.Expr, st *store.Strike) bool {
	return where == nil || cql2.Matches(where, &strikeFeature{st: st, props: st.Feature().Properties})
}

// strikeFeature is a strike as the filter evaluator reads it.
type strikeFeature struct {
	st    *store.Strike
	props []byte
}

func (x *strikeFeature) Property(name string) cql2.Value { return propertyOf(x.props, name) }
func (x *strikeFeature) Geometry() orb.Geometry          { return x.st.Point }
func (x *strikeFeature) WithinMeters(p orb.Point, meters float64) bool {
	return geodesy.Distance(x.st.Point, p) <= meters
}

// isStrikeField reports whether every strike can carry property name.
func isStrikeField(name string) bool {
	return slices.ContainsFunc(strikeFields, func(f field) bool { return f.Name == name })
}

// isStrikeSortKey reports whether strikes can be sorted by name: by time,
// either way, the store's order.
func isStrikeSortKey(name string) bool { return name == propDatetime }

func (h *handlers) strikesSchema(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	id := h.baseURL(c) + collectionPath(strikesCollection) + "/schema"
	return sendSchema(c, featureSchema(id, strikesCollection, []string{"Point"}, strikeFields))
}

func (h *handlers) strikesQueryables(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	id := h.baseURL(c) + collectionPath(strikesCollection) + "/queryables"
	return sendSchema(c, queryablesSchema(id, strikesCollection, strikeQueryables, true))
}

// strikesCollectionDoc describes the strike log as an OGC collection.
func (h *handlers) strikesCollectionDoc(c echo.Context) collectionDoc {
	base := h.baseURL(c) + collectionPath(strikesCollection)
	d := collectionDoc{
		ID:    strikesCollection,
		Title: "recorded strikes",
		Links: []link{
			{Href: base, Rel: "self", Type: mediaJSON, Title: "this collection"},
			{Href: base + "/items", Rel: "items", Type: mediaGeoJSON, Title: "the strikes, by time"},
			{Href: base + "/queryables", Rel: relQueryables, Type: mediaSchema, Title: "properties items can be filtered by"},
			{Href: base + "/schema", Rel: relDescribedBy, Type: mediaSchema, Title: "the schema of the strikes: every property and its type"},
		},
		ItemType:   "feature",
		CRS:        crs.URIs(),
		StorageCRS: crs84URI,
	}
	d.Links = append(d.Links, itemsAlternates(base+"/items", strikesOffer())...)
	return d
}

func (h *handlers) strikesCollection(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	return sendJSON(c, mediaJSON, h.strikesCollectionDoc(c), false)
}
