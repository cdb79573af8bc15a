package export

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	_ "modernc.org/sqlite" // the GeoPackage is an SQLite database
)

// GeoPackageLayer is one feature table of a GeoPackage.
type GeoPackageLayer struct {
	// Table names the layer; Description is gpkg_contents' description.
	Table, Description string
	// Columns are the text columns after the geometry, in order.
	Columns []string
	// Metadata, when set, is kept in gpkg_metadata (the Metadata
	// extension) with MetadataType as its MIME type, referring to the table.
	Metadata     []byte
	MetadataType string
}

// GeoPackageRow is one feature: its geometry in WGS84 and its values, one
// per column.
type GeoPackageRow struct {
	Geometry orb.Geometry
	Values   []string
}

// wgs84WKT defines EPSG:4326 for gpkg_spatial_ref_sys.
const wgs84WKT = `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]`

// geoPackageSchema is what OGC GeoPackage 1.3 requires, with the Metadata
// extension's tables.
var geoPackageSchema = []string{
	"PRAGMA application_id = 1196444487", // "GPKG"
	"PRAGMA user_version = 10300",
	`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
		organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
	`INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
		('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
		('WGS 84 geodetic', 4326, 'EPSG', 4326, '` + wgs84WKT + `', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')`,
	`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
		description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
		min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER REFERENCES gpkg_spatial_ref_sys(srs_id))`,
	`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL REFERENCES gpkg_contents(table_name), column_name TEXT NOT NULL,
		geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL REFERENCES gpkg_spatial_ref_sys(srs_id), z TINYINT NOT NULL,
		m TINYINT NOT NULL, PRIMARY KEY (table_name, column_name))`,
	`CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
		scope TEXT NOT NULL, UNIQUE (table_name, column_name, extension_name))`,
	`CREATE TABLE gpkg_metadata (id INTEGER PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset',
		md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')`,
	`CREATE TABLE gpkg_metadata_reference (reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
		timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL REFERENCES gpkg_metadata(id),
		md_parent_id INTEGER REFERENCES gpkg_metadata(id))`,
	`INSERT INTO gpkg_extensions VALUES ('gpkg_metadata', NULL, 'gpkg_metadata', 'http://www.geopackage.org/spec/#extension_metadata', 'read-write'),
		('gpkg_metadata_reference', NULL, 'gpkg_metadata', 'http://www.geopackage.org/spec/#extension_metadata', 'read-write')`,
}

// EncodeGeoPackage returns a GeoPackage 1.3 file holding one layer of rows, its
// geometries in EPSG:4326. It is built in a temporary file under dir (the
// system's when empty), removed before it returns.
func EncodeGeoPackage(ctx context.Context, dir string, l GeoPackageLayer, rows []GeoPackageRow) ([]byte, error) {
	tmp, err := os.MkdirTemp(dir, "report-gpkg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "report.gpkg")
	if err := writeGeoPackage(ctx, path, l, rows); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func writeGeoPackage(ctx context.Context, path string, l GeoPackageLayer, rows []GeoPackageRow) (err error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	db.SetMaxOpenConns(1)
	for _, stmt := range geoPackageSchema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("geopackage schema: %w", err)
		}
	}
	cols := make([]string, len(l.Columns))
	marks := make([]string, len(l.Columns))
	for i, c := range l.Columns {
		cols[i], marks[i] = quoteIdent(c)+" TEXT", "?"
	}
	table := quoteIdent(l.Table)
	create := "CREATE TABLE " + table + " (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom GEOMETRY"
	if len(cols) > 0 {
		create += ", " + strings.Join(cols, ", ")
	}
	if _, err := db.ExecContext(ctx, create+")"); err != nil {
		return err
	}
	var bound orb.Bound
	for i, r := range rows {
		if i == 0 {
			bound = r.Geometry.Bound()
		} else {
			bound = bound.Union(r.Geometry.Bound())
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var minMax []any
	if len(rows) > 0 {
		minMax = []any{bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1]}
	} else {
		minMax = []any{nil, nil, nil, nil}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, 4326)",
		append([]any{l.Table, l.Table, l.Description}, minMax...)...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'GEOMETRY', 4326, 0, 0)", l.Table); err != nil {
		return err
	}
	if l.Metadata != nil {
		if _, err := tx.ExecContext(ctx, "INSERT INTO gpkg_metadata (id, md_scope, md_standard_uri, mime_type, metadata) VALUES (1, 'dataset', 'https://www.iana.org/assignments/media-types/application/json', ?, ?)",
			l.MetadataType, string(l.Metadata)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) VALUES ('table', ?, 1)", l.Table); err != nil {
			return err
		}
	}
	insert := "INSERT INTO " + table + " (geom"
	if len(cols) > 0 {
		insert += ", " + strings.Join(quoteAll(l.Columns), ", ")
	}
	stmt, err := tx.PrepareContext(ctx, insert+") VALUES (?"+strings.Repeat(", ?", len(l.Columns))+")")
	if err != nil {
		return err
	}
	defer stmt.Close()
	args := make([]any, 1+len(l.Columns))
	for i, r := range rows {
		blob, err := geoPackageGeometry(r.Geometry)
		if err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
		if len(r.Values) != len(l.Columns) {
			return fmt.Errorf("row %d: %d values for %d columns", i+1, len(r.Values), len(l.Columns))
		}
		args[0] = blob
		for k, v := range r.Values {
			args[k+1] = v
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return tx.Commit()
}

// geoPackageGeometry is g as a GeoPackage geometry blob: the "GP" header
// (version 0, little-endian, no envelope, SRS 4326) before its WKB.
func geoPackageGeometry(g orb.Geometry) ([]byte, error) {
	body, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, err
	}
	head := []byte{'G', 'P', 0, 0x01, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(head[4:], 4326)
	return append(head, body...), nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteIdent(n)
	}
	return out
}
