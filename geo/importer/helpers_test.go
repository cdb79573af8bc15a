package importer

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/testenv"
)

// writeCompressed writes data to file compressed with gzip (Go's own
// writer) or bzip2 (the bzip2 tool; Go has no bzip2 writer).
func writeCompressed(t *testing.T, file, how string, data []byte) {
	t.Helper()
	switch how {
	case "gzip":
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	case "bzip2":
		cmd := exec.Command(testenv.Tool(t, "bzip2"), "-c")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown compression %q", how)
	}
}

// testImportDay is the day the tests' imports record: they run late on 18
// March in a zone two hours behind UTC (testImportTime), when it is already
// the 19th in UTC.
const testImportDay = "2025-03-19"

func testImportTime() time.Time {
	return time.Date(2025, 3, 18, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600))
}
