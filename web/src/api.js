// Talking to the protectmap server: JSON in, RFC 9457 problem details out as
// readable errors, and one count of requests in flight for the loading signs.
import { t } from './i18n.js';

/** ApiError is a failed request; message is the server's detail, written for people. */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `request failed with status ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
  }
}

/**
 * Busy counts work in flight. The map carries aria-busy while anything is
 * pending, and the visible indicator appears only when the wait is long
 * enough to notice, so fast answers do not flicker.
 */
export class Busy {
  constructor(region, indicator, delayMs = 300) {
    this.region = region;
    this.indicator = indicator;
    this.delayMs = delayMs;
    this.pending = 0;
    this.timer = 0;
  }

  /** track marks work from now until promise settles, and returns promise. */
  track(promise) {
    this.begin();
    return promise.finally(() => this.end());
  }

  begin() {
    if (this.pending++ === 0) {
      this.region.setAttribute('aria-busy', 'true');
      this.timer = setTimeout(() => {
        this.indicator.hidden = false;
      }, this.delayMs);
    }
  }

  end() {
    if (--this.pending === 0) {
      clearTimeout(this.timer);
      this.indicator.hidden = true;
      this.region.setAttribute('aria-busy', 'false');
    }
  }
}

/**
 * Api fetches JSON from the server. Each request counts as busy; a request
 * aborted through its signal rejects with the AbortError, which callers
 * ignore since a newer request replaced it.
 */
export class Api {
  constructor(busy) {
    this.busy = busy;
  }

  get(url, signal) {
    return this.busy.track(fetchJSON(url, { signal }));
  }

  /**
   * post sends body (an object, as JSON of contentType) and returns the
   * answer; token, when given, is sent as a bearer token and nowhere else.
   */
  post(url, body, { contentType = 'application/json', token = null, signal } = {}) {
    const headers = { 'Content-Type': contentType };
    if (token) headers.Authorization = `Bearer ${token}`;
    return this.busy.track(fetchJSON(url, { method: 'POST', body: JSON.stringify(body), headers, signal }));
  }

  /** bytes fetches a binary resource; a 204 (nothing there) resolves to null. */
  bytes(url, signal) {
    return this.busy.track(
      send(url, { signal }).then(async (res) => (res.status === 204 ? null : new Uint8Array(await res.arrayBuffer()))),
    );
  }
}

async function fetchJSON(url, init) {
  const res = await send(url, { ...init, headers: { Accept: 'application/geo+json, application/json;q=0.9', ...init.headers } });
  try {
    return await res.json();
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(res.status, t('api.broken'), t('api.brokenDetail', { reason: err.message }));
  }
}

// send fetches url; a network failure or an error status rejects with an ApiError.
async function send(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, t('api.network'), t('api.networkDetail', { reason: err.message }));
  }
  if (!res.ok) {
    throw await problem(res);
  }
  return res;
}

async function problem(res) {
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      const p = await res.json();
      // A refused record names each bad field; the reader needs them all.
      const reasons = (p['invalid-params'] ?? []).map((ip) => `${ip.name}: ${ip.reason}`);
      return new ApiError(res.status, p.title, [p.detail, ...reasons].filter(Boolean).join('; '));
    } catch {
      // A broken error body: fall through to the status line.
    }
  }
  return new ApiError(res.status, res.statusText, t('api.status', { status: res.status, text: res.statusText }));
}

/**
 * Notices shows dismissable messages over the map. Errors are alerts, read
 * out at once; a notice with a key replaces the previous one with that key.
 */
export class Notices {
  constructor(container) {
    this.container = container;
    this.byKey = new Map();
  }

  show(message, { error = false, key = null } = {}) {
    if (key !== null) this.dismiss(key);
    const el = document.createElement('div');
    el.className = error ? 'notice error' : 'notice';
    el.setAttribute('role', error ? 'alert' : 'status');
    const text = document.createElement('p');
    text.textContent = message;
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '×';
    close.setAttribute('aria-label', t('notice.dismiss'));
    close.addEventListener('click', () => {
      el.remove();
      if (key !== null && this.byKey.get(key) === el) this.byKey.delete(key);
    });
    el.append(text, close);
    this.container.append(el);
    if (key !== null) this.byKey.set(key, el);
    return el;
  }

  dismiss(key) {
    this.byKey.get(key)?.remove();
    this.byKey.delete(key);
  }
}
