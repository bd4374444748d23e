// Service worker (Chromium) / background script (Firefox): the only part of
// the extension that talks to trustlens-host. It keeps one native port open
// while there is work (see lib/port-client.js) and answers the popup and the
// options page over runtime messages:
//   {type: "host-status"} -> {state, version, protocol, capabilities, error}
// Messages from anything but this extension's own pages are ignored.

import { PortClient } from './lib/port-client.js';
import { HostStatus } from './lib/host-status.js';
import { TIMEOUT_KEY, normalizeTimeoutMs } from './lib/settings.js';

const api = globalThis.browser ?? globalThis.chrome;
const HOST_NAME = 'org.trustlens.host';

let timeoutMs = normalizeTimeoutMs(undefined);
const settingsLoaded = api.storage.local
  .get(TIMEOUT_KEY)
  .then((items) => {
    timeoutMs = normalizeTimeoutMs(items?.[TIMEOUT_KEY]);
  })
  .catch(() => {});

api.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && TIMEOUT_KEY in changes) {
    timeoutMs = normalizeTimeoutMs(changes[TIMEOUT_KEY].newValue);
  }
});

const client = new PortClient({
  connect: () => api.runtime.connectNative(HOST_NAME),
  // Firefox puts the reason on the port; Chromium in runtime.lastError, which
  // must be read inside the onDisconnect listener (this runs there).
  lastError: (port) => port?.error?.message ?? api.runtime.lastError?.message,
});

const status = new HostStatus({ client: { request } });
client.onDisconnect = () => status.invalidate();

/** One request to the host with the user's timeout. */
async function request(type, params = {}) {
  await settingsLoaded;
  return client.request(type, params, { timeoutMs });
}

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender?.id !== api.runtime.id) return false;
  if (msg === null || typeof msg !== 'object') return false;
  if (msg.type === 'host-status') {
    status.get().then(sendResponse, (err) =>
      sendResponse({
        state: 'error',
        version: null,
        protocol: null,
        capabilities: [],
        error: String(err?.message ?? err),
      }),
    );
    return true; // answer asynchronously
  }
  return false;
});

// For tests and debugging from the service worker's console.
globalThis.trustlens = Object.freeze({
  request,
  hostStatus: () => status.get(),
  get connected() {
    return client.connected;
  },
});
