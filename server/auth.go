package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// authRealm names the protection space in WWW-Authenticate challenges.
const authRealm = "protectmap"

// tokenSet holds the SHA-256 digests of the accepted bearer tokens, never
// the tokens, each with the name writes are logged under: comparing
// fixed-size digests in constant time leaks neither a token's content nor
// its length through timing.
type tokenSet []namedToken

type namedToken struct {
	name   string
	digest [sha256.Size]byte
}

// tokenName is the form of a token's name in NAME:TOKEN.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// newTokenSet reads tokens as NAME:TOKEN, or as a bare TOKEN named
// "token-" and the first 8 hex digits of its SHA-256: a name that tells
// tokens apart in the audit log without saying anything usable about them.
func newTokenSet(tokens []string) tokenSet {
	var s tokenSet
	for _, t := range tokens {
		t = strings.TrimSpace(t)
		name, secret, ok := strings.Cut(t, ":")
		if !ok || !tokenName.MatchString(name) || strings.TrimSpace(secret) == "" {
			name, secret = "", t
		}
		if secret = strings.TrimSpace(secret); secret == "" {
			continue
		}
		d := sha256.Sum256([]byte(secret))
		if name == "" {
			name = "token-" + hex.EncodeToString(d[:4])
		}
		s = append(s, namedToken{name, d})
	}
	return s
}

// accepts returns the name of token, or false when it is not one of the
// set. Every digest is compared, so the time taken does not say which one
// matched.
func (s tokenSet) accepts(token string) (string, bool) {
	d := sha256.Sum256([]byte(token))
	name, match := "", 0
	for i := range s {
		eq := subtle.ConstantTimeCompare(d[:], s[i].digest[:])
		if eq == 1 {
			name = s[i].name
		}
		match |= eq
	}
	return name, match == 1
}

// actorKey is where BearerAuth leaves the name of the token a request
// carried.
const actorKey = "protectmap.actor"

// actorOf names who is writing: the name of the request's token.
func actorOf(c echo.Context) string {
	name, _ := c.Get(actorKey).(string)
	return name
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
// "Authorization: Bearer T" header whose T is one of tokens, each given as
// NAME:TOKEN or a bare TOKEN (see newTokenSet); the token's name is the
// actor the audit log records. Requests
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
			name, err := set.check(c.Request().Header.Get(echo.HeaderAuthorization))
			if err != nil {
				if err.status == http.StatusUnauthorized {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, err.challenge())
				}
				return err
			}
			c.Set(actorKey, name)
			return next(c)
		}
	}
}

// check decides on an Authorization header: the token's name lets the
// request through.
func (s tokenSet) check(header string) (string, *authError) {
	if len(s) == 0 {
		return "", &authError{status: http.StatusForbidden,
			detail: "writes are disabled: the server has no tokens configured (protectmap serve --tokens-file FILE or PROTECTMAP_TOKENS)"}
	}
	if header == "" {
		return "", &authError{status: http.StatusUnauthorized, detail: "this write needs an Authorization: Bearer token"}
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", &authError{status: http.StatusUnauthorized, code: "invalid_request",
			detail: "the Authorization header must be: Bearer TOKEN"}
	}
	name, ok := s.accepts(token)
	if !ok {
		return "", &authError{status: http.StatusUnauthorized, code: "invalid_token", detail: "the bearer token is not accepted"}
	}
	return name, nil
}
