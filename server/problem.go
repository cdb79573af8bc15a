package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server/store"
)

// ParamError is a query parameter or request field that cannot be used: it
// is answered with 400 and a problem document naming Param and why.
type ParamError struct {
	// Param is the query parameter's name, or a field of a request body
	// such as "features[3].geometry".
	Param string
	// Reason says what is wrong, in words a user can act on.
	Reason string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Reason }

func paramError(param, format string, a ...any) *ParamError {
	return &ParamError{Param: param, Reason: fmt.Sprintf(format, a...)}
}

// notFoundError is a resource that does not exist, answered with 404.
type notFoundError struct{ detail string }

func (e *notFoundError) Error() string { return e.detail }

func notFound(format string, a ...any) error {
	return &notFoundError{detail: fmt.Sprintf(format, a...)}
}

// problemError is an error that knows its own problem document (its type
// and title are filled in by problemFor).
type problemError interface {
	error
	problem() problem
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// InvalidParams names the parameter at fault, as RFC 9457's own example does.
	InvalidParams []invalidParam `json:"invalid-params,omitempty"`
}

type invalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// problemFor maps an error returned by a handler to the problem it stands
// for; anything unexpected is a 500 whose detail stays in the log.
func problemFor(err error) (p problem, internal bool) {
	var (
		own problemError
		pe  *ParamError
		nf  *notFoundError
		he  *echo.HTTPError
		mbe *http.MaxBytesError
	)
	switch {
	case clientGone(err):
		return goneProblem(), false
	case errors.As(err, &own):
		p = own.problem()
	case errors.As(err, &pe):
		p = problem{Status: http.StatusBadRequest, Detail: pe.Error(),
			InvalidParams: []invalidParam{{Name: pe.Param, Reason: pe.Reason}}}
	case errors.As(err, &nf):
		p = problem{Status: http.StatusNotFound, Detail: nf.detail}
	case errors.As(err, &mbe):
		p = problem{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit)}
	case errors.Is(err, store.ErrFull):
		// RFC 4918's 507: nothing was recorded, and the same request may
		// succeed once the operator frees space.
		p = problem{Status: http.StatusInsufficientStorage, Detail: "the strike store's disk is full; nothing was recorded; retry later"}
	case errors.Is(err, store.ErrUnavailable):
		// An outage of the database, not a fault of this server: clients
		// retry, and /readyz takes the server out of rotation meanwhile.
		p = problem{Status: http.StatusServiceUnavailable, Detail: "the strike store is unavailable; retry in a moment"}
	case errors.Is(err, geo.ErrBadQuery), errors.Is(err, geo.ErrUnknownLayer):
		p = problem{Status: http.StatusBadRequest, Detail: userMessage(err)}
	case errors.As(err, &he) && he.Code < http.StatusInternalServerError:
		p = problem{Status: he.Code}
		if msg, ok := he.Message.(string); ok && msg != http.StatusText(he.Code) {
			p.Detail = msg
		} else if he.Code == http.StatusNotFound {
			p.Detail = "nothing here; GET /api describes every resource"
		}
	default:
		return problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError),
			Status: http.StatusInternalServerError, Detail: "internal error; the server log has the details"}, true
	}
	p.Type, p.Title = "about:blank", http.StatusText(p.Status)
	return p, false
}

// handleError is the one place errors become responses: every 4xx and 5xx
// is application/problem+json.
func (h *handlers) handleError(err error, c echo.Context) {
	p, internal := problemFor(err)
	if internal {
		h.log.Error("request failed", "method", c.Request().Method, "uri", redactedURI(c.Request()), "err", err)
	}
	if c.Response().Committed {
		return
	}
	p.Instance = redactedURI(c.Request())
	body, jerr := json.Marshal(p)
	if jerr != nil {
		body = []byte(`{"type":"about:blank","status":500}`)
	}
	hdr := c.Response().Header()
	hdr.Del("ETag")
	hdr.Del(echo.HeaderCacheControl)
	hdr.Set(echo.HeaderContentType, mediaProblem)
	if r := c.Request(); r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		// The body may be unread, and net/http would read it all before
		// answering, at whatever pace the client sends it, to keep the
		// connection: close it instead.
		hdr.Set(echo.HeaderConnection, "close")
	}
	if (p.Status == http.StatusServiceUnavailable || p.Status == http.StatusInsufficientStorage) && hdr.Get(echo.HeaderRetryAfter) == "" {
		hdr.Set(echo.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds))
	}
	c.Response().WriteHeader(p.Status)
	if c.Request().Method != http.MethodHead {
		c.Response().Write(append(body, '\n')) //nolint:errcheck // the client went away
	}
}

// userMessage is an error's message without geo's package prefixes.
func userMessage(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "geo: "), "bad query: ")
}
