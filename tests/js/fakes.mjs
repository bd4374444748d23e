// Test doubles for the extension's pure modules: a fake clock and a fake
// native-messaging port shaped like chrome.runtime.Port.

export class FakeClock {
  now = 0;
  #timers = new Map();
  #next = 1;

  setTimeout = (fn, ms) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  };

  clearTimeout = (id) => {
    this.#timers.delete(id);
  };

  get pendingTimers() {
    return this.#timers.size;
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let dueId = null;
      let due = null;
      for (const [id, t] of this.#timers) {
        if (t.at <= end && (due === null || t.at < due.at)) {
          dueId = id;
          due = t;
        }
      }
      if (due === null) break;
      this.#timers.delete(dueId);
      this.now = due.at;
      due.fn();
    }
    this.now = end;
  }
}

export class FakePort {
  sent = [];
  disconnected = false;
  error = undefined;
  #onMessage = [];
  #onDisconnect = [];
  onMessage = { addListener: (f) => this.#onMessage.push(f) };
  onDisconnect = { addListener: (f) => this.#onDisconnect.push(f) };

  postMessage(msg) {
    if (this.disconnected) throw new Error('Attempting to use a disconnected port object');
    this.sent.push(structuredClone(msg));
  }

  /** Called by the extension to close its side. */
  disconnect() {
    this.disconnected = true;
  }

  /** The host sends a message. */
  reply(msg) {
    for (const f of this.#onMessage) f(structuredClone(msg));
  }

  /** The browser reports that the port is gone, with an optional reason. */
  hostGone(message) {
    this.disconnected = true;
    if (message !== undefined) this.error = { message };
    for (const f of this.#onDisconnect) f(this);
  }
}

/** Lets pending promise callbacks run. */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Follows a promise: {state: 'pending'|'fulfilled'|'rejected', value, error}. */
export function track(promise) {
  const t = { state: 'pending', value: undefined, error: undefined };
  promise.then(
    (value) => {
      t.state = 'fulfilled';
      t.value = value;
    },
    (error) => {
      t.state = 'rejected';
      t.error = error;
    },
  );
  return t;
}
