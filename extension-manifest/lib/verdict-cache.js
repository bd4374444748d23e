// In-memory caches of the service worker. Pure (the clock is injected).
//
// VerdictCache: site verdicts by "host:port", with a time to live (errors
// live shorter) and a bound on entries (the oldest go first). The host keeps
// its own cache; this one spares the round trip while a page is in use.
// TabStates: what each tab shows (its URL, site verdict, mail verdict), and
// navigations the guard approved for it. Forgotten when the tab closes or
// navigates elsewhere. Nothing is persisted.

export const VERDICT_TTL_MS = 10 * 60 * 1000;
export const ERROR_TTL_MS = 30 * 1000;
export const MAX_ENTRIES = 2000;
export const APPROVAL_TTL_MS = 10 * 60 * 1000;

export class VerdictCache {
  #map = new Map();
  #now;
  #max;
  constructor({ now = Date.now, max = MAX_ENTRIES } = {}) {
    this.#now = now;
    this.#max = max;
  }

  /** @returns {object|undefined} the entry ({verdict} or {error}) when fresh */
  get(key) {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (this.#now() >= e.until) {
      this.#map.delete(key);
      return undefined;
    }
    // Recently used entries move to the end (LRU order).
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key, value) {
    const ttl = value && value.error ? ERROR_TTL_MS : VERDICT_TTL_MS;
    this.#map.delete(key);
    this.#map.set(key, { value, until: this.#now() + ttl });
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value);
  }

  get size() {
    return this.#map.size;
  }

  clear() {
    this.#map.clear();
  }
}

export class TabStates {
  #tabs = new Map();
  #now;
  constructor({ now = Date.now } = {}) {
    this.#now = now;
  }

  /** The state of a tab, created empty on first use. */
  get(tabId) {
    let s = this.#tabs.get(tabId);
    if (s === undefined) {
      s = { url: null, site: null, mail: null, approved: new Map(), guarded: false };
      this.#tabs.set(tabId, s);
    }
    return s;
  }

  has(tabId) {
    return this.#tabs.has(tabId);
  }

  /** A new top-level document: its URL; the site and mail verdicts start over. */
  navigated(tabId, url, guarded) {
    const s = this.get(tabId);
    s.url = url;
    s.site = null;
    s.mail = null;
    s.guarded = guarded;
    return s;
  }

  /** The guard let this tab go to `key` ("host:port"), for a while. */
  approve(tabId, key) {
    this.get(tabId).approved.set(key, this.#now() + APPROVAL_TTL_MS);
  }

  isApproved(tabId, key) {
    const s = this.#tabs.get(tabId);
    const until = s?.approved.get(key);
    if (until === undefined) return false;
    if (this.#now() >= until) {
      s.approved.delete(key);
      return false;
    }
    return true;
  }

  remove(tabId) {
    this.#tabs.delete(tabId);
  }

  ids() {
    return [...this.#tabs.keys()];
  }
}
