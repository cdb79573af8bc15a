package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/protectmap/protectmap/geo"
)

// ErrText is text a format cannot hold as it is: NUL in a CSV cell, or a
// character XML 1.0 forbids (NUL and the other C0 controls but tab, line
// feed and carriage return) in KML. Layers and strikes holding NUL are
// refused when read, so a writer meeting one is a defect; it is refused
// rather than altered, so no reader gets text other than the data's.
var ErrText = errors.New("export: text the format cannot hold")

// checkXML refuses s holding a character XML 1.0 cannot hold.
func checkXML(s string) error {
	for _, r := range s {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000) {
			return fmt.Errorf("%w: %U, which XML cannot hold", ErrText, r)
		}
	}
	return nil
}

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

// Write writes one record, each cell neutralised; a cell holding NUL,
// which spreadsheets cut the cell at, is refused with ErrText, and
// nothing of the record is written.
func (w *CSVWriter) Write(record []string) error {
	w.row = w.row[:0]
	for i, cell := range record {
		if strings.IndexByte(cell, 0) >= 0 {
			return fmt.Errorf("%w: column %d holds NUL (U+0000)", ErrText, i+1)
		}
		w.row = append(w.row, NeutralCell(cell))
	}
	return w.Writer.Write(w.row)
}
