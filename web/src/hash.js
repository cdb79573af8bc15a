// The URL hash holds what a shared link restores:
//   #map=ZOOM/LAT/LON&layers=ID,ID&check=LAT,LON,RADIUS_M[,UNCERTAINTY_M]&at=DATETIME&scope=ID,ID
//   &site=COLLECTION/ID&strikes=FROM/TO
// at (UTC, to the minute) and scope belong to the check; strikes shows the
// strike log between two UTC dates, each ".." when open.
// Pure functions, so node's test runner covers them.

/** MAX_ZOOM is the deepest zoom the map offers. */
export const MAX_ZOOM = 19;

/** DATETIME is an instant as the check form gives it: UTC, to the minute or second. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/;
/** DATE is a calendar day of the strikes filter. */
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** validInstant reports whether text is a DATETIME naming a real instant. */
export function validInstant(text) {
  return DATETIME.test(text) && !Number.isNaN(Date.parse(text)) && new Date(text).toISOString().slice(0, 16) === text.slice(0, 16);
}

/** rfc3339 writes a DATETIME as the server reads it, with seconds. */
export function rfc3339(datetime) {
  return datetime.length === 'YYYY-MM-DDTHH:MMZ'.length ? `${datetime.slice(0, -1)}:00Z` : datetime;
}

/** validDate reports whether text is a real calendar day, YYYY-MM-DD. */
export function validDate(text) {
  return DATE.test(text) && !Number.isNaN(Date.parse(text)) && new Date(text).toISOString().slice(0, 10) === text;
}

/**
 * parseHash reads a location hash into {view, layers, check, site, strikes, problems}.
 * Each part is null when absent; layers is null when absent (every layer
 * shown) and [] for "layers=" (none). check carries datetime (null when
 * absent) and scope ([] when absent). strikes is {from, to}, each a date or
 * null when open. A malformed part is left out and named in problems, so a
 * damaged link still opens what it can.
 */
export function parseHash(hash) {
  const state = { view: null, layers: null, check: null, site: null, strikes: null, problems: [] };
  let datetime = null;
  let scope = [];
  const text = String(hash).replace(/^#/, '');
  if (text === '') {
    return state;
  }
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    switch (key) {
      case 'map':
        state.view = parseView(value);
        if (!state.view) state.problems.push(`map=${value}`);
        break;
      case 'layers':
        state.layers = decodeList(value, part, state.problems);
        break;
      case 'check':
        state.check = parseCheck(value);
        if (!state.check) state.problems.push(`check=${value}`);
        break;
      case 'at':
        if (validInstant(value)) datetime = value;
        else state.problems.push(`at=${value}`);
        break;
      case 'scope':
        scope = decodeList(value, part, state.problems);
        break;
      case 'strikes':
        state.strikes = parseStrikes(value);
        if (!state.strikes) state.problems.push(`strikes=${value}`);
        break;
      case 'site': {
        const slash = value.indexOf('/');
        const collection = decode(value.slice(0, slash));
        const id = decode(value.slice(slash + 1));
        if (slash > 0 && slash < value.length - 1 && collection !== null && id !== null) {
          state.site = { collection, id };
        } else {
          state.problems.push(`site=${value}`);
        }
        break;
      }
      default:
        state.problems.push(part);
    }
  }
  if (state.check) Object.assign(state.check, { datetime, scope });
  return state;
}

// decode is decodeURIComponent, or null for a malformed escape such as
// "%E0%A4%A", which would otherwise throw and stop the map starting.
function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

// decodeList reads a comma-separated list of escaped names, leaving out
// any that are malformed and naming part in problems when it does.
function decodeList(value, part, problems) {
  if (value === '') return [];
  const names = value.split(',').map(decode);
  if (names.includes(null)) problems.push(part);
  return names.filter((n) => n !== null);
}

/**
 * strikesInterval is a strikes range ({from, to}, dates or null) as the
 * API's datetime interval, ".." for an open end, each date whole (the
 * server reads a date as its whole day); null when both ends are open.
 */
export function strikesInterval({ from, to }) {
  return from || to ? `${from ?? '..'}/${to ?? '..'}` : null;
}

function parseStrikes(value) {
  const ends = value.split('/');
  if (ends.length !== 2 || !ends.every((d) => d === '..' || validDate(d))) return null;
  const [from, to] = ends.map((d) => (d === '..' ? null : d));
  return from && to && from > to ? null : { from, to };
}

function numbers(value, sep) {
  const parts = value.split(sep);
  return parts.some((p) => p.trim() === '') ? [NaN] : parts.map(Number);
}

function parseView(value) {
  const [zoom, lat, lon, ...rest] = numbers(value, '/');
  if (rest.length > 0 || !(zoom >= 0 && zoom <= MAX_ZOOM) || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) {
    return null;
  }
  return { zoom, lat, lon };
}

function parseCheck(value) {
  const [lat, lon, radius, uncertainty = 0, ...rest] = numbers(value, ',');
  if (rest.length > 0 || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180) || !(radius >= 0) || !(uncertainty >= 0)) {
    return null;
  }
  return { lat, lon, radius, uncertainty };
}

/** formatHash writes the state parseHash reads; decimals follow the zoom so a link is as short as its precision. */
export function formatHash({ view, layers, check, site, strikes }) {
  const parts = [];
  if (view) {
    const digits = view.zoom <= 6 ? 3 : view.zoom <= 12 ? 4 : 5;
    parts.push(`map=${view.zoom}/${view.lat.toFixed(digits)}/${view.lon.toFixed(digits)}`);
  }
  if (layers) {
    parts.push(`layers=${layers.map(encodeURIComponent).join(',')}`);
  }
  if (check) {
    const fields = [check.lat, check.lon, check.radius];
    if (check.uncertainty > 0) fields.push(check.uncertainty);
    parts.push(`check=${fields.join(',')}`);
    if (check.datetime) parts.push(`at=${check.datetime}`);
    if (check.scope?.length > 0) parts.push(`scope=${check.scope.map(encodeURIComponent).join(',')}`);
  }
  if (site) {
    parts.push(`site=${encodeURIComponent(site.collection)}/${encodeURIComponent(site.id)}`);
  }
  if (strikes) {
    parts.push(`strikes=${strikes.from ?? '..'}/${strikes.to ?? '..'}`);
  }
  return parts.length > 0 ? `#${parts.join('&')}` : '';
}
