package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// urlTokenParam is RFC 6750's URI query parameter for bearer tokens
// (§2.3), which protectmap never reads: a URL is kept in logs, browser
// history and Referer headers, so a token there is a token leaked.
const urlTokenParam = "access_token"

// urlTokenError refuses a request carrying a token in its URL.
type urlTokenError struct{}

func (urlTokenError) Error() string { return "a token in the URL" }

func (urlTokenError) problem() problem {
	return problem{Status: http.StatusBadRequest,
		Detail:        "tokens are read only from the Authorization: Bearer header, never from the URL; this one was in a URL, which logs and browser histories keep, so replace it",
		InvalidParams: []invalidParam{{Name: urlTokenParam, Reason: "not accepted in the URL"}}}
}

// refuseURLTokens answers 400 to a request with an access_token
// parameter, before anything else reads it.
func refuseURLTokens(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := pairValue(queryPairs(c), urlTokenParam); ok {
			return urlTokenError{}
		}
		return next(c)
	}
}

// redactedURI is the request's URI for logs and problem documents, the
// value of every access_token parameter replaced by "REDACTED".
func redactedURI(r *http.Request) string {
	uri := r.RequestURI // as the client sent it: reading it costs nothing
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	path, query, ok := strings.Cut(uri, "?")
	// Most queries name no token, even escaped: keep them as they are.
	if !ok || !strings.Contains(query, "oken") && !strings.Contains(query, "%") {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, part := range parts {
		name, _, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(name); err != nil || key == urlTokenParam {
			parts[i] = name + "=REDACTED"
		}
	}
	return path + "?" + strings.Join(parts, "&")
}
