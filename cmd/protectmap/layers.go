package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
)

// layerFlags collects repeated --layer NAME=FILE flags.
type layerFlags []string

func (l *layerFlags) String() string { return strings.Join(*l, ",") }

func (l *layerFlags) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("want NAME=FILE, got %q", v)
	}
	if !geo.ValidLayerName(name) {
		return fmt.Errorf("%q is not a valid layer name (letters, digits, '_', '-', '.')", name)
	}
	*l = append(*l, v)
	return nil
}

// loadIndex builds the index from --data DIR (every DIR/*.geojson) or,
// without it, from the embedded default layers, plus any --layer files.
// Every broken file is reported; a broken layer is never served.
func loadIndex(dir string, extra layerFlags) (*geo.Index, error) {
	var layers []*geo.Layer
	var err error
	if dir == "" {
		layers, err = geo.LoadFS(data.Layers)
	} else {
		layers, err = geo.LoadDir(dir)
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, v := range extra {
		name, file, _ := strings.Cut(v, "=")
		l, err := geo.LoadFile(name, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		layers = append(layers, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return geo.NewIndex(layers...)
}

// layerFiles expands validate's arguments: files as given, directories to
// their *.geojson files. A layer is named after its file.
func layerFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := filepath.Glob(filepath.Join(p, "*"+geo.LayerExt))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *%s files", p, geo.LayerExt)
		}
		files = append(files, found...)
	}
	return files, nil
}

func layerNameOf(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}
