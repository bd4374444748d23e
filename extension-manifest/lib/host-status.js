// The host's state as the popup and the options page show it: one `hello`
// round trip, classified into ok / missing / forbidden / too_old / error.
// A successful answer is reused for a short while (cacheMs) so that opening
// the popup repeatedly does not start a round trip each time; a failure is
// never cached, so installing the host and reopening the popup shows it at once.
// Concurrent callers share one round trip.
//
// Pure: the client (a PortClient or a fake) and the clock are injected.

import { classifyError, classifyHello } from './port-client.js';

export const STATUS_CACHE_MS = 5000;
export const STATES = Object.freeze(['ok', 'missing', 'forbidden', 'too_old', 'error']);

/**
 * @typedef {object} Status
 * @property {'ok'|'missing'|'forbidden'|'too_old'|'error'} state
 * @property {string|null} version
 * @property {number|null} protocol
 * @property {string[]} capabilities
 * @property {string|null} error   a human sentence when state is not ok
 */

/** @returns {Status} */
export function statusFromHello(result) {
  const state = classifyHello(result);
  const r = result !== null && typeof result === 'object' ? result : {};
  return {
    state,
    version: typeof r.version === 'string' ? r.version : null,
    protocol: typeof r.protocol === 'number' ? r.protocol : null,
    capabilities: Array.isArray(r.capabilities)
      ? r.capabilities.filter((c) => typeof c === 'string')
      : [],
    error: state === 'ok' ? null : state === 'too_old' ? 'The host speaks an older protocol.' : 'The host sent an unexpected hello reply.',
  };
}

/** @returns {Status} */
export function statusFromError(err) {
  return {
    state: classifyError(err),
    version: null,
    protocol: null,
    capabilities: [],
    error: err instanceof Error && err.message ? err.message : String(err),
  };
}

export class HostStatus {
  #client;
  #now;
  #cacheMs;
  #last = null;
  #lastAt = 0;
  #inflight = null;

  /**
   * @param {object} opts
   * @param {{request: (type: string) => Promise<any>}} opts.client
   * @param {() => number} [opts.now]
   * @param {number} [opts.cacheMs]
   */
  constructor({ client, now = Date.now, cacheMs = STATUS_CACHE_MS }) {
    this.#client = client;
    this.#now = now;
    this.#cacheMs = cacheMs;
  }

  /** Forget a cached success (call it when the port drops unexpectedly). */
  invalidate() {
    this.#last = null;
  }

  /** @returns {Promise<Status>} */
  get() {
    if (this.#last !== null && this.#now() - this.#lastAt < this.#cacheMs) {
      return Promise.resolve(structuredClone(this.#last));
    }
    if (this.#inflight === null) {
      this.#inflight = this.#probe().finally(() => {
        this.#inflight = null;
      });
    }
    return this.#inflight.then((s) => structuredClone(s));
  }

  async #probe() {
    let status;
    try {
      status = statusFromHello(await this.#client.request('hello'));
    } catch (err) {
      status = statusFromError(err);
    }
    if (status.state === 'ok') {
      this.#last = status;
      this.#lastAt = this.#now();
    } else {
      this.#last = null;
    }
    return status;
  }
}
