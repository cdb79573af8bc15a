package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestReserveSites: answers being built hold at most MaxSitesInFlight
// sites between them; one more is refused with 503 and Retry-After until
// one is done, and a single answer larger than the budget runs alone.
func TestReserveSites(t *testing.T) {
	l := Limits{MaxSitesInFlight: 100}.withDefaults()
	h := &handlers{limits: l, heavy: newHeavySlots(l)}
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
	first.release()
	second.release()
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
	alone.release()
}

// TestLargeAnswersAreHeavy: an answer of more than largeAnswerSites also
// takes a heavy request's slot, so no more of them run at once than there
// are slots, while smaller answers still use the sites left.
func TestLargeAnswersAreHeavy(t *testing.T) {
	l := Limits{MaxHeavy: 2, HeavyWait: time.Millisecond}.withDefaults()
	h := &handlers{limits: l, heavy: newHeavySlots(l)}
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/proximity", nil), httptest.NewRecorder())
	var reservations []sitesReserved
	for range l.MaxHeavy {
		reserved, err := h.reserveSites(c, maxProximityLimit)
		if err != nil {
			t.Fatal(err)
		}
		reservations = append(reservations, reserved)
	}
	var over *overloadError
	if _, err := h.reserveSites(c, largeAnswerSites+1); !errors.As(err, &over) || over.status != http.StatusServiceUnavailable {
		t.Fatalf("a large answer beyond the heavy slots: %v, want 503", err)
	}
	if h.sitesInFlight.Load() != 2*maxProximityLimit {
		t.Fatalf("a refused answer kept its sites: %d in flight", h.sitesInFlight.Load())
	}
	small, err := h.reserveSites(c, largeAnswerSites)
	if err != nil {
		t.Fatalf("a small answer beside the large ones: %v", err)
	}
	small.release()
	for _, reserved := range reservations {
		reserved.release()
	}
	if h.heavy.taken() != 0 || h.sitesInFlight.Load() != 0 {
		t.Fatalf("released: %d slots, %d sites still held", h.heavy.taken(), h.sitesInFlight.Load())
	}
	last, err := h.reserveSites(c, maxProximityLimit)
	if err != nil {
		t.Fatalf("a large answer once the slots are free: %v", err)
	}
	last.release()
}
