package export

import (
	"strconv"
	"strings"
)

// mediaTypes are the media types each format answers to in an Accept
// header, its own ContentType first.
var mediaTypes = map[Format][]string{
	GeoJSON: {"application/geo+json", "application/json"},
	NDJSON:  {"application/x-ndjson", "application/ndjson"},
	CSV:     {"text/csv"},
	KML:     {"application/vnd.google-earth.kml+xml"},
}

// MediaTypes are the media types f answers to in an Accept header, its
// ContentType first.
func (f Format) MediaTypes() []string { return mediaTypes[f] }

// acceptRange is one media range of an Accept header.
type acceptRange struct {
	typ, sub string // lower case; either may be "*"
	q        float64
}

// Negotiate picks the format of Formats an HTTP Accept header asks for;
// see NegotiateAmong.
func Negotiate(accept string) (f Format, ok bool) { return NegotiateAmong(accept, Formats()) }

// NegotiateAmong picks the format of offered (not empty) an HTTP Accept
// header asks for (RFC 9110 §12.5.1). Each format gets the quality of the
// most specific media range matching one of its media types; the format of
// highest quality wins, ties going to the one matched more specifically,
// then to the earlier in offered. An empty header, or one without a single
// well-formed media range, asks for offered[0]. ok is false when the header
// rules out every format offered (HTTP 406).
func NegotiateAmong(accept string, offered []Format) (f Format, ok bool) {
	i, ok := negotiate(accept, len(offered), func(i int) []string { return mediaTypes[offered[i]] })
	if !ok {
		return "", false
	}
	return offered[i], true
}

// NegotiateMedia is NegotiateAmong for representations other than the
// formats: offered lists, for each, the media types that ask for it, its
// own first. It gives the index in offered of the one the Accept header
// asks for.
func NegotiateMedia(accept string, offered ...[]string) (i int, ok bool) {
	return negotiate(accept, len(offered), func(i int) []string { return offered[i] })
}

// negotiate picks which of n representations, each answering to the
// media types types(i), an Accept header asks for (see NegotiateAmong).
func negotiate(accept string, n int, types func(i int) []string) (best int, ok bool) {
	ranges := parseAccept(accept)
	if len(ranges) == 0 {
		return 0, true
	}
	bestQ, bestSpec := 0.0, -1
	for i := range n {
		q, spec := quality(ranges, types(i))
		if q > bestQ || q == bestQ && q > 0 && spec > bestSpec {
			best, bestQ, bestSpec = i, q, spec
		}
	}
	return best, bestQ > 0
}

// quality is how much ranges accept the best of a format's media types,
// and how specifically. A media type gets the q of the most specific range
// matching it (2 for type/subtype, 1 for type/*, 0 for */*; the highest q
// among equally specific ones); spec is -1 when no range matches.
func quality(ranges []acceptRange, types []string) (best float64, bestSpec int) {
	bestSpec = -1
	for _, mt := range types {
		typ, sub, _ := strings.Cut(mt, "/")
		q, spec := 0.0, -1
		for _, r := range ranges {
			s := -1
			switch {
			case r.typ == typ && r.sub == sub:
				s = 2
			case r.typ == typ && r.sub == "*":
				s = 1
			case r.typ == "*":
				s = 0
			}
			if s > spec || s == spec && s >= 0 && r.q > q {
				q, spec = r.q, s
			}
		}
		if q > best || q == best && spec > bestSpec {
			best, bestSpec = q, spec
		}
	}
	return best, bestSpec
}

// parseAccept reads the well-formed media ranges of an Accept header,
// skipping malformed ones.
func parseAccept(accept string) []acceptRange {
	var out []acceptRange
	for _, elem := range strings.Split(accept, ",") {
		params := strings.Split(elem, ";")
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
		if !ok || !token(typ) || !token(sub) || typ == "*" && sub != "*" {
			continue
		}
		r := acceptRange{typ: typ, sub: sub, q: 1}
		for _, p := range params[1:] {
			name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "q") {
				continue
			}
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil || !(q >= 0 && q <= 1) {
				ok = false
			}
			r.q = q
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// token reports whether s is a non-empty RFC 9110 token.
func token(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
