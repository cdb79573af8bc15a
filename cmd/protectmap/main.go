// Command protectmap serves and checks maps of protected civilian
// infrastructure: layers of sites, exact proximity of strikes to them, and
// an OGC API - Features server for GIS tools and browsers.
//
// Usage:
//
//	protectmap serve    [--addr HOST:PORT] [--data DIR] [--layer NAME=FILE]... | [--snapshot FILE]
//	protectmap validate [--keep-going] PATH...
//	protectmap near     --lon X --lat Y [--radius M] [--limit N] [--layers a,b] [--format table|geojson] [--data DIR]
//	protectmap import   osm|gppd|csv|geojson FILE --out DIR [flags]
//	protectmap snapshot --out FILE [--data DIR] [--layer NAME=FILE]... [--agreements FILE]
//	protectmap export   --layer NAME [--data DIR] [--format geojson|ndjson|csv|kml] [--bbox W,S,E,N] [--out FILE]
//	protectmap audit    verify --store DSN
//	protectmap report   verify REPORT --store DSN
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `protectmap: protected civilian infrastructure, exact proximity, OGC API - Features.

Usage:
  protectmap serve     serve the layers over HTTP (OGC API - Features, proximity, map)
  protectmap validate  check GeoJSON layer files or directories
  protectmap near      list protected sites near a point
  protectmap import    build layers from OpenStreetMap, the power-plant database, CSV or GeoJSON
  protectmap snapshot  write the layers and agreements as one file that serve --snapshot loads fast
  protectmap export    write a layer as GeoJSON, newline-delimited GeoJSON, CSV or KML
  protectmap audit     verify the strike store's hash-chained audit log
  protectmap report    verify a report's verdicts against the data it names

Run "protectmap COMMAND --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code:
// 0 success, 1 failure, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "validate":
		err = validate(args[1:], stdout)
	case "near":
		err = near(args[1:], stdout)
	case "import":
		err = runImport(args[1:], stdout, stderr)
	case "snapshot":
		err = runSnapshot(args[1:], stdout, stderr)
	case "export":
		err = runExport(args[1:], stdout, stderr)
	case "audit":
		err = runAudit(args[1:], stdout)
	case "report":
		err = runReport(args[1:], stdout)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "protectmap: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "protectmap %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "protectmap %s: %v\n", args[0], err)
		return 1
	}
}

// usageError marks a mistake in the command line rather than in the data.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// newFlags makes a subcommand's flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: protectmap %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
