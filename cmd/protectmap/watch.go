package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
)

// dataFiles lists the files the data is loaded from: the layers of dir and
// its agreements.json, the --layer files and the --agreements file. The
// embedded data (no dir) has none.
func dataFiles(dir string, extra layerFlags, agreementsFile string) []string {
	var files []string
	if dir != "" {
		layers, _ := filepath.Glob(filepath.Join(dir, "*"+geojson.LayerExt))
		files = append(files, layers...)
		files = append(files, filepath.Join(dir, "agreements.json"))
	}
	for _, v := range extra {
		_, file, _ := strings.Cut(v, "=")
		files = append(files, file)
	}
	if agreementsFile != "" {
		files = append(files, agreementsFile)
	}
	return files
}

// fingerprint sums up the files' names, sizes and modification times; a
// missing file counts as such.
func fingerprint(files []string) string {
	var b strings.Builder
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%s\x00%d\x00%d\n", f, st.Size(), st.ModTime().UnixNano())
		} else {
			fmt.Fprintf(&b, "%s\x00missing\n", f)
		}
	}
	return b.String()
}

// reloadOnChange polls the data files every interval until ctx ends and
// reloads once they have changed and then stayed the same for a whole
// interval, so a file still being written is not read half done. A layer
// file added to or removed from the data directory counts as a change.
// loaded is the fingerprint of the files as they were when served.
func reloadOnChange(ctx context.Context, r *server.Reloader, interval time.Duration, files func() []string, loaded string) {
	last := loaded
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := fingerprint(files())
		if now == last && now != loaded {
			r.Reload(ctx) //nolint:errcheck // logged, and reported by /readyz
			// A failed reload is not retried until the files change again.
			loaded = now
		}
		last = now
	}
}
