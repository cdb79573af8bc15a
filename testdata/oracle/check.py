#!/usr/bin/python3
"""Independent sanity checks of testdata/oracle/proximity.json.

    /usr/bin/python3 testdata/oracle/check.py [proximity.json]

Does not import gen.py.  Checks:
  1. every case: no vertex/isolated point is closer than distance_m - 1e-6;
  2. every case: Inverse(point, nearest) agrees with distance_m and azimuth_deg
     (up to the 1e-9 deg rounding of nearest, i.e. ~1e-4 m);
  3. every nonzero case: nearest lies on the geometry -- a vertex, or on some
     geodesic edge A->B (cross-track offset of nearest from the geodesic < 2e-4 m,
     and Inverse(A, nearest).azi1 == InverseLine(A, B).azi1 when |A nearest| > 10 km);
     for interior edge points the distance is stationary there (perpendicularity);
  4. zero-distance cases are explained (point inside a polygon by winding number,
     or identical to a vertex); no query point is within 5 m of a polygon ring;
     polygons are valid in lon/lat (closed, CCW exterior / CW holes, no crossing
     edges, holes inside the exterior), polygon edges <= 2 km (but for the
     squares cut at the antimeridian);
  5. brute force on a random sample: 20000 samples per edge (no pruning), none closer
     than distance_m - 1e-6, best within a few mm of distance_m;
  6. informational: for long-edge cases, how much the answer would differ if edges were
     straight lines in lon/lat.
"""
import json
import math
import os
import random
import sys
import time

from geographiclib.geodesic import Geodesic

G = Geodesic.WGS84
M = Geodesic.DISTANCE | Geodesic.AZIMUTH


def flatten(geom):
    t = geom['type']
    c = geom.get('coordinates')
    if t == 'Point':
        return [c], [], []
    if t == 'MultiPoint':
        return list(c), [], []
    if t == 'LineString':
        return [], [c], []
    if t == 'MultiLineString':
        return [], list(c), []
    if t == 'Polygon':
        return [], list(c), [c]
    if t == 'MultiPolygon':
        return [], [r for p in c for r in p], list(c)
    pts, paths, polys = [], [], []
    for m in geom['geometries']:
        a, b, d = flatten(m)
        pts += a
        paths += b
        polys += d
    return pts, paths, polys


def winding(lon, lat, ring):
    """Winding number (a different algorithm from the generator's ray casting)."""
    wn = 0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        cross = (x2 - x1) * (lat - y1) - (lon - x1) * (y2 - y1)
        if y1 <= lat < y2 and cross > 0:
            wn += 1
        elif y2 <= lat < y1 and cross < 0:
            wn -= 1
    return wn


def inside_poly(lon, lat, rings):
    return winding(lon, lat, rings[0]) != 0 and all(winding(lon, lat, h) == 0 for h in rings[1:])


def ring_problems(rings):
    """Planar lon/lat validity of a polygon: closed rings, exterior CCW, holes CW
    (RFC 7946), no two edges intersecting (within or across rings), holes inside."""
    out = []

    def area2(r):
        return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(r, r[1:]))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    for k, r in enumerate(rings):
        if r[0] != r[-1] or len(r) < 4:
            out.append('ring %d not closed' % k)
        if (area2(r) > 0) != (k == 0):
            out.append('ring %d wrong orientation' % k)
    segs = [(k, i, r[i], r[i + 1]) for k, r in enumerate(rings) for i in range(len(r) - 1)]
    for a in range(len(segs)):
        ka, ia, p1, p2 = segs[a]
        for b in range(a + 1, len(segs)):
            kb, ib, q1, q2 = segs[b]
            if ka == kb and (abs(ia - ib) == 1 or abs(ia - ib) == len(rings[ka]) - 2):
                continue   # adjacent edges share a vertex
            d1, d2 = cross(q1, q2, p1), cross(q1, q2, p2)
            d3, d4 = cross(p1, p2, q1), cross(p1, p2, q2)
            if d1 * d2 <= 0 and d3 * d4 <= 0:
                out.append('edges %d/%d and %d/%d intersect' % (ka, ia, kb, ib))
    for k, h in enumerate(rings[1:], 1):
        if any(winding(x, y, rings[0]) == 0 for x, y in h):
            out.append('hole %d not inside exterior' % k)
    return out


def angdiff(a, b):
    return (a - b + 180.0) % 360.0 - 180.0


def edge_brute(latP, lonP, A, B, n):
    line = G.InverseLine(A[1], A[0], B[1], B[0])
    best = float('inf')
    for i in range(n + 1):
        p = line.Position(line.s13 * i / n, Geodesic.LATITUDE | Geodesic.LONGITUDE)
        d = G.Inverse(latP, lonP, p['lat2'], p['lon2'], Geodesic.DISTANCE)['s12']
        best = min(best, d)
    return best


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'proximity.json')
    t0 = time.time()
    data = json.load(open(path))
    cases = data['cases']
    assert data['ellipsoid'] == 'WGS84'
    names = [c['name'] for c in cases]
    assert len(set(names)) == len(names), 'duplicate names'
    fails = []
    worst = {'nearest_dist': 0.0, 'nearest_azi': 0.0, 'xtrack': 0.0, 'azi_on_line': 0.0,
             'stationary': 0.0, 'brute_gap': 0.0}
    n_interior = n_vertex = 0

    def fail(c, msg):
        fails.append('%s: %s' % (c['name'], msg))

    for c in cases:
        lonP, latP = c['point']
        d = c['distance_m']
        pts, paths, polys = flatten(c['geometry'])
        verts = pts + [v for p in paths for v in p]
        # 1. vertices
        vmin = min(G.Inverse(latP, lonP, v[1], v[0], Geodesic.DISTANCE)['s12'] for v in verts)
        if vmin < d - 1e-6:
            fail(c, 'vertex closer (%.9f) than distance_m %.6f' % (vmin, d))
        # 4. polygons
        ins = any(inside_poly(lonP, latP, r) for r in polys)
        if d == 0:
            if c['azimuth_deg'] is not None:
                fail(c, 'azimuth for zero distance')
            if not ins and [lonP, latP] not in verts:
                fail(c, 'zero distance not explained')
            if c['nearest'] != c['point']:
                fail(c, 'nearest != point for zero distance')
        else:
            if ins:
                fail(c, 'point inside polygon but distance > 0')
        for rings in polys:
            for prob in ring_problems(rings):
                fail(c, 'invalid polygon: ' + prob)
            for ring in rings:
                # cheap bound: min over vertices minus half the longest edge
                vd = [G.Inverse(latP, lonP, v[1], v[0], Geodesic.DISTANCE)['s12'] for v in ring]
                for i in range(len(ring) - 1):
                    L = G.Inverse(ring[i][1], ring[i][0], ring[i + 1][1], ring[i + 1][0], Geodesic.DISTANCE)['s12']
                    # Squares cut at +-180 keep their long sides: inside-ness is
                    # tested in lon/lat there as everywhere.
                    if L > 2000.0 + 1e-6 and '-cut-' not in c['name']:
                        fail(c, 'polygon edge longer than 2 km')
                    if 0.5 * (vd[i] + vd[i + 1] - L) < 5.0:
                        if edge_brute(latP, lonP, ring[i], ring[i + 1], 400) < 5.0 - 0.01:
                            fail(c, 'point within 5 m of a polygon ring')
        if d == 0:
            continue
        # 2. nearest consistent with distance and azimuth
        nlon, nlat = c['nearest']
        inv = G.Inverse(latP, lonP, nlat, nlon, M)
        worst['nearest_dist'] = max(worst['nearest_dist'], abs(inv['s12'] - d))
        if abs(inv['s12'] - d) > 2e-4:
            fail(c, 'Inverse(point, nearest)=%.6f vs %.6f' % (inv['s12'], d))
        da = abs(angdiff(inv['azi1'], c['azimuth_deg'])) * math.radians(1) * d   # metres
        worst['nearest_azi'] = max(worst['nearest_azi'], da)
        if da > 2e-4:
            fail(c, 'azimuth inconsistent (%.3g m lateral)' % da)
        # 3. nearest on the geometry
        if [nlon, nlat] in verts:
            n_vertex += 1
            continue
        best = None
        for p in paths:
            for A, B in zip(p, p[1:]):
                line = G.InverseLine(A[1], A[0], B[1], B[0])
                ia = G.Inverse(A[1], A[0], nlat, nlon, M)
                xt = ia['s12'] * math.sin(math.radians(angdiff(ia['azi1'], line.azi1)))
                along = ia['s12'] * math.cos(math.radians(angdiff(ia['azi1'], line.azi1)))
                if -1e-3 <= along <= line.s13 + 1e-3 and (best is None or abs(xt) < abs(best[0])):
                    best = (xt, ia, line)
        if best is None:
            fail(c, 'nearest not on any edge')
            continue
        n_interior += 1
        xt, ia, line = best
        worst['xtrack'] = max(worst['xtrack'], abs(xt))
        if abs(xt) > 2e-4:
            fail(c, 'nearest %.3g m off the geodesic edge' % xt)
        if ia['s12'] > 10000:
            a = abs(angdiff(ia['azi1'], line.azi1))
            worst['azi_on_line'] = max(worst['azi_on_line'], a)
            if a > 1e-6:
                fail(c, 'Inverse(A, nearest).azi1 differs from edge azi1 by %.3g deg' % a)
        # stationarity: geodesic P->nearest meets the edge at a right angle
        pos = line.Position(ia['s12'], Geodesic.AZIMUTH)
        cosang = math.cos(math.radians(inv['azi2'] - pos['azi2']))
        # a 1e-4 m position error changes the angle by ~1e-4/d rad
        worst['stationary'] = max(worst['stationary'], abs(cosang) * d)
        if abs(cosang) * d > 1e-3:
            fail(c, 'not stationary: cos=%.3g' % cosang)

    # 5. brute force on a sample
    rng = random.Random(1)
    sample = rng.sample([c for c in cases if c['distance_m'] > 0], 40)
    for c in sample:
        lonP, latP = c['point']
        pts, paths, _ = flatten(c['geometry'])
        b = min([G.Inverse(latP, lonP, v[1], v[0], Geodesic.DISTANCE)['s12'] for v in pts] or [float('inf')])
        for p in paths:
            for A, B in zip(p, p[1:]):
                L = G.Inverse(A[1], A[0], B[1], B[0], Geodesic.DISTANCE)['s12']
                n = 20000 if L > 5000 else 200
                b = min(b, edge_brute(latP, lonP, A, B, n))
        if b < c['distance_m'] - 1e-6:
            fail(c, 'brute force found %.9f < %.6f' % (b, c['distance_m']))
        worst['brute_gap'] = max(worst['brute_gap'], b - c['distance_m'])

    # 6. informational: lon/lat-straight edges vs geodesic edges for the long-edge lines
    diffs = []
    for c in cases:
        if not c['name'].startswith(('line-long', 'line-longmid', 'line-longew')) or c['distance_m'] == 0:
            continue
        lonP, latP = c['point']
        coords = c['geometry']['coordinates']
        b = float('inf')
        for A, B in zip(coords, coords[1:]):
            f = lambda t: G.Inverse(latP, lonP, A[1] + t * (B[1] - A[1]), A[0] + t * (B[0] - A[0]),
                                    Geodesic.DISTANCE)['s12']
            n = 200
            k = min(range(n + 1), key=lambda i: f(i / n))
            lo, hi = max(k - 1, 0) / n, min(k + 1, n) / n
            for _ in range(100):   # ternary search on the lon/lat-straight segment
                m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
                if f(m1) < f(m2):
                    hi = m2
                else:
                    lo = m1
            b = min(b, f(k / n), f(0.5 * (lo + hi)))
        diffs.append(abs(b - c['distance_m']))
    diffs.sort()

    print('%d cases checked in %.1f s' % (len(cases), time.time() - t0))
    print('nearest is a vertex: %d, interior of an edge: %d' % (n_vertex, n_interior))
    for k, v in worst.items():
        print('  worst %-14s %.3g' % (k, v))
    if diffs:
        print('long-edge lines: |geodesic - lon/lat-straight| distance: median %.1f m, max %.1f m, %d/%d differ by > 1 m'
              % (diffs[len(diffs) // 2], diffs[-1], sum(x > 1 for x in diffs), len(diffs)))
    if fails:
        print('FAILURES (%d):' % len(fails))
        for f in fails[:50]:
            print('  ' + f)
        sys.exit(1)
    print('OK')


if __name__ == '__main__':
    main()
