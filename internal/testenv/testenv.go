// Package testenv lets tests find what lives outside the repository: the
// real public data sets in ../shared/data and command-line tools such as
// GDAL's ogrinfo; lets benchmarks measure the CPU time they use, and tests
// see when work stops on cancellation. Absent, they skip the test with a message; in CI, where
// PROTECTMAP_REQUIRE_SHARED and PROTECTMAP_REQUIRE_TOOLS are set, absence is
// a failure, so nothing is silently left untested.
package testenv

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RepoRoot is the repository's top directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate the source tree")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SharedData returns the path of rel under ../shared/data beside the repository.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		missing(t, "PROTECTMAP_REQUIRE_SHARED", "shared data "+p+": "+err.Error())
	}
	return p
}

// Tool returns the path of a command on PATH.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "PROTECTMAP_REQUIRE_TOOLS", "tool "+name+" not installed: "+err.Error())
	}
	return p
}

// PythonModule returns the path of Debian's python3 (/usr/bin/python3, not
// one a version manager put first on PATH) once it imports module.
func PythonModule(t testing.TB, module string) string {
	t.Helper()
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import "+module).CombinedOutput(); err != nil {
		missing(t, "PROTECTMAP_REQUIRE_TOOLS", "Python module "+module+" not importable by "+python+": "+strings.TrimSpace(string(out)))
	}
	return python
}

func missing(t testing.TB, requireVar, what string) {
	t.Helper()
	if os.Getenv(requireVar) != "" {
		t.Fatalf("%s, and %s is set", what, requireVar)
	}
	t.Skipf("skipping: %s (set %s to make this a failure)", what, requireVar)
}

// Gunzip decodes one gzip member with the standard library's reader,
// which checks its trailer's CRC-32 and length.
func Gunzip(t testing.TB, z []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	r.Multistream(false)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return got
}
