package server

import (
	"encoding/json"
	"reflect"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/server/store"
)

// linkCopies finds the strikes that restate one already recorded: the
// same source and event id, the same point, window, uncertainty, weapon
// and notes, and every property they carry recorded with the same value
// (a data set's columns one by one), though they may carry fewer. Such is
// the same event from a thinner copy of the data set, such as UCDP's
// events without their citation columns: it is linked to the strike
// recorded, which stays as it is, rather than stripping it of what the
// fuller copy said. linked[i] is the id of the strike that strikes[i]
// restates; "" when it does not.
func (h *handlers) linkCopies(c echo.Context, strikes []store.Strike) ([]string, error) {
	bySource := map[string][]int{}
	for i := range strikes {
		if strikes[i].SourceEventID != "" {
			bySource[strikes[i].Source] = append(bySource[strikes[i].Source], i)
		}
	}
	linked := make([]string, len(strikes))
	always := func(*store.Strike) (bool, error) { return true, nil }
	for source, at := range bySource {
		// The strikes recorded under the same keys, found by the key's
		// index a few hundred at a time: a time window would read every
		// strike of the source recorded in it.
		for chunk := range slices.Chunk(at, eventIDsPerQuery) {
			want := make(map[string]int, len(chunk))
			ids := make([]string, len(chunk))
			for k, i := range chunk {
				want[strikes[i].SourceEventID], ids[k] = i, strikes[i].SourceEventID
			}
			sq := store.Query{Sources: []string{source}, EventIDs: ids, Limit: store.MaxLimit}
			err := h.eachStrike(c, always, sq, func(rec *store.Strike) {
				if i, ok := want[rec.SourceEventID]; ok && restates(&strikes[i], rec) {
					linked[i] = rec.ID
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return linked, nil
}

// eventIDsPerQuery bounds the keys one query of linkCopies carries, well
// within both databases' limits on parameters.
const eventIDsPerQuery = 500

// restates reports whether s says less than rec, and nothing else.
func restates(s, rec *store.Strike) bool {
	if s.Point != rec.Point || !s.Time.Equal(rec.Time) || !s.End.Equal(rec.End) || s.UncertaintyMeters != rec.UncertaintyMeters ||
		s.Weapon != rec.Weapon || s.Notes != rec.Notes {
		return false
	}
	if len(s.Extra) == 0 || len(rec.Extra) == 0 {
		return len(s.Extra) == 0 && len(rec.Extra) > 0
	}
	var given, recorded map[string]any
	if json.Unmarshal(s.Extra, &given) != nil || json.Unmarshal(rec.Extra, &recorded) != nil {
		return false
	}
	// A strike recorded without properties keeps saying so; one that says
	// all the record does is the record itself, unchanged rather than linked.
	return len(recorded) > 0 && within(given, recorded) && !within(recorded, given)
}

// within reports whether every member of given is in recorded with the
// same value, objects compared member by member at every depth.
func within(given, recorded map[string]any) bool {
	for k, v := range given {
		r, ok := recorded[k]
		if !ok {
			return false
		}
		vm, vIsObject := v.(map[string]any)
		rm, rIsObject := r.(map[string]any)
		switch {
		case vIsObject && rIsObject:
			if !within(vm, rm) {
				return false
			}
		case !reflect.DeepEqual(v, r):
			return false
		}
	}
	return true
}

// putLinked records the strikes that restate none, and answers for every
// strike in order: the linked ones unchanged, under the recorded id.
func (h *handlers) putLinked(c echo.Context, strikes []store.Strike, linked []string) ([]putOutcome, error) {
	fresh := strikes // most often none is linked: no copy
	if slices.ContainsFunc(linked, func(id string) bool { return id != "" }) {
		fresh = nil
		for i := range strikes {
			if linked[i] == "" {
				fresh = append(fresh, strikes[i])
			}
		}
	}
	var results []store.PutResult
	if len(fresh) > 0 {
		var err error
		if results, err = h.cfg.Store.Put(c.Request().Context(), actorOf(c), fresh); err != nil {
			return nil, err
		}
	}
	out := make([]putOutcome, len(strikes))
	for i := range strikes {
		if linked[i] != "" {
			out[i] = putOutcome{PutResult: store.PutResult{ID: linked[i], Unchanged: true}, linked: true}
			continue
		}
		out[i], results = putOutcome{PutResult: results[0]}, results[1:]
	}
	return out, nil
}

// putOutcome is what recording one strike did; linked when it restated a
// strike recorded, which was left as it was.
type putOutcome struct {
	store.PutResult
	linked bool
}
