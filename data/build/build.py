#!/usr/bin/env python3
"""Derive protectmap's embedded default layers (data/*.geojson).

Usage (from the repository root):

    python3 data/build/build.py [SHARED_DATA_DIR] [--out DATA_DIR] [--check]

SHARED_DATA_DIR defaults to ../shared/data relative to the repository root
(the folder described by its README.md); DATA_DIR defaults to the repository's
data/ folder.  With --check nothing is written: the freshly built files are
compared with the committed ones and the exit status is 1 if any differs.

Python 3 standard library only.  The output is deterministic: the same inputs
give byte-identical files.  See data/SOURCES.md for what each layer holds, where
every fact comes from, and the licences.

Inputs read (never copied into the repository, only facts derived):
  gppd/ukraine_power_plants.csv                      GPPD v1.3.0, CC BY 4.0
  osm_power_stations/power_stations_with_oblasts.geojson   OSM, ODbL 1.0
  osm_power_stations/power_stations_centroids.csv          OSM, ODbL 1.0
  osm_hv_grid_2016/hv_lines_ukraine_bbox.geojson           OSM, ODbL 1.0
  osm_hv_grid_2016/hv_vertices_ukraine_bbox.geojson        OSM, ODbL 1.0
  boundaries/geoBoundaries-UKR-ADM1.geojson                geoBoundaries, ODbL 1.0
  boundaries/geoBoundaries-UKR-ADM1_simplified.geojson     geoBoundaries, ODbL 1.0
  boundaries/ukraine_adm0_dissolved_from_geoBoundaries_ADM1.geojson (derived)
The hospital and bridge lists are embedded below (public knowledge).
"""

import argparse
import csv
import json
import math
import os
import re
import sys

# ---------------------------------------------------------------------------
# Attribution strings (the `source` property of every feature).

SRC_GPPD = "Global Power Plant Database v1.3.0 (WRI et al., CC BY 4.0)"
SRC_OSM = "OpenStreetMap contributors (ODbL 1.0)"
SRC_GRID = ("OpenStreetMap contributors (ODbL 1.0), via ComplexNetTSP Power_grids "
            "(c. 2016, doi:10.5281/zenodo.250427)")
SRC_HOSP = "public knowledge; coordinates approximate (see precision)"
SRC_BRIDGE = "public knowledge; coordinates approximate (see precision)"
SRC_GEOB = "geoBoundaries gbOpen UKR ADM1 (Runfola et al. 2020; ODbL 1.0)"

# Coordinate rounding (decimal places).
ND_LAYER = 6
ND_BASEMAP = 5

# Outline simplification of OSM plant / substation polygons.
RING_MAX_VERTICES = 60          # positions per ring, closing position included
RING_MIN_TOL = 0.00001          # degrees (~1 m): drops only redundant vertices
# Basemap Douglas-Peucker tolerance (degrees).
BASEMAP_TOL = 0.01

# ---------------------------------------------------------------------------
# Small helpers


def rnd(x, nd=ND_LAYER):
    v = round(float(x), nd)
    return 0.0 if v == 0 else v


def fnum(x):
    """Format-stable number: ints stay ints, floats are rounded to 3 places."""
    if x is None:
        return None
    if isinstance(x, int):
        return x
    if float(x).is_integer():
        return int(x)
    return round(float(x), 3)


UK_LETTERS = {
    'а': 'a', 'б': 'b', 'в': 'v', 'г': 'h', 'ґ': 'g', 'д': 'd', 'е': 'e', 'є': 'ie',
    'ж': 'zh', 'з': 'z', 'и': 'y', 'і': 'i', 'ї': 'i', 'й': 'i', 'к': 'k', 'л': 'l',
    'м': 'm', 'н': 'n', 'о': 'o', 'п': 'p', 'р': 'r', 'с': 's', 'т': 't', 'у': 'u',
    'ф': 'f', 'х': 'kh', 'ц': 'ts', 'ч': 'ch', 'ш': 'sh', 'щ': 'shch', 'ь': '',
    'ю': 'iu', 'я': 'ia',
    # Russian-only letters (some Crimean names are tagged in Russian)
    'ы': 'y', 'э': 'e', 'ъ': '', 'ё': 'io',
}
UK_INITIAL = {'є': 'ye', 'ї': 'yi', 'й': 'y', 'ю': 'yu', 'я': 'ya'}


def translit(s):
    """Ukrainian national romanisation (KMU 2010), applied letter by letter."""
    s = s.replace('зг', 'zgh').replace('Зг', 'Zgh')
    out = []
    prev_letter = False
    for ch in s:
        lo = ch.lower()
        if lo in UK_LETTERS:
            t = UK_INITIAL[lo] if (not prev_letter and lo in UK_INITIAL) else UK_LETTERS[lo]
            if ch != lo and t:
                t = t[0].upper() + t[1:]
            out.append(t)
            prev_letter = True
        elif ch in "'’ʼ`":
            continue
        else:
            out.append(ch)
            prev_letter = ch.isalpha()
    return ''.join(out)


def is_russian(name):
    """Heuristic: the OSM name is Russian rather than Ukrainian."""
    low = name.lower()
    if re.search('[ыэъё]', low):
        return True
    return bool(re.search(r'(ская|ской|ское)\b', low)) and not re.search('[іїєґ]', low)


def haversine_m(lon1, lat1, lon2, lat2):
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# ---------------------------------------------------------------------------
# Planar geometry (lon/lat degrees)


def ring_signed_area(ring):
    """Shoelace over a closed ring (first == last)."""
    a = 0.0
    for i in range(len(ring) - 1):
        x1, y1 = ring[i]
        x2, y2 = ring[i + 1]
        a += x1 * y2 - x2 * y1
    return a / 2.0


def point_in_ring(x, y, ring):
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y):
            xint = (xj - xi) * (y - yi) / (yj - yi) + xi
            if x < xint:
                inside = not inside
        j = i
    return inside


def point_in_polygon(x, y, rings):
    if not point_in_ring(x, y, rings[0]):
        return False
    return not any(point_in_ring(x, y, h) for h in rings[1:])


def _orient(ax, ay, bx, by, cx, cy):
    v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    return (v > 0) - (v < 0)


def _on_segment(ax, ay, bx, by, cx, cy):
    return min(ax, bx) <= cx <= max(ax, bx) and min(ay, by) <= cy <= max(ay, by)


def segments_intersect(p1, p2, p3, p4):
    """True if closed segments p1p2 and p3p4 share any point."""
    o1 = _orient(*p1, *p2, *p3)
    o2 = _orient(*p1, *p2, *p4)
    o3 = _orient(*p3, *p4, *p1)
    o4 = _orient(*p3, *p4, *p2)
    if o1 != o2 and o3 != o4:
        return True
    if o1 == 0 and _on_segment(*p1, *p2, *p3):
        return True
    if o2 == 0 and _on_segment(*p1, *p2, *p4):
        return True
    if o3 == 0 and _on_segment(*p3, *p4, *p1):
        return True
    if o4 == 0 and _on_segment(*p3, *p4, *p2):
        return True
    return False


def segments_cross_properly(p1, p2, p3, p4):
    """True if the segments cross at a single interior point of both."""
    o1 = _orient(*p1, *p2, *p3)
    o2 = _orient(*p1, *p2, *p4)
    o3 = _orient(*p3, *p4, *p1)
    o4 = _orient(*p3, *p4, *p2)
    return o1 * o2 < 0 and o3 * o4 < 0


def ring_is_simple(ring):
    """Closed ring without self-intersections (adjacent segments may share their vertex)."""
    n = len(ring) - 1  # segments
    if n < 3:
        return False
    if len(set(map(tuple, ring[:-1]))) != n:
        return False
    for i in range(n):
        a1, a2 = ring[i], ring[i + 1]
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if segments_intersect(a1, a2, ring[j], ring[j + 1]):
                return False
    return True


def rings_intersect(r1, r2):
    for i in range(len(r1) - 1):
        for j in range(len(r2) - 1):
            if segments_intersect(r1[i], r1[i + 1], r2[j], r2[j + 1]):
                return True
    return False


def perp_dist(p, a, b):
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    t = ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)
    t = max(0.0, min(1.0, t))
    return math.hypot(x - (x1 + t * dx), y - (y1 + t * dy))


def dp_keep(pts, tol):
    """Douglas-Peucker on an open polyline; returns the kept indices (ends included)."""
    n = len(pts)
    if n <= 2:
        return list(range(n))
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        s, e = stack.pop()
        dmax, idx = -1.0, -1
        for i in range(s + 1, e):
            d = perp_dist(pts[i], pts[s], pts[e])
            if d > dmax:
                dmax, idx = d, i
        if idx >= 0 and dmax > tol:
            keep[idx] = True
            stack.append((s, idx))
            stack.append((idx, e))
    return [i for i in range(n) if keep[i]]


def dp_closed(ring_open, tol):
    """Douglas-Peucker of a closed ring given without its closing position.

    The split points are canonical (lexicographically smallest vertex and the
    vertex farthest from it) so that equal rings simplify equally."""
    n = len(ring_open)
    if n <= 3:
        return list(ring_open)
    s = min(range(n), key=lambda i: ring_open[i])
    r = ring_open[s:] + ring_open[:s]
    far = max(range(n), key=lambda i: (math.hypot(r[i][0] - r[0][0], r[i][1] - r[0][1]), -i))
    first = r[:far + 1]
    second = r[far:] + [r[0]]
    k1 = dp_keep(first, tol)
    k2 = dp_keep(second, tol)
    out = [first[i] for i in k1] + [second[i] for i in k2[1:-1]]
    return out


def close_ring(pts):
    pts = [list(p) for p in pts]
    if pts[0] != pts[-1]:
        pts.append(list(pts[0]))
    return pts


def round_ring(ring, nd):
    out = []
    for x, y in ring:
        p = [rnd(x, nd), rnd(y, nd)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(list(out[0]))
    return out


def simplify_ring(ring, nd=ND_LAYER, maxv=RING_MAX_VERTICES):
    """Simplify one closed ring to at most maxv positions, keeping it simple.

    Tries increasing Douglas-Peucker tolerances (geometric steps); the first
    result that has <= maxv positions and is a simple ring wins."""
    base = [tuple(p) for p in ring[:-1]] if ring[0] == ring[-1] else [tuple(p) for p in ring]
    tol = RING_MIN_TOL
    for _ in range(200):
        pts = dp_closed(base, tol)
        r = round_ring(close_ring(pts), nd)
        if len(r) >= 4 and len(r) <= maxv and ring_is_simple(r):
            return r, tol
        if len(r) < 4:
            break
        tol *= 1.15
    return None, tol


def orient_ring(ring, ccw):
    a = ring_signed_area(ring)
    if (a > 0) != ccw:
        return list(reversed(ring))
    return ring


def simplify_polygon(rings):
    """rings: [shell, hole...] -> simplified, validated, RFC 7946 wound rings (or None)."""
    shell, _ = simplify_ring(rings[0])
    if shell is None:
        return None
    shell = orient_ring(shell, True)
    out = [shell]
    for h in rings[1:]:
        hs, _ = simplify_ring(h)
        if hs is None:
            continue  # hole collapsed under simplification (documented in SOURCES.md)
        if rings_intersect(shell, hs) or not point_in_ring(hs[0][0], hs[0][1], shell):
            hs = round_ring(h, ND_LAYER)
            if len(hs) > RING_MAX_VERTICES or rings_intersect(shell, hs):
                continue
        out.append(orient_ring(hs, False))
    return out


def geom_polygons(g):
    if g['type'] == 'Polygon':
        return [g['coordinates']]
    if g['type'] == 'MultiPolygon':
        return g['coordinates']
    raise ValueError(g['type'])


SLIVER_MAX_DEG2 = 1e-8         # ~100 m2: a part this small that collapses is dropped


def simplify_area_geometry(g):
    polys = []
    for p in geom_polygons(g):
        sp = simplify_polygon(p)
        if sp is not None:
            polys.append(sp)
        elif abs(ring_signed_area(p[0])) > SLIVER_MAX_DEG2:
            raise SystemExit('a polygon part of %.1e deg2 collapsed under simplification'
                             % abs(ring_signed_area(p[0])))
    if not polys:
        return None
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def point_geom(lon, lat):
    return {"type": "Point", "coordinates": [rnd(lon), rnd(lat)]}


def line_geom(coords):
    return {"type": "LineString", "coordinates": [[rnd(x), rnd(y)] for x, y in coords]}


# ---------------------------------------------------------------------------
# Oblast lookup (full-resolution geoBoundaries ADM1)

OBLAST_NAME_FIX = {
    'Kyiv': 'Kyiv City',
    'Autonomous Republic of Crimea': 'Crimea',
    'Odessa Oblast': 'Odesa',
    'Zaporizhia Oblast': 'Zaporizhzhia',
}


def oblast_short(shape_name):
    if shape_name in OBLAST_NAME_FIX:
        return OBLAST_NAME_FIX[shape_name]
    return shape_name[:-len(' Oblast')] if shape_name.endswith(' Oblast') else shape_name


class OblastIndex:
    def __init__(self, path):
        with open(path, encoding='utf-8') as fh:
            fc = json.load(fh)
        self.items = []
        for f in fc['features']:
            polys = geom_polygons(f['geometry'])
            xs = [c[0] for p in polys for c in p[0]]
            ys = [c[1] for p in polys for c in p[0]]
            self.items.append((min(xs), min(ys), max(xs), max(ys), polys,
                               oblast_short(f['properties']['shapeName']),
                               f['properties']['shapeISO']))

    def lookup(self, lon, lat):
        for x0, y0, x1, y1, polys, name, iso in self.items:
            if x0 <= lon <= x1 and y0 <= lat <= y1:
                for p in polys:
                    if point_in_polygon(lon, lat, p):
                        return name, iso
        return None, None


# ---------------------------------------------------------------------------
# GPPD

GPPD_NAMES = {
    # gppd_idnr: English name (modern Ukrainian romanisation); GPPD's own name is kept in gppd_name
    'WRI1005097': 'Burshtyn Thermal Power Plant',
    'WRI1075852': 'Cherkasy CHP',
    'WRI1075853': 'Chernihiv CHP',
    'WRI1075854': 'Darnytsia CHP (Kyiv CHP-4)',
    'WRI1005120': 'DniproHES (Dnipro Hydroelectric Station)',
    'WRI1005115': 'Dniester Hydroelectric Power Plant',
    'WRI1005116': 'Dniester Pumped Storage Power Plant',
    'WRI1005119': 'Middle Dnipro Hydroelectric Power Plant',
    'WRI1005096': 'Dobrotvir Thermal Power Plant',
    'WRI1005118': 'Kakhovka Hydroelectric Power Plant',
    'WRI1075855': 'Kalush CHP',
    'WRI1005122': 'Kaniv Hydroelectric Power Plant',
    'WRI1005126': 'Kharkiv CHP-5',
    'WRI1005111': 'Khmelnytskyi Nuclear Power Plant',
    'WRI1005123': 'Kyiv Hydroelectric Power Plant',
    'WRI1005124': 'Kyiv Pumped Storage Power Plant',
    'WRI1005125': 'Kyiv CHP-5 (GPPD record)',
    'WRI1075856': 'Kramatorsk CHP',
    'WRI1005121': 'Kremenchuk Hydroelectric Power Plant',
    'WRI1005100': 'Kryvyi Rih Thermal Power Plant',
    'WRI1005104': 'Kurakhove Thermal Power Plant',
    'WRI1005098': 'Ladyzhyn Thermal Power Plant',
    'WRI1005110': 'Luhansk Thermal Power Plant',
    'WRI1005108': 'Myronivskyi Thermal Power Plant',
    'WRI1005102': 'Prydniprovska Thermal Power Plant',
    'WRI1005112': 'Rivne Nuclear Power Plant',
    'WRI1075857': 'Sievierodonetsk CHP',
    'WRI1005109': 'Sloviansk Thermal Power Plant',
    'WRI1005113': 'South Ukraine Nuclear Power Plant',
    'WRI1005105': 'Starobesheve Thermal Power Plant',
    'WRI1005117': 'Tashlyk Pumped Storage Power Plant',
    'WRI1005099': 'Trypillia Thermal Power Plant',
    'WRI1005107': 'Vuhlehirska Thermal Power Plant',
    'WRI1005101': 'Zaporizhzhia Thermal Power Plant',
    'WRI1005114': 'Zaporizhzhia Nuclear Power Plant',
    'WRI1005103': 'Zmiiv Thermal Power Plant',
    'WRI1005106': 'Zuivska Thermal Power Plant',
}

GPPD_NOTES = {
    'WRI1005125': ("GPPD names this record Kyiv CHP-5, but its coordinates lie on the Kyiv CHP-6 site "
                   "(Troieshchyna; osm:way/106296381) and 1200 MW is about CHP-5 and CHP-6 combined; "
                   "the CHP-5 outline is osm:relation/6674937. Not linked to either outline."),
    'WRI1005115': ("GPPD gives the same coordinates as the Dniester pumped storage plant; the HPP-1 dam "
                   "at Novodnistrovsk lies some 8 km upstream."),
    'WRI1005118': "Dam and power plant destroyed on 6 June 2023 (public knowledge).",
    'WRI1005108': ("Not linked to the OSM outline osm:way/331953548 (Myronivska TES, 115 MW): "
                   "the two points are 18 km apart and the capacities differ."),
}

GPPD_STATUS = {
    'WRI1005118': 'destroyed',
}

# OSM plant outline -> GPPD record it depicts (checked: distance below LINK_MAX_M).
OSM_GPPD_LINK = {
    'way/28877213': 'WRI1005114',
    'way/28877239': 'WRI1005101',
    'way/28878631': 'WRI1005111',
    'way/28878854': 'WRI1005112',
    'way/73199860': 'WRI1005122',
    'way/86492178': 'WRI1005126',
    'way/113308943': 'WRI1005120',
    'way/113757400': 'WRI1075853',
    'way/124061051': 'WRI1005100',
    'way/130697711': 'WRI1005123',
    'way/246964776': 'WRI1005123',
    'way/132697290': 'WRI1005107',
    'way/136057743': 'WRI1005117',
    'way/150158208': 'WRI1005119',
    'way/164920951': 'WRI1005109',
    'way/182796002': 'WRI1005106',
    'way/200394299': 'WRI1005096',
    'way/201557694': 'WRI1005097',
    'way/201563235': 'WRI1075855',
    'way/218722215': 'WRI1075854',
    'way/259242291': 'WRI1005121',
    'way/272744229': 'WRI1005103',
    'way/281269420': 'WRI1005104',
    'way/304278986': 'WRI1005105',
    'way/331042345': 'WRI1005098',
    'way/409447800': 'WRI1075857',
    'way/450569880': 'WRI1075852',
    'relation/3828051': 'WRI1005110',
    'relation/4546127': 'WRI1005113',
    'relation/6276543': 'WRI1005116',
    'relation/6680280': 'WRI1005124',
    'relation/7317657': 'WRI1005118',
}
LINK_MAX_M = 5000


def load_gppd(shared):
    rows = []
    with open(os.path.join(shared, 'gppd', 'ukraine_power_plants.csv'), encoding='utf-8', newline='') as fh:
        for r in csv.DictReader(fh):
            if r['country'] == 'UKR':
                rows.append(r)
    return rows


def gppd_features(rows, osm_links, oblasts):
    feats = []
    for r in sorted(rows, key=lambda r: r['gppd_idnr']):
        gid = r['gppd_idnr']
        lon, lat = float(r['longitude']), float(r['latitude'])
        fuel = r['primary_fuel'].strip().lower()
        name = GPPD_NAMES.get(gid)
        if name is None:
            name = r['name'] if fuel != 'solar' else r['name'] + ' solar park'
        props = {"name": name, "kind": "plant", "fuel": fuel,
                 "capacity_mw": fnum(float(r['capacity_mw']))}
        if r['commissioning_year'].strip():
            props["commissioning_year"] = fnum(float(r['commissioning_year']))
        if r['owner'].strip():
            props["owner"] = r['owner'].strip()
        ob, iso = oblasts.lookup(lon, lat)
        if ob:
            props["oblast"] = ob
            props["oblast_iso"] = iso
        props["gppd_idnr"] = gid
        props["gppd_name"] = r['name']
        if gid in osm_links:
            props["osm_id"] = ';'.join(sorted(osm_links[gid], key=osm_sort_key))
        if gid in GPPD_STATUS:
            props["status"] = GPPD_STATUS[gid]
        if gid in GPPD_NOTES:
            props["note"] = GPPD_NOTES[gid]
        elif fuel == 'solar' and r['name'].startswith('Perovo'):
            props["note"] = "GPPD gives Perovo and Perovo I-V one shared location."
        props["precision"] = "site point (GPPD geolocation, typically within ~1 km)"
        props["source"] = SRC_GPPD
        feats.append(feature('gppd:' + gid, point_geom(lon, lat), props))
    return feats


def osm_sort_key(s):
    t, n = s.split('/')
    return (t, int(n))


# ---------------------------------------------------------------------------
# OSM power plants and substations (Sept 2025 Overpass export)

def parse_mw(s):
    if not s:
        return None
    m = re.match(r'^\s*([0-9]+(?:[.,][0-9]+)?)\s*(gw|mw|kw|w|мвт|квт)?\s*$', s.strip(), re.I)
    if not m:
        return None
    v = float(m.group(1).replace(',', '.'))
    unit = (m.group(2) or 'mw').lower()
    return v * {'gw': 1000.0, 'mw': 1.0, 'kw': 0.001, 'w': 1e-6, 'мвт': 1.0, 'квт': 0.001}[unit]


def max_voltage_v(s):
    if not s:
        return None
    vals = []
    for part in s.replace(',', ';').split(';'):
        part = part.strip()
        if part:
            try:
                vals.append(int(float(part)))
            except ValueError:
                pass
    return max(vals) if vals else None


OSM_PLANT_NAMES = {
    'way/23652365': 'Chornobyl Nuclear Power Plant',
    'way/28877213': 'Zaporizhzhia Nuclear Power Plant',
    'way/28877239': 'Zaporizhzhia Thermal Power Plant',
    'way/28878631': 'Khmelnytskyi Nuclear Power Plant',
    'way/28878854': 'Rivne Nuclear Power Plant',
    'way/73199860': 'Kaniv Hydroelectric Power Plant',
    'way/86492178': 'Kharkiv CHP-5',
    'way/90163313': 'Dniester HPP-2',
    'way/96765157': 'Simferopol CHP',
    'way/99180521': 'Bila Tserkva CHP',
    'way/106296381': 'Kyiv CHP-6',
    'way/113308943': 'DniproHES (Dnipro Hydroelectric Station)',
    'way/113757400': 'Chernihiv CHP',
    'way/124061051': 'Kryvyi Rih Thermal Power Plant',
    'way/128559513': 'Tavricheskaya Thermal Power Plant',
    'way/130697711': 'Kyiv Hydroelectric Power Plant (powerhouse)',
    'way/132697290': 'Vuhlehirska Thermal Power Plant',
    'way/136057743': 'Tashlyk Pumped Storage Power Plant',
    'way/147292548': 'Eskhar CHP-2 (Kharkiv)',
    'way/150158208': 'Middle Dnipro Hydroelectric Power Plant',
    'way/164920951': 'Sloviansk Thermal Power Plant',
    'way/182796002': 'Zuivska Thermal Power Plant',
    'way/200394299': 'Dobrotvir Thermal Power Plant',
    'way/201557694': 'Burshtyn Thermal Power Plant',
    'way/201563235': 'Kalush CHP',
    'way/201566320': 'Tereblia-Rika Hydroelectric Power Plant',
    'way/211430378': 'Mykolaiv CHP',
    'way/218722215': 'Darnytsia CHP (Kyiv CHP-4)',
    'way/244181571': 'Kamysh-Burun CHP (Kerch)',
    'way/246964776': 'Kyiv Hydroelectric Power Plant',
    'way/259242291': 'Kremenchuk Hydroelectric Power Plant',
    'way/269009003': 'Sevastopol CHP',
    'way/272744229': 'Zmiiv Thermal Power Plant',
    'way/281269420': 'Kurakhove Thermal Power Plant',
    'way/304278986': 'Starobesheve Thermal Power Plant',
    'way/331042345': 'Ladyzhyn Thermal Power Plant',
    'way/331953548': 'Myronivskyi Thermal Power Plant',
    'way/357061832': 'Dnipro CHP',
    'way/372082535': 'Kherson CHP',
    'way/388450536': 'Odesa CHP',
    'way/409447800': 'Sievierodonetsk CHP',
    'way/450200670': 'Kyiv Heat Supply Station No. 2',
    'way/450569880': 'Cherkasy CHP',
    'way/470484953': 'Saky CHP',
    'way/663246762': 'Balaklava Thermal Power Plant',
    'way/727454149': 'Lysychansk Refinery CHP',
    'relation/3828051': 'Luhansk Thermal Power Plant',
    'relation/4096525': 'Kremenchuk CHP',
    'relation/4546127': 'South Ukraine Nuclear Power Plant',
    'relation/4863926': 'Novyi Rozdil CHP',
    'relation/6276543': 'Dniester Pumped Storage Power Plant',
    'relation/6674937': 'Kyiv CHP-5',
    'relation/6680280': 'Kyiv Pumped Storage Power Plant',
    'relation/7317657': 'Kakhovka Hydroelectric Power Plant',
    'relation/13766266': 'Sumy CHP',
}

OSM_PLANT_STATUS = {
    'way/23652365': ('decommissioned', "Last reactor shut down in 2000; site of the 1986 disaster "
                                       "(public knowledge). OSM plant:output:electricity is 0."),
    'relation/7317657': ('destroyed', "Dam and power plant destroyed on 6 June 2023 (public knowledge); "
                                      "the OSM name marks it as former."),
}

OSM_PLANT_NOTES = {
    'way/106296381': ("GPPD record WRI1005125 ('Kiev CHP-5', 1200 MW) is located on this site; "
                      "not linked because of the name mismatch."),
    'way/130697711': "Smaller outline of the same plant as osm:way/246964776 (both are in OSM).",
    'way/331953548': ("Not linked to GPPD WRI1005108 ('Mironovskaya', 815 MW), whose point lies 18 km away "
                      "near Debaltseve."),
}

# Substations whose OSM name is a plant abbreviation or otherwise needs a hand-made English name.
OSM_SUB_NAMES = {
    'way/28451913': 'Chornobyl NPP switchyard',
    'way/28877226': 'Zaporizhzhia NPP 750 kV switchyard',
    'way/28877449': 'Zaporizhzhia TPP switchyard',
    'way/90163324': 'Dniester HPP switchyard',
    'way/97343458': 'Dzhankoi substation',
    'way/97576344': 'Ostrovskaya substation',
    'way/104864777': 'Brovarska-330 substation',
    'way/129243723': 'Zapadno-Krymskaya substation',
    'way/136411402': 'Novodonbaska-500 substation',
    'way/165764729': 'Prydniprovska TPP switchyard (PDTES-330)',
    'way/237836917': 'Kryvyi Rih TPP switchyard',
    'way/249059252': 'VDHMK-330 substation',
    'way/292523027': 'Vuhlehirska TPP switchyard',
    'way/292930212': 'Peremoha-500 substation',
    'way/331042298': 'Ladyzhyn TPP switchyard (LaTES)',
    'way/609557942': 'Rivne NPP switchyard (RAES)',
    'way/711269960': 'Balaklava TPP switchyard',
    'way/727126693': 'Kreminska-500 substation',
    'way/755181336': 'Tavricheskaya TPP switchyard',
    'relation/6674938': 'Kyiv CHP-5 switchyard',
    'relation/9224222': 'Burshtyn TPP switchyard (BuTES)',
    'relation/9241264': 'Kremenchuk HPP switchyard',
    'relation/9354587': 'Kyiv CHP-6 switchyard',
    'relation/9647250': 'Mykhailivka-400 substation (static inverter plant)',
    'relation/13695570': 'Sevastopol substation',
    'relation/18373252': 'Simferopolskaya substation',
}

OPERATORS = {
    'Укренерго': 'Ukrenergo',
    'НАЕК Енергоатом': 'Energoatom',
    'НАЕК "Енергоатом"': 'Energoatom',
    'ДТЕК': 'DTEK',
    'ДТЕК Західенерго': 'DTEK Zakhidenergo',
    'Центренерго': 'Centrenergo',
    'ПАТ "Центренерго"': 'Centrenergo',
    'ВАТ «Укргідроенерго»': 'Ukrhydroenergo',
    'ВАТ Київенерго': 'Kyivenergo',
    'Донбассэнерго': 'Donbasenergo',
    'КрымТЭЦ': 'KrymTETs',
    'КРЫМТЭЦ': 'KrymTETs',
    'ТОВ «ДВ НАФТОГАЗОВИДОБУВНА КОМПАНІЯ»': 'DV Naftogazovydobuvna Kompaniia',
    'ФГУП «102 ПЭС» Минобороны России': 'FGUP 102 PES, Ministry of Defence of Russia',
}


def sub_english_name(name):
    s = translit(name)
    s = re.sub(r'\s*-\s*', '-', s)
    s = re.sub(r'\s+(330|750|400|500)$', r'-\1', s)
    return s + ' substation'


def osm_local_names(props, name):
    if is_russian(name):
        props["name_ru"] = name
    else:
        props["name_uk"] = name


def load_osm_stations(shared):
    with open(os.path.join(shared, 'osm_power_stations', 'power_stations_with_oblasts.geojson'),
              encoding='utf-8') as fh:
        fc = json.load(fh)
    cents = {}
    with open(os.path.join(shared, 'osm_power_stations', 'power_stations_centroids.csv'),
              encoding='utf-8', newline='') as fh:
        for r in csv.DictReader(fh):
            cents[r['osm_type'] + '/' + r['osm_id']] = (float(r['lon']), float(r['lat']))
    return fc['features'], cents


def select_osm_plant(p):
    if p['power'] != 'plant' or not p['name']:
        return False
    src = p['plant:source'] or ''
    if not any(s in src for s in ('nuclear', 'coal', 'gas', 'hydro', 'oil')):
        return False
    if 'nuclear' in src or p['gppd_overlap']:
        return True
    mw = parse_mw(p['plant:output:electricity'])
    if mw is None:
        return False
    return mw >= 20 if src == 'hydro' else mw >= 30


def select_osm_substation(p):
    if p['power'] != 'substation' or not p['name']:
        return False
    v = max_voltage_v(p['voltage'])
    return v is not None and v >= 330000


def osm_features(feats, cents, gppd_by_id, oblasts, log):
    plants, subs = [], []
    gppd_links = {}
    for f in feats:
        p = f['properties']
        oid = '%s/%d' % (p['osm_type'], p['osm_id'])
        is_plant = select_osm_plant(p)
        is_sub = select_osm_substation(p)
        if not (is_plant or is_sub):
            continue
        geom = f['geometry']
        if geom['type'] in ('Polygon', 'MultiPolygon'):
            g = simplify_area_geometry(geom)
            if g is None:
                raise SystemExit('could not simplify %s' % oid)
            precision = "outline (OSM, simplified to <= %d positions per ring)" % RING_MAX_VERTICES
        elif geom['type'] == 'Point':
            g = point_geom(*geom['coordinates'])
            precision = "site point (OSM node)"
        else:
            continue
        lon, lat = cents[oid]
        ob, iso = oblasts.lookup(lon, lat)
        if is_plant:
            name = OSM_PLANT_NAMES.get(oid) or p['station_name_en'] or translit(p['name'])
            props = {"name": name}
            osm_local_names(props, p['name'])
            props["kind"] = "plant"
            src = (p['plant:source'] or '').lower()
            props["fuel"] = src
            mw = parse_mw(p['plant:output:electricity'])
            if mw:
                props["capacity_mw"] = fnum(mw)
            if p['plant:output:electricity']:
                props["output_tag"] = p['plant:output:electricity']
            if p['plant:method']:
                props["method"] = p['plant:method']
        else:
            name = OSM_SUB_NAMES.get(oid) or sub_english_name(p['name'])
            props = {"name": name}
            osm_local_names(props, p['name'])
            props["kind"] = "substation"
            props["voltage_kv"] = fnum(max_voltage_v(p['voltage']) / 1000.0)
            props["voltage"] = p['voltage']
            if p['station_name_en']:
                props["name_osm_en"] = p['station_name_en']
        if p['operator']:
            props["operator"] = OPERATORS.get(p['operator'], p['operator'])
        if ob:
            props["oblast"] = ob
            props["oblast_iso"] = iso
        props["osm_id"] = oid
        if is_plant and oid in OSM_GPPD_LINK:
            gid = OSM_GPPD_LINK[oid]
            gr = gppd_by_id[gid]
            d = haversine_m(lon, lat, float(gr['longitude']), float(gr['latitude']))
            if d > LINK_MAX_M:
                raise SystemExit('GPPD link %s -> %s is %.0f m apart' % (oid, gid, d))
            log.append('link %-18s -> %s %6.0f m' % (oid, gid, d))
            props["gppd_idnr"] = gid
            gppd_links.setdefault(gid, []).append(oid)
        if is_plant and oid in OSM_PLANT_STATUS:
            props["status"], props["note"] = OSM_PLANT_STATUS[oid]
        elif oid in OSM_PLANT_NOTES:
            props["note"] = OSM_PLANT_NOTES[oid]
        props["precision"] = precision
        props["source"] = SRC_OSM
        feat = feature('osm:' + oid, g, props)
        (plants if is_plant else subs).append(feat)
    missing = set(OSM_GPPD_LINK) - {f['id'][4:] for f in plants}
    if missing:
        raise SystemExit('linked OSM plants not selected: %s' % sorted(missing))
    return plants, subs, gppd_links


# ---------------------------------------------------------------------------
# High-voltage lines (OSM-derived grid, c. 2016)

LINE_MAX = 50           # lines kept
LINE_VOLTAGES = (330000, 750000)
LINE_MIN_KM = 15.0      # shorter segments are station tie-ins, not lines
STATION_MATCH_M = 3000  # endpoint -> named station (OSM 2025) match radius


def clean_vertex_name(n):
    n = n.split(';')[0].strip().strip("'").strip()
    n = re.sub(r'^(ПС|Підстанція|Подстанция)\s*', '', n)
    n = re.sub(r'\d+(/\d+)*\s*к[Вв]', '', n)
    n = n.replace('"', '').replace('«', '').replace('»', '').replace('“', '').replace('”', '')
    return re.sub(r'\s+', ' ', n).strip()


SHORT_PLANT = (
    (' Nuclear Power Plant', ' NPP'),
    (' Thermal Power Plant', ' TPP'),
    (' Pumped Storage Power Plant', ' PSPP'),
    (' Hydroelectric Power Plant', ' HPP'),
)


def short_station_name(name):
    """Compact station name for line endpoints ('Kyivska-750', 'Rivne NPP')."""
    name = re.sub(r' (substation|switchyard)( \(.*\))?$', '', name)
    for long_, short in SHORT_PLANT:
        name = name.replace(long_, short)
    return name


def hv_line_features(shared, stations, national):
    with open(os.path.join(shared, 'osm_hv_grid_2016', 'hv_lines_ukraine_bbox.geojson'), encoding='utf-8') as fh:
        lines = json.load(fh)['features']
    with open(os.path.join(shared, 'osm_hv_grid_2016', 'hv_vertices_ukraine_bbox.geojson'), encoding='utf-8') as fh:
        verts = {f['properties']['v_id']: f for f in json.load(fh)['features']}

    def endpoint_name(lon, lat, vid):
        best = None
        for slon, slat, sname in stations:
            if abs(slat - lat) > 0.05 or abs(slon - lon) > 0.08:
                continue
            d = haversine_m(lon, lat, slon, slat)
            if d <= STATION_MATCH_M and (best is None or d < best[0]):
                best = (d, sname)
        if best:
            return best[1]
        v = verts.get(vid)
        if v and v['properties']['typ'] in ('substation', 'sub_station', 'station', 'plant', 'merge'):
            n = clean_vertex_name(v['properties']['name'] or '')
            if n and not is_russian(n):
                return translit(n)
        return None

    cands = []
    for f in lines:
        p = f['properties']
        if not p['in_ukraine']:
            continue
        kv = max_voltage_v(p['voltage'])
        if kv not in LINE_VOLTAGES:
            continue
        c = f['geometry']['coordinates']
        if not all(national(x, y) for x, y in c):
            continue
        km = float(p['length_m']) / 1000.0
        if km < LINE_MIN_KM:
            continue
        a = endpoint_name(c[0][0], c[0][1], p['v_id_1'])
        b = endpoint_name(c[-1][0], c[-1][1], p['v_id_2'])
        if not a or not b or a == b:
            continue
        cands.append((-kv, -km, p['l_id'], a, b, kv, km, f))
    cands.sort(key=lambda t: (t[0], t[1], t[2]))
    out = []
    seen_pairs = set()
    for _, _, lid, a, b, kv, km, f in cands:
        pair = (kv, tuple(sorted((a, b))))
        if pair in seen_pairs:
            continue  # parallel circuit of a line already kept
        seen_pairs.add(pair)
        p = f['properties']
        a_, b_ = sorted((a, b))
        props = {"name": "%s – %s %d kV line" % (a_, b_, kv // 1000), "kind": "line",
                 "voltage_kv": kv // 1000, "voltage": p['voltage'],
                 "from": a if a == a_ else b, "to": b if a == a_ else a,
                 "length_km": round(km, 1)}
        if p['cables']:
            props["cables"] = p['cables']
        if p['name'] and not p['name'].startswith('Line is'):
            props["name_osm"] = p['name'].split(';')[0]
        if p['ref']:
            props["ref"] = p['ref'].split(';')[0]
        props["grid_line_id"] = lid
        props["precision"] = ("topological: straight segment between the two stations (c. 2016), "
                              "not the tower-by-tower route")
        props["source"] = SRC_GRID
        coords = f['geometry']['coordinates']
        if a != a_:
            coords = list(reversed(coords))
        out.append(feature('grid2016:line/' + lid, line_geom(coords), props))
        if len(out) >= LINE_MAX:
            break
    return out


# ---------------------------------------------------------------------------
# Hospitals (public knowledge)
#
# Each entry: slug, English name, Ukrainian name, city, expected oblast (checked
# against geoBoundaries), lon, lat, precision, extra properties.
# Coordinates are best public knowledge; where the exact building is not known
# the precision says so honestly.

P_BLDG = "building (±150 m)"
P_SITE = "site centre (±300 m)"
P_500 = "approximate (±500 m)"
P_1K = "approximate (±1 km)"
P_2K = "approximate (±2 km)"

HOSPITALS = [
    # --- Kyiv: national and city hospitals
    ("kyiv-okhmatdyt", "Okhmatdyt National Children's Specialized Hospital",
     "Національна дитяча спеціалізована лікарня «Охматдит»", "Kyiv", "Kyiv City",
     30.4808, 50.4514, P_BLDG,
     {"address": "vul. Viacheslava Chornovola 28/1", "level": "national",
      "note": "Largest children's hospital in Ukraine; hit by a Russian missile on 8 July 2024."}),
    ("kyiv-feofaniya", "Feofaniya Clinical Hospital",
     "Клінічна лікарня «Феофанія»", "Kyiv", "Kyiv City",
     30.4873, 50.3622, P_SITE,
     {"address": "vul. Akademika Zabolotnoho 21", "level": "national",
      "operator": "State Administration of Affairs"}),
    ("kyiv-national-cancer-institute", "National Cancer Institute",
     "Національний інститут раку", "Kyiv", "Kyiv City",
     30.4880, 50.3860, P_1K,
     {"address": "vul. Yulii Zdanovskoi 33/43 (formerly Lomonosova)", "level": "national"}),
    ("kyiv-amosov-institute", "Amosov National Institute of Cardiovascular Surgery",
     "Національний інститут серцево-судинної хірургії імені М. М. Амосова", "Kyiv", "Kyiv City",
     30.4700, 50.4330, P_2K,
     {"address": "vul. Mykoly Amosova 6", "level": "national"}),
    ("kyiv-shalimov-institute", "Shalimov National Institute of Surgery and Transplantology",
     "Національний інститут хірургії та трансплантології імені О. О. Шалімова", "Kyiv", "Kyiv City",
     30.4230, 50.4270, P_1K,
     {"address": "vul. Heroiv Sevastopolia 30", "level": "national"}),
    ("kyiv-romodanov-neurosurgery", "Romodanov Institute of Neurosurgery",
     "Інститут нейрохірургії імені А. П. Ромоданова", "Kyiv", "Kyiv City",
     30.4730, 50.4640, P_1K,
     {"address": "vul. Platona Maiborody 32", "level": "national"}),
    ("kyiv-main-military-hospital", "National Military Medical Clinical Centre (Main Military Clinical Hospital)",
     "Національний військово-медичний клінічний центр «Головний військовий клінічний госпіталь»",
     "Kyiv", "Kyiv City",
     30.5325, 50.4300, P_500,
     {"address": "vul. Hospitalna 16-18 (Pechersk)", "level": "national",
      "operator": "Ministry of Defence of Ukraine"}),
    ("kyiv-oleksandrivska", "Oleksandrivska Clinical Hospital",
     "Олександрівська клінічна лікарня м. Києва", "Kyiv", "Kyiv City",
     30.5275, 50.4400, P_500,
     {"address": "vul. Shovkovychna 39/1", "level": "city"}),
    ("kyiv-regional-clinical", "Kyiv Regional Clinical Hospital",
     "Київська обласна клінічна лікарня", "Kyiv", "Kyiv City",
     30.4640, 50.4660, P_1K,
     {"address": "vul. Bahhovutivska 1", "level": "regional",
      "note": "Regional (oblast) hospital of Kyiv Oblast, located in the city of Kyiv."}),
    ("kyiv-emergency-hospital", "Kyiv City Clinical Emergency Hospital",
     "Київська міська клінічна лікарня швидкої медичної допомоги", "Kyiv", "Kyiv City",
     30.6050, 50.4920, P_2K,
     {"address": "vul. Bratyslavska 3", "level": "city"}),
    ("kyiv-heart-institute", "Heart Institute of the Ministry of Health",
     "Інститут серця МОЗ України", "Kyiv", "Kyiv City",
     30.6050, 50.4920, P_2K,
     {"address": "vul. Bratyslavska 5A", "level": "national",
      "note": "Next to the Kyiv City Clinical Emergency Hospital; same approximate point."}),
    ("kyiv-pavlov-psychiatric", "Pavlov Kyiv City Clinical Psychiatric Hospital",
     "Київська міська клінічна психоневрологічна лікарня № 1 (ім. І. П. Павлова)", "Kyiv", "Kyiv City",
     30.4710, 50.4820, P_1K,
     {"address": "vul. Kyrylivska 103 (next to St. Cyril's Church)", "level": "city"}),
    # --- Regional (oblast) clinical hospitals in the oblast centres
    ("vinnytsia-regional", "Pyrohov Vinnytsia Regional Clinical Hospital",
     "Вінницька обласна клінічна лікарня імені М. І. Пирогова", "Vinnytsia", "Vinnytsia",
     28.4790, 49.2345, P_1K, {"address": "vul. Pyrohova 46", "level": "regional"}),
    ("lutsk-regional", "Volyn Regional Clinical Hospital",
     "Волинська обласна клінічна лікарня", "Lutsk", "Volyn",
     25.3410, 50.7510, P_1K, {"address": "prosp. Prezydenta Hrushevskoho 21", "level": "regional"}),
    ("dnipro-mechnikov", "Mechnikov Dnipropetrovsk Regional Clinical Hospital",
     "Дніпропетровська обласна клінічна лікарня імені І. І. Мечникова", "Dnipro", "Dnipropetrovsk",
     35.0670, 48.4565, P_500, {"address": "pl. Soborna 14", "level": "regional"}),
    ("donetsk-kalinin-regional", "Kalinin Donetsk Regional Clinical Territorial Medical Association",
     "Донецьке обласне клінічне територіальне медичне об'єднання", "Donetsk", "Donetsk",
     37.8270, 48.0070, P_2K,
     {"address": "prosp. Illicha 14", "level": "regional",
      "note": "In Donetsk, under Russian occupation since 2014."}),
    ("zhytomyr-regional", "Herbachevsky Zhytomyr Regional Clinical Hospital",
     "Житомирська обласна клінічна лікарня імені О. Ф. Гербачевського", "Zhytomyr", "Zhytomyr",
     28.6450, 50.2620, P_2K, {"address": "vul. Chervonoho Khresta 3", "level": "regional"}),
    ("uzhhorod-regional", "Andrii Novak Zakarpattia Regional Clinical Hospital",
     "Закарпатська обласна клінічна лікарня імені Андрія Новака", "Uzhhorod", "Zakarpattia",
     22.3120, 48.6170, P_2K, {"address": "vul. Kapushanska 22", "level": "regional"}),
    ("zaporizhzhia-regional", "Zaporizhzhia Regional Clinical Hospital",
     "Запорізька обласна клінічна лікарня", "Zaporizhzhia", "Zaporizhzhia",
     35.2040, 47.8185, P_2K, {"address": "Orikhivske shose 10", "level": "regional"}),
    ("ivano-frankivsk-regional", "Ivano-Frankivsk Regional Clinical Hospital",
     "Івано-Франківська обласна клінічна лікарня", "Ivano-Frankivsk", "Ivano-Frankivsk",
     24.7290, 48.9085, P_1K, {"address": "vul. Fedkovycha 91", "level": "regional"}),
    ("kropyvnytskyi-regional", "Kirovohrad Regional Hospital",
     "Кіровоградська обласна лікарня", "Kropyvnytskyi", "Kirovohrad",
     32.2500, 48.5130, P_2K, {"level": "regional", "note": "Location known only to city-district level."}),
    ("luhansk-regional", "Luhansk Regional Clinical Hospital",
     "Луганська обласна клінічна лікарня", "Luhansk", "Luhansk",
     39.3170, 48.5670, P_2K,
     {"level": "regional", "note": "In Luhansk, under Russian occupation since 2014; "
                                   "location known only to city-district level."}),
    ("lviv-regional", "Lviv Regional Clinical Hospital",
     "Львівська обласна клінічна лікарня", "Lviv", "Lviv",
     24.0464, 49.8388, P_500, {"address": "vul. Chernihivska 7", "level": "regional"}),
    ("lviv-first-medical-union", "First Medical Union of Lviv (St. Panteleimon Hospital, Unbroken centre)",
     "Перше територіальне медичне об'єднання м. Львова", "Lviv", "Lviv",
     24.0500, 49.8600, P_2K, {"address": "vul. Mykolaichuka 9", "level": "city"}),
    ("lviv-okhmatdyt", "Western Ukrainian Specialized Children's Medical Centre (Lviv Okhmatdyt)",
     "Західноукраїнський спеціалізований дитячий медичний центр", "Lviv", "Lviv",
     24.0160, 49.8130, P_2K, {"address": "vul. Dnistrianska 27", "level": "regional"}),
    ("mykolaiv-regional", "Mykolaiv Regional Clinical Hospital",
     "Миколаївська обласна клінічна лікарня", "Mykolaiv", "Mykolaiv",
     32.0050, 46.9650, P_2K, {"level": "regional", "note": "Location known only to city-district level."}),
    ("odesa-regional", "Odesa Regional Clinical Hospital",
     "Одеська обласна клінічна лікарня", "Odesa", "Odesa",
     30.7180, 46.4050, P_2K, {"address": "vul. Akademika Zabolotnoho 26", "level": "regional"}),
    ("poltava-regional", "Sklifosovsky Poltava Regional Clinical Hospital",
     "Полтавська обласна клінічна лікарня імені М. В. Скліфосовського", "Poltava", "Poltava",
     34.5490, 49.5900, P_1K, {"address": "vul. Shevchenka 23", "level": "regional"}),
    ("rivne-regional", "Rivne Regional Clinical Hospital",
     "Рівненська обласна клінічна лікарня", "Rivne", "Rivne",
     26.2890, 50.6230, P_2K, {"address": "vul. Kyivska 78", "level": "regional"}),
    ("sumy-regional", "Sumy Regional Clinical Hospital",
     "Сумська обласна клінічна лікарня", "Sumy", "Sumy",
     34.8000, 50.9100, P_2K, {"level": "regional", "note": "Location known only to city-district level."}),
    ("ternopil-regional", "Ternopil Regional Clinical Hospital",
     "Тернопільська обласна клінічна лікарня", "Ternopil", "Ternopil",
     25.5960, 49.5530, P_1K, {"address": "vul. Kliuchkivska 6", "level": "regional"}),
    ("kharkiv-regional", "Kharkiv Regional Clinical Hospital",
     "Харківська обласна клінічна лікарня", "Kharkiv", "Kharkiv",
     36.2200, 50.0280, P_2K, {"level": "regional", "note": "Location known only to city-district level."}),
    ("kherson-regional", "Tropin Kherson Regional Clinical Hospital",
     "Херсонська обласна клінічна лікарня імені А. і О. Тропіних", "Kherson", "Kherson",
     32.5880, 46.6540, P_2K, {"level": "regional"}),
    ("khmelnytskyi-regional", "Khmelnytskyi Regional Hospital",
     "Хмельницька обласна лікарня", "Khmelnytskyi", "Khmelnytskyi",
     27.0060, 49.4370, P_2K, {"level": "regional"}),
    ("cherkasy-regional", "Cherkasy Regional Hospital",
     "Черкаська обласна лікарня", "Cherkasy", "Cherkasy",
     32.0390, 49.4290, P_2K, {"level": "regional"}),
    ("chernivtsi-regional", "Chernivtsi Regional Clinical Hospital",
     "Чернівецька обласна клінічна лікарня", "Chernivtsi", "Chernivtsi",
     25.9370, 48.2740, P_1K, {"address": "vul. Holovna 137", "level": "regional"}),
    ("chernihiv-regional", "Chernihiv Regional Hospital",
     "Чернігівська обласна лікарня", "Chernihiv", "Chernihiv",
     31.2730, 51.4930, P_2K, {"address": "vul. Volkova 25", "level": "regional"}),
    ("kyiv-childrens-clinical-1", "Kyiv City Children's Clinical Hospital No. 1",
     "Київська міська дитяча клінічна лікарня № 1", "Kyiv", "Kyiv City",
     30.5020, 50.5370, P_2K, {"address": "vul. Bohatyrska 30 (Obolon)", "level": "city"}),
    ("boiarka-kyiv-regional-childrens", "Kyiv Regional Children's Hospital (Boiarka)",
     "Київська обласна дитяча лікарня", "Boiarka", "Kyiv",
     30.2950, 50.3200, P_2K, {"level": "regional"}),
    ("kharkiv-zaitsev-institute", "Zaitsev Institute of General and Emergency Surgery",
     "Інститут загальної та невідкладної хірургії імені В. Т. Зайцева", "Kharkiv", "Kharkiv",
     36.2490, 50.0400, P_2K, {"address": "vizd Balakirieva 1", "level": "national"}),
    ("simferopol-semashko", "Semashko Republican Clinical Hospital",
     "Республіканська клінічна лікарня імені М. О. Семашка", "Simferopol", "Crimea",
     34.1090, 44.9560, P_1K,
     {"address": "vul. Kyivska 1", "level": "regional",
      "note": "In Simferopol, under Russian occupation since 2014."}),
]

# ---------------------------------------------------------------------------
# Bridges (public knowledge)
#
# Each entry: slug, English name, Ukrainian name, carries, river, city,
# expected oblast of the midpoint, [(lon, lat), ...] bank to bank, precision,
# extra properties.  Positions are best public knowledge; the precision says
# how far a position may be off.

BRIDGES = [
    # --- Kyiv, Dnipro (north to south)
    ("kyiv-pivnichnyi", "Pivnichnyi Bridge", "Північний міст", "road", "Dnipro", "Kyiv", "Kyiv City",
     [(30.5150, 50.4855), (30.5320, 50.4880)], P_500,
     {"former_name": "Moskovskyi Bridge", "opened": 1976, "structure": "cable-stayed"}),
    ("kyiv-petrivskyi-rail", "Petrivskyi Railway Bridge", "Петрівський залізничний міст", "rail",
     "Dnipro", "Kyiv", "Kyiv City",
     [(30.5180, 50.4800), (30.5330, 50.4840)], P_1K, {}),
    ("kyiv-podilskyi", "Podilskyi Bridge", "Подільський міст", "road;metro", "Dnipro", "Kyiv", "Kyiv City",
     [(30.5245, 50.4705), (30.5400, 50.4760)], P_1K,
     {"status": "under construction",
      "note": "Long-running road-and-metro arch bridge project (Podil - Voskresenka); "
              "partial opening status not tracked here."}),
    ("kyiv-metro", "Metro Bridge", "Міст Метро", "metro;road", "Dnipro", "Kyiv", "Kyiv City",
     [(30.5612, 50.4418), (30.5740, 50.4452)], P_500,
     {"opened": 1965, "note": "Carries metro line M1 (Dnipro - Hidropark) and a road deck."}),
    ("kyiv-paton", "Paton Bridge", "Міст Патона", "road", "Dnipro", "Kyiv", "Kyiv City",
     [(30.5716, 50.4246), (30.5923, 50.4298)], "approximate (±300 m)",
     {"opened": 1953, "length_m": 1543, "structure": "all-welded steel girder"}),
    ("kyiv-darnytskyi", "Darnytskyi Bridges", "Дарницькі мости", "rail;road", "Dnipro", "Kyiv", "Kyiv City",
     [(30.5700, 50.4185), (30.5900, 50.4165)], P_1K,
     {"note": "Darnytskyi railway bridge (1949) and the parallel road-rail Kirpa bridge (2011)."}),
    ("kyiv-pivdennyi", "Pivdennyi Bridge", "Південний міст", "road;metro", "Dnipro", "Kyiv", "Kyiv City",
     [(30.5610, 50.4005), (30.5785, 50.3975)], P_1K,
     {"opened": 1990, "length_m": 1256, "structure": "cable-stayed",
      "note": "Carries metro line M2 (Vydubychi - Slavutych) and the E40 road."}),
    ("kyiv-hpp-dam", "Kyiv HPP Dam Crossing (Vyshhorod)", "Дорога по греблі Київської ГЕС", "road",
     "Dnipro", "Vyshhorod", "Kyiv",
     [(30.5060, 50.5860), (30.5200, 50.5900)], P_1K,
     {"note": "Road across the Kyiv hydroelectric plant; see osm:way/246964776."}),
    # --- Dnipro city
    ("dnipro-kaidatskyi", "Kaidatskyi (Novyi) Bridge", "Кайдацький (Новий) міст", "road", "Dnipro",
     "Dnipro", "Dnipropetrovsk",
     [(34.9900, 48.4800), (34.9990, 48.4990)], P_1K, {}),
    ("dnipro-amurskyi", "Amurskyi Bridge", "Амурський міст", "rail;road", "Dnipro", "Dnipro", "Dnipropetrovsk",
     [(35.0100, 48.4770), (35.0180, 48.4930)], P_1K, {}),
    ("dnipro-merefo-khersonskyi", "Merefo-Khersonskyi Railway Bridge", "Мерефо-Херсонський міст", "rail",
     "Dnipro", "Dnipro", "Dnipropetrovsk",
     [(35.0420, 48.4690), (35.0520, 48.4830)], P_1K, {}),
    ("dnipro-tsentralnyi", "Tsentralnyi Bridge", "Центральний міст", "road", "Dnipro", "Dnipro",
     "Dnipropetrovsk",
     [(35.0560, 48.4610), (35.0700, 48.4780)], P_1K, {"opened": 1966}),
    ("dnipro-pivdennyi", "Pivdennyi Bridge (Dnipro)", "Південний міст (Дніпро)", "road", "Dnipro",
     "Dnipro", "Dnipropetrovsk",
     [(35.0904, 48.4095), (35.1068, 48.4127)], "approximate (±300 m)",
     {"opened": 2000, "length_m": 1248}),
    # --- Zaporizhzhia
    ("zaporizhzhia-dniprohes-dam", "DniproHES Dam Crossing", "Дорога по греблі ДніпроГЕС", "road",
     "Dnipro", "Zaporizhzhia", "Zaporizhzhia",
     [(35.0790, 47.8692), (35.0840, 47.8697), (35.0880, 47.8688), (35.0905, 47.8668), (35.0925, 47.8660)],
     "approximate (±200 m)",
     {"note": "Road across the DniproHES dam; alignment traced along the OSM outline osm:way/113308943 "
              "(© OpenStreetMap contributors, ODbL 1.0)."}),
    ("zaporizhzhia-preobrazhensky-novyi", "Preobrazhensky Bridge (Novyi Dnipro channel)",
     "Преображенський міст (через Новий Дніпро)", "road", "Dnipro (Novyi Dnipro channel)", "Zaporizhzhia",
     "Zaporizhzhia",
     [(35.0960, 47.8480), (35.0830, 47.8455)], P_1K,
     {"note": "City (left bank) to Khortytsia island."}),
    ("zaporizhzhia-preobrazhensky-staryi", "Preobrazhensky Arch Bridge (Staryi Dnipro channel)",
     "Арочний Преображенський міст (через Старий Дніпро)", "road", "Dnipro (Staryi Dnipro channel)",
     "Zaporizhzhia", "Zaporizhzhia",
     [(35.0580, 47.8490), (35.0440, 47.8510)], P_1K,
     {"note": "Khortytsia island to the right bank."}),
    # --- Kamianske, Kremenchuk, Cherkasy, Kaniv (Dnipro dams and bridges)
    ("kamianske-hpp-dam", "Middle Dnipro HPP Dam Crossing (Kamianske)",
     "Дорога по греблі Середньодніпровської ГЕС", "road", "Dnipro", "Kamianske", "Dnipropetrovsk",
     [(34.5400, 48.5430), (34.5430, 48.5560)], P_1K,
     {"note": "Road across the Middle Dnipro hydroelectric plant; see osm:way/150158208."}),
    ("kremenchuk-kriukivskyi", "Kriukivskyi Bridge", "Крюківський міст", "road;rail", "Dnipro",
     "Kremenchuk", "Poltava",
     [(33.4180, 49.0590), (33.4260, 49.0700)], P_1K,
     {"opened": 1949, "structure": "two-deck road-rail"}),
    ("kremenchuk-hpp-dam", "Kremenchuk HPP Dam Crossing (Svitlovodsk)", "Дорога по греблі Кременчуцької ГЕС",
     "road", "Dnipro", "Svitlovodsk", "Kirovohrad",
     [(33.2496, 49.0830), (33.2514, 49.0720)], P_500,
     {"note": "Road across the Kremenchuk hydroelectric plant; aligned with the OSM outline of the "
              "powerhouse, osm:way/259242291 (© OpenStreetMap contributors, ODbL 1.0)."}),
    ("cherkasy-dam-crossing", "Cherkasy Dam Crossing", "Черкаська дамба і міст", "road;rail", "Dnipro",
     "Cherkasy", "Cherkasy",
     [(32.1050, 49.4500), (32.1800, 49.5200)], P_2K,
     {"note": "Road-rail crossing of the Kremenchuk reservoir on a long dam with bridges, "
              "from Cherkasy to the left bank; drawn as a straight approximation."}),
    ("kaniv-hpp-dam", "Kaniv HPP Dam Crossing", "Дорога по греблі Канівської ГЕС", "road", "Dnipro",
     "Kaniv", "Cherkasy",
     [(31.4660, 49.7620), (31.4780, 49.7700)], P_1K,
     {"note": "Road across the Kaniv hydroelectric plant; see osm:way/73199860."}),
    # --- Kherson oblast
    ("kherson-antonivskyi-road", "Antonivskyi Road Bridge", "Антонівський автомобільний міст", "road",
     "Dnipro", "Kherson", "Kherson",
     [(32.7120, 46.6780), (32.7250, 46.6660)], P_1K,
     {"opened": 1985, "status": "destroyed",
      "note": "Spans blown up in November 2022 during the Russian withdrawal from Kherson (public knowledge)."}),
    ("nova-kakhovka-hpp-dam", "Kakhovka HPP Dam Crossing", "Дорога по греблі Каховської ГЕС", "road",
     "Dnipro", "Nova Kakhovka", "Kherson",
     [(33.3560, 46.7880), (33.3700, 46.7770)], P_1K,
     {"status": "destroyed", "note": "Dam destroyed on 6 June 2023 (public knowledge); "
                                     "see osm:relation/7317657."}),
    # --- Southern Bug, Dniester, Desna
    ("mykolaiv-varvarivskyi", "Varvarivskyi Bridge", "Варварівський міст", "road", "Southern Bug",
     "Mykolaiv", "Mykolaiv",
     [(31.9550, 46.9720), (31.9720, 46.9750)], P_1K, {"opened": 1964, "structure": "swing bridge"}),
    ("zatoka-dniester-estuary", "Zatoka Bridge", "Затоківський міст", "road;rail", "Dniester Estuary",
     "Zatoka", "Odesa",
     [(30.4640, 46.0760), (30.4680, 46.0790)], P_500,
     {"structure": "bascule bridge",
      "note": "Key road-rail link to the Budjak (Odesa oblast south-west of the Dniester Estuary); "
              "struck repeatedly in 2022 (public knowledge)."}),
    ("chernihiv-desna-road", "Desna Road Bridge (Chernihiv, Kyiv highway)", "Міст через Десну (Чернігів)",
     "road", "Desna", "Chernihiv", "Chernihiv",
     [(31.3170, 51.4700), (31.3210, 51.4620)], P_1K,
     {"status": "destroyed",
      "note": "The road bridge on the Kyiv highway south of Chernihiv was destroyed in March 2022 "
              "(public knowledge); replacement status not tracked here."}),
]

# Bridges that cross at a power-plant dam: the crossing must lie near the plant outline.
DAM_PLANT = {
    'kyiv-hpp-dam': 'way/246964776',
    'zaporizhzhia-dniprohes-dam': 'way/113308943',
    'kamianske-hpp-dam': 'way/150158208',
    'kremenchuk-hpp-dam': 'way/259242291',
    'kaniv-hpp-dam': 'way/73199860',
    'nova-kakhovka-hpp-dam': 'relation/7317657',
}
DAM_MAX_M = 2000


def hospital_features(oblasts, log):
    feats = []
    for slug, name, name_uk, city, exp_ob, lon, lat, prec, extra in HOSPITALS:
        ob, iso = oblasts.lookup(lon, lat)
        if ob != exp_ob:
            raise SystemExit('hospital %s falls in %s, expected %s' % (slug, ob, exp_ob))
        props = {"name": name, "name_uk": name_uk, "kind": "hospital", "city": city}
        for k in ("level", "address", "operator"):
            if k in extra:
                props[k] = extra[k]
        props["oblast"] = ob
        props["oblast_iso"] = iso
        if "note" in extra:
            props["note"] = extra["note"]
        props["precision"] = prec
        props["source"] = SRC_HOSP
        feats.append(feature('hosp:' + slug, point_geom(lon, lat), props))
    return feats


def bridge_features(oblasts, plant_centres, log):
    feats = []
    for slug, name, name_uk, carries, river, city, exp_ob, coords, prec, extra in BRIDGES:
        mx = sum(c[0] for c in coords) / len(coords)
        my = sum(c[1] for c in coords) / len(coords)
        ob, iso = oblasts.lookup(mx, my)
        if ob != exp_ob:
            raise SystemExit('bridge %s midpoint falls in %s, expected %s' % (slug, ob, exp_ob))
        if slug in DAM_PLANT:
            plon, plat = plant_centres[DAM_PLANT[slug]]
            d = haversine_m(mx, my, plon, plat)
            log.append('dam  %-28s %5.0f m from %s' % (slug, d, DAM_PLANT[slug]))
            if d > DAM_MAX_M:
                raise SystemExit('dam crossing %s is %.0f m from its plant' % (slug, d))
        span = sum(haversine_m(*coords[i], *coords[i + 1]) for i in range(len(coords) - 1))
        props = {"name": name, "name_uk": name_uk, "kind": "bridge", "carries": carries,
                 "river": river, "city": city, "oblast": ob, "oblast_iso": iso}
        for k in ("opened", "length_m", "structure", "former_name", "status", "note"):
            if k in extra:
                props[k] = extra[k]
        props["drawn_length_m"] = int(round(span, -1))
        props["precision"] = prec
        props["source"] = SRC_BRIDGE
        feats.append(feature('bridge:' + slug, line_geom(coords), props))
    return feats


# ---------------------------------------------------------------------------
# Basemap: topology-preserving Douglas-Peucker of the geoBoundaries ADM1 oblasts


def build_basemap(shared, log):
    with open(os.path.join(shared, 'boundaries', 'geoBoundaries-UKR-ADM1_simplified.geojson'),
              encoding='utf-8') as fh:
        fc = json.load(fh)
    # rings: list of (feature index, polygon index, ring index, [vertices without closing])
    rings = []
    for fi, f in enumerate(fc['features']):
        for pi, poly in enumerate(geom_polygons(f['geometry'])):
            for ri, ring in enumerate(poly):
                pts = [(float(x), float(y)) for x, y in ring]
                if pts[0] == pts[-1]:
                    pts = pts[:-1]
                # drop consecutive duplicates
                clean = [pts[0]]
                for p in pts[1:]:
                    if p != clean[-1]:
                        clean.append(p)
                if clean[0] == clean[-1]:
                    clean.pop()
                rings.append((fi, pi, ri, clean))

    # Which rings use each segment.
    seg_rings = {}
    vert_rings = {}
    for k, (_, _, _, pts) in enumerate(rings):
        n = len(pts)
        for i in range(n):
            a, b = pts[i], pts[(i + 1) % n]
            seg_rings.setdefault(frozenset((a, b)), set()).add(k)
            vert_rings.setdefault(a, set()).add(k)

    # Split every ring into arcs at nodes (where the set of neighbouring rings changes).
    ring_arcs = []
    for k, (_, _, _, pts) in enumerate(rings):
        n = len(pts)
        nodes = []
        for i in range(n):
            prev_s = seg_rings[frozenset((pts[i - 1], pts[i]))]
            next_s = seg_rings[frozenset((pts[i], pts[(i + 1) % n]))]
            if prev_s != next_s or len(vert_rings[pts[i]]) > max(len(prev_s), len(next_s)):
                nodes.append(i)
        if not nodes:
            ring_arcs.append(None)  # closed arc, simplified as a whole ring
            continue
        arcs = []
        for j, s in enumerate(nodes):
            e = nodes[(j + 1) % len(nodes)]
            if e > s:
                arc = pts[s:e + 1]
            else:
                arc = pts[s:] + pts[:e + 1]
            arcs.append(arc)
        ring_arcs.append(arcs)

    def canon(arc):
        t = tuple(arc)
        r = tuple(reversed(arc))
        return min(t, r)

    arc_tol = {}
    closed_tol = {}

    def simplify_arc(arc):
        c = canon(arc)
        tol = arc_tol.get(c, BASEMAP_TOL)
        kept = [c[i] for i in dp_keep(list(c), tol)]
        if tuple(arc) != c:
            kept = list(reversed(kept))
        return kept

    def build_rings():
        out = []
        for k, (_, _, _, pts) in enumerate(rings):
            arcs = ring_arcs[k]
            if arcs is None:
                key = canon(pts)
                tol = closed_tol.get(key, BASEMAP_TOL)
                r = dp_closed(pts, tol)
            else:
                r = []
                for arc in arcs:
                    s = simplify_arc(arc)
                    r.extend(s[:-1])
            out.append(round_ring(close_ring(r), ND_BASEMAP))
        return out

    def tighten(k):
        arcs = ring_arcs[k]
        if arcs is None:
            key = canon(rings[k][3])
            closed_tol[key] = closed_tol.get(key, BASEMAP_TOL) / 2
        else:
            for arc in arcs:
                c = canon(arc)
                arc_tol[c] = arc_tol.get(c, BASEMAP_TOL) / 2

    for it in range(30):
        out = build_rings()
        bad = set()
        for k, r in enumerate(out):
            if len(r) < 4 or not ring_is_simple(r):
                bad.add(k)
        bad |= crossing_rings(out)
        if not bad:
            break
        log.append('basemap pass %d: tightening %d ring(s)' % (it, len(bad)))
        for k in sorted(bad):
            tighten(k)
    else:
        raise SystemExit('basemap simplification did not converge')

    # Reassemble features.
    feats = []
    nverts = 0
    for fi, f in enumerate(fc['features']):
        polys = {}
        for k, (rfi, pi, ri, _) in enumerate(rings):
            if rfi == fi:
                r = orient_ring(out[k], ri == 0)
                polys.setdefault(pi, []).append((ri, r))
                nverts += len(r)
        coords = [[r for _, r in sorted(polys[pi])] for pi in sorted(polys)]
        if len(coords) == 1:
            g = {"type": "Polygon", "coordinates": coords[0]}
        else:
            g = {"type": "MultiPolygon", "coordinates": coords}
        p = f['properties']
        props = {"name": p['shapeName'], "iso": p['shapeISO'], "kind": "oblast",
                 "source": SRC_GEOB}
        feats.append(feature('adm1:' + p['shapeISO'], g, props))
    feats.sort(key=lambda f: f['id'])
    log.append('basemap: %d features, %d positions (source %d)' % (
        len(feats), nverts, sum(len(r[3]) + 1 for r in rings)))
    return feats


def crossing_rings(rings_out, cell=0.05):
    """Indices of rings whose segments properly cross a segment of any ring."""
    grid = {}
    segs = []
    for k, r in enumerate(rings_out):
        for i in range(len(r) - 1):
            a, b = tuple(r[i]), tuple(r[i + 1])
            sid = len(segs)
            segs.append((k, a, b))
            x0, x1 = sorted((a[0], b[0]))
            y0, y1 = sorted((a[1], b[1]))
            for gx in range(int(math.floor(x0 / cell)), int(math.floor(x1 / cell)) + 1):
                for gy in range(int(math.floor(y0 / cell)), int(math.floor(y1 / cell)) + 1):
                    grid.setdefault((gx, gy), []).append(sid)
    bad = set()
    seen = set()
    for ids in grid.values():
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                s1, s2 = ids[i], ids[j]
                if (s1, s2) in seen:
                    continue
                seen.add((s1, s2))
                k1, a1, b1 = segs[s1]
                k2, a2, b2 = segs[s2]
                if segments_cross_properly(a1, b1, a2, b2):
                    bad.add(k1)
                    bad.add(k2)
    return bad


# ---------------------------------------------------------------------------
# Output


def feature(fid, geom, props):
    return {"type": "Feature", "id": fid, "geometry": geom, "properties": props}


def dump_fc(feats):
    lines = ['{"type":"FeatureCollection","features":[']
    for i, f in enumerate(feats):
        s = json.dumps(f, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
        lines.append(s + (',' if i < len(feats) - 1 else ''))
    lines.append(']}')
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------
# Validation of the written collections


def validate_fc(text, name, need_precision):
    fc = json.loads(text)
    assert fc['type'] == 'FeatureCollection', name
    ids = set()
    for f in fc['features']:
        fid = f.get('id')
        assert isinstance(fid, str) and fid, (name, 'id', fid)
        assert fid not in ids, (name, 'duplicate id', fid)
        ids.add(fid)
        p = f['properties']
        for k in ('name', 'kind', 'source'):
            assert isinstance(p.get(k), str) and p[k], (name, fid, k)
        if need_precision:
            assert isinstance(p.get('precision'), str) and p['precision'], (name, fid, 'precision')
        validate_geometry(f['geometry'], name + ' ' + fid)
    return fc


def _pos_ok(c, where):
    assert isinstance(c, list) and len(c) == 2, where
    x, y = c
    assert isinstance(x, (int, float)) and isinstance(y, (int, float)), where
    assert math.isfinite(x) and math.isfinite(y), where
    assert -180 <= x <= 180 and -90 <= y <= 90, where
    assert round(x, 6) == x and round(y, 6) == y, (where, 'more than 6 decimals')


def validate_geometry(g, where):
    t = g['type']
    if t == 'Point':
        _pos_ok(g['coordinates'], where)
    elif t == 'LineString':
        assert len(g['coordinates']) >= 2, where
        for c in g['coordinates']:
            _pos_ok(c, where)
    elif t in ('Polygon', 'MultiPolygon'):
        polys = [g['coordinates']] if t == 'Polygon' else g['coordinates']
        assert polys, where
        for poly in polys:
            assert poly, where
            for ri, ring in enumerate(poly):
                assert len(ring) >= 4, (where, 'ring < 4 positions')
                assert ring[0] == ring[-1], (where, 'ring not closed')
                for c in ring:
                    _pos_ok(c, where)
                assert ring_is_simple(ring), (where, 'ring self-intersects')
                a = ring_signed_area(ring)
                assert (a > 0) == (ri == 0), (where, 'winding')
            for h in poly[1:]:
                assert not rings_intersect(poly[0], h), (where, 'hole touches shell')
                assert point_in_ring(h[0][0], h[0][1], poly[0]), (where, 'hole outside shell')
        for i in range(len(polys)):
            for j in range(i + 1, len(polys)):
                for r1 in polys[i]:
                    for r2 in polys[j]:
                        for a in range(len(r1) - 1):
                            for b in range(len(r2) - 1):
                                assert not segments_cross_properly(r1[a], r1[a + 1], r2[b], r2[b + 1]), \
                                    (where, 'polygon parts cross')
    else:
        raise AssertionError((where, 'geometry type', t))


# ---------------------------------------------------------------------------


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    data_dir = os.path.dirname(here)
    repo = os.path.dirname(data_dir)
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('shared', nargs='?', default=os.path.join(repo, '..', 'shared', 'data'),
                    help='shared data folder (default: ../shared/data from the repo root)')
    ap.add_argument('--out', default=data_dir, help='output folder (default: data/)')
    ap.add_argument('--check', action='store_true', help='compare with the files on disk; write nothing')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args(argv)
    shared = os.path.normpath(args.shared)
    log = []

    oblasts = OblastIndex(os.path.join(shared, 'boundaries', 'geoBoundaries-UKR-ADM1.geojson'))
    with open(os.path.join(shared, 'boundaries', 'ukraine_adm0_dissolved_from_geoBoundaries_ADM1.geojson'),
              encoding='utf-8') as fh:
        adm0 = geom_polygons(json.load(fh)['features'][0]['geometry'])

    def national(lon, lat):
        return any(point_in_polygon(lon, lat, p) for p in adm0)

    # Energy
    gppd_rows = load_gppd(shared)
    gppd_by_id = {r['gppd_idnr']: r for r in gppd_rows}
    osm_feats, cents = load_osm_stations(shared)
    plants, subs, links = osm_features(osm_feats, cents, gppd_by_id, oblasts, log)
    gppd = gppd_features(gppd_rows, links, oblasts)
    stations = []
    for f in plants + subs:
        oid = f['properties']['osm_id']
        lon, lat = cents[oid]
        stations.append((lon, lat, short_station_name(f['properties']['name'])))
    # also named lower-voltage substations (not in the layer), so that line ends can be named
    for f in osm_feats:
        p = f['properties']
        if not p['name'] or p['power'] != 'substation' or select_osm_substation(p) or is_russian(p['name']):
            continue
        lon, lat = cents['%s/%d' % (p['osm_type'], p['osm_id'])]
        stations.append((lon, lat, short_station_name(sub_english_name(p['name']))))
    lines = hv_line_features(shared, stations, national)

    order = {'plant': 0, 'substation': 1, 'line': 2}
    energy = sorted(gppd + plants + subs + lines,
                    key=lambda f: (order[f['properties']['kind']], f['id'].split(':')[0],
                                   natural_key(f['id'])))
    hospitals = sorted(hospital_features(oblasts, log), key=lambda f: f['id'])
    plant_centres = {f['properties']['osm_id']: cents[f['properties']['osm_id']] for f in plants}
    bridges = sorted(bridge_features(oblasts, plant_centres, log), key=lambda f: f['id'])
    basemap = build_basemap(shared, log)

    outputs = {
        'energy.geojson': (dump_fc(energy), False),
        'hospitals.geojson': (dump_fc(hospitals), True),
        'bridges.geojson': (dump_fc(bridges), True),
        os.path.join('basemap', 'ukraine.geojson'): (dump_fc(basemap), False),
    }
    for rel, (text, need_prec) in outputs.items():
        validate_fc(text, rel, need_prec)

    status = 0
    for rel, (text, _) in outputs.items():
        path = os.path.join(args.out, rel)
        data = text.encode('utf-8')
        if args.check:
            try:
                with open(path, 'rb') as fh:
                    same = fh.read() == data
            except OSError:
                same = False
            print('%-26s %s' % (rel, 'ok' if same else 'DIFFERS'))
            status |= 0 if same else 1
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as fh:
                fh.write(data)
            print('%-26s %8d bytes  %4d features' % (rel, len(data), len(json.loads(text)['features'])))
    if args.verbose:
        for line in log:
            print(line)
    return status


def natural_key(s):
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', s)]


if __name__ == '__main__':
    sys.exit(main())
