// The basemap: the configured raster tiles, or the oblast outlines the server
// serves at /basemap.geojson, which need no network beyond the server. The
// outlines take over by themselves when tiles cannot be loaded.
import L from 'leaflet';
import { t } from './i18n.js';

/** TILE_FAILURES is how many tile errors, with no tile loaded, mean the tile host is unreachable. */
const TILE_FAILURES = 3;
/** TILE_TIMEOUT_MS is how long tiles may take to show before the outlines are shown instead. */
const TILE_TIMEOUT_MS = 8000;
const OUTLINE_ATTRIBUTION = 'Outlines: <a href="https://www.geoboundaries.org/">geoBoundaries</a> (ODbL)';

/**
 * Basemap owns the base layer and its radio buttons. config is
 * /map-config.json; hooks are {api, notices, onError(err)}.
 */
export class Basemap {
  constructor(map, config, fieldset, hooks) {
    this.map = map;
    this.hooks = hooks;
    this.fieldset = fieldset;
    this.outlinesLoad = null;
    this.tiles = null;
    map.createPane('basemap').style.zIndex = 150;
    if (config.tileURL) {
      this.tiles = L.tileLayer(config.tileURL, { attribution: config.tileAttribution || '', maxZoom: 19 });
      this.host = new URL(config.tileURL.replace(/[{}]/g, ''), location.href).host;
      this.watchTiles();
      fieldset.hidden = false;
      for (const radio of fieldset.querySelectorAll('input')) {
        radio.addEventListener('change', () => this.use(radio.value));
      }
    }
    this.use(this.tiles ? 'tiles' : 'outlines');
  }

  /** use switches the base layer to "tiles" or "outlines". */
  use(which) {
    this.current = which;
    for (const radio of this.fieldset.querySelectorAll('input')) {
      radio.checked = radio.value === which;
    }
    if (which === 'tiles') {
      this.outlinesLoad?.then((outlines) => outlines?.remove());
      this.failures = 0;
      this.loaded = 0;
      this.tiles.addTo(this.map);
      this.hooks.notices.dismiss('tiles');
    } else {
      this.tiles?.remove();
      this.showOutlines();
    }
  }

  watchTiles() {
    this.tiles.on('tileload', () => {
      this.loaded++;
      clearTimeout(this.timer);
    });
    this.tiles.on('tileerror', () => {
      if (++this.failures >= TILE_FAILURES && this.loaded === 0) this.fallBack();
    });
    this.tiles.on('loading', () => {
      clearTimeout(this.timer);
      if (this.loaded === 0) this.timer = setTimeout(() => this.fallBack(), TILE_TIMEOUT_MS);
    });
    this.tiles.on('remove', () => clearTimeout(this.timer));
  }

  fallBack() {
    if (this.current !== 'tiles') return;
    this.use('outlines');
    this.hooks.notices.show(
      t('notice.tilesFailed', { host: this.host }),
      { key: 'tiles' },
    );
  }

  async showOutlines() {
    this.outlinesLoad ??= this.loadOutlines();
    const outlines = await this.outlinesLoad;
    if (outlines && this.current === 'outlines') outlines.addTo(this.map);
  }

  async loadOutlines() {
    try {
      return L.geoJSON(await this.hooks.api.get('/basemap.geojson'), {
        pane: 'basemap',
        interactive: false,
        attribution: OUTLINE_ATTRIBUTION,
        style: { color: '#8b8478', weight: 1, fillColor: '#f4f1ea', fillOpacity: 1, className: 'pm-outline' },
      });
    } catch (err) {
      this.outlinesLoad = null;
      this.hooks.onError(err);
      return null;
    }
  }
}
