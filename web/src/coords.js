// Coordinates as people type or paste them, and how the map writes them back.
// Pure functions: no DOM, no Leaflet, so node's test runner covers them.

/** CoordError says why a text is not a coordinate pair; its message is meant for the reader. */
export class CoordError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CoordError';
  }
}

const UNITS = { '°': 0, "'": 1, '"': 2 };
const PART_NAMES = ['degrees', 'minutes', 'seconds'];

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
    throw new CoordError(`both coordinates are ${axisA === 'lat' ? 'latitudes (N/S)' : 'longitudes (E/W)'}`);
  }
  const latFirst = axisA ? axisA === 'lat' : axisB ? axisB === 'lon' : true;
  const [lat, lon] = latFirst ? [a.value, b.value] : [b.value, a.value];
  if (!(Math.abs(lat) <= 90)) {
    throw new CoordError(`latitude ${lat} is out of range (-90 to 90)`);
  }
  if (!(Math.abs(lon) <= 180)) {
    throw new CoordError(`longitude ${lon} is out of range (-180 to 180)`);
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
    throw new CoordError('no coordinates given');
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
      throw new CoordError(`unexpected "${m[6]}" at character ${at + 1 + m[0].indexOf(m[6])}`);
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
      throw new CoordError('a sign or hemisphere letter has no number');
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
          throw new CoordError('a comma has no number before it');
        }
        break;
      case 'hem':
        if (prefix) {
          if (cur.nums.length > 0 || cur.sign !== 0) close();
          cur.hem = t.letter;
        } else {
          if (cur.nums.length === 0) {
            throw new CoordError(`"${t.letter}" must follow its number, as the first coordinate's letter does`);
          }
          cur.hem = t.letter;
          close();
        }
        break;
      case 'sign':
        if (cur.nums.length > 0) close();
        if (cur.sign !== 0) {
          throw new CoordError('two signs in a row');
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
    throw new CoordError(`expected two coordinates (latitude and longitude), found ${coords.length}`);
  }
  return coords;
}

function coordValue(c) {
  if (c.sign !== 0 && c.hem !== null) {
    throw new CoordError(`use a sign or a hemisphere letter, not both ("${c.sign < 0 ? '-' : '+'}" and "${c.hem}")`);
  }
  const parts = [0, 0, 0];
  let prev = -1;
  c.nums.forEach((t, i) => {
    // A number without a mark is the part after the previous one.
    const pos = t.unit ?? prev + 1;
    if (pos <= prev || pos > 2 || (i === 0 && pos !== 0)) {
      throw new CoordError(`degrees, minutes and seconds out of order in "${c.nums.map((n) => n.text).join(' ')}"`);
    }
    prev = pos;
    if (i < c.nums.length - 1 && t.text.includes('.')) {
      throw new CoordError(`only the last part may have decimals, not the ${PART_NAMES[pos]} ${t.text}`);
    }
    if (pos > 0 && t.value >= 60) {
      throw new CoordError(`${PART_NAMES[pos]} must be under 60, not ${t.text}`);
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

/** formatPoint writes a point as "50.450000° N, 30.523400° E". */
export function formatPoint(lat, lon, digits = 6) {
  const ns = lat < 0 ? 'S' : 'N';
  const ew = lon < 0 ? 'W' : 'E';
  return `${Math.abs(lat).toFixed(digits)}° ${ns}, ${Math.abs(lon).toFixed(digits)}° ${ew}`;
}

/** formatInstant writes an RFC 3339 instant as people read it, in UTC to the minute. */
export function formatInstant(datetime) {
  const t = new Date(datetime);
  return Number.isNaN(t.getTime()) ? String(datetime) : `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** formatCount writes a count with thousands separators: "12,345". */
export function formatCount(n) {
  return n.toLocaleString('en-US');
}

/** formatMeters writes a distance to the metre with thousands separators: "12,345 m". */
export function formatMeters(meters) {
  return `${Math.round(meters).toLocaleString('en-US')} m`;
}

const COMPASS = ['N', 'NNE', 'NE', 'ENE', 'E', 'ESE', 'SE', 'SSE', 'S', 'SSW', 'SW', 'WSW', 'W', 'WNW', 'NW', 'NNW'];

/** formatBearing writes a bearing in degrees clockwise from north as "47° NE"; null (at distance 0) as "here". */
export function formatBearing(deg) {
  if (deg === null || deg === undefined || !Number.isFinite(deg)) {
    return 'here';
  }
  const whole = Math.round(deg) % 360;
  return `${whole}° ${COMPASS[Math.round(deg / 22.5) % 16]}`;
}
