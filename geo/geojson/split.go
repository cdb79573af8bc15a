package geojson

import (
	"errors"
	"fmt"
	"io"

	"github.com/protectmap/protectmap/internal/jsonscan"
)

// splitter reads a FeatureCollection as it streams in and cuts its
// features array into runs of whole features for the decoding workers. To
// find where each feature ends it follows only strings and the pairing of
// brackets, which is quick; the workers check the rest of the syntax.
type splitter struct {
	r     io.Reader
	buf   []byte // input not yet handed on; buf[0] lies at offset base
	base  int64
	i     int  // scan position in buf
	done  bool // r is exhausted
	err   error
	stack []byte // closing brackets awaited, innermost last
}

// splitRun is the size in bytes of the runs of features handed to workers.
const splitRun = 256 << 10

// fileSyntaxError is a JSON syntax error at byte Offset of a file.
type fileSyntaxError struct {
	Offset int64
	Msg    string
}

func (e *fileSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

func (s *splitter) syntax(format string, args ...any) error {
	return &fileSyntaxError{Offset: s.base + int64(s.i), Msg: fmt.Sprintf(format, args...)}
}

// ended returns the error for input that ends too soon.
func (s *splitter) ended() error {
	if s.err != nil {
		return fmt.Errorf("reading: %w", s.err)
	}
	return jsonscan.ErrTruncated
}

// fill reads more input after the end of buf, keeping what buf holds at the
// same indexes; it reports false at the end of input.
func (s *splitter) fill() bool {
	for !s.done {
		if len(s.buf) == cap(s.buf) {
			grown := make([]byte, len(s.buf), max(2*cap(s.buf), splitRun))
			copy(grown, s.buf)
			s.buf = grown
		}
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.done = true
			if err != io.EOF {
				s.err = err
			}
		}
		if n > 0 {
			return true
		}
	}
	return false
}

// restart lets go of the input before the scan position: it moves the rest
// to a fresh buffer, so the old one can be handed on unchanged.
func (s *splitter) restart() {
	rest := s.buf[s.i:]
	fresh := make([]byte, len(rest), max(splitRun+splitRun/4, 2*len(rest)))
	copy(fresh, rest)
	s.buf = fresh
	s.base += int64(s.i)
	s.i = 0
}

// peek skips white space and returns the next byte; false at the end.
func (s *splitter) peek() (byte, bool) {
	for {
		for s.i < len(s.buf) {
			switch c := s.buf[s.i]; c {
			case ' ', '\t', '\n', '\r':
				s.i++
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// skip moves past the value at the scan position.
func (s *splitter) skip() error {
	s.stack = s.stack[:0]
	for {
		if s.i >= len(s.buf) && !s.fill() {
			return s.ended()
		}
		switch c := s.buf[s.i]; c {
		case '"':
			if err := s.skipString(); err != nil {
				return err
			}
		case '{':
			s.stack = append(s.stack, '}')
			s.i++
		case '[':
			s.stack = append(s.stack, ']')
			s.i++
		case '}', ']':
			if len(s.stack) == 0 || s.stack[len(s.stack)-1] != c {
				return s.syntax("invalid character %s", jsonscan.QuoteByte(c))
			}
			s.stack = s.stack[:len(s.stack)-1]
			s.i++
		default:
			if len(s.stack) == 0 {
				return s.skipScalar()
			}
			s.i++
			for s.i < len(s.buf) && !jsonscan.Structural(s.buf[s.i]) {
				s.i++
			}
			continue
		}
		if len(s.stack) == 0 {
			return nil
		}
	}
}

func (s *splitter) skipString() error {
	j := s.i + 1
	for {
		for j < len(s.buf) {
			switch s.buf[j] {
			case '"':
				s.i = j + 1
				return nil
			case '\\':
				j += 2
			default:
				j++
			}
		}
		if !s.fill() {
			return s.ended()
		}
	}
}

func (s *splitter) skipScalar() error {
	for {
		for s.i < len(s.buf) {
			if jsonscan.Delimiter(s.buf[s.i]) {
				return nil
			}
			s.i++
		}
		if !s.fill() {
			return nil
		}
	}
}

// value skips the value at the scan position and returns it checked
// against JSON's grammar; it is only valid until the next read.
func (s *splitter) value() ([]byte, error) {
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	raw := s.buf[start:s.i]
	t := jsonscan.Text{B: raw}
	if err := t.Whole(); err != nil {
		se := err.(*jsonscan.SyntaxError)
		return nil, &fileSyntaxError{Offset: s.base + int64(start+se.At), Msg: se.Msg}
	}
	return raw, nil
}

// collection reads the FeatureCollection, handing each run of features to
// emit. It returns the collection's "type" and whether it had "features".
func (s *splitter) collection(emit func(*batch)) (typ string, sawFeatures bool, err error) {
	c, ok := s.peek()
	switch {
	case !ok:
		return "", false, s.ended()
	case c == '[' || c == '"' || c == '-' || jsonscan.IsDigit(c) || c == 't' || c == 'f' || c == 'n':
		return "", false, errors.New("not a FeatureCollection: the document is not a JSON object")
	case c != '{':
		return "", false, s.syntax("invalid character %s looking for beginning of value", jsonscan.QuoteByte(c))
	}
	s.i++
	if c, ok = s.peek(); ok && c == '}' {
		s.i++
	} else {
		for {
			if c, ok = s.peek(); !ok {
				return "", false, s.ended()
			} else if c != '"' {
				return "", false, s.syntax("invalid character %s looking for beginning of object key string", jsonscan.QuoteByte(c))
			}
			raw, err := s.value()
			if err != nil {
				return "", false, err
			}
			key := string(jsonscan.AppendUnquoted(nil, raw))
			if c, ok = s.peek(); !ok {
				return "", false, s.ended()
			} else if c != ':' {
				return "", false, s.syntax("invalid character %s after object key", jsonscan.QuoteByte(c))
			}
			s.i++
			if _, ok = s.peek(); !ok {
				return "", false, s.ended()
			}
			switch key {
			case "features":
				sawFeatures = true
				if err := s.features(emit); err != nil {
					return "", false, err
				}
			case "type":
				raw, err := s.value()
				if err != nil {
					return "", false, err
				}
				if raw[0] != '"' {
					return "", false, errors.New(`not a FeatureCollection: "type" is not a string`)
				}
				typ = string(jsonscan.AppendUnquoted(nil, raw))
			default:
				if _, err := s.value(); err != nil {
					return "", false, err
				}
			}
			s.restart()
			if c, ok = s.peek(); !ok {
				return "", false, s.ended()
			}
			if c == '}' {
				s.i++
				break
			}
			if c != ',' {
				return "", false, s.syntax("invalid character %s after object key:value pair", jsonscan.QuoteByte(c))
			}
			s.i++
		}
	}
	if _, ok := s.peek(); ok {
		return "", false, errors.New("unexpected data after the FeatureCollection")
	}
	if s.err != nil {
		return "", false, s.ended()
	}
	return typ, sawFeatures, nil
}

// features reads the features array, cutting it into runs.
func (s *splitter) features(emit func(*batch)) error {
	if s.buf[s.i] != '[' {
		return errors.New(`not a FeatureCollection: "features" is not an array`)
	}
	s.i++
	s.restart()
	run := &batch{base: s.base}
	if c, ok := s.peek(); ok && c == ']' {
		s.i++
		return nil
	}
	for {
		if _, ok := s.peek(); !ok {
			return s.ended()
		}
		start := s.i
		if err := s.skip(); err != nil {
			return err
		}
		run.spans = append(run.spans, span{int32(start), int32(s.i)})
		c, ok := s.peek()
		if !ok {
			return s.ended()
		}
		s.i++
		switch c {
		case ',':
			if s.i < splitRun {
				continue
			}
		case ']':
			run.data = s.buf[:s.i:s.i]
			emit(run)
			return nil
		default:
			s.i--
			return s.syntax("invalid character %s after array element", jsonscan.QuoteByte(c))
		}
		// The run belongs to a worker once emitted.
		next := run.first + len(run.spans)
		run.data = s.buf[:s.i:s.i]
		emit(run)
		s.restart()
		run = &batch{first: next, base: s.base}
	}
}
