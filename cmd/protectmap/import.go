package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/protectmap/protectmap/geo/importer"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

const importUsage = `Usage: protectmap import SOURCE FILE --out DIR [flags]

Builds layers from a data source and merges them into the layer files of DIR
(a feature with the id of an existing one replaces it; the others are kept).
Every written layer is checked as the server checks it.

Sources:
  osm      an OpenStreetMap extract (.osm.pbf, or .osm XML, plain, .gz or .bz2)
           into energy, hospitals and bridges, or the layers of --mapping
  gppd     the Global Power Plant Database CSV into the energy layer
  csv      any CSV of sites with lon/lat or WKT columns
  geojson  a GeoJSON FeatureCollection
  strikes  strikes (ACLED or UCDP CSV, GeoJSON) into the strike store, not layers:
           protectmap import strikes FILE [--store DSN]

Run "protectmap import SOURCE --help" for a source's flags.
`

// maxListedSkips is how many skipped items the summary prints one by one.
const maxListedSkips = 20

func runImport(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, importUsage)
		return usagef("name a source: osm, gppd, csv, geojson or strikes")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "osm":
		return importOSM(ctx, args[1:], stdout, stderr)
	case "gppd":
		return importGPPD(ctx, args[1:], stdout, stderr)
	case "csv":
		return importCSV(ctx, args[1:], stdout, stderr)
	case "geojson":
		return importGeoJSON(args[1:], stdout, stderr)
	case "strikes":
		return importStrikes(ctx, args[1:], stdout)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, importUsage)
		return nil
	}
	return usagef("unknown source %q: want osm, gppd, csv, geojson or strikes", args[0])
}

// importFlags are the flags every source has.
type importFlags struct {
	fs             *flag.FlagSet
	out            *string
	removeVanished *bool
}

func newImportFlags(source, synopsis string, stdout io.Writer) importFlags {
	fs := newFlags("import "+source, synopsis, stdout)
	return importFlags{fs: fs, out: fs.String("out", "", "data directory to write the layers into (required; created if missing)"),
		removeVanished: fs.Bool("remove-vanished", false, "remove the layers' features of this source that the input no longer holds (only for an input covering all the layers hold from it)")}
}

// parse accepts flags before and after the FILE argument, as in
// "import osm ukraine.osm.pbf --out data", and returns the arguments.
func (f importFlags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(f.fs, args); err != nil {
			return nil, err
		}
		if f.fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
}

// file parses args and requires one input file and --out.
func (f importFlags) file(args []string) (string, error) {
	pos, err := f.parse(args)
	if err != nil {
		return "", err
	}
	return f.check(pos)
}

func (f importFlags) check(pos []string) (string, error) {
	switch {
	case len(pos) != 1:
		return "", usagef("name exactly one input file, not %d", len(pos))
	case *f.out == "":
		return "", usagef("--out DIR is required")
	}
	return pos[0], nil
}

func importOSM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newImportFlags("osm", "FILE --out DIR [flags]\n\nImports power plants, generators, substations and power lines (energy), hospitals,\nand bridges from an OpenStreetMap extract. Ways cut by the extract's edge and broken\nmultipolygons are skipped and listed.", stdout)
	mapping := f.fs.String("mapping", "", "tag mapping file (JSON) instead of the default; see --print-mapping")
	with := f.fs.String("with", "", "comma-separated optional rule groups to enable, e.g. clinics")
	noMerge := f.fs.Bool("no-merge", false, "keep every bridge segment its own feature")
	printMapping := f.fs.Bool("print-mapping", false, "print the default tag mapping as a mapping file and exit")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if *printMapping {
		_, err := stdout.Write(importer.DefaultMappingJSON())
		return err
	}
	file, err := f.check(pos)
	if err != nil {
		return err
	}
	opt := importer.OSMOptions{NoMerge: *noMerge, Progress: newProgress(stderr)}
	if *with != "" {
		opt.With = strings.Split(*with, ",")
	}
	if *mapping != "" {
		if opt.Mapping, err = importer.LoadMapping(*mapping); err != nil {
			return usageError{err}
		}
	}
	return f.finish(file, stdout, func() (*importer.Result, error) {
		return importer.OSM(ctx, file, opt)
	})
}

func importGPPD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newImportFlags("gppd", "FILE.csv --out DIR [--country ISO3] [--layer energy]\n\nImports the Global Power Plant Database (v1.x columns) as plant points with ids\ngppd:<gppd_idnr>.", stdout)
	country := f.fs.String("country", "", "keep only this country's plants (ISO 3166-1 alpha-3, e.g. UKR); default all")
	layer := f.fs.String("layer", "energy", "layer to import into")
	file, err := f.file(args)
	if err != nil {
		return err
	}
	return f.finish(file, stdout, func() (*importer.Result, error) {
		return importer.GPPD(ctx, file, importer.GPPDOptions{Country: *country, Layer: *layer, Progress: newProgress(stderr)})
	})
}

func importCSV(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newImportFlags("csv", "FILE.csv --out DIR --layer NAME [flags]\n\nImports a CSV of sites with a header row. Coordinates come from --lon/--lat (default:\nthe first of lon, longitude, lng, x and lat, latitude, y) or a --wkt column. Rows\nwithout a usable geometry are skipped and listed by line and column.", stdout)
	var m importer.CSVMapping
	f.fs.StringVar(&m.Layer, "layer", "", "layer to import into (required)")
	f.fs.StringVar(&m.Lon, "lon", "", "longitude column")
	f.fs.StringVar(&m.Lat, "lat", "", "latitude column")
	f.fs.StringVar(&m.WKT, "wkt", "", "WKT geometry column, instead of --lon and --lat")
	f.fs.StringVar(&m.ID, "id", "", "column of stable ids; without it ids are hashes of geometry and properties")
	f.fs.StringVar(&m.IDPrefix, "id-prefix", "", "prefix for the ids of --id, e.g. hospital:")
	f.fs.StringVar(&m.Name, "name", "", `column of the name property (default: "name" if present)`)
	f.fs.StringVar(&m.Kind, "kind", "", "kind property of every feature")
	f.fs.StringVar(&m.KindColumn, "kind-column", "", `column of the kind property (default: "kind" if present and --kind is not given)`)
	f.fs.StringVar(&m.Source, "source", "", `source property of rows without one, e.g. "Ministry of Health register, 2025-11"`)
	f.fs.StringVar(&m.Licence, "licence", "", "licence property of rows without one (SPDX id, e.g. CC-BY-4.0)")
	columns := f.fs.String("columns", "", "comma-separated columns to keep as properties (default: all others)")
	delimiter := f.fs.String("delimiter", ",", `field separator: one character, or "tab"`)
	file, err := f.file(args)
	if err != nil {
		return err
	}
	if m.Layer == "" {
		return usagef("--layer NAME is required")
	}
	if m.Comma, err = parseDelimiter(*delimiter); err != nil {
		return err
	}
	if *columns != "" {
		m.Columns = strings.Split(*columns, ",")
	}
	m.Progress = newProgress(stderr)
	return f.finish(file, stdout, func() (*importer.Result, error) {
		return importer.CSV(ctx, file, m)
	})
}

func parseDelimiter(s string) (rune, error) {
	if s == "tab" || s == `\t` {
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\r' || r[0] == '\n' {
		return 0, usagef("--delimiter must be one character other than a quote or line break, or \"tab\"; got %q", s)
	}
	return r[0], nil
}

func importGeoJSON(args []string, stdout, stderr io.Writer) error {
	f := newImportFlags("geojson", "FILE --out DIR [--layer NAME] [--kind KIND] [--source TEXT] [--licence SPDX]\n\nImports a GeoJSON FeatureCollection; it must pass the checks the server makes.", stdout)
	layer := f.fs.String("layer", "", "layer to import into (default: the file's name without extension)")
	opt := importer.GeoJSONOptions{Progress: newProgress(stderr)}
	f.fs.StringVar(&opt.Kind, "kind", "", "kind property for features that have none")
	f.fs.StringVar(&opt.Source, "source", "", "source property for features that have none")
	f.fs.StringVar(&opt.Licence, "licence", "", "licence property for features that have none (SPDX id, e.g. ODbL-1.0)")
	file, err := f.file(args)
	if err != nil {
		return err
	}
	if *layer == "" {
		*layer = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	opt.Layer = *layer
	return f.finish(file, stdout, func() (*importer.Result, error) {
		return importer.GeoJSON(file, opt)
	})
}

// finish runs read, writes its result into --out and prints the summary,
// the time taken and the peak memory.
func (f importFlags) finish(file string, stdout io.Writer, read func() (*importer.Result, error)) error {
	start := time.Now()
	res, err := read()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("interrupted; nothing was written")
		}
		return err
	}
	res.RemoveVanished = *f.removeVanished
	s, err := res.WriteDir(*f.out)
	if s != nil {
		printSummary(stdout, s)
	}
	if st, statErr := os.Stat(file); statErr == nil {
		elapsed := time.Since(start)
		fmt.Fprintf(stdout, "read %s (%s) in %s (%s/s), peak memory %s\n", file, byteSize(st.Size()),
			elapsed.Round(time.Millisecond), byteSize(int64(float64(st.Size())/elapsed.Seconds())), byteSize(peakMemory()))
	}
	return err
}

func printSummary(w io.Writer, s *importer.Summary) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for _, l := range s.Layers {
		fmt.Fprintf(bw, "%s: %d features (%d added, %d replaced, %d unchanged, %d removed, %d kept, %d merged into sites)\n",
			l.File, l.Total(), l.Added, l.Replaced, l.Unchanged, l.Removed, l.Kept, len(l.Merges))
		for _, m := range l.Merges {
			fmt.Fprintf(bw, "    merged %s into %s (%s)\n", m.Imported, m.Into, m.Why)
		}
		for _, n := range l.NearMisses {
			fmt.Fprintf(bw, "    near miss: %s added %.0f m from %s of the same kind\n", n.Imported, n.Meters, n.Near)
		}
		kinds := make([]string, 0, len(l.Kinds))
		for k := range l.Kinds {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			name := k
			if name == "" {
				name = "(no kind)"
			}
			fmt.Fprintf(bw, "    %-14s %d\n", name, l.Kinds[k])
		}
	}
	if s.Ignored > 0 {
		fmt.Fprintf(bw, "ignored %d %s\n", s.Ignored, s.IgnoredWhat)
	}
	if s.SkippedTotal == 0 {
		return
	}
	fmt.Fprintf(bw, "skipped %d:\n", s.SkippedTotal)
	for i, sk := range s.Skipped {
		if i == maxListedSkips {
			fmt.Fprintf(bw, "    ... and %d more\n", s.SkippedTotal-maxListedSkips)
			break
		}
		fmt.Fprintf(bw, "    %s\n", sk)
	}
}

// byteSize formats a size in kB, MB or GB (powers of 1000).
func byteSize(n int64) string {
	switch {
	case n < 1e6:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " kB"
	case n < 1e9:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 2, 64) + " GB"
}

// peakMemory is the process's peak resident memory, or where the system
// does not say, what the Go runtime got from it.
func peakMemory() int64 {
	if n := importer.PeakRSS(); n > 0 {
		return n
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}

// newProgress shows a progress bar when stderr is a terminal and plain
// periodic log lines otherwise (a pipe, a log file, CI).
func newProgress(stderr io.Writer) importer.Progress {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: f}
	}
	return &logProgress{w: stderr, every: 5 * time.Second, now: time.Now}
}

// barProgress draws one bar per phase: bytes read, rate, ETA and finds.
type barProgress struct {
	w     io.Writer
	phase string
	total int64
	bar   *progressbar.ProgressBar
}

func (p *barProgress) Start(phase string, total int64) {
	p.phase, p.total = phase, total
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(phase),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}

// Update holds the bar short of full: the file is read ahead of decoding,
// and a full bar stops redrawing, so the last finds would not show.
func (p *barProgress) Update(read, found int64) {
	p.bar.Describe(fmt.Sprintf("%s, %d found", p.phase, found))
	if p.total > 0 {
		read = min(read, p.total-1)
	}
	p.bar.Set64(read)
}

func (p *barProgress) Finish() { p.bar.Finish() }

// logProgress writes a line per phase at most every so often, and one when
// the phase ends.
type logProgress struct {
	w           io.Writer
	every       time.Duration
	now         func() time.Time
	phase       string
	total       int64
	start, last time.Time
	read, found int64
}

func (p *logProgress) Start(phase string, total int64) {
	p.phase, p.total, p.read, p.found = phase, total, 0, 0
	p.start = p.now()
	p.last = p.start
}

func (p *logProgress) Update(read, found int64) {
	p.read, p.found = read, found
	if now := p.now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.line("")
	}
}

func (p *logProgress) Finish() { p.line("done, ") }

func (p *logProgress) line(prefix string) {
	elapsed := p.now().Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.read) / elapsed
	}
	msg := fmt.Sprintf("import: %s: %s%s", p.phase, prefix, byteSize(p.read))
	if p.total > 0 {
		msg += fmt.Sprintf(" of %s (%d%%)", byteSize(p.total), p.read*100/p.total)
	}
	msg += fmt.Sprintf(", %d found, %s/s", p.found, byteSize(int64(rate)))
	if prefix == "" && rate > 0 && p.total > p.read {
		eta := time.Duration(float64(p.total-p.read) / rate * float64(time.Second))
		msg += ", ETA " + eta.Round(time.Second).String()
	}
	fmt.Fprintln(p.w, msg)
}
