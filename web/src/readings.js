// Agreements as each party reads them: the verdict under every reading, side
// by side, with the agreements whose readings disagree marked; and a timeline
// of an agreement's readings. DOM nodes only: the data is not ours.
import { t } from './i18n.js';
import { el } from './popup.js';

/** READING_VERDICTS are the verdicts under one reading the catalogue words (reading.*). */
const READING_VERDICTS = ['protected_site_hit', 'possible_protected_site_hit', 'protected_site_nearby', 'no_protected_site', 'not_in_force', 'location_too_coarse'];

/** STATUSES are the states of a reading at an instant the catalogue words (status.*). */
const STATUSES = ['in_force', 'conditional', 'suspended', 'not_in_force'];

// worded is the catalogue's word for value under prefix when it has one, else value.
const worded = (prefix, known, value) => (known.includes(value) ? t(`${prefix}.${value}`) : value);
const statusWords = (status) => worded('status', STATUSES, status);

/**
 * readingsView shows summary.readings (a verdict's, from /proximity or a
 * strike) grouped by agreement, one row per reading: party, verdict, state
 * and why. An agreement listed in summary.disputes is marked disputed with
 * how its readings differ. titles maps agreement ids to titles.
 */
export function readingsView(summary, titles) {
  const root = el('div', 'readings');
  const status = summary.agreement_status ?? 'agreed';
  root.dataset.status = status;
  const disputes = new Map((summary.disputes ?? []).map((d) => [d.agreement, d.how]));
  root.append(el('p', `agreement-status status-${status}`, status === 'disputed' ? t('readings.disagree') : t('readings.agree')));
  const byAgreement = new Map();
  for (const r of summary.readings ?? []) {
    if (!byAgreement.has(r.agreement)) byAgreement.set(r.agreement, []);
    byAgreement.get(r.agreement).push(r);
  }
  for (const [agreement, readings] of byAgreement) {
    const table = el('table', 'readings-table');
    table.dataset.agreement = agreement;
    const caption = el('caption', null, titles?.get(agreement) ?? agreement);
    if (disputes.has(agreement)) {
      table.classList.add('disputed');
      table.dataset.disputed = 'true';
      caption.append(' ', el('span', 'badge disputed', t('readings.disputed')));
      caption.title = disputes.get(agreement);
    }
    table.append(caption);
    const body = el('tbody');
    for (const r of readings) {
      const row = el('tr', `verdict-${r.verdict}`);
      Object.assign(row.dataset, { reading: r.reading, party: r.party, verdict: r.verdict, status: r.status });
      const verdict = el('td', 'verdict-cell', worded('reading', READING_VERDICTS, r.verdict));
      if (r.status === 'conditional') verdict.append(' ', el('span', 'badge conditional', statusWords('conditional')));
      row.append(el('th', 'party', r.party.toUpperCase()), verdict, el('td', 'state', statusWords(r.status)), el('td', 'why', r.why));
      body.append(row);
    }
    table.append(body);
    root.append(table);
  }
  return root;
}

/** DAY is a day in milliseconds. */
const DAY = 86400000;

/**
 * timeline draws an agreement's readings (from GET /agreements) as bars on
 * one time axis, each labelled with its party and dates; an open-ended
 * reading runs to the axis's end, marked open. at, an instant in ms or
 * null, is drawn as a line across the bars.
 */
export function timeline(agreement, at) {
  const readings = agreement.readings ?? [];
  const starts = readings.map((r) => Date.parse(r.start));
  const ends = readings.map((r) => (r.end ? Date.parse(r.end) : null));
  const from = Math.min(...starts);
  const latest = Math.max(...starts, ...ends.filter((e) => e !== null));
  // Open readings run on; the axis shows a fortnight past the last date.
  const to = latest + 14 * DAY;
  const share = (t) => ((t - from) / (to - from)) * 100;
  const pos = (t) => `${share(t).toFixed(2)}%`;
  const root = el('div', 'timeline');
  root.dataset.agreement = agreement.id;
  const axis = el('p', 'axis');
  axis.append(el('span', null, day(from)), el('span', null, day(to)));
  readings.forEach((r, i) => {
    const row = el('div', 'lane');
    Object.assign(row.dataset, { reading: r.id, party: r.party, status: r.status });
    const bar = el('span', `bar status-${r.status}${ends[i] === null ? ' open' : ''}`);
    bar.style.left = pos(starts[i]);
    bar.style.width = `${(share(ends[i] ?? to) - share(starts[i])).toFixed(2)}%`;
    bar.title = t('readings.bar', { party: r.party, start: day(starts[i]), end: ends[i] === null ? t('readings.open') : day(ends[i]), status: statusWords(r.status) });
    const label = el('span', 'label', `${r.party.toUpperCase()} ${day(starts[i])} → ${ends[i] === null ? t('readings.open') : day(ends[i])}`);
    if (r.status !== 'in_force') label.append(` (${statusWords(r.status)})`);
    row.append(label, el('span', 'track'));
    row.querySelector('.track').append(bar);
    root.append(row);
  });
  if (at !== null && at >= from && at <= to) {
    const now = el('span', 'at');
    now.style.left = pos(at);
    for (const track of root.querySelectorAll('.track')) track.append(now.cloneNode());
  }
  root.append(axis);
  return root;
}

function day(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

