// The summary panel: the strikes between the strike layer's dates, counted
// by the server (GET /strikes/summary) by period and verdict in one oblast
// or all, drawn as stacked bars with Chart.js, and a legend saying what
// each verdict means.
import { ApiError } from './api.js';
import { formatCount as count, t } from './i18n.js';
import { VERDICT_COLOURS } from './strikes.js';

/** loadChart loads Chart.js with the parts a bar chart needs: when a summary is first drawn, since most readers never open the panel and the first load need not carry it. */
function loadChart() {
  return import('chart.js').then(({ BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip }) => {
    Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
    return Chart;
  });
}

/** VERDICTS are the verdicts charted, gravest first, as the server orders them. */
export const VERDICTS = ['protected_site_hit', 'possible_protected_site_hit', 'protected_site_nearby', 'no_protected_site', 'location_too_coarse'];

/**
 * chartData turns a summary's rows into Chart.js data: a label per period
 * in order, a dataset per verdict holding its count in each period.
 */
export function chartData(rows, label) {
  const periods = [...new Set(rows.map((r) => r.period))].sort();
  const at = new Map(periods.map((p, i) => [p, i]));
  const datasets = VERDICTS.map((v) => ({ label: label(v), verdict: v, data: periods.map(() => 0), backgroundColor: VERDICT_COLOURS[v] }));
  for (const r of rows) {
    const d = datasets.find((s) => s.verdict === r.verdict);
    if (d) d.data[at.get(r.period)] += r.count;
  }
  return { labels: periods, datasets };
}

export class Summary {
  /**
   * elements: section, oblast (a select), by (a select), chart (a canvas),
   * total, legend (a list) and error; from and to are the strike layer's
   * date inputs, which the summary follows.
   */
  constructor(elements, { api }) {
    this.el = elements;
    this.api = api;
    this.chart = null;
    this.chartClass = null; // Chart.js, once loaded
    this.request = null;
    for (const input of [elements.oblast, elements.by, elements.from, elements.to]) input.addEventListener('change', () => this.load());
    elements.section.addEventListener('toggle', () => elements.section.open && this.load());
    this.legend();
  }

  /** oblasts fills the oblast choice from the basemap's outlines, by name. */
  oblasts(basemap) {
    const outlines = (basemap?.features ?? []).filter((f) => f.properties?.iso);
    outlines.sort((a, b) => a.properties.name.localeCompare(b.properties.name));
    for (const f of outlines) {
      const o = document.createElement('option');
      o.value = f.properties.iso;
      o.textContent = `${f.properties.name} (${f.properties.iso})`;
      this.el.oblast.append(o);
    }
  }

  legend() {
    this.el.legend.replaceChildren(
      ...VERDICTS.map((v) => {
        const li = document.createElement('li');
        li.dataset.verdict = v;
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = VERDICT_COLOURS[v];
        swatch.setAttribute('aria-hidden', 'true');
        const words = document.createElement('span');
        words.dataset.i18n = `legend.${v}`;
        words.textContent = t(`legend.${v}`);
        li.append(swatch, ' ', words);
        return li;
      }),
    );
  }

  /** query is the summary's URL for the choices made now. */
  query() {
    const q = new URLSearchParams({ by: this.el.by.value });
    if (this.el.oblast.value) q.set('oblast', this.el.oblast.value);
    if (this.el.from.value) q.set('from', this.el.from.value);
    if (this.el.to.value) q.set('to', this.el.to.value);
    return `strikes/summary?${q}`;
  }

  async load() {
    if (!this.el.section.open) return;
    this.request?.abort();
    const request = new AbortController();
    this.request = request;
    const url = this.query();
    this.el.section.setAttribute('aria-busy', 'true');
    try {
      const [summary, Chart] = await Promise.all([this.api.get(url, request.signal), (this.chartClass ??= loadChart())]);
      if (request.signal.aborted) return;
      this.draw(summary, Chart);
      this.el.error.hidden = true;
      this.el.section.dataset.drawn = url;
    } catch (err) {
      if (err.name === 'AbortError') return;
      this.el.error.textContent = err instanceof ApiError ? err.message : String(err);
      this.el.error.hidden = false;
    } finally {
      if (this.request === request) this.el.section.setAttribute('aria-busy', 'false');
    }
  }

  draw(summary, Chart) {
    const data = chartData(summary.rows, (v) => t(`legend.${v}`));
    this.el.total.textContent = t('summary.total', { count: summary.strikes, n: count(summary.strikes) });
    this.el.total.dataset.strikes = String(summary.strikes);
    if (this.chart) {
      this.chart.data = data;
      this.chart.update('none');
      return;
    }
    this.chart = new Chart(this.el.chart, {
      type: 'bar',
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { tooltip: { mode: 'index' } },
      },
    });
  }
}
