package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/protectmap/protectmap/geo/snapshot"
)

const snapshotSynopsis = `--out FILE [--data DIR] [--layer NAME=FILE]... [--agreements FILE]

Loads the layers and agreements as serve does, checks them as serve does,
and writes them with their data version to FILE in the snapshot format (see
README, "Snapshots"), which serve --snapshot FILE loads faster
than the GeoJSON. A server given the snapshot serves the same answers under
the same data version. FILE is replaced whole or not at all.`

func runSnapshot(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("snapshot", snapshotSynopsis, stderr)
	out := fs.String("out", "", "the snapshot file to write (required)")
	input := addSourceFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *out == "":
		return usagef("--out FILE is required")
	}
	start := time.Now()
	// Checked now, so a snapshot never holds data serve would refuse.
	r, _, err := checkedData(*input.dir, input.extra, *input.agreements)
	if err != nil {
		return err
	}
	if err := snapshot.WriteFile(*out, r.Data); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	features := 0
	for _, l := range r.Layers {
		features += l.Len()
	}
	fmt.Fprintf(stdout, "wrote %s: %d layers, %d features, data version %s, %d bytes, in %v\n",
		*out, len(r.Layers), features, r.Version, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}
