// Package geodesy measures on the WGS84 ellipsoid: exact geodesic distances
// (Karney's algorithm, with a fast path for short lines), distances from a
// point to lines and polygons, and the local frame and sphere bounds that
// let a search rank and prune candidates before measuring them exactly.
package geodesy
