// How each kind of site looks: its symbol, drawn on the map's canvas (and in
// the legend by the same code), and the style of its lines and outlines.
import L from 'leaflet';

/** PALETTE colours the sites of kinds the map has no symbol for, one colour per collection. */
const PALETTE = ['#2563eb', '#db2777', '#0e7490', '#65a30d', '#c026d3', '#ea580c', '#475569', '#0891b2'];

const KINDS = {
  plant: { symbol: '#f59e0b', path: { color: '#b45309', fillColor: '#f59e0b', weight: 2, fillOpacity: 0.45 } },
  substation: { symbol: '#7c3aed', path: { color: '#5b21b6', fillColor: '#8b5cf6', weight: 2, fillOpacity: 0.4 } },
  line: { symbol: '#9333ea', path: { color: '#9333ea', weight: 2.5, opacity: 0.85 } },
  hospital: { symbol: '#dc2626', path: { color: '#b91c1c', fillColor: '#fecaca', weight: 2, fillOpacity: 0.6 } },
  bridge: { symbol: '#0e7490', path: { color: '#0e7490', weight: 6, opacity: 0.9, lineCap: 'butt' } },
};

/** kindOf is the feature's kind when the map has a symbol for it, else "other". */
export function kindOf(feature) {
  const kind = feature.properties?.kind;
  return typeof kind === 'string' && Object.hasOwn(KINDS, kind) ? kind : 'other';
}

/** colourOf is the colour of a kind's symbol; sites of other kinds take their collection's palette colour. */
export function colourOf(kind, paletteIndex) {
  return KINDS[kind]?.symbol ?? PALETTE[paletteIndex % PALETTE.length];
}

/**
 * pathStyle is the Leaflet path style of a site's lines and outlines.
 * className names the collection, so what each layer drew can be counted.
 */
export function pathStyle(kind, paletteIndex, className) {
  const colour = colourOf(kind, paletteIndex);
  const base = KINDS[kind]?.path ?? { color: colour, fillColor: colour, weight: 2, fillOpacity: 0.35 };
  return { ...base, className, bubblingMouseEvents: false };
}

/** SYMBOL_RADIUS is a symbol's half width in CSS pixels, and the radius a click or tap finds it in. */
export const SYMBOL_RADIUS = 7;

/**
 * drawSymbol draws kind's symbol centred on (x, y): a circle for a plant
 * (and other kinds), a square for a substation, a diamond for a line or a
 * bridge drawn as a point, and a red cross on white for a hospital; each
 * ringed in white and dark grey so it reads on any basemap.
 */
export function drawSymbol(ctx, x, y, kind, colour) {
  const r = SYMBOL_RADIUS - 1;
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
  ctx.beginPath();
  switch (kind) {
    case 'substation':
    case 'hospital':
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
      break;
    case 'line':
    case 'bridge':
      ctx.moveTo(x, y - r - 1);
      ctx.lineTo(x + r + 1, y);
      ctx.lineTo(x, y + r + 1);
      ctx.lineTo(x - r - 1, y);
      ctx.closePath();
      break;
    default:
      ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  ctx.lineJoin = 'round';
  ctx.lineWidth = 4;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.stroke();
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#fff';
  ctx.stroke();
  ctx.fillStyle = kind === 'hospital' ? '#fff' : colour;
  ctx.fill();
  if (kind === 'hospital') {
    ctx.fillStyle = colour;
    ctx.fillRect(x - r + 1.5, y - 1.5, 2 * r - 3, 3);
    ctx.fillRect(x - 1.5, y - r + 1.5, 3, 2 * r - 3);
  }
}

/** SYMBOL_SIZE is the width of a symbol's canvas, its ring included, in CSS pixels. */
const SYMBOL_SIZE = 2 * SYMBOL_RADIUS + 6;

/** symbolCanvas is a small canvas showing kind's symbol, for the legend and the layer list. */
export function symbolCanvas(kind, colour) {
  const { canvas, ctx } = smallCanvas(SYMBOL_SIZE, SYMBOL_SIZE);
  drawSymbol(ctx, SYMBOL_SIZE / 2, SYMBOL_SIZE / 2, kind, colour);
  return canvas;
}

// Each symbol is drawn once and then copied: a copy costs a fraction of
// stroking and filling its outline, which matters at thousands per frame.
const sprites = new Map();

function sprite(kind, colour) {
  const key = `${kind} ${colour}`;
  let s = sprites.get(key);
  if (!s) {
    s = symbolCanvas(kind, colour);
    sprites.set(key, s);
  }
  return s;
}

/** stampSymbol draws kind's symbol centred on (x, y) by copying its sprite. */
export function stampSymbol(ctx, x, y, kind, colour) {
  const half = SYMBOL_SIZE / 2;
  ctx.globalAlpha = 1;
  ctx.drawImage(sprite(kind, colour), x - half, y - half, SYMBOL_SIZE, SYMBOL_SIZE);
}

/**
 * SiteMarker is a site drawn as its symbol on the map's canvas. Thousands
 * of them pan smoothly where as many DOM markers would not. It is a
 * CircleMarker (so clustering, popups and hit testing work as for one)
 * whose canvas drawing is the symbol; options.kind and options.colour
 * choose it.
 */
export const SiteMarker = L.CircleMarker.extend({
  options: { radius: SYMBOL_RADIUS, kind: 'other', colour: PALETTE[0] },

  // CircleMarker hands its drawing to the renderer's _updateCircle; this
  // mirrors that method's guard (Leaflet 1.9) and draws the symbol instead.
  _updatePath() {
    const renderer = this._renderer;
    if (!renderer._drawing || this._empty()) return;
    stampSymbol(renderer._ctx, this._point.x, this._point.y, this.options.kind, this.options.colour);
  },
});

/** lineCanvas is a short stretch of kind's line as the map draws it, for the legend. */
export function lineCanvas(kind) {
  const { canvas, ctx } = smallCanvas(28, 20);
  const style = KINDS[kind].path;
  ctx.strokeStyle = style.color;
  ctx.globalAlpha = style.opacity ?? 1;
  ctx.lineWidth = style.weight;
  ctx.lineCap = style.lineCap ?? 'round';
  ctx.beginPath();
  ctx.moveTo(3, 10);
  ctx.lineTo(25, 10);
  ctx.stroke();
  return canvas;
}

/** smallCanvas is a canvas of width × height CSS pixels, sharp on any screen, for legends. */
export function smallCanvas(width, height) {
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement('canvas');
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.className = 'pm-symbol';
  canvas.setAttribute('aria-hidden', 'true');
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  return { canvas, ctx };
}
