// Package geo holds protectmap's protected-site layers, the R-tree index over
// them, and exact geodesic proximity on the WGS84 ellipsoid (measured by
// geo/geodesy). Layers are read and written by geo/geojson; the ceasefire
// rules over them live in geo/agreement.
//
// A Layer is a named GeoJSON FeatureCollection (RFC 7946) of protected sites.
// An Index is an immutable set of layers: it answers bounding-box searches
// against the real geometry and proximity queries whose distances agree with
// GeographicLib's geodesic inverse (Karney 2013) to micrometres.
//
// Semantics, stated once so every caller gets the same answer:
//   - Edges of lines and polygon rings are geodesics on the WGS84 ellipsoid
//     between consecutive vertices.
//   - A point inside a polygon (in plain longitude/latitude, even-odd rule,
//     holes excluded) is at distance 0, as is a point on a line.
//   - Bounding boxes are in CRS84 longitude/latitude; a box whose minimum
//     longitude exceeds its maximum crosses the antimeridian.
//
// geo knows nothing of HTTP: the server package builds on it.
package geo
