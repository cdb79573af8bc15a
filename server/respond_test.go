package server

import (
	"net/http"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestAddVary: each name is listed once, after the Origin the CORS
// middleware names, and the usual lists are shared rather than built for
// every response, yet a name added after them leaves them as they were.
func TestAddVary(t *testing.T) {
	hdr := http.Header{}
	hdr.Add(echo.HeaderVary, echo.HeaderOrigin)
	for _, name := range []string{echo.HeaderAccept, echo.HeaderAcceptEncoding, echo.HeaderAccept} {
		addVary(hdr, name)
	}
	want := []string{echo.HeaderOrigin, echo.HeaderAccept, echo.HeaderAcceptEncoding}
	if got := hdr[echo.HeaderVary]; !slices.Equal(got, want) {
		t.Fatalf("Vary %q, want %q", got, want)
	}
	addVary(hdr, "Cookie")
	if got := hdr[echo.HeaderVary]; !slices.Equal(got, append(want, "Cookie")) {
		t.Fatalf("Vary %q, want %q and Cookie", got, want)
	}
	addVary(http.Header{}, echo.HeaderAccept)
	if got := sharedVary[2]; !slices.Equal(got, want) {
		t.Fatalf("a shared Vary list became %q", got)
	}
	origin := []string{echo.HeaderOrigin}
	if allocs := testing.AllocsPerRun(100, func() {
		hdr[echo.HeaderVary] = origin
		addVary(hdr, echo.HeaderAccept)
		addVary(hdr, echo.HeaderAcceptEncoding)
	}); allocs != 0 {
		t.Errorf("%v allocations adding the usual names", allocs)
	}
}
