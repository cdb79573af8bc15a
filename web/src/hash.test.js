import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHash, formatHash, rfc3339, strikesInterval } from './hash.js';

test('formatHash and parseHash round-trip a shared view', () => {
  const state = {
    view: { zoom: 12, lat: 50.4501, lon: 30.5234 },
    layers: ['energy', 'hospitals'],
    check: { lat: 50.450123, lon: 30.523456, radius: 5000, uncertainty: 250, datetime: '2025-03-25T12:00Z', scope: ['energy', 'hospitals'] },
    site: { collection: 'energy', id: 'osm way/42' },
    strikes: { from: '2025-03-18', to: null },
  };
  const hash = formatHash(state);
  assert.equal(
    hash,
    '#map=12/50.4501/30.5234&layers=energy,hospitals&check=50.450123,30.523456,5000,250&at=2025-03-25T12:00Z&scope=energy,hospitals&site=energy/osm%20way%2F42&strikes=2025-03-18/..',
  );
  assert.deepEqual(parseHash(hash), { ...state, problems: [] });
});

test('parseHash tells absent parts from empty ones', () => {
  assert.deepEqual(parseHash(''), { view: null, layers: null, check: null, site: null, strikes: null, problems: [] });
  assert.deepEqual(parseHash('#layers=').layers, []);
  assert.deepEqual(parseHash('#check=50,30,1000').check, { lat: 50, lon: 30, radius: 1000, uncertainty: 0, datetime: null, scope: [] });
  assert.deepEqual(parseHash('#strikes=../..').strikes, { from: null, to: null });
});

test('parseHash names malformed parts and keeps the rest', async (t) => {
  const cases = [
    { name: 'zoom beyond the deepest', hash: '#map=25/50/30&layers=energy', problem: 'map=25/50/30' },
    { name: 'latitude beyond a pole', hash: '#map=5/91/30&layers=energy', problem: 'map=5/91/30' },
    { name: 'missing longitude', hash: '#map=5/50&layers=energy', problem: 'map=5/50' },
    { name: 'empty number', hash: '#map=5//30&layers=energy', problem: 'map=5//30' },
    { name: 'negative radius', hash: '#check=50,30,-1&layers=energy', problem: 'check=50,30,-1' },
    { name: 'words for numbers', hash: '#check=a,b,c&layers=energy', problem: 'check=a,b,c' },
    { name: 'site without id', hash: '#site=energy/&layers=energy', problem: 'site=energy/' },
    { name: 'unknown key', hash: '#zoom=3&layers=energy', problem: 'zoom=3' },
    { name: 'instant with no zone', hash: '#check=50,30,1000&at=2025-03-25T12:00&layers=energy', problem: 'at=2025-03-25T12:00' },
    { name: 'instant on no real day', hash: '#check=50,30,1000&at=2025-02-30T12:00Z&layers=energy', problem: 'at=2025-02-30T12:00Z' },
    { name: 'strikes ending before they start', hash: '#strikes=2025-04-01/2025-03-01&layers=energy', problem: 'strikes=2025-04-01/2025-03-01' },
    { name: 'strikes with one end', hash: '#strikes=2025-04-01&layers=energy', problem: 'strikes=2025-04-01' },
    { name: 'malformed escape in a layer', hash: '#layers=energy,%E0%A4%A', problem: 'layers=energy,%E0%A4%A' },
    { name: 'lone percent in a scope', hash: '#check=50,30,1000&scope=%&layers=energy', problem: 'scope=%' },
    { name: 'malformed escape in a site', hash: '#site=energy/%ZZ&layers=energy', problem: 'site=energy/%ZZ' },
    { name: 'malformed escape in a site collection', hash: '#site=%/x&layers=energy', problem: 'site=%/x' },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = parseHash(c.hash);
      assert.deepEqual(got.problems, [c.problem]);
      assert.deepEqual(got.layers, ['energy']);
    });
  }
});

test('rfc3339 adds the seconds the server needs', () => {
  assert.equal(rfc3339('2025-03-25T12:00Z'), '2025-03-25T12:00:00Z');
  assert.equal(rfc3339('2025-03-25T12:00:30Z'), '2025-03-25T12:00:30Z');
});

test('strikesInterval writes a strikes range as the API reads it', () => {
  assert.equal(strikesInterval({ from: '2025-03-18', to: '2025-04-30' }), '2025-03-18/2025-04-30');
  assert.equal(strikesInterval({ from: '2025-03-18', to: null }), '2025-03-18/..');
  assert.equal(strikesInterval({ from: null, to: '2025-04-30' }), '../2025-04-30');
  assert.equal(strikesInterval({ from: null, to: null }), null);
});
