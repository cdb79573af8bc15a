package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
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
	return loadIndexSum(dir, extra, io.Discard)
}

// loadIndexSum is loadIndex that also writes each file read, its name then
// its bytes, to sum: a hash there names exactly the content indexed.
func loadIndexSum(dir string, extra layerFlags, sum io.Writer) (*geo.Index, error) {
	var layers []*geo.Layer
	var err error
	if dir == "" {
		layers, err = geojson.LoadFS(teeFS{data.Layers(), sum})
	} else if st, serr := os.Stat(dir); serr != nil {
		err = serr
	} else if !st.IsDir() {
		err = fmt.Errorf("%s is not a directory", dir)
	} else if layers, err = geojson.LoadFS(teeFS{os.DirFS(dir), sum}); err != nil {
		err = fmt.Errorf("in %s: %w", dir, err)
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, v := range extra {
		name, file, _ := strings.Cut(v, "=")
		l, err := loadFileSum(name, file, sum)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		layers = append(layers, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Decoding leaves garbage about the size of the files read; the
	// runtime would hand it back to the system over minutes, and until then
	// the server's resident memory is half as large again as its layers.
	debug.FreeOSMemory()
	return geo.NewIndex(layers...)
}

func loadFileSum(name, file string, sum io.Writer) (*geo.Layer, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fmt.Fprintf(sum, "%s\x00", file)
	return geojson.DecodeLayer(name, file, io.TeeReader(fh, sum))
}

// teeFS copies every regular file read from FS, after its name, to sum.
type teeFS struct {
	fs.FS
	sum io.Writer
}

func (t teeFS) Open(name string) (fs.File, error) {
	f, err := t.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		return f, err
	}
	fmt.Fprintf(t.sum, "%s\x00", name)
	return teeFile{f, io.TeeReader(f, t.sum)}, nil
}

type teeFile struct {
	fs.File
	r io.Reader
}

func (f teeFile) Read(p []byte) (int, error) { return f.r.Read(p) }

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
		found, err := filepath.Glob(filepath.Join(p, "*"+geojson.LayerExt))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *%s files", p, geojson.LayerExt)
		}
		files = append(files, found...)
	}
	return files, nil
}

func layerNameOf(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}
