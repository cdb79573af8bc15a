// The strike log on the map: the recorded strikes between two dates, each
// coloured by its verdict against the agreements in force at its instant,
// and a slider that replays them in time order.
import L from 'leaflet';
import { ApiError } from './api.js';
import { verdictWords as knownVerdictWords } from './check.js';
import { featureName, formatCount as count, formatInstant, formatMeters, t } from './i18n.js';
import { strikesInterval } from './hash.js';
import { ListedLayer } from './layer.js';
import { LiveFeed } from './live.js';
import { asText, el } from './popup.js';
import { smallCanvas } from './symbols.js';
import { readingsView } from './readings.js';

/** VERDICT_COLOURS colour a strike by its verdict, as the check's verdict box does. */
export const VERDICT_COLOURS = {
  protected_site_hit: '#b91c1c',
  possible_protected_site_hit: '#db2777',
  protected_site_nearby: '#d97706',
  no_protected_site: '#15803d',
  location_too_coarse: '#7c3aed',
  unknown: '#6b7280',
};
/** STRIKE_STYLE is how a strike's burst is outlined, and its size. */
const STRIKE_STYLE = { radius: 11, color: '#111827', weight: 1 };
/** PAGE_SIZE is how many strikes one request lists, and one POST /proximity judges. */
const PAGE_SIZE = 1000;
/** MAX_STRIKES caps the strikes drawn; a wider range asks the reader to narrow it. */
const MAX_STRIKES = 20000;
/** PLAY_MS is how long a replay of the whole range takes. */
const PLAY_MS = 10000;
/** PLAY_STEPS is how many steps a replay moves the slider in. */
const PLAY_STEPS = 100;

/** HIGHLIGHT_MS is how long a strike that came live is ringed. */
const HIGHLIGHT_MS = 4000;

const MINUTE = 60000;
const DAY = 24 * 60 * MINUTE;

/** verdictWords words a strike's verdict; "unknown" when the server could not judge it. */
function verdictWords(verdict) {
  return verdict === 'unknown' ? t('strikes.noVerdict') : knownVerdictWords(verdict);
}

/** hitSites are the sites a judged strike hit: those with an agreement whose reach it came within. */
export function hitSites(judged) {
  return (judged?.properties?.hits ?? []).filter((h) => (h.properties.protected_by ?? []).some((p) => p.hit));
}

/**
 * StrikeMarker is a strike drawn as a burst, a shape no kind of site takes,
 * filled with its verdict's colour: a CircleMarker (so popups and hit
 * testing work as for one) whose canvas drawing is the burst.
 */
const StrikeMarker = L.CircleMarker.extend({
  // As SiteMarker does, this mirrors CircleMarker's guard (Leaflet 1.9) and draws the burst instead.
  _updatePath() {
    const renderer = this._renderer;
    if (!renderer._drawing || this._empty()) return;
    drawBurst(renderer._ctx, this._point.x, this._point.y, this.options);
  },
});

/** drawBurst draws an eight-pointed burst of outer radius options.radius centred on (x, y), in options' fill and stroke. */
export function drawBurst(ctx, x, y, { radius, color, weight, fillColor }) {
  ctx.beginPath();
  for (let i = 0; i < 16; i++) {
    const r = i % 2 === 0 ? radius : radius * 0.6;
    const a = (i * Math.PI) / 8 - Math.PI / 2;
    ctx[i === 0 ? 'moveTo' : 'lineTo'](x + r * Math.cos(a), y + r * Math.sin(a));
  }
  ctx.closePath();
  ctx.globalAlpha = 1;
  ctx.fillStyle = fillColor;
  ctx.fill();
  ctx.lineJoin = 'round';
  ctx.lineWidth = weight;
  ctx.strokeStyle = color;
  ctx.stroke();
}

/** strikeCanvas is a strike of verdict as the map draws it, for the legend. */
export function strikeCanvas(verdict) {
  const size = 2 * STRIKE_STYLE.radius + 2;
  const { canvas, ctx } = smallCanvas(size, size);
  canvas.classList.add('pm-swatch-strike');
  drawBurst(ctx, size / 2, size / 2, { ...STRIKE_STYLE, fillColor: VERDICT_COLOURS[verdict] });
  return canvas;
}

/**
 * Strikes owns the strike layer, its row in the layer list, the date range
 * and the replay slider. els are {row, from, to, slider, play, time,
 * error}; hooks are {api, onChange(), onError(err)}.
 */
export class Strikes extends ListedLayer {
  constructor(map, els, hooks) {
    super();
    this.map = map;
    this.els = els;
    this.hooks = hooks;
    this.range = { from: null, to: null };
    // Entries sorted by time: {id, time (ms), feature, judged, marker}.
    this.entries = [];
    this.shown = 0;
    this.controller = null;
    this.timer = 0;
    this.group = L.layerGroup();
    this.checkbox = els.row.querySelector('input');
    this.countEl = els.row.querySelector('.count');
    this.stateEl = els.row.querySelector('.state');
    this.checkbox.addEventListener('change', () => {
      this.setVisible(this.checkbox.checked);
      hooks.onChange();
    });
    for (const input of [els.from, els.to]) input.addEventListener('change', () => this.readRange());
    els.slider.addEventListener('input', () => {
      this.stop();
      this.showUpTo(Number(els.slider.value) * MINUTE);
    });
    els.play.addEventListener('click', () => (this.timer ? this.stop() : this.play()));
    // The live feed: strikes recorded, updated or deleted while the page is
    // open, applied one at a time in the order they come; those that come
    // while a load is in flight wait for it.
    this.fresh = 0;
    this.loading = false;
    this.pending = [];
    this.applying = Promise.resolve();
    this.feed = new LiveFeed('/strikes/events', { onEvent: (data) => this.onLive(data), onState: (state, seconds) => this.showLive(state, seconds) });
    this.setState('off');
  }

  unload() {
    this.stop();
    this.feed.stop();
    this.pending = [];
    this.showLive('off');
  }

  /** setRange shows the strikes between two dates ({from, to}, each YYYY-MM-DD or null), reloading when it changed. */
  setRange(range) {
    const same = range.from === this.range.from && range.to === this.range.to;
    this.range = { from: range.from, to: range.to };
    this.els.from.value = range.from ?? '';
    this.els.to.value = range.to ?? '';
    this.showError(null);
    if (!same) this.load();
  }

  // readRange takes the range the reader typed, unless it ends before it starts.
  readRange() {
    const from = this.els.from.value || null;
    const to = this.els.to.value || null;
    if (from && to && from > to) {
      this.showError(t('strikes.badRange'), this.els.to);
      return;
    }
    this.setRange({ from, to });
    this.hooks.onChange();
  }

  showError(message, field) {
    this.els.error.hidden = message === null;
    this.els.error.textContent = message ?? '';
    for (const input of [this.els.from, this.els.to]) input.removeAttribute('aria-invalid');
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  /** load fetches the strikes in the range page by page, judging each page in one POST /proximity. */
  async load() {
    if (!this.visible) return;
    this.controller?.abort();
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    // Followed from before the list is read, so no strike falls between the two.
    this.feed.start();
    this.loading = true;
    this.setState('loading');
    const params = new URLSearchParams({ limit: PAGE_SIZE });
    const datetime = strikesInterval(this.range);
    if (datetime) params.set('datetime', datetime);
    const entries = [];
    const complete = await this.pages(`/strikes?${params}`, controller.signal, async (page) => {
      if (entries.length + page.features.length > MAX_STRIKES) {
        this.setState('capped');
        return false;
      }
      const judged = await this.judge(page.features, controller.signal);
      page.features.forEach((f, i) => entries.push(this.entry(f, judged[i])));
      return true;
    });
    if (controller !== this.controller) return; // a newer load took over
    this.loading = false;
    if (complete) {
      entries.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
      this.group.clearLayers();
      this.entries = entries;
      this.shown = 0;
      this.setSlider();
      this.showUpTo(Infinity);
    }
    for (const data of this.pending.splice(0)) this.onLive(data);
  }

  // onLive takes one event of the feed: a strike recorded or updated is
  // judged and drawn (replacing what was drawn for it, so none is drawn
  // twice), a deleted one removed.
  onLive(data) {
    if (this.loading) {
      this.pending.push(data);
      return;
    }
    this.applying = this.applying.then(() => this.apply(data)).catch((err) => this.hooks.onError(err));
  }

  async apply(data) {
    const { action, seq, verdict, deleted_at: deletedAt, ...props } = data.properties ?? {};
    const id = String(data.id);
    const known = this.entries.some((e) => e.id === id);
    if (action === 'delete' || !this.inRange(props.datetime) || (!known && this.entries.length >= MAX_STRIKES)) {
      this.removeEntry(id);
      return;
    }
    // As GET /strikes gives it, so it is judged and shown as the others are.
    const feature = { type: 'Feature', id: data.id, geometry: data.geometry, properties: { ...props, verdict_recorded: verdict ?? null } };
    const [judged] = await this.judge([feature]);
    if (!this.visible || this.loading) return; // hidden, or reloading: the load lists it
    this.removeEntry(id);
    this.insertEntry(this.entry(feature, judged));
    this.highlight(feature);
    if (!known) this.fresh++;
    this.showLive(this.liveState);
  }

  // inRange reports whether an instant lies within the dates shown, each a whole UTC day.
  inRange(datetime) {
    const t = Date.parse(datetime);
    const { from, to } = this.range;
    return !Number.isNaN(t) && (!from || t >= Date.parse(`${from}T00:00:00Z`)) && (!to || t < Date.parse(`${to}T00:00:00Z`) + DAY);
  }

  // insertEntry adds an entry in time order: drawn at once when every
  // strike is shown, else when the slider reaches it.
  insertEntry(entry) {
    const all = this.shown === this.entries.length;
    const at = this.entries.findIndex((e) => e.time > entry.time);
    this.entries.splice(at < 0 ? this.entries.length : at, 0, entry);
    if (all) {
      this.group.addLayer(entry.marker);
      entry.marker.bringToFront();
      this.shown = this.entries.length;
      this.setSlider();
      this.showUpTo(Infinity);
    } else {
      this.redrawUpTo(Number(this.els.slider.value) * MINUTE);
    }
  }

  removeEntry(id) {
    const at = this.entries.findIndex((e) => e.id === id);
    if (at < 0) return;
    const all = this.shown === this.entries.length;
    this.group.removeLayer(this.entries[at].marker);
    this.entries.splice(at, 1);
    if (all) {
      this.shown = this.entries.length;
      this.setSlider();
      this.showUpTo(Infinity);
    } else {
      this.redrawUpTo(Number(this.els.slider.value) * MINUTE);
    }
  }

  // redrawUpTo draws afresh the strikes up to time (ms), after entries moved.
  redrawUpTo(time) {
    this.group.clearLayers();
    this.shown = 0;
    this.showUpTo(time);
  }

  // highlight rings a strike that just came, for a moment.
  highlight(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    const ring = L.marker(L.latLng(lat, lon), {
      icon: L.divIcon({ className: 'pm-strike-flash', html: '<span class="ring"></span>', iconSize: [44, 44] }),
      interactive: false,
      keyboard: false,
    });
    ring.addTo(this.group);
    setTimeout(() => this.group.removeLayer(ring), HIGHLIGHT_MS);
  }

  // showLive shows how the live feed is doing, and how many strikes it brought.
  showLive(state, seconds = 0) {
    this.liveState = state;
    const live = this.els.live;
    live.hidden = state === 'off';
    live.dataset.state = state;
    live.dataset.fresh = String(this.fresh);
    const words = {
      off: '',
      connecting: t('live.connecting'),
      live: t('live.live'),
      lost: seconds > 0 ? t('live.lostIn', { n: count(seconds) }) : t('live.lostRetrying'),
    };
    live.querySelector('.words').textContent = words[state];
    live.querySelector('.fresh').textContent = this.fresh > 0 ? t('live.fresh', { count: this.fresh, n: count(this.fresh) }) : '';
  }

  // judge asks for the verdicts of a page of strikes in one request: each
  // strike is judged at its own datetime, within its uncertainty. A strike
  // the server cannot judge (its uncertainty plus an agreement's buffer
  // reaching beyond the largest radius) refuses the whole page; then the
  // page is judged strike by strike, and that strike alone goes without a
  // verdict (null).
  async judge(features, signal) {
    if (features.length === 0) return [];
    try {
      return await this.judgeAll(features, signal);
    } catch (err) {
      if (err.status !== 400) throw err;
    }
    return Promise.all(
      features.map((f) =>
        this.judgeAll([f], signal).then(
          ([judged]) => judged,
          (err) => {
            if (err.status !== 400) throw err;
            return null;
          },
        ),
      ),
    );
  }

  // judgeAll refuses an answer that does not judge every strike it was
  // sent, as its closing summary counts them: a strike left out would be
  // drawn as if it had no verdict.
  async judgeAll(features, signal) {
    const answer = await this.hooks.api.post('/proximity', { type: 'FeatureCollection', features }, { contentType: 'application/geo+json', signal });
    const judged = answer.features?.length ?? 0;
    if (answer.summary?.strikes !== features.length || judged !== features.length) {
      throw new ApiError(0, t('strikes.partialTitle'), t('strikes.partial', { judged: count(judged), sent: count(features.length) }));
    }
    return answer.features;
  }

  entry(feature, judged) {
    const verdict = judged?.properties?.summary?.verdict ?? 'unknown';
    const [lon, lat] = feature.geometry.coordinates;
    const marker = new StrikeMarker(L.latLng(lat, lon), {
      ...STRIKE_STYLE,
      fillColor: VERDICT_COLOURS[verdict] ?? VERDICT_COLOURS.unknown,
      fillOpacity: 1,
      className: 'pm-strike',
      bubblingMouseEvents: false,
      // What the marker stands for, for whoever reads the map's layers.
      strikeId: String(feature.id),
      verdict,
    });
    const entry = { id: String(feature.id), time: Date.parse(feature.properties.datetime), feature, judged, marker };
    marker.bindTooltip(asText(t('strikes.tooltip', { time: formatInstant(feature.properties.datetime), verdict: verdictWords(verdict) })), { direction: 'top', offset: [0, -6] });
    marker.bindPopup(() => strikePopup(entry, verdict, this.hooks.api), { maxWidth: 360, minWidth: 240 });
    return entry;
  }

  /**
   * near lists the strikes drawn within meters of latlng, nearest first,
   * at most limit, as {label, open()}: open shows the strike's popup. It
   * is how a keyboard reaches a strike, which the canvas cannot focus.
   */
  near(latlng, meters, limit) {
    if (!this.visible) return [];
    return this.entries
      .filter((e) => this.group.hasLayer(e.marker))
      .map((e) => ({ e, m: this.map.distance(latlng, e.marker.getLatLng()) }))
      .filter(({ m }) => m <= meters)
      .sort((a, b) => a.m - b.m)
      .slice(0, limit)
      .map(({ e, m }) => ({
        label: t('strikes.near', { time: formatInstant(e.feature.properties.datetime), verdict: verdictWords(e.marker.options.verdict), distance: formatMeters(m) }),
        open: () => e.marker.openPopup(),
      }));
  }

  // setSlider spans the slider over the loaded strikes' times, in minutes, at the end.
  setSlider() {
    const { slider, play } = this.els;
    const n = this.entries.length;
    slider.disabled = play.disabled = n < 2;
    if (n === 0) {
      slider.min = slider.max = slider.value = '0';
      this.els.time.textContent = t('strikes.none');
      return;
    }
    slider.min = String(Math.floor(this.entries[0].time / MINUTE));
    slider.max = String(Math.ceil(this.entries[n - 1].time / MINUTE));
    slider.value = slider.max;
  }

  /** showUpTo shows the strikes at or before time (ms), hiding later ones. */
  showUpTo(time) {
    let n = 0;
    while (n < this.entries.length && this.entries[n].time <= time) n++;
    // Strikes share the sites' canvas (a canvas of their own above it would
    // take every click), drawn after them so a strike on a site shows.
    for (let i = this.shown; i < n; i++) {
      this.group.addLayer(this.entries[i].marker);
      this.entries[i].marker.bringToFront();
    }
    for (let i = n; i < this.shown; i++) this.group.removeLayer(this.entries[i].marker);
    this.shown = n;
    if (this.entries.length > 0) {
      const upTo = n === this.entries.length ? this.entries[n - 1].time : time;
      this.els.time.textContent = t('strikes.upTo', { time: formatInstant(new Date(upTo).toISOString()) });
      // Screen readers announce the instant, not the minutes since 1970 the slider counts.
      this.els.slider.setAttribute('aria-valuetext', this.els.time.textContent);
    }
    this.setState('ready');
  }

  /** play replays the strikes from the first, or from the slider when it is not at the end. */
  play() {
    const { slider, play } = this.els;
    const min = Number(slider.min);
    const max = Number(slider.max);
    if (max <= min) return;
    let value = Number(slider.value) >= max ? min : Number(slider.value);
    const step = Math.max(1, Math.ceil((max - min) / PLAY_STEPS));
    play.textContent = t('strikes.pause');
    play.setAttribute('aria-pressed', 'true');
    const tick = () => {
      slider.value = String(value);
      this.showUpTo(value * MINUTE);
      if (value >= max) {
        this.stop();
        return;
      }
      value = Math.min(max, value + step);
    };
    tick();
    this.timer = setInterval(tick, PLAY_MS / PLAY_STEPS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
    this.els.play.textContent = t('strikes.play');
    this.els.play.setAttribute('aria-pressed', 'false');
  }

  setState(state, detail = '') {
    const row = this.els.row;
    row.dataset.state = state;
    row.dataset.total = state === 'ready' ? String(this.entries.length) : '';
    row.dataset.shown = state === 'ready' ? String(this.shown) : '';
    this.stateEl.textContent = '';
    const total = this.entries.length;
    switch (state) {
      case 'off':
        this.countEl.textContent = '';
        break;
      case 'loading':
        this.countEl.innerHTML = '<span class="spinner" aria-hidden="true"></span> ';
        this.countEl.append(t('strikes.loading'));
        break;
      case 'ready':
        this.countEl.textContent = this.shown === total ? t('strikes.count', { count: total, n: count(total) }) : t('strikes.countOf', { shown: count(this.shown), total: count(total) });
        break;
      case 'capped':
        this.group.clearLayers();
        this.entries = [];
        this.shown = 0;
        this.countEl.textContent = '';
        this.stateEl.textContent = t('strikes.capped', { n: count(MAX_STRIKES) });
        break;
      case 'error':
        this.countEl.textContent = '';
        this.stateEl.textContent = detail;
        break;
    }
  }
}

// strikePopup shows a strike: when, who reported it, how precisely, its
// verdict and the protected sites it hit, then, once the strike itself is
// fetched, its facts. DOM nodes only: the data is not ours.
function strikePopup(entry, verdict, api) {
  const p = entry.feature.properties;
  const root = el('div', 'site-popup strike-popup');
  root.append(el('h2', null, t('strikes.popupTitle', { time: formatInstant(p.datetime) })));
  const box = el('p', `verdict verdict-${verdict}`);
  box.dataset.verdict = verdict;
  box.append(el('span', 'words', verdictWords(verdict)));
  root.append(box);
  // The verdict recorded with the strike, judged on the data of its day:
  // shown beside today's when the two differ, so a reload never silently
  // rewrites what the map said.
  const recorded = p.verdict_recorded;
  if (recorded && recorded.verdict && recorded.verdict !== verdict) {
    box.prepend(el('span', 'when', t('strikes.now')));
    const then = el('p', `verdict verdict-recorded verdict-${recorded.verdict}`);
    then.dataset.verdict = recorded.verdict;
    then.append(
      el('span', 'when', t('strikes.recorded', { time: formatInstant(recorded.judged_at), version: recorded.data_version })),
      el('span', 'words', verdictWords(recorded.verdict)),
    );
    root.append(then);
  }
  const rows = [
    [t('strikes.source'), [p.source, p.event_id].filter(Boolean).join(' · ')],
    [t('strikes.uncertainty'), formatMeters(p.uncertainty_m ?? 0)],
    [t('strikes.weapon'), p.weapon],
    [t('strikes.notes'), p.notes],
  ];
  const body = el('tbody');
  for (const [key, value] of rows) {
    if (!value) continue;
    const row = el('tr');
    row.append(el('th', null, key), el('td', null, String(value)));
    body.append(row);
  }
  const table = el('table');
  table.append(body);
  root.append(table);
  api.get(`/strikes/${encodeURIComponent(entry.id)}`).then(
    (strike) => {
      addFacts(body, strike.properties ?? {});
      table.dataset.facts = 'loaded';
    },
    () => {
      table.dataset.facts = 'failed';
    },
  );
  const summary = entry.judged?.properties?.summary;
  if (Array.isArray(summary?.readings) && summary.readings.length > 0) root.append(readingsView(summary, null));
  const hits = hitSites(entry.judged);
  if (hits.length > 0) {
    root.append(el('p', 'meta', t('strikes.hitSites')));
    const ul = el('ul', 'hit-sites');
    for (const h of hits) {
      const name = featureName(h.properties) ?? t('site.unnamed', { id: h.id });
      ul.append(el('li', null, t('strikes.hitSite', { name, collection: h.properties.collection, distance: formatMeters(h.properties.distance_m) })));
    }
    root.append(ul);
  }
  const actions = el('p', 'actions');
  const link = el('a', null, t('strikes.geojson'));
  link.href = `/strikes/${encodeURIComponent(entry.id)}`;
  link.type = 'application/geo+json';
  actions.append(link);
  root.append(actions);
  return root;
}

// addFacts adds a strike's facts to its popup's table: the nearest site
// (however far, so a miss says by how much), the source's precision code
// and link, and who recorded it.
function addFacts(body, p) {
  const row = (key, content) => {
    const tr = el('tr');
    const td = el('td');
    td.append(content);
    tr.append(el('th', null, key), td);
    body.append(tr);
  };
  const n = p.nearest_site;
  if (n) {
    const name = featureName(n) ?? t('site.unnamed', { id: n.id });
    row(t('strikes.nearestSite'), t('strikes.nearestSiteIs', { name, kind: n.kind ?? n.collection, distance: formatMeters(n.distance_m) }));
  }
  if (p.precision_code) row(t('strikes.precisionCode'), p.precision_code);
  if (p.source_link) {
    const a = el('a', null, p.source_link);
    a.href = p.source_link;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    row(t('strikes.sourceLink'), a);
  }
  if (p.recorded_by) row(t('strikes.recordedBy'), p.recorded_by);
}
