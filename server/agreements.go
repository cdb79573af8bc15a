package server

import (
	"fmt"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
)

// agreementSet is the agreements checked against one index version.
type agreementSet struct {
	ix  *geo.Index
	set *agreement.AgreementSet
	err error
}

// agreementsFor returns the agreements served with ix, checked against it,
// checking them again when the data has been reloaded. Agreements that no longer fit
// the layers (a reload dropped a collection they cover) are an internal
// error: the reload should have refused such data.
func (h *handlers) agreementsFor(ix *geo.Index) (*agreement.AgreementSet, error) {
	s := h.agreements.Load()
	if s == nil || s.ix != ix {
		s = &agreementSet{ix: ix}
		s.set, s.err = agreement.NewAgreementSet(ix, h.agreementsOf(ix))
		if s.err != nil {
			// Not wrapped: geo's errors would read as the client's fault.
			s.err = fmt.Errorf("the agreements do not fit the layers served: %v", s.err)
		}
		h.agreements.Store(s)
	}
	return s.set, s.err
}

// agreementDoc is an agreement with its links.
type agreementDoc struct {
	agreement.Agreement
	Links []link `json:"links"`
}

func (h *handlers) agreementDoc(c echo.Context, a *agreement.Agreement) agreementDoc {
	self := h.baseURL(c) + "/agreements/" + url.PathEscape(a.ID)
	return agreementDoc{Agreement: *a, Links: []link{
		{Href: self, Rel: "self", Type: mediaJSON, Title: a.Title},
		{Href: h.baseURL(c) + "/report?agreement=" + url.QueryEscape(a.ID) + "&f=csv", Rel: "related", Type: mediaCSV,
			Title: "every recorded strike in its window, with its verdict"},
	}}
}

// listAgreements answers GET /agreements: every agreement, by start then id.
func (h *handlers) listAgreements(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	set, err := h.agreementsFor(h.index(c))
	if err != nil {
		return err
	}
	docs := make([]agreementDoc, 0, len(set.Agreements()))
	for i := range set.Agreements() {
		docs = append(docs, h.agreementDoc(c, &set.Agreements()[i]))
	}
	return sendJSON(c, mediaJSON, struct {
		Agreements []agreementDoc `json:"agreements"`
		Links      []link         `json:"links"`
	}{docs, []link{{Href: h.baseURL(c) + "/agreements", Rel: "self", Type: mediaJSON, Title: "the agreements"}}}, true)
}

// getAgreement answers GET /agreements/{id}.
func (h *handlers) getAgreement(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	set, err := h.agreementsFor(h.index(c))
	if err != nil {
		return err
	}
	id := pathParam(c, "agreementId")
	a, ok := set.Agreement(id)
	if !ok {
		return notFound("no agreement %q; GET /agreements lists them", id)
	}
	return sendJSON(c, mediaJSON, h.agreementDoc(c, a), true)
}
