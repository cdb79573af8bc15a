package geo

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrUnknownLayer is returned when a query names a layer the index lacks.
var ErrUnknownLayer = errors.New("geo: unknown layer")

// ErrBadQuery is returned for a query argument out of its domain, such as a
// negative radius or a latitude beyond ±90.
var ErrBadQuery = errors.New("geo: bad query")

// QueryError is a query argument out of its domain; it matches ErrBadQuery.
type QueryError struct {
	// Param names the argument: bbox, lon, lat, radius, limit or uncertainty.
	Param string
	// Reason says what is wrong with it, naming it.
	Reason string
}

func (e *QueryError) Error() string        { return ErrBadQuery.Error() + ": " + e.Reason }
func (e *QueryError) Is(target error) bool { return target == ErrBadQuery }

func badQuery(param, format string, a ...any) *QueryError {
	return &QueryError{Param: param, Reason: fmt.Sprintf(format, a...)}
}

// ParseError says where a layer is broken: the file, the feature's index in
// its FeatureCollection (-1 for the file as a whole), its id when known, and why.
type ParseError struct {
	File    string
	Feature int
	ID      string
	Err     error
}

func (e *ParseError) Error() string {
	where := e.File
	if where == "" {
		where = "<input>"
	}
	if e.Feature >= 0 {
		where += ": feature " + strconv.Itoa(e.Feature)
		if e.ID != "" {
			where += " (id " + strconv.Quote(e.ID) + ")"
		}
	}
	return where + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

func errDuplicateID(first int) error {
	return fmt.Errorf("duplicate id: feature %d has the same id", first)
}
