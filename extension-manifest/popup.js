// Popup: shows which host answers, or how to install it.

import { fetchStatus, localize, renderStatus } from './lib/status-view.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);

localize(document, t);

document.getElementById('open-options').addEventListener('click', () => {
  api.runtime.openOptionsPage();
  window.close();
});

fetchStatus(api)
  .catch((err) => ({ state: 'error', version: null, error: String(err?.message ?? err) }))
  .then((status) => renderStatus(document, status, t));
