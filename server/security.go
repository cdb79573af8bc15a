package server

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy allows the page's own scripts, styles, data and
// images, plus images from the tile host of tileURL; nothing may frame it.
// Styles may be inline because Leaflet positions its panes and markers
// with style attributes; scripts may not.
func contentSecurityPolicy(tileURL string) string {
	img := "'self' data:"
	if host := tileOrigin(tileURL); host != "" {
		img += " " + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src " + img +
		"; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// tileOrigin is the CSP source of a tile URL template: its scheme and host,
// with a "{s}" subdomain placeholder as a wildcard; empty when the template
// is not an absolute http(s) URL.
func tileOrigin(tileURL string) string {
	const sub = "subdomain--"
	u, err := url.Parse(strings.NewReplacer("{s}", sub, "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(tileURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.Scheme + "://" + strings.Replace(u.Host, sub, "*", 1)
}

// securityHeaders sets headers that keep browsers from sniffing types,
// leaking full URLs to the tile host, or framing the map.
func securityHeaders(csp string) echo.MiddlewareFunc {
	// Every response shares these values, as send shares its own (see
	// respond.go): set whole, never changed in place.
	nosniff, deny, cspValue := []string{"nosniff"}, []string{"DENY"}, []string{csp}
	// Tile servers (OpenStreetMap's among them) ask for a Referer: the
	// origin is sent, never the path and query.
	referrer := []string{"strict-origin-when-cross-origin"}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hdr := c.Response().Header()
			hdr[echo.HeaderXContentTypeOptions] = nosniff
			hdr[echo.HeaderReferrerPolicy] = referrer
			hdr[echo.HeaderXFrameOptions] = deny
			hdr[echo.HeaderContentSecurityPolicy] = cspValue
			return next(c)
		}
	}
}

// insecureTokenError refuses credentials sent where others can read them.
type insecureTokenError struct{}

func (insecureTokenError) Error() string { return "credentials over plain HTTP" }

func (insecureTokenError) problem() problem {
	return problem{Status: http.StatusForbidden,
		Detail: "tokens are accepted only over HTTPS or from this machine; this one crossed the network unencrypted, so replace it"}
}

// tokenTransport refuses requests with an Authorization header that came
// over plain HTTP from another machine, unless allowed: a token sent that
// way is readable on the network, and accepting it would teach clients to
// keep doing so.
func tokenTransport(allowInsecure bool, trusted proxies) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if allowInsecure || r.Header.Get(echo.HeaderAuthorization) == "" || secureTransport(r, trusted) {
				return next(c)
			}
			return insecureTokenError{}
		}
	}
}

// secureTransport reports whether the request reached the client side of
// this server encrypted: over TLS, from a trusted proxy that says it was
// HTTPS, or from this machine itself (unless a trusted proxy here says
// its client used plain HTTP).
func secureTransport(r *http.Request, trusted proxies) bool {
	if r.TLS != nil {
		return true
	}
	if proto := trusted.forwarded(r, echo.HeaderXForwardedProto); proto != "" {
		return strings.EqualFold(proto, "https")
	}
	addr, ok := peerAddr(r)
	return ok && addr.IsLoopback()
}

// validUTF8 refuses, with 400, a request whose path or query is not UTF-8
// once unescaped, and makes its body fail to read at the first byte that
// is not: every text protectmap reads is UTF-8 (RFC 8259 §8.1, RFC 3986),
// and passing bad bytes on would only move the failure somewhere less clear.
func validUTF8(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !utf8.ValidString(r.URL.Path) {
			return paramError("path", "the path is not UTF-8")
		}
		for _, p := range queryPairs(c) {
			if !utf8.ValidString(p.name) {
				return paramError("query", "a parameter name is not UTF-8")
			}
			if !utf8.ValidString(p.value) {
				return paramError(p.name, "the value is not UTF-8")
			}
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &utf8Body{ReadCloser: r.Body}
		}
		return next(c)
	}
}

// utf8Body checks a body as it is read. A read returns only the bytes
// before the first that is not UTF-8, with the error, so no reader ever
// sees bad bytes; a character split between two reads is checked whole.
type utf8Body struct {
	io.ReadCloser
	held   [utf8.UTFMax]byte // the start of a split character
	nheld  int
	offset int64 // bytes checked, held ones excluded
}

// notUTF8 names where the body stops being UTF-8.
func (b *utf8Body) notUTF8() error {
	return paramError("body", "not UTF-8 at byte %d", b.offset)
}

func (b *utf8Body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	chunk := p[:n]
	i := 0
	if b.nheld > 0 {
		// Complete the held character with this chunk's first bytes.
		buf := append(b.held[:b.nheld:b.nheld], chunk[:min(len(chunk), utf8.UTFMax-b.nheld)]...)
		if !utf8.FullRune(buf) {
			if err == nil {
				b.nheld = copy(b.held[:], buf)
				return n, nil
			}
			return 0, b.notUTF8()
		}
		if r, size := utf8.DecodeRune(buf); r == utf8.RuneError && size <= 1 {
			return 0, b.notUTF8()
		} else {
			i = size - b.nheld
			b.offset += int64(size)
			b.nheld = 0
		}
	}
	for i < len(chunk) {
		if chunk[i] < utf8.RuneSelf {
			i++
			b.offset++
			continue
		}
		if !utf8.FullRune(chunk[i:]) {
			if err != nil {
				return i, b.notUTF8()
			}
			b.nheld = copy(b.held[:], chunk[i:])
			return n, nil
		}
		r, size := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && size <= 1 {
			return i, b.notUTF8()
		}
		i += size
		b.offset += int64(size)
	}
	return n, err
}
