package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
	"github.com/protectmap/protectmap/server/store"
)

// verdictBody is a verdict as recorded with a strike and compared later:
// the outcome and the protected sites behind it, which change only when the
// data that decides them does (unprotected sites nearby are left out).
type verdictBody struct {
	Outcome   agreement.Outcome `json:"verdict"`
	InForce   []string          `json:"agreements_in_force"`
	Protected []reportSite      `json:"protected_sites"`
	// Readings and AgreementStatus keep the verdict under each reading, so
	// a reading changed later never rewrites what was recorded.
	Readings        []agreement.ReadingVerdict `json:"readings,omitempty"`
	AgreementStatus agreement.AgreementStatus  `json:"agreement_status,omitempty"`
}

// judgeStrike is st's verdict body against set: every protected site
// within reach, nearest first. A strike whose reach exceeds what a verdict
// can search gets a verdict_error instead.
func judgeStrike(set *agreement.AgreementSet, st *store.Strike) json.RawMessage {
	return judgeUnscoped(set, st, nil).body
}

// judgement is a strike's unscoped verdict, or the error that stopped it,
// with the body it is recorded as.
type judgement struct {
	verdict *agreement.Verdict
	err     error
	body    json.RawMessage
}

// judgeUnscoped judges st, its body written by bodies (nil: by itself).
func judgeUnscoped(set *agreement.AgreementSet, st *store.Strike, bodies *verdictBodies) judgement {
	v, err := set.Verdict(agreement.NewVerdictQuery(st.Geo()))
	return judgement{v, err, bodies.of(st, v, err)}
}

// verdictBodies writes the verdict bodies of one request's strikes. Most
// strikes of a POST are far from every protected site and judged alike,
// and encoding the same body again for each was a tenth of the time
// recording them took: a body without protected sites equal to the last
// one written is that one. A nil *verdictBodies writes every body anew.
type verdictBodies struct {
	last verdictBody
	body json.RawMessage
}

// of is the verdict body of st's unscoped verdict v, or of the error that
// stopped it.
func (w *verdictBodies) of(st *store.Strike, v *agreement.Verdict, err error) json.RawMessage {
	if err != nil {
		return mustJSON(map[string]string{"verdict_error": userMessage(err)})
	}
	vb := verdictBody{v.Outcome, v.InForce, judge(*st, v, 0).sites, v.Readings, v.AgreementStatus}
	if w == nil {
		return mustJSON(vb)
	}
	if w.body != nil && vb.sameWithoutSites(&w.last) {
		return w.body
	}
	body := mustJSON(vb)
	if len(vb.Protected) == 0 {
		w.last, w.body = vb, body
	}
	return body
}

// sameWithoutSites reports whether b and o list no protected sites and
// are written alike: equal, their nil slices (written null) too.
func (b *verdictBody) sameWithoutSites(o *verdictBody) bool {
	return len(b.Protected) == 0 && len(o.Protected) == 0 && (b.Protected == nil) == (o.Protected == nil) &&
		b.Outcome == o.Outcome && b.AgreementStatus == o.AgreementStatus &&
		(b.InForce == nil) == (o.InForce == nil) && slices.Equal(b.InForce, o.InForce) &&
		(b.Readings == nil) == (o.Readings == nil) && slices.Equal(b.Readings, o.Readings)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings, numbers and slices of them
	}
	return b
}

// recordVerdicts judges each strike against the request's data and keeps
// the verdict on it, to be stored in the same transaction as the strike.
// It returns the first strike's judgement: the answer to a lone Feature
// shows it as the verdict now, without judging the strike again.
func (h *handlers) recordVerdicts(c echo.Context, strikes []store.Strike) (*judgement, error) {
	d := h.dataset(c)
	set, err := h.agreementsFor(d.Index)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	var first *judgement
	bodies := &verdictBodies{}
	var v *store.Verdict
	for i := range strikes {
		j := judgeUnscoped(set, &strikes[i], bodies)
		// Strikes given the same body share one verdict, which the store
		// then makes canonical once for them all.
		if v == nil || !sameBytes(v.Body, j.body) {
			v = &store.Verdict{DataVersion: d.Version, JudgedAt: t, Body: j.body}
		}
		strikes[i].Verdict = v
		if i == 0 {
			first = &j
		}
	}
	return first, nil
}

// sameBytes reports whether a and b are the same bytes in memory, not
// merely equal ones.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// appendVerdict writes a verdict as the object strike responses carry: its
// data version, when it was judged (and whether by a back-fill), then the
// body's members.
func appendVerdict(b []byte, v *store.Verdict) []byte {
	b = append(b, `{"data_version":`...)
	b = geojson.AppendJSONString(b, v.DataVersion)
	if !v.JudgedAt.IsZero() {
		b = append(b, `,"judged_at":`...)
		b = geojson.AppendJSONString(b, v.JudgedAt.UTC().Format(time.RFC3339Nano))
	}
	if v.Backfilled {
		b = append(b, `,"backfilled":true`...)
	}
	jsonscan.EachMember(v.Body, func(key, value []byte) bool {
		b = append(b, ',')
		b = geojson.AppendJSONString(b, string(key))
		b = append(append(b, ':'), value...)
		return true
	})
	return append(b, '}')
}

// verdictMembers are the evidence a strike response carries: the verdict
// it was recorded with, the verdict against data (now, or the version
// asked for) given as its body, and whether they differ.
func verdictMembers(st *store.Strike, nowBody json.RawMessage, version string) []geojson.Member {
	now := &store.Verdict{DataVersion: version, Body: nowBody}
	members := []geojson.Member{{Key: "verdict_now", Value: json.RawMessage(appendVerdict(nil, now))}}
	if st.Verdict == nil {
		return append(members, geojson.Member{Key: "verdict_recorded", Value: nil})
	}
	changed, err := differ(st.Verdict.Body, now.Body)
	if err != nil {
		changed = true // a stored body that does not read is not the same verdict
	}
	return append(members,
		geojson.Member{Key: "verdict_recorded", Value: json.RawMessage(appendVerdict(nil, st.Verdict))},
		geojson.Member{Key: "verdict_changed", Value: changed})
}

// differ reports whether two verdict bodies say different things: compared
// as values, not as bytes, since the stored one is canonical JSON.
func differ(a, b json.RawMessage) (bool, error) {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return true, err
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return true, err
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return !bytes.Equal(ca, cb), nil
}

// strikeHistory answers GET /strikes/{id}/history: the strike's events,
// oldest first, deleted strikes' included.
func (h *handlers) strikeHistory(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	id := pathParam(c, "featureId")
	events, err := h.cfg.Store.History(c.Request().Context(), id)
	if err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"strike":`...)
	b = geojson.AppendJSONString(b, id)
	b = appendEvents(append(b, `,"events":`...), events)
	b = append(b, `,"links":[`...)
	b = appendLink(b, h.strikeURL(c, id)+"/history", "self", mediaJSON, "this history")
	b = appendLink(append(b, ','), h.strikeURL(c, id), "about", mediaGeoJSON, "the strike")
	*buf = append(b, "]}\n"...)
	return send(c, mediaJSON, *buf, false)
}

// appendEvents writes events as a JSON array, each with everything its
// hash covers, so that anyone can check the chain.
func appendEvents(b []byte, events []store.Event) []byte {
	b = append(b, '[')
	for i := range events {
		e := &events[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, e.Seq, 10)
		b = append(b, `,"time":`...)
		b = geojson.AppendJSONString(b, e.Time.UTC().Format(time.RFC3339Nano))
		b = append(b, `,"actor":`...)
		b = geojson.AppendJSONString(b, e.Actor)
		b = append(b, `,"action":`...)
		b = geojson.AppendJSONString(b, e.Action)
		b = append(b, `,"strike":`...)
		b = geojson.AppendJSONString(b, e.Strike)
		b = append(b, `,"record":`...)
		b = append(b, e.Record...)
		b = append(b, `,"hash":`...)
		b = geojson.AppendJSONString(b, e.Hash)
		b = append(b, '}')
	}
	return append(b, ']')
}

// auditQuery is a parsed GET /audit request.
type auditQuery struct {
	window span // both ends inclusive
	limit  int
	cursor string
}

var auditParams = params[auditQuery]{
	"from": func(q *auditQuery, v string) error { return q.window.setStart(v) },
	"to":   func(q *auditQuery, v string) error { return q.window.setEnd(v) },
	"limit": func(q *auditQuery, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("must be a whole number from 1")
		}
		q.limit = min(n, store.MaxLimit)
		return nil
	},
	"cursor": func(q *auditQuery, v string) error { q.cursor = v; return nil },
}

// audit answers GET /audit: a page of the audit log, every strike's
// events in the order they were committed, with a next link.
func (h *handlers) audit(c echo.Context) error {
	q := auditQuery{window: openSpan, limit: store.DefaultLimit}
	if err := auditParams.parse(c.QueryString(), &q, nil); err != nil {
		return err
	}
	if q.window.empty() {
		return paramError("to", "the window ends before it starts")
	}
	ctx := c.Request().Context()
	page, err := h.cfg.Store.Events(ctx, store.EventQuery{From: q.window.from(), To: q.window.to(), Limit: q.limit, Cursor: q.cursor})
	if err != nil {
		return err
	}
	// Read after the page, the head covers every event on it.
	head, err := h.cfg.Store.Head(ctx)
	if err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b := appendEvents(append(*buf, `{"events":`...), page.Events)
	b = append(append(b, `,"head":`...), mustJSON(head)...)
	b = append(b, `,"links":[`...)
	b = appendLink(b, h.selfURL(c), "self", mediaJSON, "this page")
	if page.Next != "" {
		next := h.withQuery(c, map[string]string{"cursor": page.Next, "limit": strconv.Itoa(q.limit)})
		b = appendLink(append(b, ','), next, "next", mediaJSON, "next page")
	}
	*buf = append(b, "]}\n"...)
	return send(c, mediaJSON, *buf, false)
}

// BackfillActor names the audit log's actor for events written when an
// older store is upgraded.
const BackfillActor = "protectmap-upgrade"

// Backfill gives every strike of st recorded before verdicts and the audit
// log were kept a verdict against d and a create event, both marked
// back-filled; it returns how many strikes it filled. Run it once the data
// served at the upgrade is loaded, before serving.
func Backfill(ctx context.Context, st store.Store, d *Dataset) (int, error) {
	judge, err := Judge(d)
	if err != nil {
		return 0, err
	}
	return st.Backfill(ctx, BackfillActor, judge)
}

// Judge returns what gives a strike its verdict against d, judged now, as
// POST /strikes records it: for the store to record with the strike, once
// d is kept in it (KeepVersion).
func Judge(d *Dataset) (func(*store.Strike) (*store.Verdict, error), error) {
	set, err := agreement.NewAgreementSet(d.Index, d.Agreements)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	return func(s *store.Strike) (*store.Verdict, error) {
		return &store.Verdict{DataVersion: d.Version, JudgedAt: t, Body: judgeStrike(set, s)}, nil
	}, nil
}

// Manifest says what a report was computed from, so that anyone holding the
// strike store can compute it again (protectmap report verify).
type Manifest struct {
	// DataVersion names the layers and agreements judged against, kept in
	// the store (GET /versions).
	DataVersion string `json:"data_version"`
	// AgreementsDigest is hex SHA-256 over those agreements as kept.
	AgreementsDigest string `json:"agreements_digest"`
	// ProgramVersion is the protectmap that wrote the report.
	ProgramVersion string    `json:"protectmap_version"`
	GeneratedAt    time.Time `json:"generated_at"`
	// BodySHA256 is hex SHA-256 over the report's body: the bytes of its
	// "features" array as sent (GeoJSON), or the whole CSV.
	BodySHA256 string `json:"body_sha256"`
	// AuditHead is the audit log's head once the report's strikes were
	// read: the log must still hold it, so no event behind the report can
	// be cut from the log's end unnoticed.
	AuditHead store.ChainHead `json:"audit_head"`
	// Agreement is the one agreement the report judges by, when it was
	// asked for one (GET /report?agreement=).
	Agreement string `json:"agreement,omitempty"`
	// Scope names the collections a hypothetical agreement covered, at all
	// times, beside the real ones (GET /report?scope=).
	Scope []string `json:"scope,omitempty"`
}

// manifest is the manifest of a report answered from the request's data,
// once its strikes are read.
func (h *handlers) manifest(c echo.Context) (Manifest, error) {
	d := h.dataset(c)
	head, err := h.cfg.Store.Head(c.Request().Context())
	return Manifest{DataVersion: d.Version, AgreementsDigest: digest(agreementsJSON(d)),
		ProgramVersion: h.cfg.ProgramVersion, GeneratedAt: time.Now().UTC(), AuditHead: head}, err
}

// setHeaders gives a CSV report its manifest as response headers; the body
// digest is RFC 9530's Content-Digest.
func (m *Manifest) setHeaders(hdr http.Header) {
	hdr.Set("Protectmap-Data-Version", m.DataVersion)
	hdr.Set("Protectmap-Agreements-Digest", m.AgreementsDigest)
	hdr.Set("Protectmap-Version", m.ProgramVersion)
	hdr.Set("Protectmap-Generated-At", m.GeneratedAt.Format(time.RFC3339Nano))
	hdr.Set("Protectmap-Audit-Head", m.AuditHead.String())
	if m.Agreement != "" {
		hdr.Set("Protectmap-Agreement", m.Agreement)
	}
	if m.Scope != nil {
		hdr.Set("Protectmap-Scope", strings.Join(m.Scope, ","))
	}
	sum, _ := hex.DecodeString(m.BodySHA256)
	hdr.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
}
