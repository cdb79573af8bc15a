package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/tile"
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
	// Err is the error Reason tells of, when there is one.
	Err error
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Reason }
func (e *ParamError) Unwrap() error { return e.Err }

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
		le  *store.LookupError
		qe  *store.QueryError
		gq  *geo.QueryError
	)
	switch {
	case clientGone(err):
		return goneProblem(), false
	case errors.As(err, &own):
		p = own.problem()
	case errors.Is(err, tile.ErrOutOfRange) && errors.As(err, &pe):
		// A tile beyond the matrix is a resource that does not exist.
		p = problem{Status: http.StatusNotFound, Detail: pe.Reason}
	case errors.As(err, &pe):
		p = paramProblem(pe.Param, pe.Reason)
	case errors.As(err, &qe):
		p = paramProblem(qe.Param, qe.Reason)
	case errors.As(err, &le):
		p = lookupProblem(le)
	case errors.Is(err, store.ErrNoSubscription):
		p = problem{Status: http.StatusNotFound, Detail: "no such alert subscription of this token; GET /alerts lists them"}
	case errors.Is(err, store.ErrTooMany):
		p = problem{Status: http.StatusConflict, Detail: strings.TrimPrefix(err.Error(), "store: too many: ")}
	case errors.Is(err, errStrikeMedia):
		p = problem{Status: http.StatusUnsupportedMediaType, Detail: err.Error()}
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
	case errors.As(err, &gq):
		p = problem{Status: http.StatusBadRequest, Detail: gq.Reason,
			InvalidParams: []invalidParam{{Name: gq.Param, Reason: gq.Reason}}}
	case errors.Is(err, geo.ErrUnknownLayer):
		p = problem{Status: http.StatusBadRequest, Detail: err.Error()}
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

func paramProblem(param, reason string) problem {
	return problem{Status: http.StatusBadRequest, Detail: param + ": " + reason,
		InvalidParams: []invalidParam{{Name: param, Reason: reason}}}
}

// lookupProblem is a strike or data version not had: 404, or 410 for a
// deleted strike, each pointing where to look instead.
func lookupProblem(e *store.LookupError) problem {
	switch {
	case errors.Is(e.Err, store.ErrGone):
		when := ""
		if !e.DeletedAt.IsZero() {
			when = " at " + e.DeletedAt.UTC().Format(time.RFC3339)
		}
		return problem{Status: http.StatusGone, Detail: "strike " + strconv.Quote(e.Key) + " was deleted" + when +
			"; GET /strikes/" + url.PathEscape(e.Key) + "/history keeps its history"}
	case errors.Is(e.Err, store.ErrNoVersion):
		return problem{Status: http.StatusNotFound, Detail: fmt.Sprintf("data version %q is not kept; GET /versions lists those that are", e.Key),
			InvalidParams: []invalidParam{{Name: "data_version", Reason: "not kept"}}}
	}
	return problem{Status: http.StatusNotFound, Detail: fmt.Sprintf("no strike %q; GET /strikes lists them", e.Key)}
}

// problem names each bad record by line and field in invalid-params.
func (e *recordsError) problem() problem {
	p := problem{Status: http.StatusBadRequest,
		Detail: fmt.Sprintf("%d bad records; nothing was recorded", len(e.errs))}
	if e.more {
		p.Detail = fmt.Sprintf("more than %d bad records (the first %d are listed); nothing was recorded", maxRecordErrors, maxRecordErrors)
	}
	for _, err := range e.errs {
		name := "body"
		var re *store.RecordError
		if errors.As(err, &re) && re.Field != "" {
			name = re.Field
		}
		p.InvalidParams = append(p.InvalidParams, invalidParam{Name: name, Reason: err.Error()})
	}
	return p
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

// userMessage is what a user is told of err: a query error's reason, else
// its message.
func userMessage(err error) string {
	var gq *geo.QueryError
	if errors.As(err, &gq) {
		return gq.Reason
	}
	return err.Error()
}
