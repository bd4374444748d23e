// One native-messaging port to trustlens-host, opened lazily on the first
// request and closed after a quiet period. It numbers requests with integer
// ids, matches replies by id (the host may answer out of order), rejects a
// request that gets no reply within its timeout, and reconnects on the next
// request after the host has gone away.
//
// Pure: the browser is injected (connect, lastError, timers), so node --test
// drives it with a fake port. Nothing here reads chrome.* or browser.*.
//
// Refuses: replies that are not objects, replies to ids it never sent or has
// already given up on (dropped), more than maxPending requests in flight.
// A reply with id null and ok false is the host speaking about the whole port
// (forbidden_origin, too_large): every pending request fails with it.

export const DEFAULT_TIMEOUT_MS = 15000;
export const DEFAULT_IDLE_MS = 20000;
export const DEFAULT_MAX_PENDING = 256;

/** Error for a request that did not produce a result. `code` is the host's
 *  error code, or one of ours: request_timeout, disconnected, busy, bad_reply. */
export class HostError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'HostError';
    this.code = code;
  }
}

/**
 * Host state from the text a browser gives when a native port fails.
 * Chromium: "Specified native messaging host not found.",
 *           "Access to the specified native messaging host is forbidden.",
 *           "Native host has exited.", "Error when communicating with the native messaging host."
 * Firefox:  "No such native application org.trustlens.host",
 *           "This extension does not have permission to use native application ..."
 * @param {string|undefined|null} message
 * @returns {'missing'|'forbidden'|'error'}
 */
export function classifyDisconnect(message) {
  if (typeof message !== 'string' || message === '') return 'error';
  if (/\bnot found\b|no such native application/i.test(message)) return 'missing';
  if (/forbidden|does not have permission/i.test(message)) return 'forbidden';
  return 'error';
}

/**
 * Host state from a failed request.
 * @param {unknown} err
 * @returns {'missing'|'forbidden'|'error'}
 */
export function classifyError(err) {
  if (!(err instanceof HostError)) return 'error';
  if (err.code === 'forbidden_origin') return 'forbidden';
  if (err.code === 'disconnected') return classifyDisconnect(err.message);
  return 'error';
}

/**
 * Host state from a hello result.
 * @param {unknown} result
 * @returns {'ok'|'too_old'|'error'}
 */
export function classifyHello(result) {
  if (result === null || typeof result !== 'object') return 'error';
  const { protocol, version } = /** @type {any} */ (result);
  if (typeof protocol !== 'number' || !Number.isFinite(protocol)) return 'error';
  if (typeof version !== 'string') return 'error';
  if (protocol < 1) return 'too_old';
  return 'ok';
}

function validTimeout(ms) {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : null;
}

export class PortClient {
  #connect;
  #lastError;
  #setTimeout;
  #clearTimeout;
  #idleMs;
  #timeoutMs;
  #maxPending;

  #port = null;
  #nextId = 1;
  /** @type {Map<number, {resolve: Function, reject: Function, timer: any}>} */
  #pending = new Map();
  #idleTimer = null;
  #portError = null;

  /** Called with a HostError when the port goes away on the host's side. */
  onDisconnect = null;

  /**
   * @param {object} opts
   * @param {() => any} opts.connect  opens a port: {postMessage, disconnect, onMessage, onDisconnect}
   * @param {(port: any) => (string|undefined)} [opts.lastError]  the browser's reason, read inside onDisconnect
   * @param {number} [opts.idleMs]  close the port after this long with nothing pending
   * @param {number} [opts.timeoutMs]  default per-request timeout
   * @param {number} [opts.maxPending]
   * @param {Function} [opts.setTimeout]
   * @param {Function} [opts.clearTimeout]
   */
  constructor({
    connect,
    lastError = () => undefined,
    idleMs = DEFAULT_IDLE_MS,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    maxPending = DEFAULT_MAX_PENDING,
    setTimeout: st = globalThis.setTimeout,
    clearTimeout: ct = globalThis.clearTimeout,
  }) {
    if (typeof connect !== 'function') throw new TypeError('connect must be a function');
    this.#connect = connect;
    this.#lastError = lastError;
    this.#idleMs = idleMs;
    this.#timeoutMs = validTimeout(timeoutMs) ?? DEFAULT_TIMEOUT_MS;
    this.#maxPending = maxPending;
    // Called as plain functions: browsers refuse a setTimeout called as a method of another object.
    this.#setTimeout = (fn, ms) => st(fn, ms);
    this.#clearTimeout = (handle) => ct(handle);
  }

  get connected() {
    return this.#port !== null;
  }

  get pendingCount() {
    return this.#pending.size;
  }

  /**
   * Sends one request and resolves with its result, or rejects with a HostError.
   * @param {string} type
   * @param {object} [params]  request parameters; `id` and `type` in it are ignored
   * @param {{timeoutMs?: number}} [opts]
   * @returns {Promise<any>}
   */
  request(type, params = {}, { timeoutMs } = {}) {
    return new Promise((resolve, reject) => {
      if (typeof type !== 'string' || type === '') {
        reject(new HostError('bad_request', 'A request needs a type.'));
        return;
      }
      if (this.#pending.size >= this.#maxPending) {
        reject(new HostError('busy', 'Too many requests are waiting for the host.'));
        return;
      }
      let port;
      try {
        port = this.#ensurePort();
      } catch (e) {
        reject(new HostError('disconnected', e instanceof Error ? e.message : String(e)));
        return;
      }
      const id = this.#takeId();
      const ms = validTimeout(timeoutMs) ?? this.#timeoutMs;
      const timer = this.#setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        reject(new HostError('request_timeout', `The host did not answer within ${ms} ms.`));
        this.#armIdle();
      }, ms);
      this.#pending.set(id, { resolve, reject, timer });
      this.#disarmIdle();
      try {
        port.postMessage({ ...params, id, type });
      } catch (e) {
        // Chromium throws when the port was already disconnected.
        this.#portGone(port, e instanceof Error ? e.message : String(e));
      }
    });
  }

  /** Closes the port now; pending requests fail with `disconnected`. */
  close() {
    const port = this.#port;
    if (port === null) return;
    this.#port = null;
    this.#disarmIdle();
    this.#failAll(new HostError('disconnected', 'The connection to the host was closed.'));
    try {
      port.disconnect();
    } catch {
      // already gone
    }
  }

  #takeId() {
    const id = this.#nextId;
    this.#nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return id;
  }

  #ensurePort() {
    if (this.#port !== null) return this.#port;
    const port = this.#connect();
    this.#port = port;
    this.#portError = null;
    port.onMessage.addListener((msg) => this.#onMessage(port, msg));
    port.onDisconnect.addListener((p) => this.#portGone(port, this.#lastError(p ?? port)));
    return port;
  }

  #onMessage(port, msg) {
    if (port !== this.#port) return;
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return;
    const { id } = msg;
    if (id === null || id === undefined) {
      if (msg.ok === false) {
        this.#portError = replyError(msg);
        this.#failAll(this.#portError);
        this.#armIdle();
      }
      return;
    }
    const entry = this.#pending.get(id);
    if (entry === undefined) return;
    this.#pending.delete(id);
    this.#clearTimeout(entry.timer);
    if (msg.ok === true) {
      entry.resolve(msg.result ?? {});
    } else if (msg.ok === false) {
      entry.reject(replyError(msg));
    } else {
      entry.reject(new HostError('bad_reply', 'The host sent a reply without "ok".'));
    }
    this.#armIdle();
  }

  #portGone(port, message) {
    if (port !== this.#port) return;
    this.#port = null;
    this.#disarmIdle();
    const err =
      this.#portError ??
      new HostError('disconnected', message || 'The host closed the connection.');
    this.#portError = null;
    this.#failAll(err);
    if (typeof this.onDisconnect === 'function') this.onDisconnect(err);
  }

  #failAll(err) {
    const entries = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject, timer } of entries) {
      this.#clearTimeout(timer);
      reject(err);
    }
  }

  #armIdle() {
    if (this.#pending.size > 0 || this.#port === null) return;
    this.#disarmIdle();
    this.#idleTimer = this.#setTimeout(() => {
      this.#idleTimer = null;
      if (this.#pending.size === 0) this.close();
    }, this.#idleMs);
  }

  #disarmIdle() {
    if (this.#idleTimer !== null) {
      this.#clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
  }
}

function replyError(msg) {
  const e = msg.error !== null && typeof msg.error === 'object' ? msg.error : {};
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : 'internal';
  const message = typeof e.message === 'string' ? e.message : '';
  return new HostError(code, message);
}
