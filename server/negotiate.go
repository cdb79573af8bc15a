package server

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/export"
)

// The representations each negotiated resource offers, by f or Accept;
// the first is the default. Offering one more is one more entry here
// (with its media types in geo/export).
var (
	itemsOffer   = export.Formats
	strikesOffer = export.Formats
	reportOffer  = []export.Format{export.GeoJSON, export.CSV}
)

// notAcceptableError is an Accept header that rules out every
// representation offered: 406, naming them.
type notAcceptableError struct{ offered []export.Format }

func (e *notAcceptableError) Error() string {
	types := make([]string, len(e.offered))
	names := make([]string, len(e.offered))
	for i, f := range e.offered {
		types[i], _, _ = strings.Cut(f.ContentType(), ";")
		names[i] = "f=" + string(f)
	}
	return "the Accept header rules out every representation of this resource: it is offered as " +
		strings.Join(types, ", ") + " (or ask with " + strings.Join(names, ", ") + ")"
}

func (e *notAcceptableError) problem() problem { return problem{Status: 406, Detail: e.Error()} }

// negotiate picks the representation of offered that the request's Accept
// header asks for, or refuses with 406.
func negotiate(c echo.Context, offered []export.Format) (export.Format, error) {
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	f, ok := export.NegotiateAmong(c.Request().Header.Get(echo.HeaderAccept), offered)
	if !ok {
		return "", &notAcceptableError{offered}
	}
	return f, nil
}
