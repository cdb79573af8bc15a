package importer

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"testing"

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
