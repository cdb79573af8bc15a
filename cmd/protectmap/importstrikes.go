package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store"
)

const importStrikesSynopsis = `FILE [--store DSN] [--actor NAME] [--data DIR] [--layer NAME=FILE]... [--agreements FILE] [--columns lat=COL,lon=COL,time=COL,... [--source NAME]]

Records the strikes of FILE in the strike store, as POST /strikes does:
CSV (.csv) as ACLED exports or UCDP GED publishes it, told by its header,
any other CSV through --columns, or GeoJSON (.geojson, .json). The file is recorded whole or not at all: a
bad record anywhere lists every bad record by line and column and records
nothing. A strike whose source and event id are already recorded is
updated, and left as it is when nothing differs, so importing a file again
changes nothing. Each strike is judged as POST /strikes judges it, against
the data named as serve names it (default: the embedded data), and its
verdict is recorded with it in the same transaction; that data version is
kept in the store first, as a server keeps the one it serves.`

func importStrikes(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("import strikes", importStrikesSynopsis, stdout)
	dsn := fs.String("store", "protectmap.db", "the strike store: a SQLite file (created if missing) or a postgres://user@host/db URL")
	actor := fs.String("actor", "import", "who the audit log says recorded the strikes")
	columns := fs.String("columns", "", "for a CSV of another layout, field=column pairs: lat, lon and time required; end, id, uncertainty (metres), source, weapon, notes")
	source := fs.String("source", "", "with --columns and no source column, the source of every strike (default "+store.DefaultCSVSource+")")
	input := addDataFlags(fs)
	pos, err := importFlags{fs: fs}.parse(args)
	if err != nil {
		return err
	}
	if err := input.check(); err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("name exactly one input file, not %d", len(pos))
	}
	var mapping *store.Columns
	if *columns != "" {
		c, err := store.ParseColumns(*columns)
		if err != nil {
			return usagef("--columns: %v", err)
		}
		c.SourceName = *source
		mapping = &c
	} else if *source != "" {
		return usagef("--source names the source of a CSV read through --columns")
	}
	fh, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer fh.Close()
	var dec store.Decoder
	switch strings.ToLower(filepath.Ext(pos[0])) {
	case ".csv":
		if mapping != nil {
			dec = store.NewMappedCSVDecoder(fh, *mapping)
		} else {
			dec = store.NewCSVDecoder(fh)
		}
	case ".geojson", ".json":
		if mapping != nil {
			return usagef("--columns maps the columns of a CSV, not GeoJSON")
		}
		dec = store.NewGeoJSONDecoder(fh)
	default:
		return usagef("%s: name a .csv, .geojson or .json file", pos[0])
	}
	d, _, err := input.load()
	if err != nil {
		return fmt.Errorf("the data to judge against: %w", err)
	}
	judge, err := server.Judge(d)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	// Dropping no version: what serve --keep-versions keeps is serve's say.
	if err := server.KeepVersion(ctx, st, d, -1); err != nil {
		return fmt.Errorf("keeping data version %s in the strike store: %w", d.Version, err)
	}
	res, err := st.Import(ctx, *actor, dec, judge)
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%s: nothing recorded:\n%w", pos[0], err)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d strikes recorded, %d updated, %d unchanged\n", pos[0], res.Created, res.Updated, res.Unchanged)
	return nil
}
