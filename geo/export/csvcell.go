package export

import (
	"encoding/csv"
	"io"

	"github.com/protectmap/protectmap/geo"
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
		if geo.IsNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
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
