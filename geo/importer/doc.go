// Package importer builds protectmap layers from the standard public
// sources: OpenStreetMap extracts (.osm.pbf or .osm XML), the Global Power
// Plant Database CSV, and any GeoJSON or CSV list of sites.
//
// Each importer returns a Result: features by layer, and the input items it
// skipped with the reason. Result.WriteDir checks every feature with geo's
// own validation, so a written layer always loads in the server, and merges
// each layer into a data directory: a feature with the id of an existing
// one replaces it in place, other existing features are kept.
//
// Which OpenStreetMap elements feed which layer is a Mapping, read from a
// JSON file or the default (DefaultMappingJSON returns it as such a file).
// The OSM importer reads the file in up to three passes, so memory grows
// with what matches, not with the size of the extract.
//
// importer depends on geo and never on HTTP.
package importer
