package server

import (
	"cmp"
	"math"
	"time"
)

// instant is a moment as whole seconds since the Unix epoch and the
// nanoseconds into that second. Unix nanoseconds in an int64 wrap outside
// the years 1677 to 2262; an instant holds every time RFC 3339 can write
// (years 0000 to 9999) exactly, in 16 bytes.
type instant struct {
	sec  int64
	nsec int32
}

// Open ends of a span: before and after every instant a time can name.
var (
	minInstant = instant{sec: math.MinInt64}
	maxInstant = instant{sec: math.MaxInt64, nsec: 999_999_999}
)

func instantOf(t time.Time) instant { return instant{sec: t.Unix(), nsec: int32(t.Nanosecond())} }

// time is the instant in UTC; only for instants read from a time, not
// for the open ends.
func (a instant) time() time.Time { return time.Unix(a.sec, int64(a.nsec)).UTC() }

func (a instant) compare(b instant) int {
	if c := cmp.Compare(a.sec, b.sec); c != 0 {
		return c
	}
	return cmp.Compare(a.nsec, b.nsec)
}

func minOf(a, b instant) instant {
	if a.compare(b) <= 0 {
		return a
	}
	return b
}

func maxOf(a, b instant) instant {
	if a.compare(b) >= 0 {
		return a
	}
	return b
}

// span is a closed interval of instants. Open ends are minInstant and
// maxInstant; a feature without time has the empty span.
type span struct{ start, end instant }

var (
	noSpan   = span{start: maxInstant, end: minInstant}
	openSpan = span{start: minInstant, end: maxInstant}
)

func (s span) empty() bool { return s.start.compare(s.end) > 0 }

// overlaps reports whether two spans share an instant.
func (s span) overlaps(o span) bool {
	return !s.empty() && !o.empty() && s.start.compare(o.end) <= 0 && o.start.compare(s.end) <= 0
}

// from is the span's start as a time; nil when open.
func (s span) from() *time.Time {
	if s.start == minInstant {
		return nil
	}
	t := s.start.time()
	return &t
}

// to is the span's end as a time; nil when open.
func (s span) to() *time.Time {
	if s.end == maxInstant {
		return nil
	}
	t := s.end.time()
	return &t
}

// setStart and setEnd read the ends of a window, both included: an
// instant, or a day (from its first instant, to its last).
func (s *span) setStart(v string) error {
	p, err := parseInstant(v)
	s.start = p.start
	return err
}

func (s *span) setEnd(v string) error {
	p, err := parseInstant(v)
	s.end = p.end
	return err
}

// parseInstant reads an RFC 3339 date-time as an instant, or a full date
// as the whole day in UTC.
func parseInstant(s string) (span, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return span{start: instantOf(t), end: instantOf(t)}, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return noSpan, err
	}
	return span{start: instantOf(d), end: instantOf(d.AddDate(0, 0, 1).Add(-time.Nanosecond))}, nil
}

// format writes the instant in RFC 3339 (UTC); false for an open end.
func (a instant) format() (string, bool) {
	if a == minInstant || a == maxInstant {
		return "", false
	}
	return a.time().Format(time.RFC3339Nano), true
}

// formatTime writes a span end for the temporal extent; open ends are null.
func formatTime(a instant) any {
	if s, ok := a.format(); ok {
		return s
	}
	return nil
}
