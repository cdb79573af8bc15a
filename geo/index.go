package geo

import (
	"fmt"
	"sort"
)

// Index is an immutable set of layers. It is safe for concurrent use and
// needs no locks: a reload builds a new Index and swaps it in whole.
type Index struct {
	layers []*Layer // sorted by name
	names  []string // the layers' names, in the same order
	byName map[string]*Layer
}

// NewIndex gathers layers into an index; layer names must be unique.
func NewIndex(layers ...*Layer) (*Index, error) {
	ix := &Index{byName: make(map[string]*Layer, len(layers))}
	for _, l := range layers {
		if _, dup := ix.byName[l.name]; dup {
			return nil, fmt.Errorf("geo: two layers named %q (%s and %s)", l.name, ix.byName[l.name].source, l.source)
		}
		ix.byName[l.name] = l
		ix.layers = append(ix.layers, l)
	}
	sort.Slice(ix.layers, func(i, j int) bool { return ix.layers[i].name < ix.layers[j].name })
	for _, l := range ix.layers {
		ix.names = append(ix.names, l.name)
	}
	return ix, nil
}

// Names returns the layers' names, sorted. The slice must not be modified.
func (ix *Index) Names() []string { return ix.names }

// Layers returns the layers sorted by name. The slice must not be modified.
func (ix *Index) Layers() []*Layer { return ix.layers }

// Layer returns the layer with the given name.
func (ix *Index) Layer(name string) (*Layer, bool) {
	l, ok := ix.byName[name]
	return l, ok
}

// Len is the number of features in all layers.
func (ix *Index) Len() int {
	n := 0
	for _, l := range ix.layers {
		n += l.Len()
	}
	return n
}

// pick resolves layer names into out; none means every layer. A caller
// that keeps the result no longer than a query passes an array on its
// stack, so a query naming a few layers allocates nothing for them.
func (ix *Index) pick(out []*Layer, names []string) ([]*Layer, error) {
	if len(names) == 0 {
		return ix.layers, nil
	}
	for _, n := range names {
		l, ok := ix.byName[n]
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownLayer, n)
		}
		out = append(out, l)
	}
	return out, nil
}
