package geojson

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/protectmap/protectmap/geo"
)

// LayerExt is the file extension of layer files in a data directory.
const LayerExt = ".geojson"

// LoadFile reads one GeoJSON file as the layer name.
func LoadFile(name, file string) (*geo.Layer, error) {
	if !geo.ValidLayerName(name) {
		return nil, fmt.Errorf("geo: %q is not a valid layer name (letters, digits, '_', '-', '.')", name)
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return DecodeLayer(name, file, fh)
}

// LoadFS reads every *.geojson file at the top of fsys as a layer named
// after the file. All broken files are reported together, so an operator
// sees every problem at once; any error means no layers are returned.
func LoadFS(fsys fs.FS) ([]*geo.Layer, error) {
	names, err := fs.Glob(fsys, "*"+LayerExt)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var layers []*geo.Layer
	var errs []error
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), LayerExt)
		if !geo.ValidLayerName(name) {
			errs = append(errs, fmt.Errorf("geo: %s: %q is not a valid layer name", file, name))
			continue
		}
		l, err := loadFromFS(fsys, name, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		layers = append(layers, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return layers, nil
}

func loadFromFS(fsys fs.FS, name, file string) (*geo.Layer, error) {
	fh, err := fsys.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return DecodeLayer(name, file, fh)
}

// LoadDir is LoadFS over a directory on disk; messages name files by their
// path under dir.
func LoadDir(dir string) ([]*geo.Layer, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("geo: %s is not a directory", dir)
	}
	layers, err := LoadFS(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("in %s: %w", dir, err)
	}
	return layers, nil
}
