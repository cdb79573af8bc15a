package tile

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// Meta describes a tile set beyond what its layer knows.
type Meta struct {
	// Name titles the tile set; the layer's name when empty.
	Name string
	// Description says what the tile set shows.
	Description string
	// Attribution credits the data's sources, as TileJSON clients show it.
	Attribution string
}

// fields are the properties features of a tile may carry, as TileJSON's
// vector_layers list them, with what each means.
var fields = map[string]string{
	"id":    "String: the site's id, as in the collection's items",
	"name":  "String: the site's name; left out of tiles too dense to carry it",
	"kind":  "String: the site's kind (plant, substation, line, hospital, bridge, ...)",
	"count": "Number: on aggregate points only, the sites of this kind counted here",
}

// centerMaxZoom bounds the zoom TileJSON's center suggests, for layers
// of a single point or a few close together.
const centerMaxZoom = 14

type tileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []vectorLayer `json:"vector_layers"`
}

type vectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSON returns a TileJSON 3.0.0 document for the tiles of l served
// at tilesURL, a URL template holding {z}, {x} and {y}. The bounds are
// the layer's envelope within Web Mercator's latitudes (the whole world
// for an empty layer); the center is the envelope's centre at the deepest
// zoom, at most 14, where the envelope spans no more than two tiles each
// way.
func TileJSON(l *geo.Layer, tilesURL string, meta Meta) ([]byte, error) {
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(tilesURL, p) {
			return nil, fmt.Errorf("tile: TileJSON tiles URL %q lacks %s", tilesURL, p)
		}
	}
	b := orb.Bound{Min: orb.Point{-180, -maxLat}, Max: orb.Point{180, maxLat}}
	if l.Len() > 0 {
		lb := l.Bound()
		b = orb.Bound{
			Min: orb.Point{lb.Min[0], min(max(lb.Min[1], -maxLat), maxLat)},
			Max: orb.Point{lb.Max[0], min(max(lb.Max[1], -maxLat), maxLat)},
		}
	}
	name := meta.Name
	if name == "" {
		name = l.Name()
	}
	c := b.Center()
	doc := tileJSON{
		TileJSON:    "3.0.0",
		Name:        name,
		Description: meta.Description,
		Attribution: meta.Attribution,
		Scheme:      "xyz",
		Tiles:       []string{tilesURL},
		MaxZoom:     MaxZoom,
		Bounds:      [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		Center:      [3]float64{c[0], c[1], float64(fitZoom(b))},
		VectorLayers: []vectorLayer{{
			ID:          l.Name(),
			Description: meta.Description,
			MaxZoom:     MaxZoom,
			Fields:      fields,
		}},
	}
	return json.Marshal(doc)
}

// fitZoom is the deepest zoom, up to centerMaxZoom, at which b spans at
// most two tiles each way.
func fitZoom(b orb.Bound) int {
	lo, hi := maptile.Fraction(b.Min, 0), maptile.Fraction(b.Max, 0)
	span := max(hi[0]-lo[0], lo[1]-hi[1]) // in tiles at zoom 0; y runs south
	if span <= 0 {
		return centerMaxZoom
	}
	return min(centerMaxZoom, max(0, int(math.Floor(math.Log2(2/span)))))
}
