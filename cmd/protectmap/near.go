package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geojson"
)

func near(args []string, stdout io.Writer) error {
	fs := newFlags("near", "--lon X --lat Y [flags]\n\nLists the protected sites within --radius metres of a point, nearest first,\nwith exact geodesic distances (WGS84) to each site's real geometry.", stdout)
	lon := fs.Float64("lon", math.NaN(), "longitude of the point, degrees east (required)")
	lat := fs.Float64("lat", math.NaN(), "latitude of the point, degrees north (required)")
	radius := fs.Float64("radius", 1000, "search radius in metres (at most 200000)")
	limit := fs.Int("limit", 20, "at most this many sites")
	layers := fs.String("layers", "", "comma-separated layer names (default: all)")
	format := fs.String("format", "table", "output format: table or geojson")
	dir := fs.String("data", "", "directory of *.geojson layers (default: the embedded data)")
	var extra layerFlags
	fs.Var(&extra, "layer", "add a layer from a file, as NAME=FILE (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if math.IsNaN(*lon) || math.IsNaN(*lat) {
		return usagef("--lon and --lat are required")
	}
	if *format != "table" && *format != "geojson" {
		return usagef("--format must be table or geojson, not %q", *format)
	}
	var names []string
	if *layers != "" {
		names = strings.Split(*layers, ",")
	}
	ix, err := loadIndex(*dir, extra)
	if err != nil {
		return err
	}
	hits, err := ix.Nearby(orb.Point{*lon, *lat}, *radius, *limit, names...)
	if err != nil {
		return usageError{err}
	}
	if *format == "geojson" {
		buf := []byte(`{"type":"FeatureCollection","features":[`)
		for i := range hits {
			if i > 0 {
				buf = append(buf, ",\n"...)
			}
			buf = geojson.AppendHit(buf, hits[i].Feature, &hits[i])
		}
		buf = append(buf, "]}\n"...)
		_, err := stdout.Write(buf)
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DISTANCE_M\tBEARING\tLAYER\tID\tKIND\tNAME\t")
	for _, h := range hits {
		bearing := "-"
		if !math.IsNaN(h.Bearing) {
			bearing = fmt.Sprintf("%.1f°", h.Bearing)
		}
		fmt.Fprintf(tw, "%.1f\t%s\t%s\t%s\t%s\t%s\t\n", h.Meters, bearing, h.Layer.Name(), h.Feature.ID, h.Feature.Kind, h.Feature.Name)
	}
	if len(hits) == 0 {
		fmt.Fprintf(tw, "no protected site within %g m\t\t\t\t\t\t\n", *radius)
	}
	return tw.Flush()
}
