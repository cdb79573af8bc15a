// The protectmap map: protected sites by layer, and a check of which of them
// lie how far from a location. Everything it needs comes from its server.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import './style.css';
import { Api, Busy, Notices } from './api.js';
import { Basemap } from './basemap.js';
import { Check } from './check.js';
import { parseHash, formatHash, MAX_ZOOM } from './hash.js';
import { Overlay } from './overlay.js';
import { sitePopup, itemPath } from './popup.js';
import { colourOf, lineCanvas, symbolCanvas } from './symbols.js';
import { Recorder } from './record.js';
import { Strikes, strikeCanvas } from './strikes.js';
import { Summary } from './summary.js';
import { timeline } from './readings.js';
import { collectionTitle, languageSwitch, localize, t } from './i18n.js';

/** UKRAINE is the view when neither the link nor the data give one. */
const UKRAINE = L.latLngBounds([44.3, 22.1], [52.4, 40.2]);
/** STRIKES is the id of the strike log's collection. */
const STRIKES = 'strikes';

// drawLegend puts each kind's symbol, and line where it has one, before its name.
function drawLegend() {
  for (const li of document.querySelectorAll('.legend li[data-kind]')) {
    const kind = li.dataset.kind;
    const samples = document.createElement('span');
    samples.className = 'samples';
    if (li.hasAttribute('data-line')) samples.append(lineCanvas(kind));
    samples.append(symbolCanvas(kind, colourOf(kind, 0)));
    li.prepend(samples);
  }
  for (const li of document.querySelectorAll('.legend li[data-verdict]')) {
    const samples = document.createElement('span');
    samples.className = 'samples';
    samples.setAttribute('aria-hidden', 'true');
    samples.append(strikeCanvas(li.dataset.verdict));
    li.prepend(samples);
  }
}

class App {
  constructor() {
    this.mapEl = document.getElementById('map');
    this.notices = new Notices(document.getElementById('notices'));
    this.busy = new Busy(this.mapEl, document.getElementById('busy'));
    this.api = new Api(this.busy);
    this.overlays = [];
    this.writtenHash = null;
    // One canvas draws every site: thousands of DOM markers or SVG paths would not pan smoothly.
    this.map = L.map(this.mapEl, { maxZoom: MAX_ZOOM, minZoom: 2, zoomSnap: 1, preferCanvas: true });
    this.map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    this.panel = document.getElementById('panel');
    this.toggle = document.getElementById('panel-toggle');
    this.toggle.addEventListener('click', () => this.openPanel(!this.panel.classList.contains('open')));
  }

  async start() {
    const state = parseHash(location.hash);
    this.reportProblems(state.problems);
    // The map needs a view before anything can be added to it.
    if (state.view) {
      this.map.setView([state.view.lat, state.view.lon], state.view.zoom);
    } else {
      this.map.fitBounds(UKRAINE);
    }
    let config;
    let collections;
    try {
      [config, collections] = await Promise.all([this.api.get('/map-config.json'), this.api.get('/collections?f=json')]);
    } catch (err) {
      this.notices.show(t('notice.cannotStart', { reason: err.message }), { error: true });
      return;
    }
    const hooks = { api: this.api, notices: this.notices, onError: (err) => this.showError(err) };
    this.basemap = new Basemap(this.map, config, document.getElementById('basemaps'), hooks);
    // The strike log is a collection too, but of strikes, not of protected sites.
    const all = collections.collections ?? [];
    this.addOverlays(all.filter((c) => c.id !== STRIKES));
    // A server without a strike store lists no strikes collection.
    if (all.some((c) => c.id === STRIKES)) this.addStrikes();
    if (!state.view) this.fitData();
    this.check = new Check(this.map, document.getElementById('check-form'), document.getElementById('check-result'), {
      api: this.api,
      layers: () => this.overlays.filter((o) => o.visible).map((o) => o.id),
      titleOf: (id) => { const o = this.overlayById(id); return o ? collectionTitle(o.collection) : id; },
      openSite: (feature, collectionId, latlng) => this.openSite(feature, collectionId, latlng),
      strikesNear: (latlng, meters, limit) => this.strikes?.near(latlng, meters, limit) ?? [],
      onChange: () => {
        this.recorder?.show(this.check.query);
        this.writeHash();
      },
    });
    this.check.setScopes(this.overlays.map((o) => o.collection));
    this.apply(state, false);
    this.showAgreements();

    this.map.on('zoomend', () => this.overlays.forEach((o) => o.visible && o.restyle()));
    this.map.on('moveend', () => {
      this.overlays.forEach((o) => o.load());
      this.writeHash();
    });
    this.map.on('click', (e) => {
      if (this.openTiledSite(e.latlng)) return;
      this.check.at(e.latlng);
      this.openPanel();
    });
    window.addEventListener('hashchange', () => {
      if (location.hash !== this.writtenHash) this.restore();
    });
    this.keyboard();
  }

  // keyboard makes the map work without a mouse, beside Leaflet's arrows
  // and +/-: Enter on the map checks its centre (ringed while the map has
  // the focus). A popup opened from a control takes the focus, and Escape
  // or its close button gives it back to that control. Escape also closes
  // an open part of the panel, and the phone's panel, giving the focus to
  // what opens them again.
  keyboard() {
    this.mapEl.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === this.mapEl) {
        this.check.at(this.map.getCenter());
        this.openPanel();
      } else if (e.key === 'Escape' && e.target !== this.mapEl && this.popupOpen) {
        // Leaflet hears Escape only while the map itself has the focus.
        this.map.closePopup();
      } else {
        return;
      }
      e.preventDefault();
    });
    this.popupOpen = false;
    this.map.on('popupopen', (e) => {
      this.popupOpen = true;
      const opener = document.activeElement;
      e.popup.opener = opener === document.body || opener === this.mapEl ? null : opener;
      const wrapper = e.popup.getElement()?.querySelector('.leaflet-popup-content-wrapper');
      if (e.popup.opener && wrapper) {
        wrapper.tabIndex = -1;
        wrapper.focus({ preventScroll: true });
      }
    });
    this.map.on('popupclose', (e) => {
      this.popupOpen = false;
      const { opener } = e.popup;
      e.popup.opener = null;
      const focus = document.activeElement;
      if (opener?.isConnected && (focus === document.body || e.popup.getElement()?.contains(focus))) opener.focus({ preventScroll: true });
    });
    this.panel.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      const part = e.target.closest('details[open]');
      if (part) {
        part.open = false;
        part.querySelector('summary').focus();
      } else if (this.panel.classList.contains('open') && this.toggle.getClientRects().length > 0) {
        this.openPanel(false);
        this.toggle.focus();
      } else {
        return;
      }
      e.preventDefault();
    });
    // Leaflet makes its zoom and close buttons links with role="button":
    // Space presses them, as it does a button.
    document.addEventListener('keydown', (e) => {
      if (e.key === ' ' && e.target instanceof HTMLAnchorElement && e.target.getAttribute('role') === 'button') {
        e.preventDefault();
        e.target.click();
      }
    });
  }

  // showAgreements offers the agreements in a picker, the picked one's
  // readings on a timeline with the check's instant marked.
  async showAgreements() {
    let doc;
    try {
      doc = await this.api.get('/agreements');
    } catch (err) {
      this.showError(err);
      return;
    }
    const agreements = doc.agreements ?? [];
    if (agreements.length === 0) return;
    const picker = document.getElementById('agreement-picker');
    const shown = document.getElementById('agreement-timeline');
    for (const a of agreements) picker.append(new Option(a.title || a.id, a.id));
    const draw = () => {
      const a = agreements.find((x) => x.id === picker.value);
      const when = this.check.query?.datetime;
      shown.replaceChildren(timeline(a, when ? Date.parse(when) : null));
    };
    picker.addEventListener('change', draw);
    this.check.form.addEventListener('submit', () => setTimeout(draw));
    draw();
    document.getElementById('agreements-section').hidden = false;
  }

  addOverlays(collections) {
    const list = document.getElementById('overlays');
    collections.forEach((c, i) => {
      const o = new Overlay(this.map, c, i, {
        api: this.api,
        busy: this.busy,
        popup: (feature, collection, layer) => this.popup(feature, collection, () => layer.getPopup().getLatLng()),
        onToggle: () => this.writeHash(),
        onError: (err) => this.showError(err),
      });
      this.overlays.push(o);
      list.append(o.row);
    });
  }

  addStrikes() {
    const byId = (id) => document.getElementById(id);
    byId('strikes').hidden = false;
    this.strikes = new Strikes(
      this.map,
      { row: byId('strikes-row'), from: byId('strikes-from'), to: byId('strikes-to'), slider: byId('strikes-slider'), play: byId('strikes-play'), time: byId('strikes-time'), error: byId('strikes-error'), live: byId('strikes-live') },
      { api: this.api, onChange: () => this.writeHash(), onError: (err) => this.showError(err) },
    );
    // Strikes are recorded where a check is, into the log this layer shows.
    this.recorder = new Recorder(byId('record'), { api: this.api, onRecorded: () => this.strikes.load() });
    byId('summary-section').hidden = false;
    this.summary = new Summary(
      { section: byId('summary-section'), oblast: byId('summary-oblast'), by: byId('summary-by'), chart: byId('summary-chart'), total: byId('summary-total'), legend: byId('summary-legend'), error: byId('summary-error'), from: byId('strikes-from'), to: byId('strikes-to') },
      { api: this.api },
    );
    this.api.get('basemap.geojson').then((b) => this.summary.oblasts(b), () => {});
  }

  // fitData frames the union of the collections' extents, or Ukraine.
  fitData() {
    const bounds = L.latLngBounds([]);
    for (const o of this.overlays) {
      const bbox = o.collection.extent?.spatial?.bbox?.[0];
      if (Array.isArray(bbox) && bbox.length >= 4) {
        const [w, s, e, n] = bbox.length === 6 ? [bbox[0], bbox[1], bbox[3], bbox[4]] : bbox;
        bounds.extend([[s, w], [n, e]]);
      }
    }
    this.map.fitBounds(bounds.isValid() ? bounds : UKRAINE);
  }

  /** apply shows a parsed hash state: view, layers, check and site; moved says whether to set the view. */
  apply(state, moved) {
    if (moved && state.view) this.map.setView([state.view.lat, state.view.lon], state.view.zoom);
    const wanted = state.layers ?? this.overlays.map((o) => o.id);
    const unknown = wanted.filter((id) => !this.overlayById(id) && !(id === STRIKES && this.strikes));
    if (unknown.length > 0) {
      this.notices.show(t('notice.unknownLayers', { layers: unknown.join(', ') }), { key: 'layers' });
    }
    for (const o of this.overlays) {
      const on = wanted.includes(o.id);
      if (on !== o.visible) o.setVisible(on);
    }
    if (this.strikes) {
      // The range first, so showing the strikes loads them once.
      this.strikes.setRange(state.strikes ?? { from: null, to: null });
      const on = state.layers === null || state.layers.includes(STRIKES);
      if (on !== this.strikes.visible) this.strikes.setVisible(on);
    }
    if (state.check) {
      this.check.inputs.coords.value = '';
      this.check.run(state.check, { fit: !state.view });
      this.openPanel();
    } else if (this.check.query) {
      this.check.clear();
    }
    if (state.site) this.openLinkedSite(state.site, !state.view);
    this.writeHash();
  }

  restore() {
    const state = parseHash(location.hash);
    this.reportProblems(state.problems);
    this.apply(state, true);
  }

  reportProblems(problems) {
    if (problems.length > 0) {
      this.notices.show(t('notice.badLink', { parts: problems.join(', ') }), { key: 'hash' });
    }
  }

  state(extra = {}) {
    const c = this.map.getCenter();
    return {
      view: { zoom: this.map.getZoom(), lat: c.lat, lon: c.lng },
      layers: [...this.overlays.filter((o) => o.visible).map((o) => o.id), ...(this.strikes?.visible ? [STRIKES] : [])],
      check: this.check?.query ?? null,
      site: null,
      strikes: this.strikes && (this.strikes.range.from || this.strikes.range.to) ? this.strikes.range : null,
      ...extra,
    };
  }

  // writeHash records the view in the address without adding a history entry per pan.
  writeHash() {
    if (!this.check) return;
    const hash = formatHash(this.state());
    if (hash !== location.hash) {
      this.writtenHash = hash;
      history.replaceState(null, '', hash);
    }
  }

  overlayById(id) {
    return this.overlays.find((o) => o.id === id);
  }

  popup(feature, collection, latlng) {
    const site = { collection: collection.id, id: String(feature.id) };
    return sitePopup(feature, collection, {
      permalink: formatHash(this.state({ site })),
      onCheck: () => {
        this.map.closePopup();
        this.check.at(latlng());
        this.openPanel();
      },
    });
  }

  /** openSite opens the popup of a GeoJSON feature of collectionId at latlng. */
  openSite(feature, collectionId, latlng) {
    const collection = this.overlayById(collectionId)?.collection ?? { id: collectionId };
    L.popup({ maxWidth: 360, minWidth: 240 })
      .setLatLng(latlng)
      .setContent(this.popup(feature, collection, () => latlng))
      .openOn(this.map);
  }

  // openTiledSite opens the popup of the site drawn from tiles at latlng, or
  // zooms into a tile's aggregate of sites; false when there is none there.
  openTiledSite(latlng) {
    for (const o of [...this.overlays].reverse()) {
      const site = o.siteAt(latlng);
      if (!site) continue;
      if (site.id === null) {
        this.map.setView(latlng, this.map.getZoom() + 2);
      } else {
        this.openLinkedSite({ collection: o.id, id: site.id }, false, latlng);
      }
      return true;
    }
    return false;
  }

  // openLinkedSite fetches the site a permalink names and opens its popup.
  // at, when given, is where the popup opens; else at the site's centre.
  async openLinkedSite(site, frame, at = null) {
    let feature;
    try {
      feature = await this.api.get(itemPath(site.collection, site.id));
    } catch (err) {
      this.showError(err);
      return;
    }
    const bounds = L.geoJSON(feature).getBounds();
    if (frame) this.map.fitBounds(bounds, { maxZoom: 15 });
    this.openSite(feature, site.collection, at ?? bounds.getCenter());
  }

  showError(err) {
    this.notices.show(err.message, { error: true, key: err.message });
  }

  // On a phone the panel is a sheet, opened by the bar's button or by a check.
  openPanel(open = true) {
    this.panel.classList.toggle('open', open);
    this.toggle.setAttribute('aria-expanded', String(open));
  }
}

localize();
languageSwitch(document.getElementById('lang-switch'));
drawLegend();
new App().start();
