package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// authRealm names the protection space in WWW-Authenticate challenges.
const authRealm = "protectmap"

// tokenSet holds the SHA-256 digests of the accepted bearer tokens, never
// the tokens: comparing fixed-size digests in constant time leaks neither
// a token's content nor its length through timing.
type tokenSet [][sha256.Size]byte

func newTokenSet(tokens []string) tokenSet {
	var s tokenSet
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			s = append(s, sha256.Sum256([]byte(t)))
		}
	}
	return s
}

// accepts reports whether token is one of the set. Every digest is
// compared, so the time taken does not say which one matched.
func (s tokenSet) accepts(token string) bool {
	d := sha256.Sum256([]byte(token))
	match := 0
	for i := range s {
		match |= subtle.ConstantTimeCompare(d[:], s[i][:])
	}
	return match == 1
}

// authError refuses a write. The status follows RFC 6750: 401 with a
// challenge when the request has no acceptable token (missing, malformed
// or unknown), 403 when writes are disabled because no token is configured.
type authError struct {
	status int
	// code is RFC 6750's error code for the challenge; empty when the
	// request carried no credentials at all.
	code   string
	detail string
}

func (e *authError) Error() string { return e.detail }

func (e *authError) problem() problem { return problem{Status: e.status, Detail: e.detail} }

// challenge is the WWW-Authenticate value of a 401.
func (e *authError) challenge() string {
	v := `Bearer realm="` + authRealm + `"`
	if e.code != "" {
		v += `, error="` + e.code + `", error_description="` + e.detail + `"`
	}
	return v
}

// BearerAuth returns middleware that lets a request through only with an
// "Authorization: Bearer T" header whose T is one of tokens. Requests
// without an acceptable token get 401 and a WWW-Authenticate challenge
// (RFC 6750): no credentials, a header that is not a bearer token
// (error="invalid_request"), or an unknown token (error="invalid_token").
// With no tokens at all every request gets 403: writes are disabled rather
// than silently open. Tokens are never logged: the request log records the
// method, URI and status only.
func BearerAuth(tokens []string) echo.MiddlewareFunc {
	set := newTokenSet(tokens)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := set.check(c.Request().Header.Get(echo.HeaderAuthorization)); err != nil {
				if err.status == http.StatusUnauthorized {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, err.challenge())
				}
				return err
			}
			return next(c)
		}
	}
}

// check decides on an Authorization header; nil lets the request through.
func (s tokenSet) check(header string) *authError {
	if len(s) == 0 {
		return &authError{status: http.StatusForbidden,
			detail: "writes are disabled: the server has no tokens configured (protectmap serve --tokens-file FILE or PROTECTMAP_TOKENS)"}
	}
	if header == "" {
		return &authError{status: http.StatusUnauthorized, detail: "this write needs an Authorization: Bearer token"}
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return &authError{status: http.StatusUnauthorized, code: "invalid_request",
			detail: "the Authorization header must be: Bearer TOKEN"}
	}
	if !s.accepts(token) {
		return &authError{status: http.StatusUnauthorized, code: "invalid_token", detail: "the bearer token is not accepted"}
	}
	return nil
}
