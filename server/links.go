package server

import (
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// link is an OGC API link object.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// baseURL is the absolute URL of the service root as the client sees it:
// the configured base URL, else the request's scheme and host as a reverse
// proxy reports them in X-Forwarded-Proto and X-Forwarded-Host.
func (h *handlers) baseURL(c echo.Context) string {
	if h.base != "" {
		return h.base
	}
	r := c.Request()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstValue(r.Header.Get(echo.HeaderXForwardedProto)); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if fh := firstValue(r.Header.Get("X-Forwarded-Host")); fh != "" && validHost(fh) {
		host = fh
	}
	return scheme + "://" + host
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
func (h *handlers) selfURL(c echo.Context) string {
	u := h.baseURL(c) + c.Request().URL.EscapedPath()
	if q := c.Request().URL.RawQuery; q != "" {
		u += "?" + q
	}
	return u
}

// withQuery is the current request's URL with some parameters replaced
// (an empty value removes one); parameters come out sorted by name.
func (h *handlers) withQuery(c echo.Context, set map[string]string) string {
	q := url.Values{}
	for k, v := range c.QueryParams() {
		q[k] = v
	}
	for k, v := range set {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	u := h.baseURL(c) + c.Request().URL.EscapedPath()
	if enc := q.Encode(); enc != "" {
		u += "?" + enc
	}
	return u
}

func collectionPath(id string) string { return "/collections/" + url.PathEscape(id) }
