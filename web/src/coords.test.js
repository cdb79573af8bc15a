import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCoordinates, CoordError, countFormat, formatInstant, formatMeters, formatBearing, formatPoint, roundDegrees } from './coords.js';
import { coordMessage, translator } from './messages.js';

const en = JSON.parse(readFileSync(new URL('./messages/en.json', import.meta.url), 'utf8'));
const tEn = translator(en, 'en', (key) => assert.fail(`no message ${key}`));

// english is a CoordError's message as the English map shows it.
const english = (err) => coordMessage(tEn, err);

const near = (got, want) => Math.abs(got - want) < 1e-9;

test('parseCoordinates reads the common written forms', async (t) => {
  const cases = [
    { name: 'decimal, latitude first', text: '50.45, 30.52', lat: 50.45, lon: 30.52 },
    { name: 'decimal, space only', text: '50.45 30.52', lat: 50.45, lon: 30.52 },
    { name: 'longitude first with letters', text: '30.52 E 50.45 N', lat: 50.45, lon: 30.52 },
    { name: 'letters glued to numbers', text: '30.52E 50.45N', lat: 50.45, lon: 30.52 },
    { name: 'prefix letters', text: 'N50.45 E30.52', lat: 50.45, lon: 30.52 },
    { name: 'one letter decides both axes', text: '30.52E, 50.45', lat: 50.45, lon: 30.52 },
    { name: 'southern and western', text: '33.9S 18.4W', lat: -33.9, lon: -18.4 },
    { name: 'signs', text: '-33.9, -70.6', lat: -33.9, lon: -70.6 },
    { name: 'sign after a number starts the next coordinate', text: '50.45 -30.52', lat: 50.45, lon: -30.52 },
    { name: 'unicode minus', text: '\u221233.9, 18.4', lat: -33.9, lon: 18.4 },
    { name: 'DMS with marks', text: `50°27'0"N 30°31'12"E`, lat: 50.45, lon: 30 + 31 / 60 + 12 / 3600 },
    { name: 'DMS with typographic marks', text: '50°27′00″ N, 30°31′12″ E', lat: 50.45, lon: 30 + 31 / 60 + 12 / 3600 },
    { name: 'DMS longitude first', text: `30°31'12"E 50°27'N`, lat: 50.45, lon: 30 + 31 / 60 + 12 / 3600 },
    { name: 'DMS without marks', text: '50 27 0 N 30 31 12 E', lat: 50.45, lon: 30 + 31 / 60 + 12 / 3600 },
    { name: 'decimal minutes', text: `N 50°27.5' E 30°31.2'`, lat: 50 + 27.5 / 60, lon: 30 + 31.2 / 60 },
    { name: 'degrees without minutes glued', text: '50.45°N 30.52°E', lat: 50.45, lon: 30.52 },
    { name: 'degree marks without letters', text: '50.45° 30.52°', lat: 50.45, lon: 30.52 },
    { name: 'decimal commas with semicolon', text: '50,45; 30,52', lat: 50.45, lon: 30.52 },
    { name: 'geo URI with uncertainty', text: 'geo:50.45,30.52;u=35', lat: 50.45, lon: 30.52 },
    { name: 'lower-case letters', text: '50.45n 30.52e', lat: 50.45, lon: 30.52 },
    { name: 'latitude at a pole', text: '90, 0', lat: 90, lon: 0 },
    { name: 'antimeridian', text: '-16.5, 180', lat: -16.5, lon: 180 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = parseCoordinates(c.text);
      assert.ok(near(got.lat, c.lat) && near(got.lon, c.lon), `${c.text} → ${JSON.stringify(got)}, want ${c.lat}, ${c.lon}`);
    });
  }
});

test('parseCoordinates says what is wrong', async (t) => {
  const cases = [
    { name: 'empty', text: '  ', msg: /no coordinates/ },
    { name: 'one number', text: '50.45', msg: /found 1/ },
    { name: 'three numbers with commas', text: '1, 2, 3', msg: /found 3/ },
    { name: 'odd count of plain numbers', text: '50 27 30', msg: /found 1/ },
    { name: 'stray letter', text: '50.45 x 30.52', msg: /unexpected "X" at character 7/ },
    { name: 'two latitudes', text: '50N 30S', msg: /both coordinates are latitudes/ },
    { name: 'two longitudes', text: '50E 30W', msg: /both coordinates are longitudes/ },
    { name: 'latitude out of range', text: '95, 30', msg: /latitude 95 is out of range/ },
    { name: 'longitude out of range', text: '50, 190', msg: /longitude 190 is out of range/ },
    { name: 'sign and letter', text: '-50N 30E', msg: /sign or a hemisphere letter/ },
    { name: 'minutes of 60', text: `50°60'N 30°E`, msg: /minutes must be under 60/ },
    { name: 'decimal degrees with minutes', text: `50.5°27'N 30°E`, msg: /only the last part/ },
    { name: 'minutes before degrees', text: `27' 50°N`, msg: /out of order/ },
    { name: 'comma after a sign', text: '50, -, 30', msg: /comma has no number/ },
    { name: 'leading comma', text: ', 50 30', msg: /comma has no number/ },
    { name: 'letter before its number in suffix style', text: '50N E 30', msg: /must follow its number/ },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.throws(() => parseCoordinates(c.text), (err) => err instanceof CoordError && c.msg.test(english(err)));
    });
  }
});

test('formatting', () => {
  assert.equal(formatMeters(12345.4), '12,345 m');
  assert.equal(formatMeters(0.4), '0 m');
  assert.equal(formatMeters(12345.4, 'uk'), '12\u00a0345 м');
  assert.equal(countFormat('uk')(1234567), '1\u00a0234\u00a0567');
  assert.equal(countFormat()(1234567), '1,234,567');
  const words = { here: en['bearing.here'], points: en['bearing.points'].split(' ') };
  assert.equal(formatBearing(47.2, words), '47° NE');
  assert.equal(formatBearing(359.8, words), '0° N');
  assert.equal(formatBearing(null, words), 'here');
  assert.equal(formatPoint(50.45, -30.5234, 4), '50.4500° N, 30.5234° W');
  assert.equal(formatPoint(-50.45, 30.5234, 2, { N: 'пн. ш.', S: 'пд. ш.', E: 'сх. д.', W: 'зх. д.' }), '50.45° пд. ш., 30.52° сх. д.');
  assert.equal(roundDegrees(30.52340049), 30.5234);
});

test('formatInstant writes an instant in UTC to the minute', () => {
  assert.equal(formatInstant('2025-03-25T12:00:00Z'), '2025-03-25 12:00 UTC');
  assert.equal(formatInstant('2025-03-25T14:30:59+02:00'), '2025-03-25 12:30 UTC');
  assert.equal(formatInstant('not a time'), 'not a time');
  assert.match(formatInstant('2025-03-25T12:00:00Z', 'uk'), /^25 бер\. 2025 р\., 12:00 UTC$/);
});
