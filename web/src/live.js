// The live feed: GET /strikes/events followed with an EventSource, which
// reconnects by itself after a dropped connection (sending Last-Event-ID,
// so nothing is missed or repeated). When the browser gives up (the server
// answered an error, or refused the connection) the feed connects again
// itself, from the last event it had, with a growing pause.

/** FIRST_RETRY_MS and MAX_RETRY_MS bound the pause before connecting again. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/**
 * LiveFeed hands every event of the strike log to onEvent(data, id) and
 * says how it is doing through onState: 'connecting', 'live' or 'lost'
 * (with the seconds until it tries again, or 0 while the browser retries).
 */
export class LiveFeed {
  constructor(url, { onEvent, onState }) {
    this.url = url;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastId = null;
    this.source = null;
    this.timer = 0;
    this.pause = FIRST_RETRY_MS;
  }

  start() {
    if (this.source || this.timer) return;
    this.connect();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.source?.close();
    this.source = null;
  }

  connect() {
    this.timer = 0;
    this.onState('connecting');
    const url = this.lastId === null ? this.url : `${this.url}?since=${encodeURIComponent(this.lastId)}`;
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      this.pause = FIRST_RETRY_MS;
      this.onState('live');
    };
    source.onmessage = (e) => {
      if (e.lastEventId) this.lastId = e.lastEventId;
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return; // not an event this map knows
      }
      this.onEvent(data, e.lastEventId);
    };
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) {
        this.onState('lost', 0);
        return;
      }
      source.close();
      this.source = null;
      this.onState('lost', Math.round(this.pause / 1000));
      this.timer = setTimeout(() => this.connect(), this.pause);
      this.pause = Math.min(2 * this.pause, MAX_RETRY_MS);
    };
  }
}
