#!/usr/bin/env python3
"""Derive protectmap's embedded default layers (data/*.geojson).

Usage (from the repository root):

    python3 data/build/build.py [SHARED_DATA_DIR] [--out DATA_DIR] [--check]

SHARED_DATA_DIR defaults to ../shared/data relative to the repository root
(the folder described by its README.md); DATA_DIR defaults to the repository's
data/ folder.  With --check nothing is written: the freshly built files are
compared with the committed ones and the exit status is 1 if any differs.

The binary embeds a gzip copy of each layer file and of the basemap
(EMBEDDED_GZIP, e.g. energy.geojson.gz), written after the files themselves;
--check also proves each copy holds exactly its file.  After editing a file
the build does not make (zones.geojson), run with --gzip-only to refresh the
copies without the shared data.

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
Committed beside this script (CC0, so its rows may be copied):
  wikidata_hospitals_ukraine.tsv   the rows of Wikidata's hospitals query result
      with a point in the box lon 22..40.5, lat 44..52.5
The hospital and bridge lists are embedded below (public knowledge).
"""

import argparse
import csv
import gzip
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


# ---------------------------------------------------------------------------
# Energy layer: one feature per site, every source of its facts cited.
#
# energy_class is the documented vocabulary of the layer (SOURCES.md); agreement
# scopes select on it, so the names are stable.

ENERGY_CLASSES = (
    'power_plant', 'nuclear_plant', 'hydro_dam', 'substation', 'transmission_line',
    'oil_refinery', 'oil_gas_pipeline', 'oil_gas_storage', 'pumping_station',
)
CLASS_KIND = {
    'power_plant': 'plant', 'nuclear_plant': 'plant', 'hydro_dam': 'plant',
    'substation': 'substation', 'transmission_line': 'line',
    'oil_refinery': 'refinery', 'oil_gas_pipeline': 'pipeline', 'oil_gas_storage': 'storage',
    'pumping_station': 'pumping_station',
}

LIC_OSM = "ODbL-1.0"
LIC_CCBY = "CC-BY-4.0"
SRC_GEM = {
    'gogpt': "Global Energy Monitor, Global Oil and Gas Plant Tracker (2024-08 file; CC BY 4.0)",
    'gnpt': "Global Energy Monitor, Global Nuclear Power Tracker (2024-07 file; CC BY 4.0)",
    'ghpt': "Global Energy Monitor, Global Hydropower Tracker (May 2024; CC BY 4.0)",
    'ggit': "Global Energy Monitor, Global Gas Infrastructure Tracker (2024-10 file; CC BY 4.0)",
    'goit': "Global Energy Monitor, Global Oil Infrastructure Tracker (2024-06 file; CC BY 4.0)",
}
SRC_SCIGRID = "SciGRID_gas IGGIELGN (DLR, doi:10.5281/zenodo.4767098; CC BY 4.0)"

# A GEM or GPPD site point joins a plant outline that contains it or whose
# representative point is this close; a plant point of another source this
# close is the same site too. Candidates up to NEAR_MISS_M away that were not
# joined are reported as near misses.
CONFLATE_M = 1500
NEAR_MISS_M = 5000

# GPPD records whose point lies on another plant's site: joined to the outline
# their name and capacity belong to, as their notes say.
GPPD_FORCE_LINK = {'WRI1005125': 'relation/6674937'}
# GPPD records never joined automatically (notes say why).
GPPD_NO_LINK = {'WRI1005108', 'WRI1005115'}

# Statuses of GEM units that stand on the ground (the others were never built).
BUILT = {'operating', 'mothballed', 'retired', 'idle'}

PRECISION_OUTLINE = "outline (OSM, simplified to <= %d positions per ring)" % RING_MAX_VERTICES


def licences(*lics):
    return '; '.join(sorted(set(lics)))


def energy_class_for(fuel, dam):
    """Class of a generating site: nuclear first, then a hydro plant a dam tracker lists."""
    if 'nuclear' in fuel:
        return 'nuclear_plant'
    if dam:
        return 'hydro_dam'
    return 'power_plant'


def area_m2(g):
    """Approximate area of a (Multi)Polygon in m2 (equirectangular at its latitude)."""
    tot = 0.0
    for p in geom_polygons(g):
        lat = p[0][0][1]
        k = 111320.0 * 111320.0 * math.cos(math.radians(lat))
        tot += (abs(ring_signed_area(p[0])) - sum(abs(ring_signed_area(h)) for h in p[1:])) * k
    return tot


def in_area(lon, lat, g):
    return any(point_in_polygon(lon, lat, p) for p in geom_polygons(g))


class Site:
    """One energy site being assembled from several sources."""

    def __init__(self, fid, geom, lon, lat, props, sources, lics):
        self.id, self.geom, self.lon, self.lat = fid, geom, lon, lat
        self.props = props
        self.sources = list(sources)
        self.lics = list(lics)
        self.area = geom['type'] in ('Polygon', 'MultiPolygon')

    def cite(self, source, lic):
        if source not in self.sources:
            self.sources.append(source)
        self.lics.append(lic)

    def add_list(self, key, value):
        old = self.props.get(key)
        vals = old.split(';') if old else []
        if value not in vals:
            vals.append(value)
        self.props[key] = ';'.join(vals)

    def distance_m(self, lon, lat):
        if self.area and in_area(lon, lat, self.geom):
            return 0.0
        return haversine_m(lon, lat, self.lon, self.lat)


def nearest_site(sites, lon, lat, ok):
    """Sites within NEAR_MISS_M of (lon, lat) that ok() accepts, nearest first."""
    found = []
    for s in sites:
        if abs(s.lat - lat) > 0.1 or abs(s.lon - lon) > 0.15:
            continue
        d = s.distance_m(lon, lat)
        if d <= NEAR_MISS_M and ok(s):
            found.append((d, s.id, s))
    found.sort(key=lambda t: (t[0], t[1]))
    return [(d, s) for d, _, s in found]


def conflate(sites, item, lon, lat, ok, log):
    """The site item (a source record) belongs to, or None; logs the merge and near misses."""
    cands = nearest_site(sites, lon, lat, ok)
    target = cands[0][1] if cands and cands[0][0] <= CONFLATE_M else None
    if target is not None:
        log.append('merge     %-28s -> %-22s %5.0f m' % (item, target.id, cands[0][0]))
    for d, s in cands:
        if s is not target:
            log.append('near-miss %-28s .. %-22s %5.0f m (not merged)' % (item, s.id, d))
    return target


def fuel_compatible(site_fuel, fuel):
    if not site_fuel or site_fuel == 'unknown':
        return True
    thermal = ('coal', 'gas', 'oil', 'biomass', 'waste')
    if fuel in thermal:
        return any(t in site_fuel for t in thermal)
    return fuel in site_fuel


def osm_plant_name(oid, p):
    if oid in OSM_PLANT_NAMES:
        return OSM_PLANT_NAMES[oid], OSM_PLANT_NAMES[oid]
    if p['station_name_en']:
        return p['station_name_en'], p['station_name_en']
    if p['name']:
        return translit(p['name']), None
    fuel = (p['plant:source'] or 'power').split(';')[0]
    return 'Unnamed %s plant (OSM %s)' % (fuel, oid), None


def osm_sub_name(oid, p):
    if oid in OSM_SUB_NAMES:
        return OSM_SUB_NAMES[oid], OSM_SUB_NAMES[oid]
    if p['name']:
        en = p['station_name_en'] or None
        return sub_english_name(p['name']), en
    kv = max_voltage_v(p['voltage'])
    volt = '%d kV ' % (kv // 1000) if kv and kv >= 1000 else ''
    return 'Unnamed %ssubstation (OSM %s)' % (volt, oid), None


def osm_sites(feats, cents, oblasts, log):
    """Every plant and transmission substation of the OSM export, as Sites.

    An outline whose representative point lies inside a larger outline of the
    same kind depicts the same site: it is merged into that one."""
    plants, subs = [], []
    for f in feats:
        p = f['properties']
        oid = '%s/%d' % (p['osm_type'], p['osm_id'])
        is_plant = p['power'] == 'plant'
        geom = f['geometry']
        lon, lat = cents[oid]
        if geom['type'] in ('Polygon', 'MultiPolygon'):
            g = simplify_area_geometry(geom)
            if g is None:
                raise SystemExit('could not simplify %s' % oid)
            precision = PRECISION_OUTLINE
        elif geom['type'] == 'Point':
            g = point_geom(*geom['coordinates'])
            precision = "site point (OSM node)"
        else:
            # An unclosed plant outline: its representative point stands for it.
            g = point_geom(lon, lat)
            precision = "site point (representative point of an unclosed OSM way)"
        if is_plant:
            name, name_en = osm_plant_name(oid, p)
        else:
            name, name_en = osm_sub_name(oid, p)
        props = {"name": name}
        if name_en:
            props["name_en"] = name_en
        if p['name']:
            osm_local_names(props, p['name'])
        if is_plant:
            fuel = (p['plant:source'] or '').lower() or 'unknown'
            props["fuel"] = fuel
            mw = parse_mw(p['plant:output:electricity'])
            if mw:
                props["capacity_mw"] = fnum(mw)
            if p['plant:output:electricity']:
                props["output_tag"] = p['plant:output:electricity']
            if p['plant:method']:
                props["method"] = p['plant:method']
        else:
            kv = max_voltage_v(p['voltage'])
            if kv:
                props["voltage_kv"] = fnum(kv / 1000.0)
            if p['voltage']:
                props["voltage"] = p['voltage']
            if p['substation']:
                props["substation"] = p['substation']
        if p['operator']:
            props["operator"] = OPERATORS.get(p['operator'], p['operator'])
        props["osm_id"] = oid
        if is_plant and oid in OSM_PLANT_STATUS:
            props["status"], props["note"] = OSM_PLANT_STATUS[oid]
        elif oid in OSM_PLANT_NOTES:
            props["note"] = OSM_PLANT_NOTES[oid]
        props["precision"] = precision
        site = Site('osm:' + oid, g, lon, lat, props, [SRC_OSM], [LIC_OSM])
        site.area_m2 = area_m2(g) if site.area else 0.0
        (plants if is_plant else subs).append(site)
    return merge_nested(plants, log), merge_nested(subs, log)


def merge_nested(sites, log):
    """Drop each site whose point lies in a larger outline of the same kind, noting it there."""
    by_size = sorted(sites, key=lambda s: (-s.area_m2, s.id))
    kept = []
    for s in by_size:
        host = None
        for k in kept:
            if k.area and abs(k.lat - s.lat) < 0.1 and abs(k.lon - s.lon) < 0.15 and in_area(s.lon, s.lat, k.geom):
                host = k
                break
        if host is None:
            kept.append(s)
            continue
        log.append('merge     %-28s -> %-22s (inside its outline)' % (s.id, host.id))
        host.add_list("osm_id", s.props["osm_id"])
        for key in ('capacity_mw', 'name_uk', 'name_ru', 'name_en'):
            if key in s.props and key not in host.props:
                host.props[key] = s.props[key]
    return kept


def gppd_merge(rows, plants, log):
    """Join each GPPD record to its OSM outline, or keep it as a point site.

    Records that share one location (Perovo and Perovo I-V) are one site."""
    by_osm = {}
    for oid, gid in OSM_GPPD_LINK.items():
        by_osm.setdefault(gid, []).append('osm:' + oid)
    index = {s.id: s for s in plants}
    points = []
    for r in sorted(rows, key=lambda r: r['gppd_idnr']):
        gid = r['gppd_idnr']
        lon, lat = float(r['longitude']), float(r['latitude'])
        fuel = r['primary_fuel'].strip().lower()
        target = None
        if gid in GPPD_FORCE_LINK:
            target = index['osm:' + GPPD_FORCE_LINK[gid]]
            log.append('merge     gppd:%-23s -> %-22s (by name; see note)' % (gid, target.id))
        elif gid in by_osm:
            hosts = [index[i] for i in by_osm[gid] if i in index]
            target = hosts[0]
            d = target.distance_m(lon, lat)
            if d > LINK_MAX_M:
                raise SystemExit('GPPD link %s -> %s is %.0f m apart' % (target.id, gid, d))
            log.append('merge     gppd:%-23s -> %-22s %5.0f m (listed link)' % (gid, target.id, d))
        elif gid not in GPPD_NO_LINK:
            target = conflate(plants + points, 'gppd:' + gid, lon, lat,
                              lambda s: fuel_compatible(s.props.get('fuel', ''), fuel), log)
        cap = fnum(float(r['capacity_mw']))
        if target is None:
            name = GPPD_NAMES.get(gid) or (r['name'] + (' solar park' if fuel == 'solar' else ''))
            props = {"name": name, "fuel": fuel, "capacity_mw": cap}
            if name != r['name']:
                props["name_en"] = name
            props["precision"] = "site point (GPPD geolocation, typically within ~1 km)"
            site = Site('gppd:' + gid, point_geom(lon, lat), lon, lat, props, [SRC_GPPD], [LIC_CCBY])
            site.area_m2 = 0.0
            points.append(site)
            target = site
        else:
            target.cite(SRC_GPPD, LIC_CCBY)
            if 'capacity_mw' not in target.props:
                target.props['capacity_mw'] = cap
        target.add_list('gppd_idnr', gid)
        target.add_list('gppd_name', r['name'])
        if len(target.props['gppd_idnr'].split(';')) > 1 and target.id.startswith('gppd:'):
            target.props['capacity_mw'] = fnum(target.props['capacity_mw'] + cap)
        target.props.setdefault('gppd_capacity_mw', 0)
        target.props['gppd_capacity_mw'] = fnum(target.props['gppd_capacity_mw'] + cap)
        if r['commissioning_year'].strip() and 'commissioning_year' not in target.props:
            target.props["commissioning_year"] = fnum(float(r['commissioning_year']))
        if r['owner'].strip() and 'owner' not in target.props:
            target.props["owner"] = r['owner'].strip()
        if gid in GPPD_STATUS and 'status' not in target.props:
            target.props["status"] = GPPD_STATUS[gid]
        if gid in GPPD_NOTES:
            target.props["note"] = (target.props["note"] + ' ' if "note" in target.props else '') + GPPD_NOTES[gid]
        target.props['dam'] = target.props.get('dam') or (fuel == 'hydro')
    return points


def read_csv(path, delimiter=','):
    with open(path, encoding='utf-8', newline='') as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def slug(s):
    s = re.sub(r'[^a-z0-9]+', '-', translit(s).lower())
    return s.strip('-')


def gem_plant_merge(shared, plants, points, log):
    """Join GEM plant units (oil/gas, nuclear, hydro) to their sites; new sites for the rest."""
    gem = os.path.join(shared, 'gem_ukraine_energy')
    groups = []   # (tracker, key, name, name_local, fuel, lon, lat, units)
    by = {}
    for r in read_csv(os.path.join(gem, 'gogpt_oil_gas_power_units_ukraine.csv')):
        k = ('gogpt', r['project'])
        by.setdefault(k, []).append((r['unit'], r['status'], float(r['capacity']), r, float(r['lng']), float(r['lat'])))
    for r in read_csv(os.path.join(gem, 'gnpt_nuclear_units_ukraine.csv')):
        k = ('gnpt', r['GEM location ID'])
        by.setdefault(k, []).append((r['Unit Name'], r['Status'], float(r['Capacity (MW)']), r,
                                     float(r['Longitude']), float(r['Latitude'])))
    for r in read_csv(os.path.join(gem, 'ghpt_hydropower_ukraine.csv')):
        k = ('ghpt', r['gem_location_id'])
        by.setdefault(k, []).append((r['gem_unit_id'], r['status'], float(r['capacity_(mw)']), r,
                                     float(r['lng']), float(r['lat'])))
    new = []
    for (tracker, key), units in sorted(by.items()):
        built = [u for u in units if u[1] in BUILT]
        r0 = units[0][3]
        if tracker == 'gogpt':
            name, local, fuel, gid = r0['project'], None, 'gas', 'gem:gogpt/' + slug(r0['project'])
        elif tracker == 'gnpt':
            name, local, fuel, gid = r0['Project Name'], r0['Project Name in Local Language / Script'] or None, 'nuclear', 'gem:' + key
        else:
            name, local, fuel, gid = r0['project_name'], r0['project_name_(local_lang/script)'] or None, 'hydro', 'gem:' + key
        if not built:
            log.append('skip      %-28s %s: no unit built (%s)' % (gid, name, ', '.join(sorted({u[1] for u in units}))))
            continue
        lon, lat = built[0][4], built[0][5]
        mw = fnum(sum(u[2] for u in built))
        statuses = ';'.join(sorted({u[1] for u in built}))
        # A pumped-storage plant and the dam plant beside it are two sites.
        psp = tracker == 'ghpt' and 'pumped' in built[0][3]['technology_type']
        target = conflate(plants + points + new, gid, lon, lat,
                          lambda s: fuel_compatible(s.props.get('fuel', ''), fuel) and (
                              tracker != 'ghpt' or ('Pumped' in s.props['name']) == psp), log)
        if target is None:
            props = {"name": name, "name_en": name, "fuel": fuel, "capacity_mw": mw}
            if local:
                osm_local_names(props, local)
            props["precision"] = "site point (GEM location, accuracy as GEM states)"
            target = Site(gid, point_geom(lon, lat), lon, lat, props, [SRC_GEM[tracker]], [LIC_CCBY])
            target.area_m2 = 0.0
            new.append(target)
        else:
            target.cite(SRC_GEM[tracker], LIC_CCBY)
            if 'capacity_mw' not in target.props:
                target.props['capacity_mw'] = mw
            if local and 'name_uk' not in target.props and 'name_ru' not in target.props:
                osm_local_names(target.props, local)
        target.add_list('gem_id', gid)
        target.props['gem_capacity_mw'] = fnum(target.props.get('gem_capacity_mw', 0) + mw)
        target.add_list('gem_status', statuses)
        if tracker == 'ghpt':
            target.props['dam'] = True
    return new


def pipeline_features(shared, national_clip, log):
    gem = os.path.join(shared, 'gem_ukraine_energy')
    feats = []
    items = []
    with open(os.path.join(gem, 'ggit_gas_pipelines_lng_ukraine.geojson'), encoding='utf-8') as fh:
        for f in json.load(fh)['features']:
            p = f['properties']
            if p['tracker-acro'] != 'GGIT' or not f['geometry']:
                continue
            name = p['name'] + (' (%s)' % p['unit-name'] if p.get('unit-name') else '')
            items.append(('gem:' + p['id'], name, 'gas', p['status'], p.get('owner') or '', p.get('capacity') or '',
                          p.get('start-year') or '', p.get('url') or '', 'ggit', f['geometry']))
    with open(os.path.join(gem, 'goit_oil_pipelines_ukraine.geojson'), encoding='utf-8') as fh:
        for f in json.load(fh)['features']:
            p = f['properties']
            if not f['geometry']:
                continue
            name = p['project'] + (' (%s)' % p['unit'] if p.get('unit') else '')
            items.append(('gem:goit/' + slug(name), name, 'oil', p['status'], p.get('parent') or '',
                          p.get('capacity') or '', p.get('start_year') or '', p.get('url') or '', 'goit',
                          f['geometry']))
    for fid, name, fuel, status, owner, cap, start, url, tracker, g in items:
        if status not in BUILT:
            log.append('skip      %-28s %s: %s' % (fid, name, status))
            continue
        lines = [g['coordinates']] if g['type'] == 'LineString' else g['coordinates']
        parts = []
        for ln in lines:
            parts.extend(national_clip(ln))
        if not parts:
            log.append('skip      %-28s %s: no part inside Ukraine' % (fid, name))
            continue
        props = {"name": name, "name_en": name, "fuel": fuel, "status": status}
        if owner:
            props["owner"] = owner
        if cap:
            props["capacity"] = str(cap)
        if start:
            props["start_year"] = str(start)
        if url:
            props["url"] = url
        props["precision"] = ("route as GEM draws it (often straight hops between towns), "
                              "clipped to Ukraine's outline; not the buried pipe's exact line")
        feats.append(line_site(fid, parts, props, 'oil_gas_pipeline', [SRC_GEM[tracker]], [LIC_CCBY]))
    return feats


def line_site(fid, parts, props, cls, sources, lics):
    """A line feature: LineString or MultiLineString, oblast of its middle position."""
    if len(parts) == 1:
        g = line_geom(parts[0])
    else:
        g = {"type": "MultiLineString", "coordinates": [[[rnd(x), rnd(y)] for x, y in p] for p in parts]}
    # The oblast is looked up at the middle of the longest part's middle
    # segment: a vertex may lie on the border the line was clipped at.
    longest = max(parts, key=len)
    i = (len(longest) - 1) // 2
    mx, my = ((longest[i][0] + longest[i + 1][0]) / 2, (longest[i][1] + longest[i + 1][1]) / 2)
    s = Site(fid, g, mx, my, props, sources, lics)
    s.cls = cls
    return s


def scigrid_features(shared, log):
    d = os.path.join(shared, 'scigrid_gas_ukraine')
    out = []
    storages = {r['id']: r for r in read_csv(os.path.join(d, 'IGGIELGN_Storages_UA.csv'), ';')}
    # Two named storages sit far from the fields they name; SciGRID's unnamed
    # placeholders lie on those fields, so the named records take their places.
    relocate = {'IGU_SR_140': ('Stor_NonEU17', "Hlibovske storage is in Crimea; SciGRID_gas places 'Glebovka' "
                                               "north of Kyiv, so the point of its placeholder Stor_NonEU17 is used."),
                'GIE_SR_136': ('Stor_NonEU9', "Chervonopartyzanske storage is in Chernihiv oblast; SciGRID_gas "
                                              "places it near Dnipro, so the point of its placeholder Stor_NonEU9 is used.")}
    used = {v[0] for v in relocate.values()}
    for sid, r in sorted(storages.items()):
        if sid in used:
            continue
        lon, lat = float(r['long']), float(r['lat'])
        props = {}
        if sid.startswith('Stor_'):
            props["name"] = "Underground gas storage (unnamed in SciGRID_gas, %s)" % sid
        else:
            nm = re.sub(r'^UGS\s+', '', r['name'])
            props["name"] = nm + " underground gas storage"
            props["name_en"] = props["name"]
        if sid in relocate:
            ph, note = relocate[sid]
            lon, lat = float(storages[ph]['long']), float(storages[ph]['lat'])
            props["note"] = note
            props["scigrid_placeholder"] = ph
        props["fuel"] = "gas"
        props["scigrid_id"] = sid
        props["precision"] = "site point (SciGRID_gas, often town-level; see note)"
        out.append(point_site('scigrid:' + sid, lon, lat, props, 'oil_gas_storage', SRC_SCIGRID, LIC_CCBY))
    for r in read_csv(os.path.join(d, 'IGGIELGN_Compressors_UA.csv'), ';'):
        lon, lat = float(r['long']), float(r['lat'])
        props = {"name": r['name'] + " gas compressor station", "fuel": "gas", "scigrid_id": r['id'],
                 "precision": "site point (SciGRID_gas, often town-level)"}
        props["name_en"] = props["name"]
        out.append(point_site('scigrid:' + r['id'], lon, lat, props, 'pumping_station', SRC_SCIGRID, LIC_CCBY))
    return out


def point_site(fid, lon, lat, props, cls, source, lic):
    s = Site(fid, point_geom(lon, lat), lon, lat, props, [source], [lic])
    s.cls = cls
    return s


# ---------------------------------------------------------------------------
# High-voltage lines (OSM-derived grid, c. 2016)

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


def hv_line_features(shared, stations, national_clip, log):
    """Every line of the 2016 grid that runs in Ukraine, clipped to its outline.

    Circuits drawn on the same two end points at the same voltage are one line
    feature (their count in `circuits`)."""
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

    groups = {}
    for f in lines:
        p = f['properties']
        if not p['in_ukraine']:
            continue
        c = f['geometry']['coordinates']
        key = (p['voltage'], tuple(sorted((tuple(c[0]), tuple(c[-1])))), len(c))
        groups.setdefault(key, []).append(f)
    out = []
    for key, fs in groups.items():
        fs.sort(key=lambda f: int(f['properties']['l_id']))
        f = fs[0]
        p = f['properties']
        c = f['geometry']['coordinates']
        parts = national_clip(c)
        if not parts:
            log.append('skip      grid2016:line/%-17s touches Ukraine only at its border' % p['l_id'])
            continue
        kv = max_voltage_v(p['voltage'])
        a = endpoint_name(c[0][0], c[0][1], p['v_id_1'])
        b = endpoint_name(c[-1][0], c[-1][1], p['v_id_2'])
        volt = '%d kV ' % (kv // 1000) if kv else ''
        if a and b and a != b:
            a_, b_ = sorted((a, b))
            name = "%s – %s %sline" % (a_, b_, volt)
        elif a or b:
            name = "%sline from %s" % (volt, a or b)
            name = name[0].upper() + name[1:]
        else:
            name = "%sline (grid 2016 %s)" % (volt, p['l_id'])
            name = name[0].upper() + name[1:]
        props = {"name": name}
        if kv:
            props["voltage_kv"] = kv // 1000
        if p['voltage']:
            props["voltage"] = p['voltage']
        if a:
            props["from"] = a
        if b:
            props["to"] = b
        props["length_km"] = round(float(p['length_m']) / 1000.0, 1)
        if len(fs) > 1:
            props["circuits"] = len(fs)
            props["grid_line_ids"] = ';'.join(x['properties']['l_id'] for x in fs)
        if p['cables']:
            props["cables"] = p['cables']
        if p['name'] and not p['name'].startswith('Line is'):
            props["name_osm"] = p['name'].split(';')[0]
        if p['ref']:
            props["ref"] = p['ref'].split(';')[0]
        if len(parts) > 1 or parts[0] != c:
            props["clipped"] = "clipped to Ukraine's outline"
        props["grid_line_id"] = p['l_id']
        props["precision"] = ("topological: straight segments between stations (c. 2016), "
                              "not the tower-by-tower route")
        out.append(line_site('grid2016:line/' + p['l_id'], parts, props, 'transmission_line',
                             [SRC_GRID], [LIC_OSM]))
    return out


def line_clipper(adm0_polys, inside):
    """national_clip(coords): the runs of a line inside the national outline."""
    cell = 0.1
    grid = {}
    for poly in adm0_polys:
        for ring in poly:
            for i in range(len(ring) - 1):
                a, b = ring[i], ring[i + 1]
                for gx in range(int(math.floor(min(a[0], b[0]) / cell)), int(math.floor(max(a[0], b[0]) / cell)) + 1):
                    for gy in range(int(math.floor(min(a[1], b[1]) / cell)), int(math.floor(max(a[1], b[1]) / cell)) + 1):
                        grid.setdefault((gx, gy), []).append((a, b))

    def cuts(p, q):
        ts = set()
        seen = set()
        for gx in range(int(math.floor(min(p[0], q[0]) / cell)), int(math.floor(max(p[0], q[0]) / cell)) + 1):
            for gy in range(int(math.floor(min(p[1], q[1]) / cell)), int(math.floor(max(p[1], q[1]) / cell)) + 1):
                for a, b in grid.get((gx, gy), ()):
                    if (a[0], a[1], b[0], b[1]) in seen:
                        continue
                    seen.add((a[0], a[1], b[0], b[1]))
                    rx, ry = q[0] - p[0], q[1] - p[1]
                    sx, sy = b[0] - a[0], b[1] - a[1]
                    den = rx * sy - ry * sx
                    if den == 0:
                        continue
                    t = ((a[0] - p[0]) * sy - (a[1] - p[1]) * sx) / den
                    u = ((a[0] - p[0]) * ry - (a[1] - p[1]) * rx) / den
                    if 0 < t < 1 and 0 <= u <= 1:
                        ts.add(t)
        return sorted(ts)

    def clip(coords):
        runs, cur = [], []
        for i in range(len(coords) - 1):
            p, q = coords[i], coords[i + 1]
            ts = [0.0] + cuts(p, q) + [1.0]
            for t0, t1 in zip(ts, ts[1:]):
                a = (p[0] + (q[0] - p[0]) * t0, p[1] + (q[1] - p[1]) * t0)
                b = (p[0] + (q[0] - p[0]) * t1, p[1] + (q[1] - p[1]) * t1)
                m = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                if inside(*m):
                    if not cur:
                        cur = [a]
                    cur.append(b)
                elif cur:
                    runs.append(cur)
                    cur = []
        if cur:
            runs.append(cur)
        out = []
        for r in runs:
            pts = []
            for x, y in r:
                pt = [rnd(x), rnd(y)]
                if not pts or pts[-1] != pt:
                    pts.append(pt)
            if len(pts) >= 2:
                out.append(pts)
        if len(out) == 1 and len(out[0]) == len(coords) and all(
                out[0][i] == [rnd(coords[i][0]), rnd(coords[i][1])] for i in range(len(coords))):
            return [coords]
        return out
    return clip


def energy_features(shared, oblasts, adm0, national, log):
    """The energy layer: sites of every class, each once, sorted by class then id."""
    gppd_rows = load_gppd(shared)
    osm_feats, cents = load_osm_stations(shared)
    plants, subs = osm_sites(osm_feats, cents, oblasts, log)
    points = gppd_merge(gppd_rows, plants, log)
    points += gem_plant_merge(shared, plants, points, log)
    for s in plants + points:
        s.cls = energy_class_for(s.props.get('fuel', ''), s.props.pop('dam', False))
    for s in subs:
        s.cls = 'substation'
    clip = line_clipper(adm0, national)
    stations = []
    for s in plants + subs:
        if s.props.get('name_uk') or s.props.get('name_ru') or s.props.get('name_en'):
            stations.append((s.lon, s.lat, short_station_name(s.props['name'])))
    lines = hv_line_features(shared, stations, clip, log)
    other = pipeline_features(shared, clip, log) + scigrid_features(shared, log)
    sites = plants + points + subs + lines + other
    order = {c: i for i, c in enumerate(ENERGY_CLASSES)}
    out = []
    for s in sites:
        props = {"name": s.props.pop("name")}
        for k in ('name_en', 'name_uk', 'name_ru'):
            if k in s.props:
                props[k] = s.props.pop(k)
        props["kind"] = CLASS_KIND[s.cls]
        props["energy_class"] = s.cls
        props.update(s.props)
        ob, iso = oblasts.lookup(s.lon, s.lat)
        if ob:
            props["oblast"] = ob
            props["oblast_iso"] = iso
        props["source"] = '; '.join(s.sources)
        props["licence"] = licences(*s.lics)
        out.append(feature(s.id, s.geom, props))
    out.sort(key=lambda f: (order[f['properties']['energy_class']], f['id'].split(':')[0], natural_key(f['id'])))
    check_one_site(out)
    return out, cents


def check_one_site(feats):
    """Stop if a point site lies inside an outline of the same class: that would be one site twice."""
    outlines = [f for f in feats if f['geometry']['type'] in ('Polygon', 'MultiPolygon')]
    for f in feats:
        if f['geometry']['type'] != 'Point':
            continue
        x, y = f['geometry']['coordinates']
        for o in outlines:
            if o['properties']['kind'] == f['properties']['kind'] and in_area(x, y, o['geometry']):
                raise SystemExit('%s lies inside %s of the same kind' % (f['id'], o['id']))



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


# Wikidata hospitals (items that are hospitals or of a subclass, with
# coordinates): the query result committed to fititnt/sdm-test-data as
# d/hospital.001.wikidata.tsv (commit c64bd08e, 2024-08-08; CC0). Its rows
# with a point in the box lon 22..40.5, lat 44..52.5, unchanged, are
# committed beside this script (WD_HOSP_FILE), so the layer is built and
# checked from the repository alone. Rows inside the national outline are
# read; the labels are in the first of pt, en, de, fr, ru, es, ja, zh, ar
# Wikidata had, or the bare QID when none (no Ukrainian).
WD_HOSP_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'wikidata_hospitals_ukraine.tsv')
SRC_WD_HOSP = ('Wikidata (CC0), hospitals query of 2024-08-08 '
               '(fititnt/sdm-test-data d/hospital.001.wikidata.tsv); coordinates as Wikidata gives them')
# WD_HOSP_SAME: items that are a hospital of the curated list (the curated
# feature cites the item in `wikidata`; its point stays).
WD_HOSP_SAME = {
    'Q4139188': 'kyiv-main-military-hospital', 'Q4315004': 'kyiv-amosov-institute',
    'Q4329288': 'dnipro-mechnikov', 'Q5443718': 'kyiv-feofaniya', 'Q12101998': 'donetsk-kalinin-regional',
    'Q12135624': 'kyiv-oleksandrivska', 'Q12136978': 'kyiv-okhmatdyt', 'Q12167195': 'kherson-regional',
    'Q21296139': 'ternopil-regional', 'Q25434928': 'kyiv-emergency-hospital',
    'Q28705739': 'kyiv-pavlov-psychiatric', 'Q77751362': 'simferopol-semashko',
}
# WD_HOSP_SKIP: items left out, and why.
WD_HOSP_SKIP = {
    'Q4505859': 'a listed building ("Circular enclosure"), not a hospital now',
    'Q9352179': 'the historic St Lazarus hospital buildings in Lviv',
    'Q55658223': 'a listed building named by its address (Simferopol)',
    'Q64555509': 'a listed hospital building complex (Hoholiv)',
    'Q72166896': 'a listed building named by its address (Kyiv)',
    'Q110319271': 'a listed building of a city hospital (Chernihiv)',
    'Q4403623': 'the same site as Q50035647 (Kharkiv Regional Clinical Psychiatric Hospital No. 3), 60 m apart',
}
# WD_HOSP_NAME: English names for items whose label is in another language
# (the label is kept as name_ru where it is Russian).
WD_HOSP_NAME = {
    'Q4061407': 'Oleksandrivska Hospital (Kharkiv)',
    'Q4498465': 'Khmelnytskyi Oblast Psychiatric Hospital No. 1',
    'Q12134304': 'Novi Sanzhary Medical Centre',
    'Q16722558': 'Central Hospital of the Security Service of Ukraine',
    'Q4145415': 'Sevastopol City Hospital No. 1',
}


def wikidata_hospital_features(oblasts, national, curated, log):
    """Named Wikidata hospitals in Ukraine not in the curated list; the
    curated features of WD_HOSP_SAME gain their item's id."""
    path = WD_HOSP_FILE
    by_slug = {f['id'][len('hosp:'):]: f for f in curated}
    feats, seen, unnamed = [], set(), 0
    with open(path, encoding='utf-8', newline='') as fh:
        for row in csv.DictReader(fh, delimiter='\t'):
            m = re.match(r'Point\(([-\d.eE]+) ([-\d.eE]+)\)$', row['geo'])
            qid = row['item'].rsplit('/', 1)[-1]
            if not m or qid in seen:
                continue
            lon, lat = round(float(m.group(1)), 6), round(float(m.group(2)), 6)
            if not national(lon, lat):
                continue
            seen.add(qid)
            label = row['itemLabel']
            if qid in WD_HOSP_SAME:
                by_slug[WD_HOSP_SAME[qid]]['properties']['wikidata'] = qid
                continue
            if qid in WD_HOSP_SKIP:
                log.append('wikidata %s left out: %s' % (qid, WD_HOSP_SKIP[qid]))
                continue
            if label == qid:
                unnamed += 1
                continue
            props = {"name": WD_HOSP_NAME.get(qid, label)}
            if re.search('[\u0400-\u04ff]', label):
                props["name_ru"] = label
            ob, iso = oblasts.lookup(lon, lat)
            props.update({"kind": "hospital", "wikidata": qid, "oblast": ob, "oblast_iso": iso,
                          "precision": "as Wikidata gives it (building or site, not checked here)",
                          "source": SRC_WD_HOSP, "licence": "CC0-1.0"})
            feats.append(feature('wikidata:' + qid, point_geom(lon, lat), props))
    for qid in sorted(set(WD_HOSP_SAME) | set(WD_HOSP_SKIP) | set(WD_HOSP_NAME)):
        if qid not in seen:
            raise SystemExit('wikidata hospital %s is listed in the script but not in %s' % (qid, path))
    log.append('wikidata hospitals: %d added, %d cited by curated ones, %d left out, %d unnamed items not used' % (
        len(feats), len(WD_HOSP_SAME), len(WD_HOSP_SKIP), unnamed))
    return feats


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
        if 'energy_class' in p:
            assert p['energy_class'] in ENERGY_CLASSES, (name, fid, 'energy_class')
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
    elif t in ('LineString', 'MultiLineString'):
        for line in [g['coordinates']] if t == 'LineString' else g['coordinates']:
            assert len(line) >= 2, where
            for c in line:
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
    ap.add_argument('--gzip-only', action='store_true',
                    help='only write (with --check: verify) the gzip copies the binary embeds')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args(argv)
    if args.gzip_only:
        return gzip_embedded(args.out, args.check)
    shared = os.path.normpath(args.shared)
    log = []

    oblasts = OblastIndex(os.path.join(shared, 'boundaries', 'geoBoundaries-UKR-ADM1.geojson'))
    with open(os.path.join(shared, 'boundaries', 'ukraine_adm0_dissolved_from_geoBoundaries_ADM1.geojson'),
              encoding='utf-8') as fh:
        adm0 = geom_polygons(json.load(fh)['features'][0]['geometry'])

    def national(lon, lat):
        return any(point_in_polygon(lon, lat, p) for p in adm0)

    # Energy
    energy, cents = energy_features(shared, oblasts, adm0, national, log)
    hospitals = hospital_features(oblasts, log)
    wd_hospitals = wikidata_hospital_features(oblasts, national, hospitals, log)
    hospitals = sorted(hospitals + wd_hospitals, key=lambda f: f['id'])
    plant_centres = {oid: cents[oid] for oid in DAM_PLANT.values()}
    bridges = sorted(bridge_features(oblasts, plant_centres, log), key=lambda f: f['id'])
    basemap = build_basemap(shared, log)

    outputs = {
        'energy.geojson': (dump_fc(energy), True),
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
    status |= gzip_embedded(args.out, args.check)
    if args.verbose:
        for line in log:
            print(line)
    return status


# EMBEDDED_GZIP are the files data.go embeds as FILE.gz and decompresses at
# start: the layers the build makes, the hand-drawn zones, and the basemap.
EMBEDDED_GZIP = ['energy.geojson', 'hospitals.geojson', 'bridges.geojson', 'zones.geojson',
                 os.path.join('basemap', 'ukraine.geojson')]


def gzip_embedded(data_dir, check):
    """Write (or, with check, verify) FILE.gz beside each EMBEDDED_GZIP file.

    The copies are deterministic (no name, mtime 0, level 9); the check
    compares what a copy decompresses to, so a different zlib still passes.
    Returns 1 if a copy is missing or differs under check, else 0.
    """
    status = 0
    for rel in EMBEDDED_GZIP:
        path = os.path.join(data_dir, rel)
        with open(path, 'rb') as fh:
            data = fh.read()
        if check:
            try:
                with open(path + '.gz', 'rb') as fh:
                    same = gzip.decompress(fh.read()) == data
            except (OSError, EOFError):
                same = False
            print('%-26s %s' % (rel + '.gz', 'ok' if same else 'DIFFERS'))
            status |= 0 if same else 1
            continue
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        with open(path + '.gz', 'wb') as fh:
            fh.write(packed)
        print('%-26s %8d bytes  (%.0f %% of %d)' % (rel + '.gz', len(packed), 100 * len(packed) / len(data), len(data)))
    return status


def natural_key(s):
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', s)]


if __name__ == '__main__':
    sys.exit(main())
