// Batches site look-ups into `sites` requests. Pure: the request function,
// the cache and the timers are injected.
//
// lookup(url) resolves with {verdict} (a site verdict) or {error: {code,
// message}}, never rejects. URLs are reduced to "host:port" (siteKey): one
// look-up per site however many links point at it. Look-ups arriving within
// `delayMs` of each other go out as one `sites` request of at most
// `maxBatch` distinct sites; a site already cached or already asked for is
// not asked again. A failed `sites` request fails each of its sites with the
// request's error (cached briefly, so a dead host is not hammered).

import { siteKey } from './domain.js';

export const BATCH_DELAY_MS = 40;
export const MAX_BATCH = 100; // well under the host's sites_max (500)

export class SiteBatcher {
  #request;
  #cache;
  #delayMs;
  #maxBatch;
  #setTimeout;
  /** key -> {url, waiters: [resolve]} waiting to be sent */
  #queue = new Map();
  /** key -> Promise for sites already sent */
  #inflight = new Map();
  #timer = null;
  batches = 0;

  /**
   * @param {object} o
   * @param {(type: string, params: object) => Promise<any>} o.request
   * @param {{get: Function, set: Function}} o.cache
   */
  constructor({ request, cache, delayMs = BATCH_DELAY_MS, maxBatch = MAX_BATCH, setTimeout: st = globalThis.setTimeout }) {
    this.#request = request;
    this.#cache = cache;
    this.#delayMs = delayMs;
    this.#maxBatch = maxBatch;
    this.#setTimeout = (fn, ms) => st(fn, ms);
  }

  /** @returns {Promise<{verdict?: object, error?: {code: string, message: string}}>} */
  lookup(url) {
    const key = siteKey(url);
    if (key === null) return Promise.resolve({ error: { code: 'bad_url', message: 'Not a web address.' } });
    const cached = this.#cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const flying = this.#inflight.get(key);
    if (flying !== undefined) return flying;
    return new Promise((resolve) => {
      let q = this.#queue.get(key);
      if (q === undefined) {
        q = { url, waiters: [] };
        this.#queue.set(key, q);
      }
      q.waiters.push(resolve);
      if (this.#queue.size >= this.#maxBatch) this.flush();
      else if (this.#timer === null) {
        this.#timer = this.#setTimeout(() => {
          this.#timer = null;
          this.flush();
        }, this.#delayMs);
      }
    });
  }

  /** Looks up many URLs; resolves with a Map key -> entry. */
  async lookupAll(urls) {
    const keys = new Map();
    for (const u of urls) {
      const k = siteKey(u);
      if (k !== null && !keys.has(k)) keys.set(k, this.lookup(u));
    }
    const out = new Map();
    for (const [k, p] of keys) out.set(k, await p);
    return out;
  }

  /** Sends what is queued now (called by the timer or when a batch is full). */
  flush() {
    if (this.#queue.size === 0) return;
    const batch = [...this.#queue.entries()].slice(0, this.#maxBatch);
    for (const [k] of batch) this.#queue.delete(k);
    if (this.#queue.size > 0) this.#setTimeout(() => this.flush(), 0);
    this.batches += 1;
    const urls = batch.map(([k, q]) => q.url);
    const sent = this.#request('sites', { urls }).then(
      (result) => {
        const byKey = new Map();
        for (const v of Array.isArray(result?.verdicts) ? result.verdicts : []) {
          if (v === null || typeof v !== 'object' || typeof v.host !== 'string') continue;
          const entry = v.error ? { error: v.error } : { verdict: v };
          byKey.set(`${v.host.toLowerCase()}:${v.port}`, entry);
        }
        return (k) => byKey.get(k) ?? { error: { code: 'bad_url', message: 'The host did not check this address.' } };
      },
      (err) => () => ({ error: { code: err?.code ?? 'internal', message: String(err?.message ?? err) } }),
    );
    for (const [k, q] of batch) {
      const p = sent.then((pick) => {
        const entry = pick(k);
        this.#cache.set(k, entry);
        this.#inflight.delete(k);
        return entry;
      });
      this.#inflight.set(k, p);
      p.then((entry) => q.waiters.forEach((w) => w(entry)));
    }
  }
}
