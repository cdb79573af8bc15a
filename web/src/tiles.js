// A large layer drawn from the server's Mapbox Vector Tiles: each tile is
// fetched once, decoded and drawn onto a canvas with the same symbols and
// styles as the GeoJSON overlays, and kept for finding the site under a click.
import L from 'leaflet';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { kindOf, colourOf, pathStyle, stampSymbol, SYMBOL_RADIUS } from './symbols.js';

/** PANE holds the tiled layers: above the basemap, beneath the check and the sites drawn one by one. */
const PANE = 'sitetiles';
/** LINE_HIT_PX is the width within which a click finds a line. */
const LINE_HIT_PX = 8;

// One small context serves every hit test: paths carry their own coordinates.
let probe = null;
function hitContext() {
  probe ??= document.createElement('canvas').getContext('2d');
  return probe;
}

/**
 * SiteTiles draws a collection from /collections/{id}/tiles. Options:
 * collection (its id), paletteIndex, api (requests count as busy),
 * onChange() when the features drawn change, and onError(err) when a tile
 * fails. drawn() counts the features on the tiles in view; siteAt(latlng)
 * finds the one under a point.
 */
export const SiteTiles = L.GridLayer.extend({
  options: { pane: PANE, updateWhenZooming: false, keepBuffer: 1, collection: '', paletteIndex: 0, api: null, onChange: () => {}, onError: () => {} },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    // Per tile key: {features, controller}.
    this.tiles = new Map();
    this.on('tileunload', (e) => {
      const key = this._tileCoordsToKey(e.coords);
      this.tiles.get(key)?.controller.abort();
      this.tiles.delete(key);
      this.options.onChange();
    });
  },

  onAdd(map) {
    if (!map.getPane(PANE)) map.createPane(PANE).style.zIndex = 300;
    L.GridLayer.prototype.onAdd.call(this, map);
  },

  createTile(coords, done) {
    const size = this.getTileSize();
    const ratio = window.devicePixelRatio || 1;
    const canvas = L.DomUtil.create('canvas', 'pm-tile');
    canvas.width = size.x * ratio;
    canvas.height = size.y * ratio;
    const key = this._tileCoordsToKey(coords);
    const entry = { features: [], controller: new AbortController() };
    this.tiles.set(key, entry);
    const id = encodeURIComponent(this.options.collection);
    this.options.api.bytes(`/collections/${id}/tiles/${coords.z}/${coords.x}/${coords.y}.mvt`, entry.controller.signal).then(
      (bytes) => {
        if (bytes) entry.features = this.draw(canvas, ratio, size.x, bytes);
        this.options.onChange();
        done(null, canvas);
      },
      (err) => {
        // An aborted tile was unloaded: nobody waits for it.
        if (err.name === 'AbortError') return;
        this.options.onError(err);
        done(err, canvas);
      },
    );
    return canvas;
  },

  // draw paints a tile's features and returns them as hit targets in tile pixels.
  draw(canvas, ratio, sizePx, bytes) {
    const layer = new VectorTile(new PbfReader(bytes)).layers[this.options.collection];
    if (!layer) return [];
    const ctx = canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    const scale = sizePx / layer.extent;
    const features = [];
    const points = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const props = f.properties;
      const kind = kindOf({ properties: props });
      // An aggregate of sites (at low zoom over a dense layer) has no id.
      const target = { id: typeof props.id === 'string' ? props.id : null, kind, type: f.type };
      const rings = f.loadGeometry();
      if (f.type === 1) {
        for (const ring of rings) for (const p of ring) points.push({ ...target, x: p.x * scale, y: p.y * scale });
        continue;
      }
      const path = new Path2D();
      for (const ring of rings) {
        ring.forEach((p, k) => (k === 0 ? path.moveTo(p.x * scale, p.y * scale) : path.lineTo(p.x * scale, p.y * scale)));
        if (f.type === 3) path.closePath();
      }
      stroke(ctx, path, f.type, pathStyle(kind, this.options.paletteIndex));
      features.push({ ...target, path });
    }
    // Symbols go over lines and outlines, as on the GeoJSON layers.
    for (const p of points) stampSymbol(ctx, p.x, p.y, p.kind, colourOf(p.kind, this.options.paletteIndex));
    return features.concat(points);
  },

  /** drawn counts the features on the loaded tiles; one near a tile's edge is on both tiles. */
  drawn() {
    let n = 0;
    for (const t of this.tiles.values()) n += t.features.length;
    return n;
  },

  /** siteAt is the feature drawn under latlng on the tiles in view (the topmost), or null. */
  siteAt(latlng) {
    const zoom = this._tileZoom;
    if (zoom === undefined) return null;
    const size = this.getTileSize();
    const p = this._map.project(latlng, zoom);
    const coords = L.point(Math.floor(p.x / size.x), Math.floor(p.y / size.y));
    coords.z = zoom;
    const entry = this.tiles.get(this._tileCoordsToKey(coords));
    if (!entry) return null;
    const x = p.x - coords.x * size.x;
    const y = p.y - coords.y * size.y;
    const ctx = hitContext();
    ctx.lineWidth = LINE_HIT_PX;
    for (let i = entry.features.length - 1; i >= 0; i--) {
      const f = entry.features[i];
      const hit =
        f.type === 1 ? Math.hypot(f.x - x, f.y - y) <= SYMBOL_RADIUS : f.type === 3 ? ctx.isPointInPath(f.path, x, y, 'evenodd') : ctx.isPointInStroke(f.path, x, y);
      if (hit) return f;
    }
    return null;
  },
});

// stroke draws a line (type 2) or outline (type 3) in a Leaflet path style.
function stroke(ctx, path, type, style) {
  if (type === 3) {
    ctx.globalAlpha = style.fillOpacity ?? 0.2;
    ctx.fillStyle = style.fillColor ?? style.color;
    ctx.fill(path, 'evenodd');
  }
  ctx.globalAlpha = style.opacity ?? 1;
  ctx.strokeStyle = style.color;
  ctx.lineWidth = style.weight ?? 2;
  ctx.lineCap = style.lineCap ?? 'round';
  ctx.lineJoin = 'round';
  ctx.stroke(path);
  ctx.globalAlpha = 1;
}
