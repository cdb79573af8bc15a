package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/export"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "--layer NAME [flags]\n\nWrites a layer's features, all of them or those touching --bbox, in the layer's order:\nGeoJSON, newline-delimited GeoJSON, CSV (WKT geometry, lon/lat for points) or KML.", stdout)
	name := fs.String("layer", "", "the layer to export (required)")
	dir := fs.String("data", "", "directory of *.geojson layers (default: the embedded data)")
	format := fs.String("format", "", "geojson, ndjson, csv or kml (default: from --out's extension, else geojson)")
	bbox := fs.String("bbox", "", "only features touching minLon,minLat,maxLon,maxLat (degrees; minLon > maxLon crosses ±180°)")
	out := fs.String("out", "", "write to this file, replaced only once complete (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--layer is required")
	}
	f, err := exportFormat(*format, *out)
	if err != nil {
		return err
	}
	var box *geo.BBox
	if *bbox != "" {
		b, err := geo.ParseBBox(*bbox)
		if err != nil {
			return usagef("--bbox: %v", err)
		}
		box = &b
	}
	ix, err := loadIndex(*dir, nil)
	if err != nil {
		return err
	}
	l, ok := ix.Layer(*name)
	if !ok {
		var names []string
		for _, l := range ix.Layers() {
			names = append(names, l.Name())
		}
		return usagef("no layer %q; the layers are %s", *name, strings.Join(names, ", "))
	}
	features := selectFeatures(l, box)
	write := func(w io.Writer) (int, error) { return writeFeatures(w, l, f, features) }
	if *out == "" {
		_, err := write(stdout)
		return err
	}
	n, err := writeFileAtomic(*out, write)
	if err == nil {
		fmt.Fprintf(stderr, "wrote %d features of %s to %s\n", n, l.Name(), *out)
	}
	return err
}

// exportFormat is --format, or the format --out's extension names.
func exportFormat(name, out string) (export.Format, error) {
	if name != "" {
		f, err := export.ParseFormat(name)
		if err != nil {
			return "", usagef("--format: %v", err)
		}
		return f, nil
	}
	for _, f := range export.Formats() {
		if out != "" && strings.EqualFold(filepath.Ext(out), f.Ext()) {
			return f, nil
		}
	}
	return export.GeoJSON, nil
}

// selectFeatures lists the features to export: all, or those touching
// box, in the layer's order either way.
func selectFeatures(l *geo.Layer, box *geo.BBox) func(yield func(*geo.Feature) bool) {
	if box == nil {
		return func(yield func(*geo.Feature) bool) {
			for i := range l.Len() {
				if !yield(l.Feature(i)) {
					return
				}
			}
		}
	}
	var picked []int
	l.Search(*box, func(i int) bool {
		picked = append(picked, i)
		return true
	})
	slices.Sort(picked)
	return func(yield func(*geo.Feature) bool) {
		for _, i := range picked {
			if !yield(l.Feature(i)) {
				return
			}
		}
	}
}

// writeFeatures streams features to w in format f and returns how many
// were written.
func writeFeatures(w io.Writer, l *geo.Layer, f export.Format, features func(yield func(*geo.Feature) bool)) (int, error) {
	opts := export.Options{Name: l.Name()}
	if f == export.CSV {
		opts.Columns = export.Columns(features)
	}
	ew, err := export.NewWriter(w, f, opts)
	if err != nil {
		return 0, err
	}
	n := 0
	for ft := range features {
		if err := ew.Write(ft); err != nil {
			return n, err
		}
		n++
	}
	return n, ew.Close()
}

// writeFileAtomic writes through a temporary file beside file and renames
// it into place once complete, so a failed export never leaves half a
// file behind or destroys the previous one.
func writeFileAtomic(file string, write func(io.Writer) (int, error)) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return 0, err
	}
	n, err := write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644) // as os.Create would, not CreateTemp's 0600
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return n, err
}
