package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
)

// LayerExt is the file extension of layer files in a data directory.
const LayerExt = ".geojson"

var layerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidLayerName reports whether name can be a layer (and collection) id:
// letters, digits, '_', '-' and '.', starting with a letter or digit.
func ValidLayerName(name string) bool { return layerName.MatchString(name) }

// LoadFile reads one GeoJSON file as the layer name.
func LoadFile(name, file string) (*Layer, error) {
	if !ValidLayerName(name) {
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
func LoadFS(fsys fs.FS) ([]*Layer, error) {
	names, err := fs.Glob(fsys, "*"+LayerExt)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var layers []*Layer
	var errs []error
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), LayerExt)
		if !ValidLayerName(name) {
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

func loadFromFS(fsys fs.FS, name, file string) (*Layer, error) {
	fh, err := fsys.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return DecodeLayer(name, file, fh)
}

// LoadDir is LoadFS over a directory on disk; messages name files by their
// path under dir.
func LoadDir(dir string) ([]*Layer, error) {
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
