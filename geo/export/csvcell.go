package export

import (
	"encoding/csv"
	"io"
)

// NeutralCell is s as a CSV cell that no spreadsheet evaluates (CWE-1236,
// formula injection): a cell beginning with '=', '+', '-', '@', a tab or a
// carriage return gets a leading apostrophe, which spreadsheets show as
// text, unless the whole cell is a number in JSON syntax (-12.5, -1e-3),
// which a spreadsheet reads as that number and nothing more.
func NeutralCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if isJSONNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// isJSONNumber reports whether s is exactly one number in JSON's syntax
// (RFC 8259 §6): no leading '+', no leading zeros, no hex, Inf or NaN.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// CSVWriter is a csv.Writer that writes every cell, headers included,
// through NeutralCell: every CSV protectmap writes goes through one.
type CSVWriter struct {
	*csv.Writer
	row []string
}

// NewCSVWriter returns a CSVWriter writing to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{Writer: csv.NewWriter(w)}
}

// Write writes one record, each cell neutralised.
func (w *CSVWriter) Write(record []string) error {
	w.row = w.row[:0]
	for _, cell := range record {
		w.row = append(w.row, NeutralCell(cell))
	}
	return w.Writer.Write(w.row)
}
