// Coordinates as people type or paste them, and how the map writes them back.
// Pure functions: no DOM, no Leaflet, so node's test runner covers them.

/**
 * CoordError says why a text is not a coordinate pair: key names its
 * message in the catalogue (under "coords."), params fill it.
 */
export class CoordError extends Error {
  constructor(key, params = {}) {
    super(key);
    this.name = 'CoordError';
    this.key = key;
    this.params = params;
  }
}

const UNITS = { '°': 0, "'": 1, '"': 2 };
const PART_NAMES = ['degrees', 'minutes', 'seconds']; // message keys

/**
 * parseCoordinates reads a point in the common written forms and returns
 * {lat, lon} in degrees:
 *   "50.45, 30.52"               latitude first when no hemisphere is given
 *   "30.52E 50.45N", "N50.45 E30.52"  hemisphere letters decide the axis
 *   "50°27'0\"N 30°31'12\"E"     degrees, minutes, seconds (or decimal minutes)
 *   "50,45; 30,52"               decimal commas when a semicolon separates
 *   "geo:50.45,30.52"            RFC 5870 URIs
 * It throws a CoordError naming what is wrong.
 */
export function parseCoordinates(text) {
  const coords = group(tokenize(normalize(text)));
  const [a, b] = coords.map(coordValue);
  const axisA = axisOf(a.hem);
  const axisB = axisOf(b.hem);
  if (axisA && axisA === axisB) {
    throw new CoordError('both', { axis: axisA === 'lat' ? 'latitudes' : 'longitudes' });
  }
  const latFirst = axisA ? axisA === 'lat' : axisB ? axisB === 'lon' : true;
  const [lat, lon] = latFirst ? [a.value, b.value] : [b.value, a.value];
  if (!(Math.abs(lat) <= 90)) {
    throw new CoordError('latRange', { value: lat });
  }
  if (!(Math.abs(lon) <= 180)) {
    throw new CoordError('lonRange', { value: lon });
  }
  return { lat, lon };
}

function normalize(text) {
  let s = String(text).trim();
  const uri = /^geo:\s*([^;?]*)/i.exec(s);
  if (uri) {
    s = uri[1];
  } else if (s.includes(';')) {
    // "50,45; 30,52": with a semicolon between the numbers, commas are decimal marks.
    s = s.replace(/(\d),(\d)/g, '$1.$2').replace(/;/g, ',');
  }
  return s
    .toUpperCase()
    .replace(/[\u2212\u2013]/g, '-')
    .replace(/[º˚]/g, '°')
    .replace(/''|[″”“]/g, '"')
    .replace(/[′’‘`´]/g, "'");
}

function tokenize(s) {
  if (s === '') {
    throw new CoordError('none');
  }
  const re = /\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*([°'"])?|([NSEW])|([+-])|(,)|(\S))\s*/y;
  const tokens = [];
  while (re.lastIndex < s.length) {
    const at = re.lastIndex;
    const m = re.exec(s);
    if (m[1] !== undefined) {
      tokens.push({ type: 'num', text: m[1], value: Number(m[1]), unit: m[2] === undefined ? null : UNITS[m[2]] });
    } else if (m[3] !== undefined) {
      tokens.push({ type: 'hem', letter: m[3] });
    } else if (m[4] !== undefined) {
      tokens.push({ type: 'sign', negative: m[4] === '-' });
    } else if (m[5] !== undefined) {
      tokens.push({ type: 'sep' });
    } else {
      throw new CoordError('unexpected', { text: m[6], at: at + 1 + m[0].indexOf(m[6]) });
    }
  }
  return tokens;
}

// group splits the tokens into the two coordinates. Hemisphere letters either
// all precede their numbers ("N 50 E 30") or all follow them ("50 N 30 E").
function group(tokens) {
  const first = tokens.find((t) => t.type !== 'sign');
  const prefix = first !== undefined && first.type === 'hem';
  const coords = [];
  let cur = { nums: [], sign: 0, hem: null };
  const close = () => {
    if (cur.nums.length === 0) {
      throw new CoordError('lonely');
    }
    coords.push(cur);
    cur = { nums: [], sign: 0, hem: null };
  };
  let prev;
  for (const t of tokens) {
    switch (t.type) {
      case 'sep':
        if (cur.nums.length > 0) {
          close();
        } else if (cur.sign !== 0 || cur.hem !== null || prev === undefined || prev.type !== 'hem') {
          // Only "50.45N, 30.52E" may have a comma right after a closed coordinate.
          throw new CoordError('comma');
        }
        break;
      case 'hem':
        if (prefix) {
          if (cur.nums.length > 0 || cur.sign !== 0) close();
          cur.hem = t.letter;
        } else {
          if (cur.nums.length === 0) {
            throw new CoordError('letterAfter', { letter: t.letter });
          }
          cur.hem = t.letter;
          close();
        }
        break;
      case 'sign':
        if (cur.nums.length > 0) close();
        if (cur.sign !== 0) {
          throw new CoordError('twoSigns');
        }
        cur.sign = t.negative ? -1 : 1;
        break;
      default: {
        // A degree mark, or a unit that does not follow the previous one, starts the next coordinate.
        const last = cur.nums.at(-1);
        if (last && (t.unit === 0 || (t.unit !== null && last.unit !== null && t.unit <= last.unit))) close();
        cur.nums.push(t);
      }
    }
    prev = t;
  }
  if (cur.nums.length > 0 || cur.sign !== 0 || cur.hem !== null) close();
  // "50.45 30.52" (or "50 27 0 30 31 12"): plain numbers with no separator, halved.
  if (coords.length === 1) {
    const only = coords[0];
    const n = only.nums.length;
    if (only.hem === null && only.sign === 0 && n % 2 === 0 && n <= 6 && only.nums.every((t) => t.unit === null)) {
      return [
        { nums: only.nums.slice(0, n / 2), sign: 0, hem: null },
        { nums: only.nums.slice(n / 2), sign: 0, hem: null },
      ];
    }
  }
  if (coords.length !== 2) {
    throw new CoordError('count', { n: coords.length });
  }
  return coords;
}

function coordValue(c) {
  if (c.sign !== 0 && c.hem !== null) {
    throw new CoordError('signAndLetter', { sign: c.sign < 0 ? '-' : '+', letter: c.hem });
  }
  const parts = [0, 0, 0];
  let prev = -1;
  c.nums.forEach((t, i) => {
    // A number without a mark is the part after the previous one.
    const pos = t.unit ?? prev + 1;
    if (pos <= prev || pos > 2 || (i === 0 && pos !== 0)) {
      throw new CoordError('order', { text: c.nums.map((n) => n.text).join(' ') });
    }
    prev = pos;
    if (i < c.nums.length - 1 && t.text.includes('.')) {
      throw new CoordError('decimals', { part: PART_NAMES[pos], text: t.text });
    }
    if (pos > 0 && t.value >= 60) {
      throw new CoordError('sixty', { part: PART_NAMES[pos], text: t.text });
    }
    parts[pos] = t.value;
  });
  const negative = c.sign < 0 || c.hem === 'S' || c.hem === 'W';
  const value = parts[0] + parts[1] / 60 + parts[2] / 3600;
  return { value: negative ? -value : value, hem: c.hem };
}

function axisOf(hem) {
  if (hem === 'N' || hem === 'S') return 'lat';
  if (hem === 'E' || hem === 'W') return 'lon';
  return null;
}

/** roundDegrees rounds to 6 decimals (about 0.1 m), the precision a check is made and shared at. */
export function roundDegrees(deg) {
  return Math.round(deg * 1e6) / 1e6;
}

/** formatPoint writes a point as "50.450000° N, 30.523400° E", with letters.N, S, E and W for the hemispheres. */
export function formatPoint(lat, lon, digits = 6, letters = { N: 'N', S: 'S', E: 'E', W: 'W' }) {
  const ns = lat < 0 ? letters.S : letters.N;
  const ew = lon < 0 ? letters.W : letters.E;
  return `${Math.abs(lat).toFixed(digits)}° ${ns}, ${Math.abs(lon).toFixed(digits)}° ${ew}`;
}

/** formatInstant writes an RFC 3339 instant as people of lang read it, in UTC to the minute: in English "2025-03-25 12:00 UTC", ISO 8601's order, unambiguous to any reader of English; else as Intl writes dates there. */
export function formatInstant(datetime, lang = 'en') {
  const t = new Date(datetime);
  if (Number.isNaN(t.getTime())) return String(datetime);
  const time = lang === 'en' ? t.toISOString().slice(0, 16).replace('T', ' ') : new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(t);
  return `${time} UTC`;
}

/**
 * countFormat gives the function that writes a count with lang's thousands
 * separators: "12,345", "12 345". Its number format is made once, where
 * toLocaleString makes one per call: the map writes a count on every
 * cluster it draws.
 */
export function countFormat(lang = 'en') {
  const format = new Intl.NumberFormat(lang);
  return (n) => format.format(n);
}

/** formatMeters writes a distance to the metre in lang: "12,345 m", "12 345 м". */
export function formatMeters(meters, lang = 'en') {
  return Math.round(meters).toLocaleString(lang, { style: 'unit', unit: 'meter', unitDisplay: 'short' });
}

/**
 * formatBearing writes a bearing in degrees clockwise from north as "47° NE",
 * with words.points the sixteen compass points from north (the catalogue's
 * bearing.points); null (at distance 0) as words.here.
 */
export function formatBearing(deg, words) {
  if (deg === null || deg === undefined || !Number.isFinite(deg)) {
    return words.here;
  }
  const whole = Math.round(deg) % 360;
  return `${whole}° ${words.points[Math.round(deg / 22.5) % 16]}`;
}
