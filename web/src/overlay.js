// One overlay per collection: it loads the sites in view page by page,
// clusters points at low zoom, draws lines and outlines, and keeps its row in
// the layer list up to date.
import L from 'leaflet';
// A plugin script: it extends the global L that Leaflet's build sets.
import 'leaflet.markercluster';
import { kindOf, colourOf, pathStyle, SiteMarker, symbolCanvas } from './symbols.js';
import { ListedLayer } from './layer.js';
import { SiteTiles } from './tiles.js';
import { collectionTitle, featureName, formatCount as count, kindName, t } from './i18n.js';
import { asText } from './popup.js';

/** PAGE_SIZE is how many sites one items request asks for. */
const PAGE_SIZE = 2000;
/**
 * MAX_IN_VIEW caps the sites one overlay draws. A view holding more (a
 * million-site layer seen whole) asks the reader to zoom in instead of
 * paging through it all.
 */
const MAX_IN_VIEW = 20000;
/** UNCLUSTER_ZOOM is the zoom from which points are drawn one by one. */
const UNCLUSTER_ZOOM = 14;
/** DEFLATE_PX: a line or outline smaller than this on screen is drawn as its symbol, so it stays visible. */
const DEFLATE_PX = 12;
/**
 * TILED_SITES: a layer of at least this many sites is drawn from vector
 * tiles up to TILED_MAX_ZOOM, where its GeoJSON would mostly exceed
 * MAX_IN_VIEW; deeper, a view holds few enough to load them whole.
 */
export const TILED_SITES = MAX_IN_VIEW;
export const TILED_MAX_ZOOM = 12;
/** POPUP_OPTIONS size a site's popup. */
const POPUP_OPTIONS = { maxWidth: 360, minWidth: 240 };
/** BATCH is how many symbols are clustered per task, so a big page never blocks panning for long. */
const BATCH = 500;


/**
 * Overlay is a collection's layer on the map and its row in the layer list.
 * collection is an entry of /collections; paletteIndex picks the colour of
 * its sites of other kinds; hooks are {api, busy, popup(feature,
 * collection, layer), onToggle(overlay), onError(err)}.
 */
export class Overlay extends ListedLayer {
  constructor(map, collection, paletteIndex, hooks) {
    super();
    this.map = map;
    this.collection = collection;
    this.id = collection.id;
    this.hooks = hooks;
    this.layerClass = `pm-l-${this.id}`;
    this.paletteIndex = paletteIndex;
    this.entries = new Map();
    this.kinds = new Set();
    // generation counts clears, so batches of symbols queued before one are dropped.
    this.generation = 0;
    this.controller = null;
    this.inView = 0;

    this.cluster = L.markerClusterGroup({
      disableClusteringAtZoom: UNCLUSTER_ZOOM,
      maxClusterRadius: 60,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: false,
      iconCreateFunction: (c) => this.clusterIcon(c),
    });
    this.shapes = L.featureGroup();
    // One popup per group, filled for the site clicked: a popup bound to
    // each of a country's thousands of sites up front costs more than
    // drawing them.
    for (const g of [this.cluster, this.shapes]) {
      g.bindPopup((site) => this.hooks.popup(site.entry.feature, this.collection, g), POPUP_OPTIONS);
    }
    this.group = L.layerGroup([this.cluster, this.shapes]);
    this.total = Number.isInteger(collection.itemCount) ? collection.itemCount : null;
    this.tiles = null;
    this.row = this.buildRow();
    this.setState('off');
    // Whether the layer is drawn from tiles hangs on its size: loads wait for it.
    this.totalKnown = this.total === null ? this.fetchTotal() : Promise.resolve();
  }

  // fetchTotal asks for one site, to learn from numberMatched how many there are.
  async fetchTotal() {
    try {
      const page = await this.hooks.api.get(`/collections/${encodeURIComponent(this.id)}/items?limit=1`);
      if (Number.isInteger(page.numberMatched)) {
        this.total = page.numberMatched;
        this.setState(this.state, this.detail);
      }
    } catch (err) {
      this.hooks.onError(err);
    }
  }

  /** tiled says whether the layer is drawn from vector tiles at the map's zoom. */
  tiled() {
    return this.total !== null && this.total >= TILED_SITES && this.map.getZoom() <= TILED_MAX_ZOOM;
  }

  // showTiles draws the layer from tiles in place of its GeoJSON.
  showTiles() {
    this.clear();
    this.tiles ??= new SiteTiles({
      collection: this.id,
      paletteIndex: this.paletteIndex,
      api: this.hooks.api,
      className: this.layerClass,
      onChange: () => this.state === 'tiles' && this.setState('tiles'),
      onError: (err) => this.hooks.onError(err),
    });
    if (!this.group.hasLayer(this.tiles)) this.group.addLayer(this.tiles);
    this.setState('tiles');
  }

  hideTiles() {
    if (this.tiles && this.group.hasLayer(this.tiles)) this.group.removeLayer(this.tiles);
  }

  /** siteAt is the tiled feature under latlng ({id, kind, type}; id null for an aggregate), or null when the layer is not tiled or none is there. */
  siteAt(latlng) {
    return this.visible && this.state === 'tiles' ? this.tiles.siteAt(latlng) : null;
  }

  buildRow() {
    const li = document.createElement('li');
    li.dataset.collection = this.id;
    const label = document.createElement('label');
    this.checkbox = document.createElement('input');
    this.checkbox.type = 'checkbox';
    this.checkbox.addEventListener('change', () => {
      this.setVisible(this.checkbox.checked);
      this.hooks.onToggle(this);
    });
    // The symbols of the kinds this layer has shown so far.
    this.kindsEl = document.createElement('span');
    this.kindsEl.className = 'kinds';
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = collectionTitle(this.collection);
    label.append(this.checkbox, title, this.kindsEl);
    this.countEl = document.createElement('span');
    this.countEl.className = 'count';
    this.stateEl = document.createElement('span');
    this.stateEl.className = 'state';
    li.append(label, this.countEl, this.stateEl);
    return li;
  }

  // unload drops what the layer drew, from tiles or GeoJSON.
  unload() {
    this.hideTiles();
    this.clear();
  }

  setState(state, detail = '') {
    this.state = state;
    this.detail = detail;
    this.row.dataset.state = state;
    this.row.dataset.inView = state === 'ready' ? String(this.inView) : '';
    this.row.dataset.tileFeatures = state === 'tiles' ? String(this.tiles.drawn()) : '';
    const total = this.total === null ? '' : t('layer.inAll', { n: count(this.total) });
    const spinner = '<span class="spinner" aria-hidden="true"></span> ';
    this.stateEl.textContent = '';
    switch (state) {
      case 'off':
        this.countEl.textContent = total;
        break;
      case 'loading':
        this.countEl.innerHTML = spinner;
        this.countEl.append(t('layer.loading'));
        break;
      case 'ready':
        this.countEl.textContent = this.total === null ? t('layer.inView', { n: count(this.inView) }) : t('layer.inViewOf', { n: count(this.inView), total: count(this.total) });
        break;
      case 'tiles':
        this.countEl.textContent = total;
        this.stateEl.textContent = t('layer.tiled');
        break;
      case 'capped':
        this.countEl.textContent = t('layer.inView', { n: count(detail) });
        this.stateEl.textContent = t('layer.capped');
        break;
      case 'error':
        this.countEl.textContent = '';
        this.stateEl.textContent = detail;
        break;
    }
  }

  /** load fetches the sites in the current view, page by page, replacing any load in flight. */
  async load() {
    if (!this.visible) return;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.setState('loading');
    await this.totalKnown;
    if (this.controller !== controller || !this.visible) return;
    if (this.tiled()) {
      this.showTiles();
      return;
    }
    this.hideTiles();
    const url = `/collections/${encodeURIComponent(this.id)}/items?bbox=${viewBBox(this.map)}&limit=${PAGE_SIZE}`;
    const seen = new Set();
    const complete = await this.pages(url, controller.signal, (page) => {
      const matched = page.numberMatched ?? seen.size + page.features.length;
      if (matched > MAX_IN_VIEW) {
        this.clear();
        this.setState('capped', matched);
        return false;
      }
      this.add(page.features, seen);
      return true;
    });
    if (!complete) return;
    this.keepOnly(seen);
    this.inView = seen.size;
    this.setState('ready');
  }

  add(features, seen) {
    const zoom = this.map.getZoom();
    const markers = [];
    for (const f of features) {
      const id = String(f.id);
      seen.add(id);
      if (this.entries.has(id)) continue;
      const entry = this.entry(f);
      this.entries.set(id, entry);
      this.show(entry, zoom, markers);
    }
    this.addMarkers(markers);
  }

  entry(feature) {
    const kind = kindOf(feature);
    if (!this.kinds.has(kind)) {
      this.kinds.add(kind);
      const symbol = symbolCanvas(kind, colourOf(kind, this.paletteIndex));
      symbol.title = kindName(kind);
      this.kindsEl.append(symbol);
    }
    const entry = { feature, kind, marker: null, shape: null, bounds: null, shown: null };
    if (feature.geometry?.type === 'Point') {
      const [lon, lat] = feature.geometry.coordinates;
      entry.marker = this.marker(entry, L.latLng(lat, lon));
    } else {
      // The shape itself is built when first drawn: at low zoom most
      // outlines are drawn as their symbols, and building their paths is
      // most of the cost of a country's first view.
      entry.bounds = geometryBounds(feature.geometry);
    }
    return entry;
  }

  // shape is the entry's line or outline as one Leaflet layer (a group only
  // for a geometry collection), each part knowing its entry for the popup.
  shape(entry) {
    const shape = L.GeoJSON.geometryToLayer(entry.feature, {
      ...pathStyle(entry.kind, this.paletteIndex, this.layerClass),
      pointToLayer: (_, latlng) => this.marker(entry, latlng),
    });
    const own = (layer) => {
      layer.entry = entry;
      if (layer instanceof L.LayerGroup) layer.eachLayer(own);
    };
    own(shape);
    return shape;
  }

  marker(entry, latlng) {
    const m = new SiteMarker(latlng, {
      kind: entry.kind,
      colour: colourOf(entry.kind, this.paletteIndex),
      className: this.layerClass,
      bubblingMouseEvents: false,
    });
    m.entry = entry;
    const name = featureName(entry.feature.properties);
    // The name's tooltip is made at the first hover: binding one to each of
    // thousands of symbols up front costs more than drawing them.
    if (typeof name === 'string') {
      m.once('mouseover', () => m.bindTooltip(asText(name), { direction: 'top', offset: [0, -8] }).openTooltip());
    }
    return m;
  }

  // show puts an entry on the map as it should look at zoom: points and
  // small shapes as symbols, larger shapes as themselves. Symbols to add and
  // to remove are collected into added and removed, for one batch each.
  show(entry, zoom, added, removed = []) {
    const want = entry.bounds && !this.tiny(entry.bounds, zoom) ? 'shape' : 'marker';
    if (entry.shown === want) return;
    this.hide(entry, removed);
    if (want === 'shape') {
      entry.shape ??= this.shape(entry);
      this.shapes.addLayer(entry.shape);
    } else {
      entry.marker ??= this.marker(entry, entry.bounds.getCenter());
      added.push(entry.marker);
    }
    entry.shown = want;
  }

  hide(entry, removed) {
    if (entry.shown === 'shape') {
      this.shapes.removeLayer(entry.shape);
    } else if (entry.shown === 'marker') {
      removed.push(entry.marker);
    }
    entry.shown = null;
  }

  tiny(bounds, zoom) {
    const a = this.map.project(bounds.getNorthWest(), zoom);
    const b = this.map.project(bounds.getSouthEast(), zoom);
    return Math.max(b.x - a.x, b.y - a.y) < DEFLATE_PX;
  }

  /** restyle swaps shapes and symbols after a zoom, as each site's size on screen asks. */
  restyle() {
    const zoom = this.map.getZoom();
    const added = [];
    const removed = [];
    for (const entry of this.entries.values()) {
      if (entry.bounds) this.show(entry, zoom, added, removed);
    }
    this.cluster.removeLayers(removed);
    this.addMarkers(added);
  }

  // addMarkers clusters markers a batch per task. Markercluster's own
  // chunked loading would go on adding symbols that a clear or a newer view
  // has since removed; here each batch keeps only those still wanted.
  addMarkers(markers) {
    if (markers.length === 0) return;
    const generation = this.generation;
    let next = 0;
    const step = () => {
      if (generation !== this.generation) {
        this.hooks.busy.end();
        return;
      }
      const batch = markers.slice(next, next + BATCH).filter((m) => m.entry.shown === 'marker' && m.entry.marker === m);
      next += BATCH;
      this.cluster.addLayers(batch);
      if (next < markers.length) {
        setTimeout(step, 0);
      } else {
        this.hooks.busy.end();
      }
    };
    this.hooks.busy.begin();
    step();
  }

  keepOnly(seen) {
    const removed = [];
    for (const [id, entry] of this.entries) {
      if (!seen.has(id)) {
        this.hide(entry, removed);
        this.entries.delete(id);
      }
    }
    this.cluster.removeLayers(removed);
  }

  clear() {
    this.generation++;
    this.cluster.clearLayers();
    this.shapes.clearLayers();
    this.entries.clear();
    this.inView = 0;
  }

  // clusterIcon shows a cluster's size in the colour of most of its sites.
  // Leaflet makes its icon a button that Tab reaches and Enter zooms into,
  // named by the label as a screen reader reads it.
  clusterIcon(cluster) {
    const n = cluster.getChildCount();
    const tally = new Map();
    for (const m of cluster.getAllChildMarkers()) tally.set(m.options.kind, (tally.get(m.options.kind) ?? 0) + 1);
    const kind = [...tally].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    const size = n < 10 ? 28 : n < 100 ? 34 : n < 1000 ? 40 : 46;
    const disc = document.createElement('span');
    disc.style.background = colourOf(kind, this.paletteIndex);
    disc.textContent = String(n);
    const label = t('layer.cluster', { count: n, n: count(n), layer: collectionTitle(this.collection) });
    return new ClusterIcon({ html: disc, label, className: `pm-cluster ${this.layerClass}`, iconSize: [size, size] });
  }
}

/** ClusterIcon is a cluster's disc, its options.label its accessible name and tooltip. */
const ClusterIcon = L.DivIcon.extend({
  createIcon(old) {
    const div = L.DivIcon.prototype.createIcon.call(this, old);
    div.setAttribute('aria-label', this.options.label);
    div.title = this.options.label;
    return div;
  },
});

/**
 * viewBBox is the map's view as an OGC bbox, rounded outwards to 6 decimals
 * (about 0.1 m) and clamped to the world.
 */
function viewBBox(map) {
  const b = map.getBounds();
  const down = (v, lim) => Math.max(-lim, Math.floor(v * 1e6) / 1e6);
  const up = (v, lim) => Math.min(lim, Math.ceil(v * 1e6) / 1e6);
  return [down(b.getWest(), 180), down(b.getSouth(), 90), up(b.getEast(), 180), up(b.getNorth(), 90)].join(',');
}

/** geometryBounds is the Leaflet bounds of a GeoJSON geometry's positions, of any nesting. */
function geometryBounds(geometry) {
  let south = Infinity;
  let west = Infinity;
  let north = -Infinity;
  let east = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < west) west = c[0];
      if (c[0] > east) east = c[0];
      if (c[1] < south) south = c[1];
      if (c[1] > north) north = c[1];
      return;
    }
    for (const x of c) walk(x);
  };
  const visit = (g) => {
    if (g?.type === 'GeometryCollection') g.geometries.forEach(visit);
    else if (g) walk(g.coordinates);
  };
  visit(geometry);
  return L.latLngBounds([south, west], [north, east]);
}
