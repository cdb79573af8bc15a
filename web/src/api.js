// Talking to the protectmap server: JSON in, RFC 9457 problem details out as
// readable errors, and one count of requests in flight for the loading signs.

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
    return this.busy.track(getJSON(url, signal));
  }
}

async function getJSON(url, signal) {
  let res;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/geo+json, application/json;q=0.9' } });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Network error', `The server could not be reached (${err.message}).`);
  }
  if (!res.ok) {
    throw await problem(res);
  }
  return res.json();
}

async function problem(res) {
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      const p = await res.json();
      return new ApiError(res.status, p.title, p.detail);
    } catch {
      // A broken error body: fall through to the status line.
    }
  }
  return new ApiError(res.status, res.statusText, `The server answered ${res.status} ${res.statusText}.`);
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
    close.setAttribute('aria-label', 'Dismiss');
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
