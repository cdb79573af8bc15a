package server

import (
	"cmp"
	"slices"
	"strings"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// sortKey is one key of sortby: a queryable, ascending unless desc.
type sortKey struct {
	name string
	desc bool
}

// maxSortKeys bounds sortby: each key costs a rank array per collection.
const maxSortKeys = 8

// parseSortby reads OGC API - Features Part 8's sortby: keys separated by
// commas, each a property name with an optional + (ascending, the default)
// or - (descending). known says whether a name can be sorted by. An
// unescaped + in a query string reads as a space, so a leading space is a +.
func parseSortby(v string, known func(name string) bool) ([]sortKey, error) {
	var keys []sortKey
	for pos, k := range strings.Split(v, ",") {
		key := sortKey{}
		switch {
		case strings.HasPrefix(k, "-"):
			key.desc, k = true, k[1:]
		case strings.HasPrefix(k, "+"), strings.HasPrefix(k, " "):
			k = k[1:]
		}
		key.name = k
		switch {
		case k == "":
			return nil, paramError("sortby", "key %d is empty; give a property name, with - before it to sort descending", pos+1)
		case !known(k):
			return nil, paramError("sortby", "key %d, %q, is not a queryable of this collection; its queryables list them", pos+1, k)
		case slices.ContainsFunc(keys, func(o sortKey) bool { return o.name == k }):
			return nil, paramError("sortby", "key %d, %q, is given twice", pos+1, k)
		}
		keys = append(keys, key)
	}
	if len(keys) > maxSortKeys {
		return nil, paramError("sortby", "%d keys; at most %d", len(keys), maxSortKeys)
	}
	return keys, nil
}

// sortable reports whether m's features can be sorted by name: a
// queryable, or datetime when they have times.
func (m *layerMeta) sortable(name string) bool {
	_, ok := m.queryable(name)
	return ok || name == propDatetime && m.spans != nil
}

// order is what sorting by keys compares: each key's rank array.
type order struct {
	ranks [][]int32
	desc  []bool
}

// orderOf resolves keys to their rank arrays, building those not yet built.
func (m *layerMeta) orderOf(l *geo.Layer, keys []sortKey) order {
	o := order{ranks: make([][]int32, len(keys)), desc: make([]bool, len(keys))}
	for k, key := range keys {
		o.ranks[k], o.desc[k] = m.rank(l, key.name), key.desc
	}
	return o
}

// less orders features i and j by the keys, then by position in the layer,
// so every page of a sort is stable.
func (o order) less(i, j int32) bool {
	for k, r := range o.ranks {
		if c := cmp.Compare(r[i], r[j]); c != 0 {
			return c < 0 != o.desc[k]
		}
	}
	return i < j
}

// rank is, for each feature of l, the rank of its value of name among
// all the features' (equal values share one, nulls and absent values come
// after every value). Built once per collection and key, it makes comparing
// two features two array reads instead of two property scans.
func (m *layerMeta) rank(l *geo.Layer, name string) []int32 {
	m.ranksMu.Lock()
	defer m.ranksMu.Unlock()
	if r, ok := m.ranks[name]; ok {
		return r
	}
	vals := make([]sortValue, l.Len())
	if name == propDatetime {
		for i := range vals {
			if s := m.spans[i]; !s.empty() {
				vals[i] = sortValue{present: true, time: s.start}
			}
		}
	} else {
		for i := range vals {
			jsonscan.EachMember(l.Feature(i).Properties, func(key, raw []byte) bool {
				if string(key) != name {
					return true
				}
				vals[i] = sortValueOf(raw)
				return false
			})
		}
	}
	byValue := make([]int32, len(vals))
	for i := range byValue {
		byValue[i] = int32(i)
	}
	slices.SortFunc(byValue, func(a, b int32) int { return vals[a].compare(vals[b]) })
	r := make([]int32, len(vals))
	rank := int32(0)
	for k, i := range byValue {
		if k > 0 && vals[byValue[k-1]].compare(vals[i]) != 0 {
			rank++
		}
		r[i] = rank
	}
	if m.ranks == nil {
		m.ranks = map[string][]int32{}
	}
	m.ranks[name] = r
	return r
}

// sortValue is a property's value as sorting sees it. A queryable's values
// are all of one type, so only like compares with like.
type sortValue struct {
	present bool
	num     float64
	str     string
	time    instant
}

func sortValueOf(raw []byte) sortValue {
	v := scalarValue(raw)
	switch {
	case v.Kind == cql2.Null:
		return sortValue{}
	case v.Kind == cql2.Bool:
		if v.Bool {
			return sortValue{present: true, num: 1}
		}
		return sortValue{present: true}
	}
	return sortValue{present: true, num: v.Num, str: v.Str}
}

func (a sortValue) compare(b sortValue) int {
	if a.present != b.present {
		if a.present {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.num, b.num); c != 0 {
		return c
	}
	if c := a.time.compare(b.time); c != 0 {
		return c
	}
	return strings.Compare(a.str, b.str)
}
