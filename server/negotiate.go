package server

import (
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/export"
)

// The representations each negotiated resource offers, by f or Accept;
// the first is the default. Offering one more is one more entry here
// (with its media types in geo/export).
func itemsOffer() []export.Format   { return export.Formats() }
func strikesOffer() []export.Format { return export.Formats() }
func reportOffer() []export.Format {
	return []export.Format{export.GeoJSON, export.CSV, export.KML, export.GeoPackage}
}

// representation is how a resource other than a feature collection is
// offered: the f value that asks for it, and the media types that do in
// an Accept header, its own first.
type representation struct {
	f     string
	types []string
}

// The representations of single documents.
var (
	asJSON    = representation{"json", []string{mediaJSON}}
	asGeoJSON = representation{"json", []string{mediaGeoJSON, mediaJSON}}
	asSchema  = representation{"json", []string{mediaSchema}}
	asHTML    = representation{"html", []string{"text/html"}}
)

// notAcceptableError is an Accept header, or an f parameter, that rules
// out every representation offered: 406, naming them.
type notAcceptableError struct {
	types, names []string // each representation offered: its media type, its f value
	f            string   // the f value refused; empty when the Accept header refused
}

func formatsNotAcceptable(offered []export.Format, f string) *notAcceptableError {
	e := &notAcceptableError{f: f}
	for _, of := range offered {
		t, _, _ := strings.Cut(of.ContentType(), ";")
		e.types, e.names = append(e.types, t), append(e.names, string(of))
	}
	return e
}

func notAcceptable(offered []representation, f string) *notAcceptableError {
	e := &notAcceptableError{f: f}
	for _, r := range offered {
		e.types, e.names = append(e.types, r.types[0]), append(e.names, r.f)
	}
	return e
}

// or is e with r offered too; nil stays nil.
func (e *notAcceptableError) or(r representation) *notAcceptableError {
	if e != nil {
		e.types, e.names = append(e.types, r.types[0]), append(e.names, r.f)
	}
	return e
}

func (e *notAcceptableError) Error() string {
	var names []string
	for _, n := range e.names {
		if !slices.Contains(names, "f="+n) {
			names = append(names, "f="+n)
		}
	}
	offered := "it is offered as " + strings.Join(e.types, ", ")
	if len(names) > 0 {
		offered += " (or ask with " + strings.Join(names, ", ") + ")"
	}
	if e.f != "" {
		return "format " + strconv.Quote(e.f) + " is not offered here: " + offered
	}
	return "the Accept header rules out every representation of this resource: " + offered
}

func (e *notAcceptableError) problem() problem {
	p := problem{Status: 406, Detail: e.Error()}
	if e.f != "" {
		p.InvalidParams = []invalidParam{{Name: "f", Reason: e.Error()}}
	}
	return p
}

// acceptable refuses with 406 a body of media type ctype that the
// request's Accept header rules out, so no resource answers a client with
// what it said it cannot read. An f parameter, which the handler has
// checked, takes precedence; a JSON dialect (geo+json, schema+json, ...)
// is plain JSON too.
func acceptable(c echo.Context, ctype string) error {
	addVary(c.Response().Header(), echo.HeaderAccept)
	accept := c.Request().Header.Get(echo.HeaderAccept)
	if accept == "" || queryArg(c, "f") != "" {
		return nil
	}
	mt, _, _ := strings.Cut(ctype, ";")
	types := []string{mt}
	if strings.HasSuffix(mt, "+json") {
		types = append(types, mediaJSON)
	}
	if _, ok := export.NegotiateMedia(accept, types); !ok {
		return &notAcceptableError{types: []string{mt}}
	}
	return nil
}

// negotiate picks the representation of offered that the request's Accept
// header asks for, or refuses with 406.
func negotiate(c echo.Context, offered []export.Format) (export.Format, error) {
	addVary(c.Response().Header(), echo.HeaderAccept)
	f, ok := export.NegotiateAmong(c.Request().Header.Get(echo.HeaderAccept), offered)
	if !ok {
		return "", formatsNotAcceptable(offered, "")
	}
	return f, nil
}

// negotiatePage is negotiate for feature collections, which are offered as
// HTML pages too: html is true when the Accept header asks for one (of
// GeoJSON, which the page shows).
func negotiatePage(c echo.Context, offered []export.Format) (f export.Format, html bool, err error) {
	addVary(c.Response().Header(), echo.HeaderAccept)
	types := make([][]string, 0, len(offered)+1)
	for _, of := range offered {
		types = append(types, of.MediaTypes())
	}
	i, ok := export.NegotiateMedia(c.Request().Header.Get(echo.HeaderAccept), append(types, asHTML.types)...)
	switch {
	case !ok:
		return "", false, formatsNotAcceptable(offered, "").or(asHTML)
	case i == len(offered):
		return export.GeoJSON, true, nil
	}
	return offered[i], false, nil
}

// acceptsOnly refuses with 406 a request for a resource offered only as r
// whose Accept header rules r out; an f parameter, checked already, takes
// precedence over the header.
func acceptsOnly(c echo.Context, r representation) error {
	if queryArg(c, "f") != "" {
		return nil
	}
	_, err := accepts(c, r)
	return err
}

// accepts picks which of offered the request's Accept header asks for, by
// its index, or refuses with 406.
func accepts(c echo.Context, offered ...representation) (int, error) {
	addVary(c.Response().Header(), echo.HeaderAccept)
	types := make([][]string, len(offered))
	for k, r := range offered {
		types[k] = r.types
	}
	i, ok := export.NegotiateMedia(c.Request().Header.Get(echo.HeaderAccept), types...)
	if !ok {
		return 0, notAcceptable(offered, "")
	}
	return i, nil
}
