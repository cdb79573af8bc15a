// Recording a checked location as a strike: an analyst's bearer token
// (kept in this tab's sessionStorage only, never in the link) lets the form
// POST it to the strike log.
import { formatPoint, t } from './i18n.js';
import { validInstant, rfc3339 } from './hash.js';

/** TOKEN_KEY is where the tab keeps the token. */
const TOKEN_KEY = 'protectmap.token';

/**
 * Recorder owns the record form under the check. hooks are {api,
 * onRecorded(id)}. show(query) offers to record the check's location, or
 * hides the form when there is no check.
 */
export class Recorder {
  constructor(details, hooks) {
    this.details = details;
    this.hooks = hooks;
    this.query = null;
    const $ = (id) => details.querySelector(`#${id}`);
    this.inputs = { token: $('record-token'), datetime: $('record-datetime'), uncertainty: $('record-uncertainty'), source: $('record-source'), notes: $('record-notes') };
    this.where = $('record-where');
    this.status = $('record-status');
    this.error = $('record-error');
    this.inputs.token.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
    this.inputs.token.addEventListener('change', () => {
      const token = this.inputs.token.value.trim();
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    });
    $('record-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.record();
    });
  }

  /** show offers to record the check q ({lat, lon, uncertainty, datetime}), or hides the form when q is null. */
  show(q) {
    const moved = q && (!this.query || q.lat !== this.query.lat || q.lon !== this.query.lon);
    this.query = q;
    this.details.hidden = q === null;
    if (!moved) return;
    this.where.textContent = t('record.where', { point: formatPoint(q.lat, q.lon) });
    this.inputs.uncertainty.value = q.uncertainty;
    if (q.datetime) this.inputs.datetime.value = q.datetime.slice(0, -1);
    this.say(null);
  }

  // say shows the outcome of the last attempt: a status, or an error on a field.
  say(status, error = null, field = null) {
    this.status.hidden = status === null;
    this.status.textContent = status ?? '';
    this.error.hidden = error === null;
    this.error.textContent = error ?? '';
    for (const input of Object.values(this.inputs)) input.removeAttribute('aria-invalid');
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  async record() {
    const token = this.inputs.token.value.trim();
    if (!token) {
      this.say(null, t('record.noToken'), this.inputs.token);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    const datetime = this.inputs.datetime.value === '' ? null : `${this.inputs.datetime.value}Z`;
    if (datetime === null || !validInstant(datetime)) {
      this.say(null, t('record.badWhen'), this.inputs.datetime);
      return;
    }
    const uncertainty = Number(this.inputs.uncertainty.value);
    if (this.inputs.uncertainty.value === '' || !(uncertainty >= 0)) {
      this.say(null, t('record.badUncertainty'), this.inputs.uncertainty);
      return;
    }
    const properties = { datetime: rfc3339(datetime), uncertainty_m: uncertainty };
    const source = this.inputs.source.value.trim();
    const notes = this.inputs.notes.value.trim();
    if (source) properties.source = source;
    if (notes) properties.notes = notes;
    const feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [this.query.lon, this.query.lat] }, properties };
    this.say(t('record.recording'));
    let strike;
    try {
      strike = await this.hooks.api.post('/strikes', feature, { contentType: 'application/geo+json', token });
    } catch (err) {
      this.say(null, refusal(err), err.status === 401 || err.status === 403 ? this.inputs.token : null);
      return;
    }
    this.say(t('record.done', { id: strike.id }));
    this.hooks.onRecorded(strike.id);
  }
}

// refusal says why the server refused a strike, in words an analyst can act on.
function refusal(err) {
  switch (err.status) {
    case 401:
      return t('record.badToken', { status: 401, title: err.title ?? 'Unauthorized', reason: err.message });
    case 403:
      return t('record.forbidden', { status: 403, title: err.title ?? 'Forbidden', reason: err.message });
    case 0:
      return err.message;
    default:
      return t('record.refused', { status: err.status, title: err.title ?? '', reason: err.message });
  }
}
