package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server/store"
)

// DefaultKeepVersions is how many of the most recently served data
// versions are kept beside those a recorded verdict was judged on.
const DefaultKeepVersions = 10

// Names of a data version's parts in the store.
const (
	layerPart      = "layer:"
	agreementsPart = "agreements"
)

// agreementsJSON is d's agreements as kept, in the form DecodeAgreements
// reads: their digest is the version's agreements digest.
func agreementsJSON(d *Dataset) []byte {
	agreements := d.Agreements
	if agreements == nil {
		agreements = []agreement.Agreement{}
	}
	return mustJSON(struct {
		Agreements []agreement.Agreement `json:"agreements"`
	}{agreements})
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// KeepVersion keeps d in st, unless it is kept already, so that later
// processes can judge again against exactly this data; then it forgets the
// versions no recorded verdict was judged on, but the keepLast most
// recently served (all kept when negative).
func KeepVersion(ctx context.Context, st store.Store, d *Dataset, keepLast int) error {
	t := time.Now()
	kept, err := st.MarkServed(ctx, d.Version, t)
	if err != nil {
		return err
	}
	if !kept {
		agreements := agreementsJSON(d)
		v := store.DataVersion{Version: d.Version, FirstServed: t, AgreementsDigest: digest(agreements)}
		var parts []store.VersionPart
		for _, l := range d.Index.Layers() {
			v.Layers = append(v.Layers, store.VersionLayer{Name: l.Name(), Features: l.Len()})
			parts = append(parts, store.VersionPart{Name: layerPart + l.Name(), Write: func(w io.Writer) error { return writeLayer(w, l) }})
		}
		parts = append(parts, store.VersionPart{Name: agreementsPart, Write: func(w io.Writer) error {
			_, err := w.Write(agreements)
			return err
		}})
		if err := st.SaveVersion(ctx, v, parts); err != nil {
			return err
		}
	}
	_, err = st.PruneVersions(ctx, keepLast)
	return err
}

// writeLayer writes l as GeoJSON, each feature with its id, in the
// layer's order: decoding it gives the same layer.
func writeLayer(w io.Writer, l *geo.Layer) error {
	ew, err := export.NewWriter(w, export.GeoJSON, export.Options{})
	if err != nil {
		return err
	}
	for i := range l.Len() {
		if err := ew.Write(l.Feature(i)); err != nil {
			return err
		}
	}
	return ew.Close()
}

// LoadVersion rebuilds a kept data version from st; store.ErrNoVersion for
// one not kept.
func LoadVersion(ctx context.Context, st store.Store, version string) (*Dataset, error) {
	var layers []*geo.Layer
	var agreements []agreement.Agreement
	source := "data version " + version
	_, err := st.LoadVersion(ctx, version, func(name string, r io.Reader) error {
		var err error
		if layer, ok := strings.CutPrefix(name, layerPart); ok {
			var l *geo.Layer
			if l, err = geojson.DecodeLayer(layer, source, r); err == nil {
				layers = append(layers, l)
			}
		} else if name == agreementsPart {
			agreements, err = agreement.DecodeAgreements(source, r)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		return nil, err
	}
	return &Dataset{Index: ix, Agreements: agreements, Version: version}, nil
}

// maxOldVersions is how many earlier data versions a server holds rebuilt
// at once, for ?data_version: each costs the memory of its index.
const maxOldVersions = 2

// oldVersions holds earlier data versions rebuilt from the store, the most
// recently asked for first.
type oldVersions struct {
	mu   sync.Mutex // held while one is rebuilt: a second request waits for it
	sets []*Dataset
}

// get returns the Dataset of version, rebuilding it with load if needed.
func (o *oldVersions) get(version string, load func() (*Dataset, error)) (*Dataset, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, d := range o.sets {
		if d.Version == version {
			copy(o.sets[1:i+1], o.sets[:i])
			o.sets[0] = d
			return d, nil
		}
	}
	d, err := load()
	if err != nil {
		return nil, err
	}
	o.sets = append([]*Dataset{d}, o.sets[:min(len(o.sets), maxOldVersions-1)]...)
	return d, nil
}

// byIndex is the Dataset held for ix; nil when none is.
func (o *oldVersions) byIndex(ix *geo.Index) *Dataset {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, d := range o.sets {
		if d.Index == ix {
			return d
		}
	}
	return nil
}

// atVersion makes the request answer from the data version its
// data_version parameter names, rebuilt from the store when it is not the
// one served now.
func (h *handlers) atVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		version := queryArg(c, "data_version")
		if version == "" || version == h.dataset(c).Version {
			return next(c)
		}
		if !validVersion(version) || h.cfg.Store == nil {
			return &store.LookupError{Key: version, Err: store.ErrNoVersion}
		}
		d, err := h.old.get(version, func() (*Dataset, error) {
			return LoadVersion(c.Request().Context(), h.cfg.Store, version)
		})
		if err != nil {
			return err
		}
		useDataset(c, d)
		return next(c)
	}
}

// versionDoc is a kept data version as GET /versions lists it.
type versionDoc struct {
	Version          string               `json:"data_version"`
	FirstServed      time.Time            `json:"first_served"`
	LastServed       time.Time            `json:"last_served"`
	Serving          bool                 `json:"serving"`
	Layers           []store.VersionLayer `json:"layers"`
	AgreementsDigest string               `json:"agreements_digest"`
	Bytes            int64                `json:"bytes"`
	StoredBytes      int64                `json:"stored_bytes"`
}

// listVersions answers GET /versions: the data versions kept, most recently
// served first.
func (h *handlers) listVersions(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	kept, err := h.cfg.Store.Versions(c.Request().Context())
	if err != nil {
		return err
	}
	now := h.current().Version
	docs := make([]versionDoc, len(kept))
	for i, v := range kept {
		docs[i] = versionDoc{Version: v.Version, FirstServed: v.FirstServed, LastServed: v.LastServed, Serving: v.Version == now,
			Layers: v.Layers, AgreementsDigest: v.AgreementsDigest, Bytes: v.Bytes, StoredBytes: v.StoredBytes}
	}
	return sendJSON(c, mediaJSON, struct {
		Versions []versionDoc `json:"versions"`
		Links    []link       `json:"links"`
	}{docs, []link{{Href: h.baseURL(c) + "/versions", Rel: "self", Type: mediaJSON, Title: "the data versions kept"}}}, false)
}
