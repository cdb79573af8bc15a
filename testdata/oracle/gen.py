#!/usr/bin/python3
"""Generate testdata/oracle/proximity.json, the GeographicLib oracle for the
point-to-geometry geodesic distance code.

Regenerate (from the repository root):

    /usr/bin/python3 testdata/oracle/gen.py

Needs only the standard library and GeographicLib for Python
(Debian: apt-get install python3-geographiclib).  The output is deterministic:
every case draws from its own random.Random seeded with "<SEED>:<case name>",
so the result does not depend on the number of worker processes.

Options:  -o PATH   output file (default: proximity.json next to this script)
          -j N      worker processes (default: os.cpu_count())
"""

import argparse
import json
import math
import os
import random
import sys
import time
from multiprocessing import Pool

import geographiclib
from geographiclib.geodesic import Geodesic

G = Geodesic.WGS84
SEED = 20250318
N_SAMPLES = 400          # evenly spaced arc positions per geodesic edge (+ endpoints)
POS_TOL = 1e-7           # metres, refinement tolerance on the arc position
BOUNDARY_MARGIN = 5.0    # query points are never this close to a polygon ring
LAT_RANGE = (44.0, 53.0)
LON_RANGE = (22.0, 40.0)
D_MIN, D_MAX = 0.5, 200000.0

INV_MASK = Geodesic.DISTANCE | Geodesic.AZIMUTH
POS_MASK = Geodesic.LATITUDE | Geodesic.LONGITUDE | Geodesic.AZIMUTH
DIR_MASK = Geodesic.LATITUDE | Geodesic.LONGITUDE | Geodesic.AZIMUTH
INVPHI = (math.sqrt(5.0) - 1.0) / 2.0

SEMANTICS = (
    "All coordinates are [lon, lat] in degrees on the WGS84 ellipsoid. Every edge of a "
    "LineString or polygon ring is the geodesic (shortest path on the WGS84 ellipsoid) "
    "between its two consecutive vertices, not a straight segment in lon/lat. distance_m is "
    "the minimum geodesic distance (GeographicLib Geodesic.WGS84.Inverse s12) from point to "
    "any point of the geometry: vertices and every point along every geodesic edge. nearest "
    "is that closest point of the geometry and azimuth_deg the forward azimuth azi1 (degrees, "
    "clockwise from north, range (-180, 180]) at point towards nearest; azimuth_deg is null "
    "when distance_m is 0. A point strictly inside a Polygon (inside the exterior ring and not "
    "inside any hole; inside-ness is tested with the rings taken as plain lon/lat polygons, "
    "even-odd ray casting) has distance 0 and nearest equal to the point itself; generated "
    "polygons have edges <= 2 km and no query point is within 5 m of any polygon ring, so the "
    "lon/lat inside test and the geodesic one agree. A point outside a polygon or inside one "
    "of its holes gets the distance to the closest ring (exterior or hole). MultiPoint, "
    "MultiLineString, MultiPolygon and GeometryCollection: minimum over their parts/members. "
    "A point lying on a line (here: exactly on a vertex) has distance 0. Oracle method: for "
    "each edge A->B, line = Geodesic.WGS84.InverseLine(A, B); the distance from point is "
    "sampled at 401 evenly spaced arc positions (400 intervals, endpoints included), the best "
    "sample is refined in the bracket of its two neighbouring samples by golden-section search "
    "on the distance and by bisection on the sign of its derivative cos(azi2(point->X) - "
    "azi(line at X)), both to an arc-position tolerance of 1e-7 m (they agree to ~1e-8 m in "
    "distance; the bisection point is kept because it locates nearest far more precisely), distance = Inverse(point, line.Position(s)).s12. The result is the minimum over all "
    "vertices and edges (edges that provably cannot beat the current best by the triangle "
    "inequality, (d(P,A) + d(P,B) - |AB|)/2 > best, are skipped). Distances are rounded to "
    "1e-6 m, coordinates to 1e-9 deg, azimuths to 1e-9 deg; the geometries and points in this "
    "file are already rounded and the oracle was computed from exactly these rounded values. "
    "Longitudes near the antimeridian are in [-180, 180]; compare longitudes modulo 360."
)


# ----------------------------------------------------------------------------
# small helpers

def r9(x):
    v = round(x, 9)
    return 0.0 if v == 0 else v


def r6(x):
    v = round(x, 6)
    return 0.0 if v == 0 else v


def pt(lat, lon):
    """Rounded GeoJSON position [lon, lat]."""
    return [r9(lon), r9(lat)]


def direct(lat, lon, az, s):
    d = G.Direct(lat, lon, az, s, DIR_MASK)
    return d['lat2'], d['lon2'], d['azi2']


def inverse(lat1, lon1, lat2, lon2):
    return G.Inverse(lat1, lon1, lat2, lon2, INV_MASK)


def dist(lat1, lon1, lat2, lon2):
    return G.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)['s12']


def log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def rand_d(rng, lo=D_MIN, hi=D_MAX):
    return log_uniform(rng, lo, hi)


def rand_point_in_box(rng):
    return rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)


def in_box(lat, lon):
    return LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]


# ----------------------------------------------------------------------------
# the oracle

def in_ring(lon, lat, ring):
    """Even-odd ray casting in plain lon/lat."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat):
            x = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x:
                inside = not inside
        j = i
    return inside


def in_polygon(lon, lat, rings):
    if not in_ring(lon, lat, rings[0]):
        return False
    for hole in rings[1:]:
        if in_ring(lon, lat, hole):
            return False
    return True


class Stats:
    max_gs_vs_bisect = 0.0   # |f(golden) - f(bisect)| over all refined edges
    edges_refined = 0
    edges_skipped = 0


def edge_min(latP, lonP, line):
    """Minimum distance from P to the geodesic edge `line` (InverseLine).
    Returns (d, lat, lon) of the best interior point, or None if the
    minimum is at an endpoint (vertices are handled separately)."""
    L = line.s13
    if L <= 0:
        return None

    cache = {}

    def ev(s):
        r = cache.get(s)
        if r is None:
            p = line.Position(s, POS_MASK)
            inv = G.Inverse(latP, lonP, p['lat2'], p['lon2'], INV_MASK)
            r = (inv['s12'], p, inv)
            cache[s] = r
        return r

    def f(s):
        return ev(s)[0]

    def g(s):  # d/ds of the distance from P
        _, p, inv = ev(s)
        return math.cos(math.radians(inv['azi2'] - p['azi2']))

    n = N_SAMPLES
    svals = [L * i / n for i in range(n + 1)]
    svals[-1] = L
    best_k, best_f = 0, float('inf')
    for k, s in enumerate(svals):
        v = f(s)
        if v < best_f:
            best_k, best_f = k, v
    if best_f == 0.0:
        s = svals[best_k]
        if best_k in (0, n):
            return None
        _, p, _ = ev(s)
        return (0.0, p['lat2'], p['lon2'])
    lo = svals[max(best_k - 1, 0)]
    hi = svals[min(best_k + 1, n)]

    # golden-section search on the distance
    a, b = lo, hi
    c = b - INVPHI * (b - a)
    d = a + INVPHI * (b - a)
    fc, fd = f(c), f(d)
    while b - a > POS_TOL:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - INVPHI * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + INVPHI * (b - a)
            fd = f(d)
    s_gs = 0.5 * (a + b)

    # bisection on the sign of the derivative
    a, b = lo, hi
    if g(a) >= 0:
        s_bi = a
    elif g(b) <= 0:
        s_bi = b
    else:
        while b - a > POS_TOL:
            m = 0.5 * (a + b)
            if g(m) < 0:
                a = m
            else:
                b = m
        s_bi = 0.5 * (a + b)

    f_gs, f_bi = f(s_gs), f(s_bi)
    Stats.edges_refined += 1
    if 0.0 < s_bi < L:   # interior minimum: both refinements must agree
        Stats.max_gs_vs_bisect = max(Stats.max_gs_vs_bisect, abs(f_gs - f_bi))
    # Near the minimum the distance is flat (it changes by ds^2/(2d)), so comparing
    # distances cannot locate the nearest point better than ~sqrt(2 d eps); the
    # derivative sign can.  Prefer the bisection point unless it is clearly worse.
    fbest, sbest = min((f_gs, s_gs), (best_f, svals[best_k]))
    if f_bi <= fbest + 1e-8:
        fbest, sbest = f_bi, s_bi
    if sbest <= 0.0 or sbest >= L:
        return None
    _, p, _ = ev(sbest)
    return (fbest, p['lat2'], p['lon2'])


def paths_and_points(geom):
    """Flatten a geometry into (isolated points, paths, polygons).
    paths: lists of [lon, lat] (LineStrings and all polygon rings)."""
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
        return [], [r for poly in c for r in poly], list(c)
    if t == 'GeometryCollection':
        P, L, Y = [], [], []
        for m in geom['geometries']:
            a, b, cc = paths_and_points(m)
            P += a
            L += b
            Y += cc
        return P, L, Y
    raise ValueError(t)


def min_over(latP, lonP, points, paths):
    """Minimum over isolated points, path vertices and geodesic edges.
    Returns (d, lat, lon)."""
    best = (float('inf'), None, None)
    vd = {}
    allpts = list(points) + [v for path in paths for v in path]
    for lon, lat in allpts:
        key = (lon, lat)
        if key in vd:
            continue
        d = dist(latP, lonP, lat, lon)
        vd[key] = d
        if d < best[0]:
            best = (d, lat, lon)
    if best[0] == 0.0:
        return best
    edges = []
    for path in paths:
        for i in range(len(path) - 1):
            A, B = path[i], path[i + 1]
            if A == B:
                continue
            line = G.InverseLine(A[1], A[0], B[1], B[0])
            lb = 0.5 * (vd[tuple(A)] + vd[tuple(B)] - line.s13)
            edges.append((lb, i, line))
    edges.sort(key=lambda e: e[0])
    for lb, _, line in edges:
        if lb > best[0] + 1e-6:
            Stats.edges_skipped += 1
            continue
        r = edge_min(latP, lonP, line)
        if r is not None and r[0] < best[0]:
            best = r
    return best


def oracle(P, geom):
    """P = [lon, lat]. Returns (distance, nearest [lon,lat] unrounded, azimuth or None)."""
    lonP, latP = P
    points, paths, polys = paths_and_points(geom)
    for rings in polys:
        if in_polygon(lonP, latP, rings):
            return 0.0, (lonP, latP), None
    d, lat, lon = min_over(latP, lonP, points, paths)
    if d == 0.0:
        return 0.0, (lon, lat), None
    azi = G.Inverse(latP, lonP, lat, lon, Geodesic.AZIMUTH)['azi1']
    return d, (lon, lat), azi


def near_boundary(P, rings, thr=BOUNDARY_MARGIN):
    """True if P is within thr metres of any ring (cheap: uses the triangle
    lower bound and only refines edges that might be that close)."""
    lonP, latP = P
    for ring in rings:
        vd = [dist(latP, lonP, v[1], v[0]) for v in ring]
        if min(vd) < thr:
            return True
        for i in range(len(ring) - 1):
            A, B = ring[i], ring[i + 1]
            line = G.InverseLine(A[1], A[0], B[1], B[0])
            if 0.5 * (vd[i] + vd[i + 1] - line.s13) >= thr:
                continue
            r = edge_min(latP, lonP, line)
            if r is not None and r[0] < thr:
                return True
    return False


# ----------------------------------------------------------------------------
# geometry builders (all return rounded GeoJSON coordinates)

def walk(rng, lat, lon, az, n, len_fn, turn_fn):
    """n geodesic steps from (lat, lon) starting with azimuth az; heading
    changes by turn_fn() after every step.  Returns [(lat, lon)]."""
    out = []
    for _ in range(n):
        lat, lon, az = direct(lat, lon, az, len_fn())
        out.append((lat, lon))
        az += turn_fn()
    return out


def build_path(rng, X, heading, n_edges, len_fn, turn_fn, mode, back_heading=None):
    """A LineString around anchor X=(lat, lon).
    mode 'vertex': X is a vertex; edges leave X with `heading` and `back_heading`.
    mode 'mid':    X lies inside the first edge, which has azimuth `heading` at X."""
    lat, lon = X
    n_edges = max(1, n_edges)
    if mode == 'vertex':
        if n_edges == 1:
            fwd = walk(rng, lat, lon, heading, 1, len_fn, turn_fn)
            coords = [(lat, lon)] + fwd
        else:
            nf = rng.randint(1, n_edges - 1)
            nb = n_edges - nf
            bh = back_heading if back_heading is not None else heading + 180 + turn_fn()
            fwd = walk(rng, lat, lon, heading, nf, len_fn, turn_fn)
            bwd = walk(rng, lat, lon, bh, nb, len_fn, turn_fn)
            coords = bwd[::-1] + [(lat, lon)] + fwd
    else:
        L0 = len_fn()
        t = rng.uniform(0.15, 0.85)
        la1, lo1, az1 = direct(lat, lon, heading, t * L0)
        la0, lo0, az0 = direct(lat, lon, heading + 180, (1 - t) * L0)
        rest = n_edges - 1
        nf = rng.randint(0, rest)
        nb = rest - nf
        fwd = walk(rng, la1, lo1, az1 + turn_fn(), nf, len_fn, turn_fn)
        bwd = walk(rng, la0, lo0, az0 + turn_fn(), nb, len_fn, turn_fn)
        coords = bwd[::-1] + [(la0, lo0), (la1, lo1)] + fwd
    return [pt(a, b) for a, b in coords]


def short_params(rng):
    n = rng.randint(1, 50)
    return n, (lambda: rng.uniform(150.0, 1000.0)), (lambda: rng.uniform(-15.0, 15.0))


def long_params(rng, nmax=5):
    n = rng.randint(1, nmax)
    return n, (lambda: log_uniform(rng, 5000.0, 150000.0)), (lambda: rng.uniform(-60.0, 60.0))


def make_ring(rng, C, R, K, ccw, rmin=0.6, rmax=1.0):
    lat, lon = C
    base = rng.uniform(0.0, 360.0)
    step = 360.0 / K
    sgn = -1.0 if ccw else 1.0   # decreasing azimuth = counter-clockwise
    ring = []
    for i in range(K):
        az = base + sgn * (i * step + rng.uniform(-0.25, 0.25) * step)
        la, lo, _ = direct(lat, lon, az, R * rng.uniform(rmin, rmax))
        ring.append(pt(la, lo))
    ring.append(list(ring[0]))
    return ring


def make_polygon(rng, C, R, nholes):
    """Star-shaped plant outline, width ~2R, edges < 2 km; CCW exterior, CW holes.
    Returns (rings, hole_centres)."""
    K = rng.randint(10 if nholes else 8, 40)
    rings = [make_ring(rng, C, R, K, ccw=True)]
    centres = []
    psi = rng.uniform(0.0, 360.0)
    for h in range(nholes):
        off = R * (0.22 if nholes > 1 else rng.uniform(0.0, 0.22))
        la, lo, _ = direct(C[0], C[1], psi + 180.0 * h, off)
        rh = max(30.0, R * rng.uniform(0.12, 0.2))
        rings.append(make_ring(rng, (la, lo), rh, rng.randint(5, 12), ccw=False, rmin=0.8))
        centres.append(((la, lo), rh))
    return rings, centres


def rand_R(rng):
    return rng.uniform(250.0, 1500.0)


def boundary_point(rng, ring):
    """Random point on a ring (vertex or along a geodesic edge) -> (lat, lon)."""
    i = rng.randrange(len(ring) - 1)
    A, B = ring[i], ring[i + 1]
    if rng.random() < 0.3:
        return A[1], A[0]
    line = G.InverseLine(A[1], A[0], B[1], B[0])
    p = line.Position(rng.uniform(0.0, 1.0) * line.s13, POS_MASK)
    return p['lat2'], p['lon2']


def outward_point(rng, C, Y, d, spread=50.0):
    """Point at distance d from boundary point Y, roughly away from centre C."""
    az = inverse(C[0], C[1], Y[0], Y[1])['azi2']
    la, lo, _ = direct(Y[0], Y[1], az + rng.uniform(-spread, spread), d)
    return la, lo


def random_line(rng, X, kind=None):
    kind = kind or rng.choice(['short', 'long'])
    n, lf, tf = short_params(rng) if kind == 'short' else long_params(rng, 4)
    return build_path(rng, X, rng.uniform(0, 360), n, lf, tf, rng.choice(['vertex', 'mid']))


def poly_ok(P, polys, want_inside=None):
    """Reject query points within 5 m of any ring; check inside-ness."""
    lonP, latP = P
    inside = any(in_polygon(lonP, latP, rings) for rings in polys)
    if want_inside is not None and inside != want_inside:
        return False
    return not any(near_boundary(P, rings) for rings in polys)


# ----------------------------------------------------------------------------
# case generators: each returns (P [lon, lat], geometry)

def anchor(rng, d=None):
    """Random query point P in the box and anchor X at distance d from P.
    Returns P(lat,lon), X(lat,lon), back azimuth at X pointing to P."""
    latP, lonP = rand_point_in_box(rng)
    d = rand_d(rng) if d is None else d
    la, lo, az2 = direct(latP, lonP, rng.uniform(0, 360), d)
    return (latP, lonP), (la, lo), az2 + 180.0


def gen_point(rng, variant):
    P, X, _ = anchor(rng)
    if variant == 'zero':
        X = P
    return pt(*P), {'type': 'Point', 'coordinates': pt(*X)}


def gen_multipoint(rng, variant):
    d = rand_d(rng)
    P, X, _ = anchor(rng, d)
    pts = [pt(*X)]
    for _ in range(rng.randint(1, 9)):
        la, lo, _ = direct(P[0], P[1], rng.uniform(0, 360), d * rng.uniform(1.0, 2.0) + rng.uniform(0, 20000))
        pts.append(pt(la, lo))
    rng.shuffle(pts)
    return pt(*P), {'type': 'MultiPoint', 'coordinates': pts}


def gen_line(rng, variant):
    if variant == 'onvertex':
        P, X, _ = anchor(rng)
        n, lf, tf = short_params(rng)
        coords = build_path(rng, X, rng.uniform(0, 360), max(n, 2), lf, tf, 'vertex')
        v = coords[rng.randrange(len(coords))]
        return list(v), {'type': 'LineString', 'coordinates': coords}
    if variant == 'longew':
        d = log_uniform(rng, 1.0, 3000.0)
        latP, lonP = rand_point_in_box(rng)
        la, lo, az2 = direct(latP, lonP, rng.choice([0.0, 180.0]) + rng.uniform(-3, 3), d)
        n = rng.randint(1, 3)
        lf = lambda: rng.uniform(50000.0, 150000.0)
        tf = lambda: rng.uniform(-20.0, 20.0)
        coords = build_path(rng, (la, lo), rng.choice([90.0, -90.0]) + rng.uniform(-10, 10), n, lf, tf, 'mid')
        return pt(latP, lonP), {'type': 'LineString', 'coordinates': coords}
    P, X, back = anchor(rng)
    kind = 'short' if variant.startswith('short') else 'long'
    n, lf, tf = short_params(rng) if kind == 'short' else long_params(rng)
    sub = variant[len(kind):]
    if sub == 'mid':
        coords = build_path(rng, X, back + rng.choice([90.0, -90.0]), n, lf, tf, 'mid')
    elif sub == 'vertex':
        coords = build_path(rng, X, back + rng.uniform(95, 170), max(n, 2), lf, tf, 'vertex',
                            back_heading=back - rng.uniform(95, 170))
    else:
        coords = build_path(rng, X, rng.uniform(0, 360), n, lf, tf, rng.choice(['vertex', 'mid']))
    return pt(*P), {'type': 'LineString', 'coordinates': coords}


def gen_multilinestring(rng, variant):
    d = rand_d(rng)
    P, X, _ = anchor(rng, d)
    lines = [random_line(rng, X)]
    for _ in range(rng.randint(1, 3)):
        la, lo, _ = direct(P[0], P[1], rng.uniform(0, 360), d * rng.uniform(1.0, 2.0) + rng.uniform(0, 20000))
        lines.append(random_line(rng, (la, lo)))
    rng.shuffle(lines)
    return pt(*P), {'type': 'MultiLineString', 'coordinates': lines}


def point_inside(rng, C, R, rings, centres, want):
    """want: 'inside' (in polygon, not in a hole) or 'hole'."""
    if want == 'hole':
        (hc, rh) = centres[rng.randrange(len(centres))]
        la, lo, _ = direct(hc[0], hc[1], rng.uniform(0, 360), rng.uniform(0, 0.65) * rh)
    else:
        la, lo, _ = direct(C[0], C[1], rng.uniform(0, 360), rng.uniform(0, 0.5) * R)
    return pt(la, lo)


def gen_polygon(rng, variant):
    for _ in range(1000):
        C = (rng.uniform(LAT_RANGE[0] + 0.05, LAT_RANGE[1] - 0.05),
             rng.uniform(LON_RANGE[0] + 0.05, LON_RANGE[1] - 0.05))
        R = rand_R(rng)
        if variant == 'hole':
            nh = rng.randint(1, 2)
        elif variant == 'outside':
            nh = rng.choice([0, 0, 0, 1, 2])
        else:
            nh = rng.choice([0, 0, 1])
        rings, centres = make_polygon(rng, C, R, nh)
        if variant == 'outside':
            d = rand_d(rng, 6.0)
            Y = boundary_point(rng, rings[0])
            P = pt(*outward_point(rng, C, Y, d))
            want = False
        else:
            P = point_inside(rng, C, R, rings, centres, variant)
            want = variant == 'inside'
        if not in_box(P[1], P[0]):
            continue
        if variant == 'hole' and not in_ring(P[0], P[1], rings[0]):
            continue
        if poly_ok(P, [rings], want_inside=want):
            return P, {'type': 'Polygon', 'coordinates': rings}
    raise RuntimeError('polygon: too many rejections')


def make_parts(rng, nparts):
    C0 = (rng.uniform(LAT_RANGE[0] + 0.3, LAT_RANGE[1] - 0.3),
          rng.uniform(LON_RANGE[0] + 0.3, LON_RANGE[1] - 0.3))
    parts = []   # (C, R, rings, centres)
    while len(parts) < nparts:
        R = rand_R(rng)
        if not parts:
            C = C0
        else:
            la, lo, _ = direct(C0[0], C0[1], rng.uniform(0, 360), (parts[0][1] + R) * 1.05 + rng.uniform(50, 20000))
            C = (la, lo)
            if any(dist(C[0], C[1], q[0][0], q[0][1]) < 1.05 * (R + q[1]) + 50 for q in parts):
                continue
        rings, centres = make_polygon(rng, C, R, rng.choice([0, 0, 1]))
        parts.append((C, R, rings, centres))
    return parts


def gen_multipolygon(rng, variant):
    for _ in range(1000):
        parts = make_parts(rng, rng.randint(2, 3))
        C, R, rings, centres = parts[rng.randrange(len(parts))]
        if variant == 'inside':
            P = point_inside(rng, C, R, rings, centres, 'inside')
            want = True
        else:
            P = pt(*outward_point(rng, C, boundary_point(rng, rings[0]), rand_d(rng, 6.0)))
            want = False
        if not in_box(P[1], P[0]):
            continue
        polys = [p[2] for p in parts]
        if poly_ok(P, polys, want_inside=want):
            return P, {'type': 'MultiPolygon', 'coordinates': polys}
    raise RuntimeError('multipolygon: too many rejections')


def gen_collection(rng, variant):
    for _ in range(1000):
        (C, R, rings, centres), = make_parts(rng, 1)
        la, lo, _ = direct(C[0], C[1], rng.uniform(0, 360), R + rng.uniform(50, 20000))
        line = random_line(rng, (la, lo))
        la, lo, _ = direct(C[0], C[1], rng.uniform(0, 360), R + rng.uniform(50, 30000))
        point = pt(la, lo)
        if variant == 'inside':
            P = point_inside(rng, C, R, rings, centres, 'inside')
            want = True
        else:
            d = rand_d(rng, 6.0)
            which = rng.choice(['point', 'line', 'polygon'])
            if which == 'polygon':
                P = pt(*outward_point(rng, C, boundary_point(rng, rings[0]), d))
            elif which == 'line':
                Y = boundary_point(rng, line)
                P = pt(*direct(Y[0], Y[1], rng.uniform(0, 360), d)[:2])
            else:
                P = pt(*direct(point[1], point[0], rng.uniform(0, 360), d)[:2])
            want = False
        if not in_box(P[1], P[0]):
            continue
        if poly_ok(P, [rings], want_inside=want):
            members = [{'type': 'Point', 'coordinates': point},
                       {'type': 'LineString', 'coordinates': line},
                       {'type': 'Polygon', 'coordinates': rings}]
            rng.shuffle(members)
            return P, {'type': 'GeometryCollection', 'geometries': members}
    raise RuntimeError('collection: too many rejections')


def am_lon(side, off):
    """Longitude `off` degrees from the antimeridian on side +1 (east, ~180) or -1 (~-180)."""
    return 180.0 - off if side > 0 else -180.0 + off


def same_side(coords, side, maxoff=1.0):
    for lon, lat in coords:
        if side > 0 and not (180.0 - maxoff <= lon <= 180.0):
            return False
        if side < 0 and not (-180.0 <= lon <= -180.0 + maxoff):
            return False
    return True


def gen_antimeridian(rng, kind, idx):
    """Query point within 0.5 deg of the antimeridian, geometry entirely on one
    side (mostly the other one), never crossing it.  Odd idx: 'close' cases, both
    within ~0.02 deg of the antimeridian (metres to a few km apart)."""
    close = idx % 2 == 1
    sideP = rng.choice([1, -1])
    latP = rng.uniform(*LAT_RANGE)
    offP = log_uniform(rng, 1e-5, 0.02) if close else rng.uniform(0.0001, 0.5)
    P = pt(latP, am_lon(sideP, offP))
    sideG = -sideP if idx % 4 != 3 else sideP     # mostly on the other side
    dlat = 0.01 if close else 0.3

    def lat_off():
        if close:
            return rng.choice([-1.0, 1.0]) * log_uniform(rng, 1e-6, dlat)
        return rng.uniform(-dlat, dlat)
    goff = (lambda: log_uniform(rng, 1e-5, 0.02)) if close else (lambda: rng.uniform(0.001, 0.3))
    for _ in range(1000):
        if kind == 'point':
            g = pt(latP + lat_off(), am_lon(sideG, goff()))
            return P, {'type': 'Point', 'coordinates': g}
        if kind == 'line':
            X = (latP + lat_off(), am_lon(sideG, goff()))
            n = rng.randint(1, 8)
            lf = lambda: log_uniform(rng, 300.0, 20000.0)
            tf = lambda: rng.uniform(-15.0, 15.0)
            coords = build_path(rng, X, rng.choice([0.0, 180.0]) + rng.uniform(-20, 20), n, lf, tf,
                                rng.choice(['vertex', 'mid']))
            if idx % 3 == 0:
                # a vertex exactly on the antimeridian, as produced by RFC 7946 splitting
                k = min(range(len(coords)), key=lambda i: 180.0 - abs(coords[i][0]))
                coords[k] = [180.0 if sideG > 0 else -180.0, coords[k][1]]
            if same_side(coords, sideG):
                return P, {'type': 'LineString', 'coordinates': coords}
        if kind == 'polygon':
            R = rand_R(rng)
            C = (latP + rng.uniform(-dlat, dlat), am_lon(sideG, rng.uniform(0.02, 0.05) if close else rng.uniform(0.03, 0.3)))
            rings, _ = make_polygon(rng, C, R, rng.choice([0, 1]))
            if same_side([v for r in rings for v in r], sideG) and poly_ok(P, [rings], want_inside=False):
                return P, {'type': 'Polygon', 'coordinates': rings}
    raise RuntimeError('antimeridian: too many rejections')


def global_place(rng, kind):
    """(lat, lon) anywhere on the globe; 'polar': within 3 deg of a pole;
    'high': 60-85 deg north or south."""
    lon = rng.uniform(-180.0, 180.0)
    sign = rng.choice([1.0, -1.0])
    if kind == 'polar':
        return sign * rng.uniform(87.0, 89.9), lon
    if kind == 'high':
        return sign * rng.uniform(60.0, 85.0), lon
    return math.degrees(math.asin(rng.uniform(-0.97, 0.97))), lon


def cut_at_antimeridian(coords):
    """Cut a path of (lat, lon) whose edges may cross +-180 into RFC 7946
    parts, each edge's crossing found by bisection along its geodesic."""
    parts = [[coords[0]]]
    for (la0, lo0), (la1, lo1) in zip(coords, coords[1:]):
        if abs(lo1 - lo0) > 180.0:
            line = G.InverseLine(la0, lo0, la1, lo1)
            a, b = 0.0, line.s13
            for _ in range(80):
                m = 0.5 * (a + b)
                x = line.Position(m, POS_MASK)
                if (x['lon2'] >= 0) == (lo0 >= 0) and abs(x['lon2'] - lo0) <= 180.0:
                    a = m
                else:
                    b = m
            lat = line.Position(a, POS_MASK)['lat2']
            side = 180.0 if lo0 >= 0 else -180.0
            parts[-1].append((lat, side))
            parts.append([(lat, -side)])
        parts[-1].append((la1, lo1))
    return [[pt(a, b) for a, b in part] for part in parts if len(part) >= 2]


def gen_global(rng, typ, variant):
    """Lines of edges up to 500 km anywhere ('global'), east-west at high
    latitude where edges bow most ('bow'), near a pole ('polar'), lines and
    squares cut at the antimeridian ('cut'); the point up to 200 km off."""
    for _ in range(1000):
        if typ == 'multipolygon':
            lat, side = rng.uniform(-80.0, 79.0), log_uniform(rng, 0.001, 1.0)
            east = [[180.0 - side, lat], [180.0, lat], [180.0, lat + side], [180.0 - side, lat + side], [180.0 - side, lat]]
            west = [[-180.0, lat], [-180.0 + side, lat], [-180.0 + side, lat + side], [-180.0, lat + side], [-180.0, lat]]
            geom = {'type': 'MultiPolygon', 'coordinates': [[[pt(b, a) for a, b in east]], [[pt(b, a) for a, b in west]]]}
            s = rng.choice([1.0, -1.0])
            P = pt(lat + rng.uniform(-0.5, 1.5) * side, s * (180.0 - rng.uniform(0.0, 2.0) * side))
            if not near_boundary(P, [r for poly in geom['coordinates'] for r in poly]):
                return P, geom
            continue
        kind = {'global': 'any', 'bow': 'high', 'polar': 'polar', 'cut': 'any'}[variant]
        lat, lon = global_place(rng, kind)
        if variant == 'cut':
            lon = rng.choice([1.0, -1.0]) * rng.uniform(178.0, 180.0)
        heading = rng.uniform(0.0, 360.0)
        if variant in ('bow', 'cut'):
            heading = rng.choice([90.0, 270.0]) + rng.uniform(-10.0, 10.0)
        coords = [(lat, lon)] + walk(rng, lat, lon, heading, rng.randint(1, 3),
                                     lambda: log_uniform(rng, 50000.0, 500000.0), lambda: rng.uniform(-20.0, 20.0))
        parts = cut_at_antimeridian(coords)
        crosses = len(parts) > 1
        if crosses != (variant == 'cut') or any(abs(v[1]) > 89.95 for part in parts for v in part):
            continue
        # The point: off a random spot along a random edge.
        part = rng.choice(parts)
        k = rng.randrange(len(part) - 1)
        line = G.InverseLine(part[k][1], part[k][0], part[k + 1][1], part[k + 1][0])
        x = line.Position(rng.uniform(0.0, 1.0) * line.s13, POS_MASK)
        if variant == 'polar':
            P = pt(math.copysign(90.0 - log_uniform(rng, 1e-5, 0.5), lat), rng.uniform(-180.0, 180.0))
        else:
            la, lo, _ = direct(x['lat2'], x['lon2'], rng.uniform(0.0, 360.0), log_uniform(rng, 1.0, 200000.0))
            P = pt(la, lo)
        if len(parts) == 1:
            return P, {'type': 'LineString', 'coordinates': parts[0]}
        return P, {'type': 'MultiLineString', 'coordinates': parts}
    raise RuntimeError('global: too many rejections')


# ----------------------------------------------------------------------------

PLAN = [
    # (type, variant, count)
    ('point', 'rand', 150),
    ('point', 'zero', 5),
    ('multipoint', 'rand', 80),
    ('line', 'short', 90),
    ('line', 'shortmid', 90),
    ('line', 'shortvertex', 70),
    ('line', 'long', 60),
    ('line', 'longmid', 120),
    ('line', 'longew', 40),
    ('line', 'longvertex', 30),
    ('line', 'onvertex', 20),
    ('multilinestring', 'rand', 80),
    ('polygon', 'outside', 150),
    ('polygon', 'inside', 40),
    ('polygon', 'hole', 40),
    ('multipolygon', 'outside', 45),
    ('multipolygon', 'inside', 15),
    ('collection', 'outside', 50),
    ('collection', 'inside', 10),
    ('point', 'antimeridian', 5),
    ('line', 'antimeridian', 10),
    ('polygon', 'antimeridian', 5),
    ('line', 'global', 60),
    ('line', 'bow', 60),
    ('line', 'polar', 40),
    ('multilinestring', 'cut', 30),
    ('multipolygon', 'cut', 20),
]


def make_case(spec):
    typ, variant, n = spec
    name = '%s-%s-%d' % (typ, variant, n)
    rng = random.Random('%d:%s' % (SEED, name))
    if variant == 'antimeridian':
        P, geom = gen_antimeridian(rng, typ, n)
    elif variant in ('global', 'bow', 'polar', 'cut'):
        P, geom = gen_global(rng, typ, variant)
    elif typ == 'point':
        P, geom = gen_point(rng, variant)
    elif typ == 'multipoint':
        P, geom = gen_multipoint(rng, variant)
    elif typ == 'line':
        P, geom = gen_line(rng, variant)
    elif typ == 'multilinestring':
        P, geom = gen_multilinestring(rng, variant)
    elif typ == 'polygon':
        P, geom = gen_polygon(rng, variant)
    elif typ == 'multipolygon':
        P, geom = gen_multipolygon(rng, variant)
    elif typ == 'collection':
        P, geom = gen_collection(rng, variant)
    else:
        raise ValueError(typ)
    d, near, azi = oracle(P, geom)
    case = {
        'name': name,
        'point': P,
        'geometry': geom,
        'distance_m': r6(d),
        'nearest': [r9(near[0]), r9(near[1])],
        'azimuth_deg': None if azi is None else r9(azi),
    }
    return case, (Stats.max_gs_vs_bisect, Stats.edges_refined, Stats.edges_skipped)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-o', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'proximity.json'))
    ap.add_argument('-j', type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    specs = [(t, v, i) for t, v, cnt in PLAN for i in range(1, cnt + 1)]
    t0 = time.time()
    if args.j > 1:
        with Pool(args.j) as pool:
            results = pool.map(make_case, specs, chunksize=4)
    else:
        results = [make_case(s) for s in specs]
    cases = [r[0] for r in results]
    # per-process stats are cumulative; take the max per process (approximate, informational)
    max_diff = max(r[1][0] for r in results)

    head = {
        'generator': 'testdata/oracle/gen.py',
        'geographiclib': geographiclib.__version__,
        'ellipsoid': 'WGS84',
        'seed': SEED,
        'semantics': SEMANTICS,
    }
    enc = lambda o: json.dumps(o, separators=(', ', ': '), ensure_ascii=True, allow_nan=False)
    lines = ['{' + ', '.join('%s: %s' % (enc(k), enc(v)) for k, v in head.items()) + ',',
             '"cases": [']
    lines.append(',\n'.join(json.dumps(c, separators=(',', ':'), allow_nan=False) for c in cases))
    lines.append(']}')
    with open(args.o, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')

    # summary on stderr
    from collections import Counter
    cnt = Counter(c['name'].rsplit('-', 1)[0] for c in cases)
    buckets = Counter()
    for c in cases:
        d = c['distance_m']
        b = ('0' if d == 0 else '<5m' if d < 5 else '<100m' if d < 100 else '<1km' if d < 1000 else
             '<5km' if d < 5000 else '<50km' if d < 50000 else '<=200km' if d <= 200000 else '>200km')
        buckets[b] += 1
    print('wrote %s: %d cases, %d bytes, %.1f s, geographiclib %s'
          % (args.o, len(cases), os.path.getsize(args.o), time.time() - t0, geographiclib.__version__),
          file=sys.stderr)
    for k in sorted(cnt):
        print('  %-28s %4d' % (k, cnt[k]), file=sys.stderr)
    print('  distances:', dict(sorted(buckets.items())), file=sys.stderr)
    print('  max |golden - bisection| distance difference: %.3g m' % max_diff, file=sys.stderr)


if __name__ == '__main__':
    main()
