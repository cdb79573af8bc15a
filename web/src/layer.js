import { t } from './i18n.js';

// What every layer in the layer list shares: a checkbox that shows it and
// loads it, or hides it and stops whatever it was loading.

/**
 * ListedLayer is a map layer with a row in the layer list. Subclasses set
 * map, group (what goes on the map), checkbox, controller (the load in
 * flight) and hooks ({api, onError(err)}), and give load(), unload() and
 * setState(state, detail).
 */
export class ListedLayer {
  get visible() {
    return this.checkbox.checked;
  }

  /** setVisible shows the layer and loads it, or hides it and drops what it drew. */
  setVisible(on) {
    this.checkbox.checked = on;
    if (on) {
      this.group.addTo(this.map);
      this.load();
    } else {
      this.controller?.abort();
      this.unload();
      this.group.remove();
      this.setState('off');
    }
  }

  /**
   * pages walks url's pages by their next links, handing each to onPage,
   * which returns false to stop. It resolves true when every page came, and
   * false when stopped, aborted (a newer load replaced this one) or failed;
   * a failure is shown on the row and reported.
   */
  async pages(url, signal, onPage) {
    try {
      while (url) {
        const page = await this.hooks.api.get(url, signal);
        if ((await onPage(page)) === false) return false;
        url = page.links?.find((l) => l.rel === 'next')?.href ?? null;
      }
      return true;
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.setState('error', t('layer.failed', { reason: err.message }));
        this.hooks.onError(err);
      }
      return false;
    }
  }
}
