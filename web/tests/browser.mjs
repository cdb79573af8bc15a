// Drives the map in headless Chromium for server/browser_test.go. It reads a
// scenario as JSON on stdin, acts as a reader would (opens links, clicks,
// types, pans), and writes what it saw as JSON on stdout; the Go test holds
// the expectations, computed from the index. Progress goes to stderr.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const spec = JSON.parse(await new Response(process.stdin).text());
mkdirSync(spec.artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

// Everything every page asked for and complained about.
const requests = [];
const consoleErrors = [];

// The map draws its sites on a canvas, so the script counts them through
// Leaflet itself: this catches each map the page makes, with Leaflet's
// public init hooks, as Leaflet's build publishes itself as window.L.
function catchMaps() {
  let leaflet;
  window.maps = [];
  Object.defineProperty(window, 'L', {
    configurable: true,
    get: () => leaflet,
    set(value) {
      leaflet = value;
      value.Map.addInitHook(function () {
        window.maps.push(this);
      });
    },
  });
}

// waitMs bounds every wait for the page: long, as a busy machine may take
// tens of seconds over what a quiet one does in a moment, and a wait that
// ends early costs nothing.
const waitMs = 120_000;

async function newPage(viewport = { width: 1280, height: 800 }, headers = {}, locale = 'en-US', bypassCSP = false) {
  const context = await browser.newContext({ viewport, extraHTTPHeaders: headers, locale, bypassCSP });
  context.setDefaultTimeout(waitMs);
  context.setDefaultNavigationTimeout(waitMs);
  await context.addInitScript(catchMaps);
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url ?? '' });
  });
  page.on('pageerror', (err) => consoleErrors.push({ text: `uncaught: ${err.message}`, url: '' }));
  return page;
}

const log = (...args) => console.error(`[${spec.scenario}]`, ...args);

// settle waits until the map has had nothing in flight for 300 ms: no
// request, no marker chunk, no layer loading.
async function settle(page) {
  let calm = 0;
  for (let i = 0; i < 600 && calm < 3; i++) {
    const idle = await page.evaluate(
      () =>
        document.getElementById('map').getAttribute('aria-busy') === 'false' &&
        ![...document.querySelectorAll('.overlays li')].some((li) => li.dataset.state === 'loading') &&
        // Zoom and cluster animations end before the map shows what it holds.
        document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim') === null,
    );
    calm = idle ? calm + 1 : 0;
    await page.waitForTimeout(100);
  }
  if (calm < 3) throw new Error('the map was still busy after 60 s');
}

async function open(page, hash) {
  await page.goto(`${spec.base}/${hash}`);
  await page.waitForSelector('#overlays li', { state: 'attached' });
  await settle(page);
}

// firstRender loads the page at hash tries times and gives the median costs
// from navigation until every layer has drawn what its view holds (tiled,
// loaded or capped) and nothing is in flight: mainMs, the CPU
// time of the page's main thread, where the map's scripts, layout and
// drawing run; rendererMs, the CPU time of the page's whole renderer
// process; and wallMs, from navigation. CPU time, unlike wall time, does not
// grow while other processes hold the CPU, so mainMs is what the bound is
// set on. Each try starts from a page of the same site (the server's list of
// collections, whose icon asks nothing of the server), so the renderer
// process, whose clocks Chromium reports, stays the same.
async function firstRender(page, hash, tries) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const clocks = async () => {
    const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
    return { main: m.ThreadTime, renderer: m.ProcessTime };
  };
  const costs = [];
  for (let i = 0; i < tries; i++) {
    await page.goto(`${spec.base}/collections?f=html`);
    const before = await clocks();
    await page.goto(`${spec.base}/${hash}`);
    // Polled every 50 ms rather than every frame, so the waiting adds little to the main thread's time.
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('#overlays li')];
        return (
          rows.length > 0 &&
          document.getElementById('map').getAttribute('aria-busy') === 'false' &&
          rows.every((li) => ['ready', 'capped', 'tiles'].includes(li.dataset.state))
        );
      },
      null,
      { polling: 50, timeout: waitMs },
    );
    const after = await clocks();
    if (!(after.main > before.main)) throw new Error('the renderer changed during a timed load: its clocks went back');
    costs.push({
      mainMs: (after.main - before.main) * 1000,
      rendererMs: (after.renderer - before.renderer) * 1000,
      wallMs: await page.evaluate(() => performance.now()),
    });
  }
  await cdp.detach();
  await settle(page);
  const median = (key) => costs.map((x) => x[key]).sort((a, b) => a - b)[tries >> 1];
  return { mainMs: median('mainMs'), rendererMs: median('rendererMs'), wallMs: median('wallMs'), tries: costs.map((x) => Math.round(x.mainMs)) };
}

async function navigate(page, hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await settle(page);
}

async function shot(page, name) {
  await page.screenshot({ path: join(spec.artifacts, `${name}.png`) });
}

// drawn counts, per collection, the sites on the map: symbols, members of
// clusters, and lines and outlines; and the count the layer list shows.
function drawn(page) {
  return page.evaluate(() => {
    const out = {};
    for (const li of document.querySelectorAll('#overlays li')) {
      out[li.dataset.collection] = {
        state: li.dataset.state,
        label: li.querySelector('.count').textContent,
        inView: li.dataset.inView === '' ? null : Number(li.dataset.inView),
        tileFeatures: li.dataset.tileFeatures ? Number(li.dataset.tileFeatures) : null,
        note: li.querySelector('.state').textContent,
        checked: li.querySelector('input').checked,
        markers: 0,
        clustered: 0,
        paths: 0,
        total: 0,
      };
    }
    window.maps[0].eachLayer((layer) => {
      const cluster = typeof layer.getChildCount === 'function';
      const classes = (cluster ? layer.getAllChildMarkers()[0].options.className : layer.options.className) ?? '';
      const id = /(?:^| )pm-l-(\S+)/.exec(classes)?.[1];
      const d = out[id];
      // A layer drawn from tiles is counted by its row: its canvases hold no Leaflet layers.
      if (!d || layer instanceof L.FeatureGroup || layer instanceof L.GridLayer) return;
      if (cluster) d.clustered += layer.getChildCount();
      else if (layer instanceof L.CircleMarker) d.markers++;
      else d.paths++;
      d.total = d.markers + d.clustered + d.paths;
    });
    return out;
  });
}

// layersWithClass counts the vector layers on the map whose className is cls.
function layersWithClass(page, cls) {
  return page.evaluate((c) => {
    let n = 0;
    window.maps[0].eachLayer((layer) => {
      if (layer.options.className === c) n++;
    });
    return n;
  }, cls);
}

function mapInfo(page) {
  return page.evaluate(() => {
    const m = document.getElementById('map');
    return { width: m.clientWidth, height: m.clientHeight, hash: location.hash };
  });
}

async function checkResult(page) {
  const drawnParts = { lines: await layersWithClass(page, 'pm-check-line'), circles: await layersWithClass(page, 'pm-check-radius') };
  const listed = await page.evaluate(() => {
    const error = document.getElementById('check-error');
    return {
      summary: document.querySelector('#check-result .summary')?.textContent ?? '',
      hits: [...document.querySelectorAll('#check-result .hit')].map((b) => ({
        name: b.querySelector('.name').firstChild.textContent,
        distance: b.querySelector('.distance').firstChild.textContent,
        bearing: b.querySelector('.bearing').textContent,
        meta: b.querySelector('.meta').textContent,
        possiblyHit: b.querySelector('.badge') !== null,
      })),
      error: error.hidden ? '' : error.textContent,
      hash: location.hash,
    };
  });
  return { ...listed, ...drawnParts };
}

// verdictResult reads the verdict a check shows and what protected each listed site.
function verdictResult(page) {
  return page.evaluate(() => {
    const box = document.querySelector('#check-result .verdict');
    const error = document.getElementById('check-error');
    return {
      verdict: box?.dataset.verdict ?? '',
      words: box?.querySelector('.words').textContent ?? '',
      detail: box ? [...box.querySelectorAll('.detail')].map((d) => d.textContent).join(' ') : '',
      colour: box ? getComputedStyle(box).backgroundColor : '',
      hits: [...document.querySelectorAll('#check-result .hit')].map((b) => ({
        name: b.querySelector('.name').firstChild.textContent,
        protection: b.querySelector('.protection')?.textContent ?? null,
        agreements: [...b.querySelectorAll('.protection .agreement')].map((a) => a.dataset.agreement),
        hitBadges: b.querySelectorAll('.protection .badge').length,
      })),
      error: error.hidden ? '' : error.textContent,
      hash: location.hash,
    };
  });
}

// submitCheck runs the check as typed in the form, and photographs the result.
async function submitCheck(page, name) {
  await page.press('#check-coords', 'Enter');
  await settle(page);
  await shot(page, name);
}

function popupInfo(page) {
  return page.evaluate(() => {
    const p = document.querySelector('.leaflet-popup .site-popup');
    if (!p) return null;
    return {
      title: p.querySelector('h2').textContent,
      local: p.querySelector('.name-local')?.textContent ?? '',
      source: p.querySelector('.source')?.textContent ?? '',
      meta: p.querySelector('.meta').textContent,
      rows: p.querySelectorAll('tr').length,
      permalink: p.querySelector('.actions a').getAttribute('href'),
    };
  });
}

function notices(page) {
  return page.evaluate(() => [...document.querySelectorAll('#notices .notice p')].map((p) => p.textContent));
}

// strikesInfo reads the strike layer: its row, the range and slider, the
// legend's colour per verdict, and each strike drawn with its verdict and
// colour (as computed styles write colours, to compare with the legend's).
function strikesInfo(page) {
  return page.evaluate(() => {
    const probe = document.createElement('span');
    document.body.append(probe);
    const rgb = (colour) => {
      probe.style.color = colour;
      return getComputedStyle(probe).color;
    };
    const row = document.getElementById('strikes-row');
    const markers = [];
    // The colour painted at the middle of a canvas point, or null outside the canvas.
    const painted = (canvas, x, y) => {
      const ratio = canvas.width / parseFloat(canvas.style.width);
      if (!(x >= 0 && y >= 0 && x * ratio < canvas.width && y * ratio < canvas.height)) return null;
      const [r, g, b] = canvas.getContext('2d').getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
      return `rgb(${r}, ${g}, ${b})`;
    };
    window.maps[0].eachLayer((layer) => {
      if (layer.options.className !== 'pm-strike') return;
      const r = layer._renderer;
      const at = layer._point.subtract(r._bounds.min);
      markers.push({ id: layer.options.strikeId, verdict: layer.options.verdict, colour: rgb(layer.options.fillColor), painted: painted(r._container, at.x, at.y) });
    });
    probe.remove();
    const legend = {};
    for (const li of document.querySelectorAll('.legend li[data-verdict]')) {
      const c = li.querySelector('canvas.pm-swatch-strike');
      legend[li.dataset.verdict] = painted(c, parseFloat(c.style.width) / 2, parseFloat(c.style.height) / 2);
    }
    const slider = document.getElementById('strikes-slider');
    return {
      state: row.dataset.state,
      label: row.querySelector('.count').textContent,
      total: row.dataset.total === '' ? null : Number(row.dataset.total),
      shown: row.dataset.shown === '' ? null : Number(row.dataset.shown),
      markers,
      legend,
      from: document.getElementById('strikes-from').value,
      to: document.getElementById('strikes-to').value,
      slider: { min: Number(slider.min), max: Number(slider.max), value: Number(slider.value), label: slider.labels[0]?.textContent.trim() ?? '', valueText: slider.getAttribute('aria-valuetext') ?? '' },
      time: document.getElementById('strikes-time').textContent,
      hash: location.hash,
    };
  });
}

function strikePopupInfo(page) {
  return page.evaluate(() => {
    const p = document.querySelector('.leaflet-popup .strike-popup');
    if (!p) return null;
    return {
      title: p.querySelector('h2').textContent,
      verdict: p.querySelector('.verdict').dataset.verdict,
      words: p.querySelector('.verdict').textContent,
      recorded: p.querySelector('.verdict-recorded')?.dataset.verdict ?? '',
      recordedWords: p.querySelector('.verdict-recorded')?.textContent ?? '',
      rows: Object.fromEntries([...p.querySelectorAll(':scope > table tr')].map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent])),
      hitSites: [...p.querySelectorAll('.hit-sites li')].map((li) => li.textContent),
      readings: [...p.querySelectorAll('.readings-table')].flatMap((t) =>
        [...t.querySelectorAll('tbody tr')].map((r) => `${t.dataset.agreement}/${r.dataset.reading}:${r.dataset.verdict}:${r.dataset.status}${t.dataset.disputed === 'true' ? ':disputed' : ''}`),
      ),
    };
  });
}

// tilePixels counts the painted pixels on the canvases of vector tiles in the page.
function tilePixels(page) {
  return page.evaluate(() => {
    let n = 0;
    for (const c of document.querySelectorAll('canvas.pm-tile')) {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    }
    return n;
  });
}

// Web Mercator as Leaflet computes it, to find where a point is drawn.
function project(lat, lon, zoom) {
  const scale = 256 * 2 ** zoom;
  const s = Math.sin((Math.max(Math.min(lat, 85.0511287798), -85.0511287798) * Math.PI) / 180);
  return { x: ((lon + 180) / 360) * scale, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale };
}

// pageAt is where on the page (lat, lon) is drawn, in a view just set to
// view ({zoom, lat, lon}).
async function pageAt(page, view, lat, lon) {
  const box = await page.locator('#map').boundingBox();
  const { width, height } = await mapInfo(page);
  const c = project(view.lat, view.lon, view.zoom);
  const p = project(lat, lon, view.zoom);
  return { x: box.x + p.x - Math.round(c.x - width / 2), y: box.y + p.y - Math.round(c.y - height / 2) };
}

// clickAt clicks the map where (lat, lon) is drawn, in a view just set to view.
async function clickAt(page, view, lat, lon) {
  const { x, y } = await pageAt(page, view, lat, lon);
  await page.mouse.click(x, y);
  await settle(page);
}

// summaryInfo reads the summary panel: the total, the legend's words by
// verdict, and how many of the chart's pixels take each verdict's colour
// (bars are filled solid, so a verdict drawn has pixels of its colour).
async function summaryInfo(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById('summary-chart');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const legend = [...document.querySelectorAll('#summary-legend li')].map((li) => {
      const [r, g, b] = getComputedStyle(li.querySelector('.swatch')).backgroundColor.match(/\d+/g).map(Number);
      return { verdict: li.dataset.verdict, words: li.textContent.trim(), rgb: [r, g, b] };
    });
    const pixels = Object.fromEntries(legend.map((l) => [l.verdict, 0]));
    for (let i = 0; i < data.length; i += 4) {
      const l = legend.find((x) => x.rgb[0] === data[i] && x.rgb[1] === data[i + 1] && x.rgb[2] === data[i + 2] && data[i + 3] === 255);
      if (l) pixels[l.verdict]++;
    }
    return {
      strikes: Number(document.getElementById('summary-total').dataset.strikes),
      drawn: document.getElementById('summary-section').dataset.drawn,
      legend: legend.map(({ verdict, words }) => ({ verdict, words })),
      pixels,
    };
  });
}

// clusterDiscs reads the cluster discs on the page: how many markers the
// DOM holds, the discs among them, and the counts their badges show.
function clusterDiscs(page) {
  return page.evaluate(() => {
    const discs = [...document.querySelectorAll('.leaflet-marker-icon.pm-cluster')];
    return {
      domMarkers: document.querySelectorAll('.leaflet-marker-icon').length,
      discs: discs.length,
      badgeSum: discs.reduce((sum, d) => sum + Number(d.textContent), 0),
      keyboard: discs.every((d) => d.tabIndex === 0 && d.getAttribute('role') === 'button' && d.getAttribute('aria-label') !== ''),
    };
  });
}

// clusterHelpers, run in the page, gives it siteGroup(), the first layer's
// cluster group, siteMarkers(group), its site symbols by id, and shownAs.
function clusterHelpers() {
  window.siteGroup = () => {
    let group = null;
    window.maps[0].eachLayer((l) => {
      if (!group && l instanceof L.MarkerClusterGroup) group = l;
    });
    return group;
  };
  window.siteMarkers = (group) => new Map(group.getLayers().map((m) => [String(m.entry.feature.id), m]));
  // shownAs is what draws a site: its symbol, or the disc of the cluster
  // holding it; null when neither is on the map. (Markercluster's
  // getVisibleParent knows only DOM markers, not symbols on a canvas.)
  window.shownAs = (site) => {
    let v = site;
    while (v && !window.maps[0].hasLayer(v)) v = v.__parent;
    return v ?? null;
  };
}

// focused describes the element with the focus: a key naming the control
// (see keyOf), its focus ring (outline and box-shadow as computed) and
// whether it lies in the viewport. It marks the element so its ring can be
// read again unfocused.
function focused(page) {
  return page.evaluate(() => {
    const keyOf = (el) => {
      if (!el || el === document.body) return 'body';
      if (el.id) return `#${el.id}`;
      const row = el.closest('[data-collection]');
      if (row && el.matches('input')) return `layer:${row.dataset.collection}`;
      if (el.matches('.leaflet-control-zoom-in')) return 'zoom-in';
      if (el.matches('.leaflet-control-zoom-out')) return 'zoom-out';
      if (el.matches('.leaflet-popup-close-button')) return 'popup-close';
      if (el.closest('.leaflet-popup')) return `popup:${el.tagName.toLowerCase()}`;
      if (el.closest('.leaflet-control-attribution')) return 'attribution';
      if (el.matches('summary')) return `summary:${el.parentElement.id || el.parentElement.className}`;
      if (el.matches('.strike-hit')) return 'strike-hit';
      if (el.matches('.hit')) return 'hit';
      if (el.matches('input[name=scope], input[name=basemap]')) return `${el.name}:${el.value}`;
      if (el.matches('button[type=submit]')) return `submit:${el.form.id}`;
      return `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`;
    };
    const el = document.activeElement;
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    window.kbStops ??= [];
    if (!window.kbStops.includes(el)) window.kbStops.push(el);
    return {
      key: keyOf(el),
      stop: window.kbStops.indexOf(el),
      ring: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} | ${s.boxShadow}`,
      inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
    };
  });
}

// tabWalk presses Tab from the top of the page until the focus leaves the
// page or comes back to where it started, at most limit times, and returns
// each control reached once (a date's fields are one control), with its
// ring focused and unfocused.
async function tabWalk(page, limit = 150) {
  // Tab goes on from the last element focused: a mark at the top of the
  // page, focused and gone once Tab leaves it, starts the walk there.
  await page.evaluate(() => {
    window.kbStops = [];
    const mark = document.createElement('span');
    mark.tabIndex = -1;
    mark.addEventListener('blur', () => mark.remove());
    document.body.prepend(mark);
    mark.focus();
  });
  const stops = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.key === 'body' || (stops.length > 0 && f.stop === 0)) break;
    if (stops.length > 0 && stops[stops.length - 1].stop === f.stop) continue;
    stops.push(f);
  }
  await page.evaluate(() => document.activeElement?.blur());
  const unfocused = await page.evaluate(() =>
    window.kbStops.map((el) => {
      const s = getComputedStyle(el);
      return `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} | ${s.boxShadow}`;
    }),
  );
  return stops.map(({ stop, ...f }) => ({ ...f, unfocusedRing: unfocused[stop] }));
}

// tabTo presses Tab until the control named key has the focus.
async function tabTo(page, key, limit = 150) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if ((await focused(page)).key === key) return;
  }
  throw new Error(`Tab never reached ${key}`);
}

// mapView is the first map's centre and zoom.
function mapView(page) {
  return page.evaluate(() => {
    const c = window.maps[0].getCenter();
    return { lat: c.lat, lon: c.lng, zoom: window.maps[0].getZoom() };
  });
}

// pressed presses key and waits for the map to settle.
async function pressed(page, key) {
  await page.keyboard.press(key);
  await page.waitForTimeout(300);
  await settle(page);
}

const scenarios = {
  // The server's HTML pages of items: each path is opened as a browser
  // opens a link (Accept: text/html), and the page's map reports how many
  // features it drew, beside the SVG shapes Leaflet made for them.
  async pages() {
    const out = { pages: [] };
    const page = await newPage();
    for (const path of spec.paths) {
      const response = await page.goto(`${spec.base}${path}`);
      await page.waitForFunction(() => {
        const el = document.getElementById('features-map');
        return el && (el.dataset.drawn !== undefined || el.dataset.error !== undefined);
      }, null, { timeout: waitMs });
      out.pages.push(
        await page.evaluate(
          ({ path, type }) => {
            const el = document.getElementById('features-map');
            return {
              path,
              type,
              title: document.title,
              drawn: Number(el.dataset.drawn ?? -1),
              error: el.dataset.error ?? '',
              shapes: el.querySelectorAll('path.leaflet-interactive').length,
              rows: document.querySelectorAll('tbody tr').length,
              json: document.querySelector('a[type="application/json"]')?.href ?? '',
            };
          },
          { path, type: response.headers()['content-type'] ?? '' },
        ),
      );
      await shot(page, `page-${out.pages.length}`);
    }
    return out;
  },
  // The summary panel: opened, its chart drawn; an oblast chosen, and a
  // date typed into the strike layer's range, the chart follows each.
  async summary() {
    const out = {};
    const page = await newPage();
    await open(page, spec.hash);
    const drawn = (part) =>
      page.waitForFunction((p) => (document.getElementById('summary-section').dataset.drawn ?? '').includes(p), part, { timeout: waitMs });
    await page.locator('#summary-section > summary').click();
    await drawn('strikes/summary');
    out.all = await summaryInfo(page);
    await shot(page, 'summary');
    await page.selectOption('#summary-oblast', spec.oblast);
    await drawn(`oblast=${spec.oblast}`);
    out.oblast = await summaryInfo(page);
    await page.fill('#strikes-from', spec.from);
    await page.locator('#strikes-from').press('Tab');
    await drawn(`from=${spec.from}`);
    out.from = await summaryInfo(page);
    await shot(page, 'summary-filtered');
    return out;
  },

  // The default data with no tile URL: the map must ask nothing of any host
  // but its server.
  async offline() {
    const out = {};
    const page = await newPage();
    const firstLoad = [];
    const record = (r) => {
      if (['document', 'script', 'stylesheet'].includes(r.request().resourceType())) firstLoad.push(r.url());
    };
    page.on('response', record);
    await open(page, spec.views.country.hash);
    page.off('response', record);
    out.firstLoad = firstLoad;
    // Five loads of the view the bound is on, three of the one only logged beside it.
    out.firstRender = await firstRender(page, spec.views.country.hash, 5);
    out.emptyRender = await firstRender(page, spec.views.empty.hash, 3);
    await open(page, spec.views.country.hash);
    out.country = { map: await mapInfo(page), drawn: await drawn(page) };
    await page.getByText('Legend').click();
    await shot(page, 'country');
    await page.getByText('Legend').click();
    log('country view', JSON.stringify(out.country.map));

    // Each layer off (by keyboard) and on again (by mouse).
    out.toggles = {};
    for (const id of Object.keys(out.country.drawn)) {
      const box = page.locator(`#overlays li[data-collection="${id}"] input`);
      await box.focus();
      await page.keyboard.press('Space');
      await settle(page);
      const off = await drawn(page);
      await box.click();
      await settle(page);
      out.toggles[id] = { off, on: await drawn(page) };
    }

    await navigate(page, spec.views.city.hash);
    await shot(page, 'city');
    out.city = { map: await mapInfo(page), drawn: await drawn(page) };

    // A click where a strike landed.
    const click = spec.click;
    await navigate(page, click.hash);
    await clickAt(page, click.view, click.lat, click.lon);
    await shot(page, 'check-click');
    out.click = await checkResult(page);
    const first = page.locator('#check-result .hit').first();
    if ((await first.count()) > 0) {
      await first.click();
      await settle(page);
      out.click.popup = await popupInfo(page);
      await shot(page, 'check-popup');
    }

    // Typed coordinates, with an uncertainty.
    await page.fill('#check-coords', spec.typed.text);
    await page.fill('#check-radius', String(spec.typed.radius));
    await page.fill('#check-uncertainty', String(spec.typed.uncertainty));
    await submitCheck(page, 'check-typed');
    out.typed = await checkResult(page);

    // Mistakes: one the form catches, one only the server can judge.
    await page.fill('#check-coords', '95, 30');
    await page.press('#check-coords', 'Enter');
    out.badCoords = (await checkResult(page)).error;
    await page.fill('#check-coords', spec.typed.text);
    await page.fill('#check-radius', '1000');
    await page.fill('#check-uncertainty', '2000');
    await page.press('#check-coords', 'Enter');
    await settle(page);
    out.serverRefusal = (await checkResult(page)).error;
    await page.context().close();

    // A shared link restores view, layers and check in a fresh page.
    const shared = await newPage();
    await open(shared, spec.restore.hash);
    await shot(shared, 'restored');
    out.restore = { map: await mapInfo(shared), drawn: await drawn(shared), check: await checkResult(shared) };
    await shared.context().close();

    // A site's permalink opens its popup; a broken one says why.
    const site = await newPage();
    await open(site, spec.site.hash);
    out.site = { popup: await popupInfo(site) };
    await navigate(site, spec.site.missingHash);
    out.site.notices = await notices(site);
    await site.context().close();

    // A phone-sized screen: the panel is a sheet behind a button.
    const phone = await newPage({ width: 390, height: 844 });
    await open(phone, spec.views.country.hash);
    await shot(phone, 'phone');
    const panelShown = () => phone.locator('#panel').isVisible();
    out.phone = { map: await mapInfo(phone), panelBefore: await panelShown() };
    await phone.getByRole('button', { name: 'Layers & check' }).click();
    out.phone.panelAfter = await panelShown();
    await shot(phone, 'phone-panel');
    await phone.context().close();
    return out;
  },

  // Verdicts: a check at an instant from a link, then another instant and a
  // scope typed into the form, and a scope with no instant.
  async verdict() {
    const out = {};
    const page = await newPage();
    await open(page, spec.link);
    await shot(page, 'verdict-inside');
    out.inside = await verdictResult(page);
    await page.fill('#check-datetime', spec.outside);
    await submitCheck(page, 'verdict-outside');
    out.outside = await verdictResult(page);
    await page.locator(`#check-scope input[value="${spec.scope}"]`).check();
    await submitCheck(page, 'verdict-scope');
    out.scoped = await verdictResult(page);
    await page.fill('#check-datetime', '');
    await submitCheck(page, 'verdict-no-instant');
    out.scopeWithoutInstant = await verdictResult(page);
    return out;
  },

  // Readings: a check at an instant shows the verdict under each reading,
  // side by side, disputed agreements marked; the agreement picker shows
  // each agreement's readings on a timeline; zones are drawn like sites.
  async readings() {
    const out = {};
    const page = await newPage();
    await open(page, spec.link);
    await shot(page, 'readings-check');
    const readingRows = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#check-result .readings-table')].map((t) => ({
          agreement: t.dataset.agreement,
          disputed: t.dataset.disputed === 'true',
          badge: t.querySelector('caption .badge.disputed') !== null,
          rows: [...t.querySelectorAll('tbody tr')].map((r) => ({
            reading: r.dataset.reading,
            party: r.dataset.party,
            verdict: r.dataset.verdict,
            status: r.dataset.status,
            why: r.querySelector('.why').textContent,
            colour: getComputedStyle(r.querySelector('.verdict-cell')).borderLeftColor,
          })),
        })),
      );
    out.check = await readingRows();
    out.status = await page.evaluate(() => document.querySelector('#check-result .readings')?.dataset.status ?? '');
    const lanes = () =>
      page.evaluate(() => ({
        agreement: document.querySelector('#agreement-timeline .timeline')?.dataset.agreement ?? '',
        lanes: [...document.querySelectorAll('#agreement-timeline .lane')].map((l) => {
          const bar = l.querySelector('.bar');
          return { reading: l.dataset.reading, status: l.dataset.status, label: l.querySelector('.label').textContent, left: parseFloat(bar.style.left), width: parseFloat(bar.style.width) };
        }),
        marked: document.querySelectorAll('#agreement-timeline .at').length,
      }));
    out.picker = await page.evaluate(() => [...document.querySelectorAll('#agreement-picker option')].map((o) => o.value));
    out.first = await lanes();
    await page.selectOption('#agreement-picker', spec.second);
    await shot(page, 'readings-timeline');
    out.second = await lanes();
    await page.fill('#check-datetime', spec.later);
    await submitCheck(page, 'readings-later');
    out.later = await readingRows();
    out.zones = (await drawn(page)).zones ?? null;
    await page.context().close();
    return out;
  },

  // Hostile data and links: a malformed hash must not stop the map, and
  // site names that are HTML must show as text in their tooltips.
  async hostile() {
    const out = { tooltips: [] };
    const page = await newPage();
    await open(page, spec.hash);
    out.drawn = await drawn(page);
    for (const site of spec.sites) {
      const { x, y } = await pageAt(page, spec.view, site.lat, site.lon);
      await page.mouse.move(x, y);
      const tip = page.locator('.leaflet-tooltip');
      await tip.waitFor({ timeout: 5000 }).catch(() => {});
      out.tooltips.push(await tip.evaluateAll((ts) => ts.map((t) => ({ text: t.textContent, elements: t.querySelectorAll('*').length }))));
      await page.mouse.move(0, 0);
      await page.waitForTimeout(300);
    }
    // Time for an injected refresh or handler to act.
    await page.waitForTimeout(1500);
    out.url = page.url();
    out.title = await page.title();
    out.notices = await notices(page);
    return out;
  },

  // Thousands of strikes, judged a page at a time: every one drawn with its verdict.
  async strikesMany() {
    const page = await newPage();
    await open(page, spec.view.hash);
    return { all: await strikesInfo(page), notices: await notices(page) };
  },

  // The strike log: strikes coloured by verdict, a date range kept in the
  // link, the replay slider, and recording a strike from a check.
  async strikes() {
    const out = {};
    const page = await newPage();
    await open(page, spec.view.hash);
    out.all = await strikesInfo(page);
    await page.getByText('Legend').click();
    await shot(page, 'strikes');
    await page.getByText('Legend').click();

    // A strike's popup, opened by clicking it.
    await clickAt(page, spec.view, spec.popup.lat, spec.popup.lon);
    // The strike's facts come with the strike itself, fetched as the popup opens.
    await page.waitForSelector('.leaflet-popup .strike-popup table[data-facts]', { state: 'attached' }).catch(() => {});
    out.popup = await strikePopupInfo(page);
    await shot(page, 'strike-popup');
    await page.keyboard.press('Escape');

    // A date range typed in, then the page reloaded from its link.
    await page.fill('#strikes-from', spec.range.from);
    await page.fill('#strikes-to', spec.range.to);
    await page.locator('#strikes-to').press('Tab');
    await settle(page);
    out.ranged = await strikesInfo(page);
    await page.reload();
    await page.waitForSelector('#overlays li', { state: 'attached' });
    await settle(page);
    out.reloaded = await strikesInfo(page);

    // The slider: moved to an instant, then by keyboard to the start, then played to the end.
    await page.locator('#strikes-slider').evaluate((s, minutes) => {
      s.value = String(minutes);
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }, spec.sliderMinutes);
    await settle(page);
    out.slid = await strikesInfo(page);
    await shot(page, 'strikes-slider');
    await page.locator('#strikes-slider').focus();
    await page.keyboard.press('Home');
    await settle(page);
    out.home = await strikesInfo(page);
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(() => document.getElementById('strikes-play').getAttribute('aria-pressed') === 'false', null, { timeout: waitMs });
    out.played = await strikesInfo(page);

    // Recording the checked location: without a token, with a wrong one, with the right one.
    const r = spec.record;
    await page.locator('#overlays li[data-collection="energy"] input').check();
    await settle(page);
    await page.fill('#check-coords', r.coords);
    await submitCheck(page, 'record-check');
    await page.getByText('Record this location as a strike').click();
    await page.fill('#record-datetime', r.datetime);
    await page.fill('#record-uncertainty', String(r.uncertainty));
    await page.fill('#record-source', r.source);
    await page.fill('#record-notes', r.notes);
    const attempt = async (token) => {
      await page.fill('#record-token', token);
      await page.getByRole('button', { name: 'Record strike' }).click();
      await settle(page);
      return page.evaluate(() => {
        const text = (id) => (document.getElementById(id).hidden ? '' : document.getElementById(id).textContent);
        return { status: text('record-status'), error: text('record-error'), focused: document.activeElement?.id ?? '' };
      });
    };
    out.noToken = await attempt('');
    out.badToken = await attempt(r.badToken);
    await shot(page, 'record-refused');
    out.recorded = await attempt(r.token);
    await page.getByText('Legend').click();
    await shot(page, 'record-done');
    out.afterRecord = await strikesInfo(page);
    out.sessionToken = await page.evaluate(() => sessionStorage.getItem('protectmap.token'));
    out.url = page.url();
    await page.context().close();
    return out;
  },

  // The live feed: two pages open, strikes posted through the API appear on
  // both without a reload; a page that loses the feed says so, and catches
  // up once it is back, drawing no strike twice.
  async live() {
    const out = {};
    // The test's server can cut the second page's feed, and refuse it until told.
    // The second page's browser speaks Ukrainian, so the map does too.
    const pages = [await newPage(), await newPage(undefined, { 'X-Test-Feed': 'cuttable' }, 'uk-UA')];
    const cutFeed = async (cut) => {
      const res = await fetch(`${spec.base}/test/feed?cut=${cut ? 1 : 0}`, { method: 'POST' });
      if (!res.ok) throw new Error(`cutting the feed: ${res.status}`);
    };
    const liveState = (page) => page.evaluate(() => {
      const live = document.getElementById('strikes-live');
      return { state: live.dataset.state, fresh: Number(live.dataset.fresh), text: live.textContent.replace(/\s+/g, ' ').trim(), hidden: live.hidden };
    });
    for (const page of pages) {
      await open(page, spec.view.hash);
      await page.waitForFunction(() => document.getElementById('strikes-live').dataset.state === 'live', null, { timeout: waitMs });
    }
    out.before = await Promise.all(pages.map(strikesInfo));
    const post = async (strike) => {
      const res = await fetch(`${spec.base}/strikes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/geo+json', Authorization: `Bearer ${spec.token}` },
        body: JSON.stringify(strike),
      });
      if (res.status !== 201) throw new Error(`POST /strikes: ${res.status} ${await res.text()}`);
      return (await res.json()).id;
    };
    const hasStrike = (id) => {
      let found = false;
      window.maps[0].eachLayer((l) => {
        if (l.options.className === 'pm-strike' && l.options.strikeId === id) found = true;
      });
      return found;
    };
    // The time from the answer to the POST until a page draws the strike.
    const appears = async (page, id, since) => {
      await page.waitForFunction(hasStrike, id, { timeout: waitMs, polling: 20 });
      return Date.now() - since;
    };

    const posted = Date.now();
    out.first = await post(spec.strikes[0]);
    const answered = Date.now();
    out.postMs = answered - posted;
    out.appearMs = await Promise.all(pages.map((page) => appears(page, out.first, answered)));
    out.flash = await pages[0].evaluate(() => document.querySelectorAll('.pm-strike-flash').length);
    out.afterFirst = await Promise.all(pages.map(strikesInfo));
    out.liveAfterFirst = await Promise.all(pages.map(liveState));
    await shot(pages[0], 'live');

    // The second page loses the feed, and misses a strike meanwhile.
    await cutFeed(true);
    await pages[1].waitForFunction(() => document.getElementById('strikes-live').dataset.state === 'lost', null, { timeout: waitMs });
    out.lost = await liveState(pages[1]);
    await shot(pages[1], 'live-lost');
    out.second = await post(spec.strikes[1]);
    await appears(pages[0], out.second, Date.now());
    await cutFeed(false);
    await appears(pages[1], out.second, Date.now());
    await pages[1].waitForFunction(() => document.getElementById('strikes-live').dataset.state === 'live', null, { timeout: waitMs });
    await settle(pages[1]);
    out.after = await Promise.all(pages.map(strikesInfo));
    out.liveAfter = await Promise.all(pages.map(liveState));
    for (const page of pages) await page.context().close();
    return out;
  },

  // The map in each language: English from an English browser, Ukrainian
  // once chosen (and still after a reload), then English again. In each, the
  // page's words, a site's name and a strike's popup; in Ukrainian, no
  // English message anywhere on the page.
  async languages() {
    const out = {};
    const page = await newPage();
    const read = () =>
      page.evaluate((english) => {
        const texts = [document.body.innerText, document.title];
        for (const e of document.querySelectorAll('[aria-label], [title]')) texts.push(e.getAttribute('aria-label') ?? '', e.getAttribute('title') ?? '');
        const all = texts.join('\n');
        return {
          lang: document.documentElement.lang,
          title: document.title,
          legend: document.querySelector('.legend summary').textContent,
          check: document.querySelector('#check-form button[type=submit]').textContent,
          strikesLabel: document.querySelector('#strikes-row .count').textContent,
          mapLabel: document.getElementById('map').getAttribute('aria-label'),
          switchValue: document.getElementById('lang-switch').value,
          // Whole words only: a layer's title from the server ("Hospitals") is data, not a message.
          english: english.filter((m) => new RegExp(`(?<!\\p{L})${m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\p{L})`, 'u').test(all)),
        };
      }, spec.english);
    const inLanguage = async () => {
      const o = { page: await read() };
      await clickAt(page, spec.view, spec.strike.lat, spec.strike.lon);
      o.strike = await strikePopupInfo(page);
      await page.keyboard.press('Escape');
      await navigate(page, spec.site.hash);
      o.site = await popupInfo(page);
      o.pageWithPopups = await read();
      await page.keyboard.press('Escape');
      await navigate(page, spec.view.hash);
      return o;
    };
    await open(page, spec.view.hash);
    out.en = await inLanguage();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('uk');
    await page.waitForFunction(() => document.documentElement.lang === 'uk');
    await page.waitForSelector('#overlays li', { state: 'attached' });
    await settle(page);
    out.uk = await inLanguage();
    await shot(page, 'ukrainian');
    await page.reload();
    await page.waitForSelector('#overlays li', { state: 'attached' });
    await settle(page);
    out.ukReloaded = await read();
    await page.getByRole('combobox', { name: 'Мова' }).selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await settle(page);
    out.back = await read();
    await page.context().close();
    return out;
  },

  // axe-core's checks in the real page, on a desktop and a phone: at first
  // load, with a check's verdict in the panel, and with a strike's popup
  // open. (axe is injected, so this page alone sets the server's
  // Content-Security-Policy aside.)
  async accessibility() {
    const out = {};
    const axe = async (page) => {
      await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
      const r = await page.evaluate(() => window.axe.run());
      return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? '', nodes: v.nodes.map((n) => n.target.join(' ')) }));
    };
    for (const [name, viewport] of Object.entries({ desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } })) {
      const page = await newPage(viewport, {}, 'en-US', true);
      const o = {};
      await open(page, spec.view.hash);
      o.first = await axe(page);
      await open(page, spec.check.hash);
      o.checked = await page.evaluate(() => document.querySelector('#check-result .verdict')?.dataset.verdict ?? '');
      o.check = await axe(page);
      await open(page, spec.view.hash);
      // On a phone the check opened the panel over the map: close it, by its button.
      const toggle = page.locator('#panel-toggle');
      if ((await toggle.isVisible()) && (await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click();
      // The strike is drawn once judged.
      await page.waitForFunction(() => {
        let drawn = false;
        window.maps[0].eachLayer((l) => {
          drawn ||= l.options.className === 'pm-strike';
        });
        return drawn;
      });
      // The popup is opened on the marker itself: which point a tap hits is
      // the click tests' concern, and on a phone the check panel can take it.
      // A redraw may close it; a popup that never stays open fails.
      for (let i = 0; i < 3 && !o.popup; i++) {
        await page.evaluate(() =>
          window.maps[0].eachLayer((l) => {
            if (l.options.className === 'pm-strike') l.openPopup();
          }),
        );
        await settle(page);
        o.popup = await strikePopupInfo(page);
      }
      o.popupViolations = await axe(page);
      out[name] = o;
      await page.context().close();
    }
    return out;
  },

  // The map without a mouse: Tab through every control on a desktop and
  // a phone, with each one's focus ring, then each kind of control worked
  // by its keys alone.
  async keyboard() {
    const out = {};
    const checkResult = (page) =>
      page.waitForFunction(() => document.querySelector('#check-result .summary') !== null && /check=/.test(location.hash), null, { timeout: waitMs });
    const hashCheck = (page) => page.evaluate(() => /[#&]check=([^&]*)/.exec(location.hash)?.[1] ?? '');
    for (const [name, viewport] of Object.entries({ desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } })) {
      const page = await newPage(viewport);
      const o = {};
      await open(page, spec.view.hash);
      o.first = await tabWalk(page);

      if (name === 'phone') {
        // The panel opens from its button and Escape closes it, the focus
        // back on the button.
        await page.focus('#panel-toggle');
        await page.keyboard.press('Enter');
        o.panelOpened = await page.evaluate(() => document.getElementById('panel').checkVisibility());
        o.panelWalk = await tabWalk(page);
        await page.focus('#panel-toggle');
        await tabTo(page, '#check-coords');
        await page.keyboard.press('Escape');
        o.panelEscape = {
          open: await page.evaluate(() => document.getElementById('panel').checkVisibility()),
          focus: (await focused(page)).key,
        };
      }

      // The map: arrows pan, + and - zoom, Enter checks the centre.
      await page.focus('#map');
      const start = await mapView(page);
      await pressed(page, 'ArrowRight');
      const right = await mapView(page);
      await pressed(page, '+');
      const plus = await mapView(page);
      await pressed(page, '-');
      const minus = await mapView(page);
      o.mapKeys = { start, right, plus, minus };
      await page.keyboard.press('Enter');
      await checkResult(page);
      await settle(page);
      o.mapEnter = { centre: await mapView(page), check: await hashCheck(page) };

      // The zoom buttons, by Enter and by Space.
      await page.focus('.leaflet-control-zoom-in');
      const z0 = (await mapView(page)).zoom;
      await pressed(page, 'Enter');
      const z1 = (await mapView(page)).zoom;
      await pressed(page, ' ');
      const z2 = (await mapView(page)).zoom;
      o.zoomButtons = [z0, z1, z2];
      await page.focus('.leaflet-control-zoom-out');
      await pressed(page, ' ');
      await pressed(page, ' ');

      if (name === 'phone') {
        await page.close();
        out[name] = o;
        continue;
      }

      // A layer's box: Space hides the layer, and shows it again.
      await page.focus('#overlays li[data-collection="energy"] input');
      await pressed(page, ' ');
      const hidden = await page.evaluate(() => location.hash);
      await pressed(page, ' ');
      o.layerToggle = { hidden, shown: await page.evaluate(() => location.hash) };

      // A check typed in: coordinates and Enter.
      await page.focus('#check-coords');
      await page.keyboard.press('Control+A');
      await page.keyboard.type(`${spec.strike.lat}, ${spec.strike.lon}`);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('#check-result .strike-hit') !== null, null, { timeout: waitMs });
      await settle(page);
      o.typedCheck = await hashCheck(page);
      o.afterCheck = await tabWalk(page);

      // A strike's popup from the check's list: Enter opens it with the
      // focus in it, Escape closes it with the focus back on the list.
      await tabTo(page, 'strike-hit');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.leaflet-popup .strike-popup');
      await settle(page);
      o.strikePopup = { info: await strikePopupInfo(page), focusInPopup: await page.evaluate(() => document.activeElement.closest('.leaflet-popup') !== null) };
      await page.keyboard.press('Escape');
      await page.waitForTimeout(400);
      o.strikePopup.closed = await page.evaluate(() => document.querySelector('.leaflet-popup') === null);
      o.strikePopup.focusAfter = (await focused(page)).key;

      // A site's popup from the list: Enter opens it, Tab to its close
      // button, Space closes it, the focus back on the site.
      await page.focus('#check-coords');
      await tabTo(page, 'hit');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.leaflet-popup .site-popup');
      o.sitePopup = { title: await page.evaluate(() => document.querySelector('.leaflet-popup h2').textContent) };
      await tabTo(page, 'popup-close', 20);
      await page.keyboard.press(' ');
      await page.waitForTimeout(400);
      o.sitePopup.closed = await page.evaluate(() => document.querySelector('.leaflet-popup') === null);
      o.sitePopup.focusAfter = (await focused(page)).key;

      // The summary: Enter opens it, its filters follow, Escape closes it.
      await page.focus('#summary-section > summary');
      await page.keyboard.press('Enter');
      const opened = await page.evaluate(() => document.getElementById('summary-section').open);
      await page.keyboard.press('Tab');
      const next = (await focused(page)).key;
      await page.keyboard.press('Escape');
      o.summary = { opened, next, closed: !(await page.evaluate(() => document.getElementById('summary-section').open)), focusAfter: (await focused(page)).key };

      // The language: a key on the switch changes it, and the page with it.
      await page.focus('#lang-switch');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('ArrowDown')]);
      await page.waitForSelector('#overlays li', { state: 'attached' });
      o.language = await page.evaluate(() => document.documentElement.lang);
      await page.close();
      out[name] = o;
    }
    return out;
  },

  // A large layer drawn from vector tiles at low zoom, a click on one of
  // its sites, and the same layer as GeoJSON deeper in.
  async vectorTiles() {
    const out = {};
    const page = await newPage();
    await open(page, spec.low.hash);
    out.low = { map: await mapInfo(page), drawn: await drawn(page), pixels: await tilePixels(page) };
    await shot(page, 'vector-tiles');
    await navigate(page, spec.click.view.hash);
    await clickAt(page, spec.click.view, spec.click.lat, spec.click.lon);
    out.click = { popup: await popupInfo(page), check: (await checkResult(page)).summary };
    await shot(page, 'vector-tiles-popup');
    await navigate(page, spec.clickLine.view.hash);
    await clickAt(page, spec.clickLine.view, spec.clickLine.lat, spec.clickLine.lon);
    out.clickLine = { popup: await popupInfo(page), check: (await checkResult(page)).summary };
    await shot(page, 'vector-tiles-line-popup');
    out.requestsBeforeHigh = requests.length;
    await navigate(page, spec.high.hash);
    out.high = { map: await mapInfo(page), drawn: await drawn(page), pixels: await tilePixels(page) };
    await shot(page, 'vector-tiles-high');
    return out;
  },

  // Tiles from a configured host: only that host and the server are asked.
  async tiles() {
    const page = await newPage();
    await open(page, spec.views.country.hash);
    await page.waitForSelector('.leaflet-tile-loaded');
    await settle(page);
    await shot(page, 'tiles');
    return {
      tilesLoaded: await page.locator('.leaflet-tile-loaded').count(),
      outlines: await layersWithClass(page, 'pm-outline'),
      notices: await notices(page),
      basemap: await page.locator('input[name=basemap]:checked').getAttribute('value'),
    };
  },

  // A tile host that cannot be reached: the outlines take over.
  async unreachable() {
    const page = await newPage();
    await open(page, spec.views.country.hash);
    await page.waitForFunction(() => document.querySelector('#notices .notice'), null, { timeout: waitMs });
    await settle(page);
    await shot(page, 'fallback');
    return {
      outlines: await layersWithClass(page, 'pm-outline'),
      notices: await notices(page),
      basemap: await page.locator('input[name=basemap]:checked').getAttribute('value'),
    };
  },

  // The printable report, laid out for print: its map drawn (the pixels of
  // each verdict's colour counted in a screenshot of it), every row there,
  // then printed to PDF.
  async reportPrint() {
    const page = await newPage({ width: 1000, height: 1400 });
    const res = await page.goto(spec.url);
    await page.emulateMedia({ media: 'print' });
    const svg = page.locator('figure svg');
    await svg.scrollIntoViewIfNeeded();
    const seen = await page.evaluate(() => {
      const box = document.querySelector('figure svg').getBoundingClientRect();
      const dots = [...document.querySelectorAll('circle.strike')];
      const onTop = dots.filter((c) => {
        const r = c.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return hit === c || c.contains(hit);
      });
      return {
        svgWidth: box.width,
        svgHeight: box.height,
        dots: dots.length,
        dotsOnTop: onTop.length,
        outlines: document.querySelectorAll('figure svg path').length,
        rows: [...document.querySelectorAll('tr.strike')].map((tr) => tr.id),
      };
    });
    const png = await svg.screenshot();
    const colours = await page.evaluate(
      async ({ b64, wanted }) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        const counts = {};
        for (const [name, hex] of Object.entries(wanted)) {
          const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
          let n = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (Math.abs(data[i] - r) < 6 && Math.abs(data[i + 1] - g) < 6 && Math.abs(data[i + 2] - b) < 6) n++;
          }
          counts[name] = n;
        }
        return counts;
      },
      { b64: png.toString('base64'), wanted: spec.colours },
    );
    await shot(page, 'report-print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true, path: join(spec.artifacts, 'report.pdf') });
    const raw = pdf.toString('latin1');
    return {
      status: res.status(),
      ...seen,
      colours,
      pdfHeader: raw.slice(0, 5),
      pdfBytes: pdf.length,
      pdfPages: (raw.match(/\/Type\s*\/Page(?!s)/g) || []).length,
    };
  },

  // Panning a view of many points must not block the page: the Long Tasks
  // API times every task over 50 ms from each drag until the map settles.
  // A big layer at the country view: what its first render costs (median
  // of three loads), the cluster discs on the page and the counts they
  // show; then, from the disc holding spec.target, Tab to the disc holding
  // it and Enter, again and again until the site is its own symbol, and its
  // popup by a click.
  async clusters() {
    const page = await newPage();
    const render = await firstRender(page, spec.hash, 3);
    await page.evaluate(clusterHelpers);
    const country = { drawn: await drawn(page), ...(await clusterDiscs(page)), map: await mapInfo(page) };
    await shot(page, 'clusters-country');
    const steps = [];
    for (let i = 0; i < 16; i++) {
      const holder = await page.evaluate((id) => {
        const group = siteGroup();
        const site = siteMarkers(group).get(id);
        const parent = site && shownAs(site);
        if (!parent || parent === site) return null;
        parent._icon.dataset.target = 'holder';
        return { zoom: window.maps[0].getZoom(), count: parent.getChildCount(), sites: parent.getAllChildMarkers().map((m) => String(m.entry.feature.id)) };
      }, spec.target.id);
      if (!holder) break;
      // From the map, Tab on through the discs to the one holding the site.
      await page.focus('#map');
      let reached = null;
      for (let tab = 0; tab < 600 && !reached; tab++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => {
          const el = document.activeElement;
          return el?.dataset.target === 'holder' ? { tabs: 0, role: el.getAttribute('role'), label: el.getAttribute('aria-label') } : null;
        });
        if (reached) reached.tabs = tab + 1;
      }
      if (!reached) throw new Error(`Tab never reached the disc of ${holder.count} sites at zoom ${holder.zoom}`);
      await pressed(page, 'Enter');
      // Where each site of the disc went: on the map, alone or in a smaller disc, or nowhere.
      const after = await page.evaluate((ids) => {
        const group = siteGroup();
        const sites = siteMarkers(group);
        const parents = new Set();
        const missing = [];
        for (const id of ids) {
          const parent = sites.has(id) ? shownAs(sites.get(id)) : null;
          if (parent && window.maps[0].getBounds().contains(parent.getLatLng())) parents.add(parent);
          else missing.push(id);
        }
        return { zoom: window.maps[0].getZoom(), parts: parents.size, missing, focus: document.activeElement?.id ?? '' };
      }, holder.sites);
      steps.push({ ...holder, sites: holder.sites.length, ...reached, after });
      log('cluster step', JSON.stringify(steps.at(-1)));
    }
    await shot(page, 'clusters-site');
    const view = await mapView(page);
    const at = await page.evaluate((id) => {
      const site = siteMarkers(siteGroup()).get(id);
      return site !== undefined && shownAs(site) === site;
    }, spec.target.id);
    let popup = null;
    if (at) {
      await clickAt(page, view, spec.target.lat, spec.target.lon);
      popup = await popupInfo(page);
    }
    return { render, country, steps, alone: at, zoom: view.zoom, popup };
  },

  async pan() {
    const out = { views: [] };
    const page = await newPage();
    for (const view of spec.panViews) {
      await open(page, view.hash);
      const before = await drawn(page);
      await page.evaluate(() => {
        window.longTasks = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.longTasks.push(e.duration);
        }).observe({ type: 'longtask' });
      });
      const box = await page.locator('#map').boundingBox();
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      const drags = [[-300, 0], [300, 0], [0, -220], [0, 220], [-260, -160], [260, 160], [400, 0], [-400, 0]];
      const perDrag = [];
      for (const [dx, dy] of drags) {
        await page.evaluate(() => {
          window.longTasks = [];
        });
        await page.mouse.move(cx, cy);
        await page.mouse.down();
        for (let i = 1; i <= 12; i++) await page.mouse.move(cx + (dx * i) / 12, cy + (dy * i) / 12);
        await page.mouse.up();
        await settle(page);
        perDrag.push(await page.evaluate(() => window.longTasks));
      }
      await shot(page, `pan-${view.name}`);
      out.views.push({ name: view.name, before, after: await drawn(page), perDrag });
      log(view.name, JSON.stringify(perDrag));
    }
    return out;
  },
};

let result;
try {
  result = await scenarios[spec.scenario]();
} catch (err) {
  result = { failure: String(err.stack ?? err) };
  // What the pages showed when it failed, to see why.
  let i = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) await page.screenshot({ path: join(spec.artifacts, `failure-${spec.scenario}-${i++}.png`) });
  }
}
await browser.close();
process.stdout.write(JSON.stringify({ ...result, requests, consoleErrors }));
