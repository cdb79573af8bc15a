package main

import (
	"fmt"
	"io"

	"github.com/protectmap/protectmap/geo/geojson"
)

func validate(args []string, stdout io.Writer) error {
	fs := newFlags("validate", "[--keep-going] PATH...\n\nChecks GeoJSON layer files (or every *.geojson in a directory): each problem\nis reported with file, feature index and reason. By default it stops at the\nfirst layer with errors.", stdout)
	keepGoing := fs.Bool("keep-going", false, "check every layer and report all problems instead of stopping at the first broken layer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("name at least one file or directory")
	}
	files, err := layerFiles(fs.Args())
	if err != nil {
		return err
	}
	broken := 0
	for _, file := range files {
		l, err := geojson.LoadFile(layerNameOf(file), file)
		if err != nil {
			broken++
			fmt.Fprintf(stdout, "FAIL %s\n%v\n", file, err)
			if !*keepGoing {
				return fmt.Errorf("%s is not a valid layer", file)
			}
			continue
		}
		fmt.Fprintf(stdout, "ok   %s: layer %q, %d features\n", file, l.Name(), l.Len())
	}
	if broken > 0 {
		return fmt.Errorf("%d of %d layers are not valid", broken, len(files))
	}
	return nil
}
