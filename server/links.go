package server

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/geojson"
)

// link is an OGC API link object.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// baseURL is the absolute URL of the service root as the client sees it:
// the configured base URL, else the request's scheme and host as a trusted
// reverse proxy reports them in X-Forwarded-Proto and X-Forwarded-Host.
func (h *handlers) baseURL(c echo.Context) string {
	if h.base != "" {
		return h.base
	}
	return string(h.appendBaseURL(nil, c))
}

// appendBaseURL appends baseURL.
func (h *handlers) appendBaseURL(b []byte, c echo.Context) []byte {
	if h.base != "" {
		return append(b, h.base...)
	}
	r := c.Request()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := h.proxies.forwarded(r, echo.HeaderXForwardedProto); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if fh := h.proxies.forwarded(r, "X-Forwarded-Host"); fh != "" && validHost(fh) {
		host = fh
	}
	return append(append(append(b, scheme...), "://"...), host...)
}

// firstValue is the first of a comma-separated header list: the value the
// proxy nearest the client set.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost keeps a forged header from injecting a path or userinfo into
// the links: a host is letters, digits, '.', '-', ':', '[' and ']'.
func validHost(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return false
		}
	}
	return true
}

// selfURL is the absolute URL of the current request as the client sent it.
func (h *handlers) selfURL(c echo.Context) string { return string(h.appendSelfURL(nil, c)) }

// appendSelfURL appends selfURL.
func (h *handlers) appendSelfURL(b []byte, c echo.Context) []byte {
	b = append(h.appendBaseURL(b, c), c.Request().URL.EscapedPath()...)
	if q := c.Request().URL.RawQuery; q != "" {
		b = append(append(b, '?'), q...)
	}
	return b
}

// withQuery is the current request's URL with some parameters replaced
// (an empty value removes one); parameters come out sorted by name.
func (h *handlers) withQuery(c echo.Context, set map[string]string) string {
	return string(h.appendWithQuery(nil, c, func(name string) (string, bool) {
		v, ok := set[name]
		return v, ok
	}, slices.Collect(maps.Keys(set))...))
}

// appendWithQuery appends the current request's URL with the parameters
// named replaced by the values set gives (an empty value removes one),
// encoded as url.Values.Encode does: sorted by name, query-escaped.
func (h *handlers) appendWithQuery(b []byte, c echo.Context, set func(name string) (string, bool), names ...string) []byte {
	b = append(h.appendBaseURL(b, c), c.Request().URL.EscapedPath()...)
	query := queryPairs(c)
	var buf [16]string
	all := append(buf[:0], names...)
	for _, p := range query {
		if !slices.Contains(all, p.name) {
			all = append(all, p.name)
		}
	}
	slices.Sort(all)
	sep := byte('?')
	put := func(name, v string) {
		b = appendQueryEscape(append(appendQueryEscape(append(b, sep), name), '='), v)
		sep = '&'
	}
	for _, name := range all {
		if v, ok := set(name); ok {
			if v != "" {
				put(name, v)
			}
			continue
		}
		for _, p := range query {
			if p.name == name {
				put(name, p.value)
			}
		}
	}
	return b
}

// appendQueryEscape appends s escaped as url.QueryEscape does.
func appendQueryEscape(b []byte, s string) []byte {
	const upperhex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return b
}

// appendHref appends `{"href":` and then, as a JSON string, what url
// appends; appendLinkEnd completes the link object.
func appendHref(b []byte, url func([]byte) []byte) []byte {
	b = append(b, `{"href":"`...)
	start := len(b)
	b = url(b)
	for _, ch := range b[start:] {
		if ch == '"' || ch == '\\' || ch < 0x20 {
			// Only a raw query sent as is can hold these: escape it all.
			raw := string(b[start:])
			return geojson.AppendJSONString(b[:start-1], raw)
		}
	}
	return append(b, '"')
}

// appendLinkEnd appends the rest of a link object after its href.
func appendLinkEnd(b []byte, rel, typ, title string) []byte {
	b = append(b, `,"rel":`...)
	b = geojson.AppendJSONString(b, rel)
	b = append(b, `,"type":`...)
	b = geojson.AppendJSONString(b, typ)
	b = append(b, `,"title":`...)
	b = geojson.AppendJSONString(b, title)
	return append(b, '}')
}

func collectionPath(id string) string { return "/collections/" + url.PathEscape(id) }

// appendSelfLink appends the link to the current request's URL, a GeoJSON
// document.
func (h *handlers) appendSelfLink(b []byte, c echo.Context, title string) []byte {
	b = appendHref(b, func(b []byte) []byte { return h.appendSelfURL(b, c) })
	return appendLinkEnd(b, "self", mediaGeoJSON, title)
}

// appendCollectionLink appends the link to collection id.
func (h *handlers) appendCollectionLink(b []byte, c echo.Context, id string) []byte {
	b = appendHref(b, func(b []byte) []byte {
		return append(append(h.appendBaseURL(b, c), "/collections/"...), url.PathEscape(id)...)
	})
	return appendLinkEnd(b, "collection", mediaJSON, id)
}
