// Package geojson reads and writes protectmap's layers as GeoJSON (RFC 7946):
// DecodeLayer splits a FeatureCollection into runs decoded in parallel and
// validates every geometry, the Load functions read layers from files, and
// the Append functions write features, hits and geometries without
// reflection.
package geojson
