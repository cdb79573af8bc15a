// Checking a location: which protected sites lie within a radius of a point
// (a strike, say), nearest first, with distance and bearing, drawn on the map
// as circles and as lines to each site's nearest point. Given an instant, the
// check is a verdict: whether a site protected by an agreement then was hit.
import L from 'leaflet';
import { parseCoordinates, roundDegrees } from './coords.js';
import { collectionTitle, coordMessage, featureName, formatBearing, formatCount, formatInstant, formatMeters, formatPoint, kindName, t } from './i18n.js';
import { rfc3339, validInstant } from './hash.js';
import { readingsView } from './readings.js';

/** LIMIT is the most sites one check lists. */
const LIMIT = 100;
/** STRIKES_LIMIT is the most recorded strikes one check lists. */
const STRIKES_LIMIT = 20;
/** MAX_METERS is the largest radius and uncertainty the server accepts. */
const MAX_METERS = 200_000;
/** PANE is the map pane the check draws on. */
const PANE = 'check';

/** verdictWords words a verdict the server gives, for people; one the map does not know as itself. */
export function verdictWords(verdict) {
  const key = `verdict.${verdict}`;
  return VERDICT_NAMES.includes(verdict) ? t(key) : verdict;
}

/** VERDICT_NAMES are the verdicts the catalogue words. */
const VERDICT_NAMES = ['protected_site_hit', 'possible_protected_site_hit', 'protected_site_nearby', 'no_protected_site', 'location_too_coarse'];

/**
 * Check owns the check form, its result list and what it draws. hooks are
 * {api, layers() (ids of the layers shown), titleOf(id), openSite(feature,
 * collectionId, latlng), onChange(), strikesNear(latlng, meters, limit)
 * (the strikes drawn there, as {label, open()}; optional)}. A query is {lat, lon, radius,
 * uncertainty, datetime (UTC "YYYY-MM-DDTHH:MMZ", or null), scope (ids)}.
 */
export class Check {
  constructor(map, form, result, hooks) {
    this.map = map;
    this.form = form;
    this.result = result;
    this.hooks = hooks;
    this.query = null;
    this.controller = null;
    // The check draws on a pane of its own beneath the sites, so its lines never hide a symbol.
    map.createPane(PANE).style.zIndex = 350;
    this.drawn = L.featureGroup().addTo(map);

    this.inputs = {
      coords: form.querySelector('#check-coords'),
      radius: form.querySelector('#check-radius'),
      uncertainty: form.querySelector('#check-uncertainty'),
      datetime: form.querySelector('#check-datetime'),
    };
    this.scopeEl = form.querySelector('#check-scope');
    // agreements resolves to a map from agreement id to title, fetched with the first verdict.
    this.agreements = null;
    this.error = form.querySelector('#check-error');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const q = this.readForm();
      if (q) this.run(q, { fit: true });
    });
    form.querySelector('#check-clear').addEventListener('click', () => this.clear());
  }

  /** setScopes offers collections ({id, title}) as a hypothetical agreement's scope. */
  setScopes(collections) {
    this.scopeEl.querySelectorAll('label').forEach((l) => l.remove());
    for (const c of collections) {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'scope';
      box.value = c.id;
      const label = document.createElement('label');
      label.append(box, ` ${collectionTitle(c)}`);
      this.scopeEl.append(label);
    }
    this.scopeEl.hidden = collections.length === 0;
  }

  scopeBoxes() {
    return [...this.scopeEl.querySelectorAll('input[name=scope]')];
  }

  /** at checks the location latlng with the radius and uncertainty in the form. */
  at(latlng) {
    this.inputs.coords.value = `${roundDegrees(latlng.lat)}, ${roundDegrees(latlng.lng)}`;
    const q = this.readForm();
    if (q) this.run(q, { fit: false });
  }

  readForm() {
    this.showError(null);
    let point;
    try {
      point = parseCoordinates(this.inputs.coords.value);
    } catch (err) {
      return this.showError(t('check.badCoords', { reason: coordMessage(err) }), this.inputs.coords);
    }
    const radius = meters(this.inputs.radius.value, 1);
    if (radius === null) {
      return this.showError(t('check.badRadius', { max: formatCount(MAX_METERS) }), this.inputs.radius);
    }
    const uncertainty = meters(this.inputs.uncertainty.value, 0);
    if (uncertainty === null) {
      return this.showError(t('check.badUncertainty', { max: formatCount(MAX_METERS) }), this.inputs.uncertainty);
    }
    // The input holds a UTC wall-clock time, so a shared link means the same instant everywhere.
    const datetime = this.inputs.datetime.value === '' ? null : `${this.inputs.datetime.value}Z`;
    if (datetime !== null && !validInstant(datetime)) {
      return this.showError(t('check.badWhen'), this.inputs.datetime);
    }
    const scope = this.scopeBoxes().filter((b) => b.checked).map((b) => b.value);
    if (scope.length > 0 && datetime === null) {
      return this.showError(t('check.scopeNeedsWhen'), this.inputs.datetime);
    }
    return { lat: roundDegrees(point.lat), lon: roundDegrees(point.lon), radius, uncertainty, datetime, scope };
  }

  showError(message, field) {
    for (const input of Object.values(this.inputs)) input.removeAttribute('aria-invalid');
    this.error.hidden = message === null;
    this.error.textContent = message ?? '';
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
    return null;
  }

  /** run checks q ({lat, lon, radius, uncertainty}); fit zooms the map to the circle. */
  async run(q, { fit }) {
    const layers = this.hooks.layers();
    if (layers.length === 0) {
      this.showError(t('check.noLayers'));
      return;
    }
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.query = q;
    this.inputs.coords.value ||= `${q.lat}, ${q.lon}`;
    this.inputs.radius.value = q.radius;
    this.inputs.uncertainty.value = q.uncertainty;
    this.inputs.datetime.value = q.datetime ? q.datetime.slice(0, -1) : '';
    for (const b of this.scopeBoxes()) b.checked = q.scope.includes(b.value);
    this.hooks.onChange();
    this.map.closePopup();
    this.drawCircles(q);
    if (fit) this.map.fitBounds(this.drawn.getBounds(), { maxZoom: 16 });
    this.result.textContent = t('check.checking');
    const params = new URLSearchParams({ lon: q.lon, lat: q.lat, radius: q.radius, limit: LIMIT, collections: layers.join(',') });
    if (q.uncertainty > 0) params.set('uncertainty', q.uncertainty);
    if (q.datetime) params.set('datetime', rfc3339(q.datetime));
    if (q.scope.length > 0) params.set('scope', q.scope.join(','));
    let answer;
    let titles;
    try {
      [answer, titles] = await Promise.all([this.hooks.api.get(`/proximity?${params}`, controller.signal), q.datetime ? this.agreementTitles() : null]);
    } catch (err) {
      if (err.name === 'AbortError') return;
      this.result.textContent = '';
      this.showError(t('check.failed', { reason: err.message }));
      return;
    }
    this.drawHits(q, answer.features);
    this.list(q, answer, titles);
  }

  // agreementTitles fetches the agreements once; without them a verdict names agreements by id.
  agreementTitles() {
    this.agreements ??= this.hooks.api.get('/agreements').then(
      (doc) => new Map((doc.agreements ?? []).map((a) => [a.id, a.title || a.id])),
      () => {
        this.agreements = null;
        return new Map();
      },
    );
    return this.agreements;
  }

  /** clear removes the check from the map, the list and the link. */
  clear() {
    this.controller?.abort();
    this.query = null;
    this.drawn.clearLayers();
    this.result.textContent = '';
    this.showError(null);
    this.inputs.coords.value = '';
    this.hooks.onChange();
  }

  drawCircles(q) {
    this.drawn.clearLayers();
    const center = L.latLng(q.lat, q.lon);
    L.circle(center, { pane: PANE, radius: q.radius, color: '#1d4ed8', weight: 2, fillOpacity: 0.06, interactive: false, className: 'pm-check-radius' }).addTo(this.drawn);
    if (q.uncertainty > 0) {
      L.circle(center, {
        pane: PANE,
        radius: q.uncertainty,
        color: '#b91c1c',
        weight: 2,
        dashArray: '6 5',
        fillOpacity: 0.1,
        interactive: false,
        className: 'pm-check-uncertainty',
      }).addTo(this.drawn);
    }
    const icon = L.divIcon({ className: 'pm-check-point', iconSize: [18, 18] });
    L.marker(center, { icon, interactive: false, keyboard: false, zIndexOffset: 1000 }).addTo(this.drawn);
  }

  drawHits(q, features) {
    const center = L.latLng(q.lat, q.lon);
    for (const f of features) {
      const p = f.properties;
      if (!(p.distance_m > 0)) continue;
      const nearest = L.latLng(p.nearest_point[1], p.nearest_point[0]);
      const color = p.possibly_hit ? '#b91c1c' : '#1e3a8a';
      L.polyline([center, nearest], { pane: PANE, color, weight: 2, dashArray: '4 4', interactive: false, className: 'pm-check-line' }).addTo(this.drawn);
      // A point site's symbol marks its nearest point already.
      if (f.geometry?.type !== 'Point') {
        L.circleMarker(nearest, { pane: PANE, radius: 4, color, weight: 2, fillColor: '#fff', fillOpacity: 1, interactive: false }).addTo(this.drawn);
      }
    }
  }

  list(q, answer, titles) {
    const features = answer.features;
    const count = answer.summary?.count ?? features.length;
    const summary = document.createElement('p');
    summary.className = 'summary';
    const parts = [t('check.within', { count, n: formatCount(count), radius: formatMeters(q.radius), point: formatPoint(q.lat, q.lon) })];
    if (features.length > 0) parts.push(t('check.nearest', { distance: formatMeters(features[0].properties.distance_m) }));
    if (q.uncertainty > 0) {
      const possibly = answer.summary?.possibly_hit ?? features.filter((f) => f.properties.possibly_hit).length;
      parts.push(t('check.possibly', { count: possibly, n: formatCount(possibly), uncertainty: formatMeters(q.uncertainty) }));
    }
    if (count > features.length) parts.push(t('check.listed', { n: formatCount(features.length) }));
    summary.textContent = `${parts.join('; ')}.`;

    const ol = document.createElement('ol');
    ol.className = 'hits';
    features.forEach((f, i) => ol.append(this.item(q, f, i, titles)));
    const judged = [];
    if (answer.summary?.verdict) {
      judged.push(verdictBox(q, answer.summary, titles));
      if (Array.isArray(answer.summary.readings) && answer.summary.readings.length > 0) judged.push(readingsView(answer.summary, titles));
    }
    this.result.replaceChildren(...judged, summary, ol, ...this.strikesList(q));
  }

  // strikesList lists the strikes drawn within the check's radius, each a
  // button that opens its popup: the canvas's markers take no focus.
  strikesList(q) {
    const near = this.hooks.strikesNear?.(L.latLng(q.lat, q.lon), q.radius, STRIKES_LIMIT) ?? [];
    if (near.length === 0) return [];
    const heading = document.createElement('p');
    heading.className = 'summary';
    heading.textContent = t('check.strikes', { count: near.length, n: formatCount(near.length), radius: formatMeters(q.radius) });
    const ol = document.createElement('ol');
    ol.className = 'hits strike-hits';
    for (const s of near) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'hit strike-hit';
      button.textContent = s.label;
      button.addEventListener('click', s.open);
      const li = document.createElement('li');
      li.append(button);
      ol.append(li);
    }
    return [heading, ol];
  }

  item(q, f, i, titles) {
    const p = f.properties;
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'hit';
    const rank = span('rank', `${i + 1}.`);
    const name = span('name', featureName(p) ?? t('site.unnamed', { id: f.id }));
    if (p.possibly_hit) name.append(span('badge', t('check.possiblyBadge')));
    const distance = span('distance', formatMeters(p.distance_m));
    distance.append(span('bearing', formatBearing(p.bearing_deg)));
    const meta = span('meta', [this.hooks.titleOf(p.collection), kindName(p.kind)].filter(Boolean).join(' · '));
    button.append(rank, name, distance, meta);
    if (Array.isArray(p.protected_by)) button.append(protection(p.protected_by, titles));
    button.addEventListener('click', () => {
      const nearest = L.latLng(p.nearest_point[1], p.nearest_point[0]);
      this.map.fitBounds(L.latLngBounds([L.latLng(q.lat, q.lon), nearest]), { maxZoom: 16, padding: [40, 40] });
      this.hooks.openSite(f, p.collection, nearest);
    });
    li.append(button);
    return li;
  }
}

// verdictBox shows a verdict in colour and words, with the agreements it judged by.
function verdictBox(q, summary, titles) {
  const box = document.createElement('div');
  box.className = `verdict verdict-${summary.verdict}`;
  box.dataset.verdict = summary.verdict;
  box.setAttribute('role', 'status');
  box.append(span('words', verdictWords(summary.verdict)));
  const when = formatInstant(q.datetime);
  const inForce = (summary.agreements_in_force ?? []).map((id) => agreementName(id, titles));
  box.append(span('detail', inForce.length > 0 ? t('check.inForce', { when, agreements: inForce.join('; ') }) : t('check.noneInForce', { when })));
  if (summary.verdict_without_scope) {
    box.append(span('detail', t('check.withoutScope', { verdict: verdictWords(summary.verdict_without_scope) })));
  }
  return box;
}

// protection lists the agreements protecting a site at the check's instant.
function protection(protectedBy, titles) {
  if (protectedBy.length === 0) return span('protection none', t('check.unprotected'));
  const s = span('protection', t('check.protectedBy'));
  protectedBy.forEach((a, i) => {
    const name = span('agreement', agreementName(a.agreement, titles, a.hypothetical));
    name.dataset.agreement = a.agreement;
    // Each reading protecting the site, by its party: the readings may differ.
    if (a.party && a.party !== 'all') {
      name.dataset.reading = a.reading;
      name.append(` (${a.party.toUpperCase()})`);
    }
    if (a.hit) name.append(span('badge', t('check.hitBadge')));
    s.append(i > 0 ? '; ' : '', name);
  });
  return s;
}

function agreementName(id, titles, hypothetical = false) {
  if (hypothetical) return t('check.addedScope');
  return titles?.get(id) ?? id;
}

// meters reads a whole number of metres in [least, MAX_METERS], or null.
function meters(value, least) {
  const n = Number(value);
  return value !== '' && Number.isInteger(n) && n >= least && n <= MAX_METERS ? n : null;
}

function span(className, text) {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}
