package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestReserveSites: answers being built hold at most MaxSitesInFlight
// sites between them; one more is refused with 503 and Retry-After until
// one is done, and a single answer larger than the budget runs alone.
func TestReserveSites(t *testing.T) {
	h := &handlers{limits: Limits{MaxSitesInFlight: 100}.withDefaults()}
	e := echo.New()
	ctx := func() (echo.Context, *httptest.ResponseRecorder) {
		rec := httptest.NewRecorder()
		return e.NewContext(httptest.NewRequest(http.MethodGet, "/proximity", nil), rec), rec
	}
	c, _ := ctx()
	first, err := h.reserveSites(c, 60)
	if err != nil {
		t.Fatal(err)
	}
	c, rec := ctx()
	var over *overloadError
	if _, err := h.reserveSites(c, 60); !errors.As(err, &over) || over.status != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("160 sites of 100: %v, Retry-After %q", err, rec.Header().Get("Retry-After"))
	}
	second, err := h.reserveSites(c, 40)
	if err != nil {
		t.Fatalf("100 sites of 100: %v", err)
	}
	first()
	second()
	if h.sitesInFlight.Load() != 0 {
		t.Fatalf("%d sites still reserved", h.sitesInFlight.Load())
	}
	alone, err := h.reserveSites(c, 10_000)
	if err != nil {
		t.Fatalf("one answer above the budget, alone: %v", err)
	}
	if _, err := h.reserveSites(c, 1); err == nil {
		t.Error("a site beside an answer taking the whole budget")
	}
	alone()
}
