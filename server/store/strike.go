package store

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// Limits on a strike's text, in bytes: generous for real reports, small
// enough that one request cannot bloat the log.
const (
	maxShortText = 256 // source, event id, weapon
	maxNotes     = 16 << 10
	maxExtra     = 64 << 10
)

// Property names of a strike's fields in GeoJSON; Extra may not use them.
const (
	propTime        = "datetime"
	propEnd         = "end"
	propUncertainty = "uncertainty_m"
	propSource      = "source"
	propEventID     = "event_id"
	propWeapon      = "weapon"
	propNotes       = "notes"
	propCreated     = "created_at"
	propUpdated     = "updated_at"
)

var reservedProperties = []string{propTime, propEnd, propUncertainty, propSource, propEventID, propWeapon, propNotes, propCreated, propUpdated}

// MaxPropertyDepth bounds how deeply a strike's properties nest, the
// properties object itself being 1: deep enough for any report, shallow
// enough for every JSON reader the log goes to (SQLite's JSON functions
// stop at 1,000, and a served strike nests its properties 3 deeper).
const MaxPropertyDepth = 400

// IsComputedProperty reports whether name is a property the server
// computes into the strikes it serves (its id, its verdict and what goes
// with it, the batch proximity answer's hits and summary, created_at and
// updated_at, and the facts beside a verdict: nearest site, source link,
// precision code, recorder, the records linked to it). Such a property given with a strike is dropped, never
// stored: a served strike read back in must not make the server's
// computations its own, nor serve them as if they were.
func IsComputedProperty(name string) bool {
	switch name {
	case "id", "verdict", "verdict_without_scope", "verdict_error", "verdict_now", "verdict_recorded", "verdict_changed",
		"agreements_in_force", "agreements_breached", "protected_sites", "hits", "summary", propCreated, propUpdated,
		"nearest_site", "source_link", "precision_code", "recorded_by", "linked_to", "link_candidates":
		return true
	}
	return false
}

type fieldError struct {
	field string
	err   error
}

func (fe *fieldError) at(line int, prefix string) *RecordError {
	return &RecordError{Line: line, Field: prefix + fe.field, Err: fe.err}
}

func failf(field, format string, args ...any) *fieldError {
	return &fieldError{field, fmt.Errorf(format, args...)}
}

// check reports the first problem with s, naming the field as its GeoJSON
// property ("geometry" for the point, "properties" for Extra).
func check(s *Strike) *fieldError {
	if err := checkLongitude(s.Point[0]); err != nil {
		return &fieldError{"geometry", err}
	}
	if err := checkLatitude(s.Point[1]); err != nil {
		return &fieldError{"geometry", err}
	}
	if y := s.Time.Year(); y < 1 || y > 9999 {
		return failf(propTime, "year %d is outside 1 to 9999", y)
	}
	if !s.End.IsZero() {
		if y := s.End.Year(); y < 1 || y > 9999 {
			return failf(propEnd, "year %d is outside 1 to 9999", y)
		}
		if !s.End.After(s.Time) {
			return failf(propEnd, "%s is not after the start, %s", s.End.UTC().Format(time.RFC3339Nano), s.Time.UTC().Format(time.RFC3339Nano))
		}
	}
	if err := checkUncertainty(s.UncertaintyMeters); err != nil {
		return &fieldError{propUncertainty, err}
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{propSource, s.Source, maxShortText}, {propEventID, s.SourceEventID, maxShortText},
		{propWeapon, s.Weapon, maxShortText}, {propNotes, s.Notes, maxNotes}} {
		if err := checkText(f.value, f.max); err != nil {
			return &fieldError{f.name, err}
		}
	}
	if len(s.Extra) > 0 {
		if err := checkExtra(s.Extra); err != nil {
			return &fieldError{"properties", err}
		}
	}
	return nil
}

func checkLongitude(v float64) error {
	if !(v >= -180 && v <= 180) {
		return fmt.Errorf("longitude %v is outside [-180, 180]", v)
	}
	return nil
}

func checkLatitude(v float64) error {
	if !(v >= -90 && v <= 90) {
		return fmt.Errorf("latitude %v is outside [-90, 90]", v)
	}
	return nil
}

func checkUncertainty(v float64) error {
	if !(v >= 0 && v <= geo.MaxRadiusMeters) {
		return fmt.Errorf("%v is outside [0, %d] metres", v, geo.MaxRadiusMeters)
	}
	return nil
}

// checkText refuses what PostgreSQL's text type cannot hold (invalid UTF-8,
// NUL) and what is too long.
func checkText(s string, max int) error {
	switch {
	case len(s) > max:
		return fmt.Errorf("%d bytes, more than %d", len(s), max)
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains a NUL character")
	}
	return nil
}

func checkExtra(extra json.RawMessage) error {
	if len(extra) > maxExtra {
		return fmt.Errorf("extra properties take %d bytes, more than %d", len(extra), maxExtra)
	}
	if !utf8.Valid(extra) || !json.Valid(extra) {
		return errors.New("extra properties are not valid JSON")
	}
	if bytes.TrimLeft(extra, " \t\r\n")[0] != '{' {
		return errors.New("extra properties are not a JSON object")
	}
	if d := jsonscan.Depth(extra); d > MaxPropertyDepth {
		return fmt.Errorf("extra properties nest %d deep, more than %d", d, MaxPropertyDepth)
	}
	if err := jsonscan.CheckText(extra); err != nil {
		return err
	}
	var err error
	jsonscan.EachMember(extra, func(key, _ []byte) bool {
		if slices.Contains(reservedProperties, string(key)) {
			err = fmt.Errorf("extra property %q is a strike field", key)
		} else if IsComputedProperty(string(key)) {
			err = fmt.Errorf("extra property %q is computed by the server", key)
		}
		return err == nil
	})
	return err
}

// prepare readies checked strikes for writing: a fresh id (kept only if the
// strike is new), the time to the microsecond in UTC, and both timestamps.
func prepare(s Strike, now time.Time) Strike {
	s.ID = newID(now)
	s.Time = s.Time.Truncate(time.Microsecond).UTC()
	if !s.End.IsZero() {
		s.End = s.End.Truncate(time.Microsecond).UTC()
	}
	s.CreatedAt, s.UpdatedAt = now, now
	if len(s.Extra) == 0 {
		s.Extra = nil
	}
	return s
}

// newID is a strike id that sorts after those made before t: the
// microseconds since 1970 in 7 bytes, then 9 random bytes, as 26 digits of
// base32hex, whose digits sort as their values. The indexes by id (the
// strike's own, its events') then grow at one end, as the tables do, and a
// write of a thousand new strikes changes a few of their pages, not every
// one of them.
func newID(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMicro())<<8)
	rand.Read(b[7:])
	return idEncoding.EncodeToString(b[:])
}

// idEncoding writes ids: base32hex, without padding.
var idEncoding = base32.HexEncoding.WithPadding(base32.NoPadding)

// canonicalVerdict copies s's verdict with its body in canonical JSON and
// its time to the microsecond, so that the bytes stored are the bytes the
// audit log hashes. Bodies already made canonical in this write are taken
// from bodies, and so is the verdict as stored when it is the last one's.
func (s *Strike) canonicalVerdict(bodies *canonicalBodies) error {
	if s.Verdict == nil {
		return nil
	}
	given := s.Verdict
	if given == bodies.given {
		s.Verdict = bodies.last
		return nil
	}
	body, err := bodies.of(s.Verdict.Body)
	if err != nil {
		return err
	}
	v := *s.Verdict
	v.Body, v.JudgedAt, v.stored = body, v.JudgedAt.Truncate(time.Microsecond).UTC(), nil
	if last := bodies.last; last != nil && last.DataVersion == v.DataVersion && last.JudgedAt.Equal(v.JudgedAt) &&
		last.Backfilled == v.Backfilled && bytes.Equal(last.Body, v.Body) {
		v.stored = last.stored
	}
	s.Verdict = &v
	s.Verdict.encode()
	bodies.given, bodies.last = given, s.Verdict
	return nil
}

// canonicalBodies maps verdict bodies to their canonical JSON within one
// write. The strikes of a batch far from every site, or near the same
// ones, share one body, and making each canonical again was a tenth of
// the time a write of a thousand took. The strikes of a write are judged
// on the same data at the same time, so most share their whole verdict
// with the strike before: last is that verdict, whose stored form the next
// one equal to it takes rather than writing its own; strikes given the
// very verdict the last one was (given) share last itself.
type canonicalBodies struct {
	bodies map[string]json.RawMessage
	last   *Verdict
	given  *Verdict
}

// maxCanonicalBodies bounds the bodies one write remembers, so that a
// large import of bodies all different holds no second copy of each.
const maxCanonicalBodies = 1024

func (c *canonicalBodies) of(body json.RawMessage) (json.RawMessage, error) {
	if b, ok := c.bodies[string(body)]; ok {
		return b, nil
	}
	b, err := canonicalJSON(body)
	if c.bodies == nil {
		c.bodies = map[string]json.RawMessage{}
	}
	if err == nil && len(c.bodies) < maxCanonicalBodies {
		c.bodies[string(body)] = b
	}
	return b, err
}

// now is the store's clock, to the microsecond it keeps.
func now() time.Time { return time.Now().Truncate(time.Microsecond).UTC() }

// eventKey identifies a strike across imports; ok is false without a
// source event id.
func eventKey(s *Strike) (key [2]string, ok bool) {
	return [2]string{s.Source, s.SourceEventID}, s.SourceEventID != ""
}

// seenKeys finds a source event id given twice in one batch or import,
// remembering where (a line, or a position in a batch) each was first seen.
// It keeps a 128-bit hash of each key, not the key: 16 bytes however long
// the id, and no reference to the record it came from. The hash is two
// maphashes seeded apart, written to without copying the key: a hash made
// afresh for each key (FNV) allocated several times a strike, and any
// client could have made two keys collide.
type seenKeys struct {
	first  map[[2]uint64]int
	hashes [2]maphash.Hash
}

func (k *seenKeys) repeat(s *Strike, at int) (first int, dup bool) {
	if s.SourceEventID == "" {
		return 0, false
	}
	var sum [2]uint64
	for i := range k.hashes {
		h := &k.hashes[i]
		h.Reset()
		h.WriteString(s.Source)
		h.WriteByte(0)
		h.WriteString(s.SourceEventID)
		sum[i] = h.Sum64()
	}
	if first, dup := k.first[sum]; dup {
		return first, true
	}
	if k.first == nil {
		k.first = map[[2]uint64]int{}
	}
	k.first[sum] = at
	return 0, false
}
