// Popup: which host answers (or how to install it), who is proven to be
// behind the website in this tab, the verdict of the mail shown in it, and
// the holder of the eID card in the reader. The tab is the active one (the
// activeTab grant gives its URL), or ?tabId=N for tests and debugging.

import { fetchStatus, localize, renderStatus } from './lib/status-view.js';
import { el, renderMail, renderSite } from './lib/render.js';
import { cardHolder } from './lib/verdict-text.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);

localize(document, t);

document.getElementById('open-options').addEventListener('click', () => {
  api.runtime.openOptionsPage();
  window.close();
});
document.getElementById('open-mail').addEventListener('click', () => {
  api.tabs.create({ url: api.runtime.getURL('mail.html') });
  window.close();
});

async function currentTab() {
  const q = new URLSearchParams(location.search).get('tabId');
  if (q !== null && /^\d+$/.test(q)) return { id: Number(q), url: undefined };
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab ?? null;
}

async function showTab() {
  const tab = await currentTab();
  const siteBox = document.getElementById('site');
  if (tab === null) return;
  const state = await api.runtime.sendMessage({ type: 'tab-state', tabId: tab.id, url: tab.url });
  if (state?.site) renderSite(document, siteBox, state.site, t);
  if (state?.mail) {
    document.getElementById('mail-section').hidden = false;
    renderMail(document, document.getElementById('mail'), state.mail, t, { links: false });
  }
  document.body.dataset.ready = 'true';
}

async function showToken() {
  const p = document.getElementById('token');
  const reply = await api.runtime.sendMessage({ type: 'tokens' }).catch(() => null);
  const name = reply?.ok ? cardHolder(reply.result) : null;
  if (name !== null) {
    p.replaceChildren(el(document, 'span', {}, t('tokenHolder')), ' ', el(document, 'strong', { 'data-testid': 'token-holder' }, name));
  } else {
    p.replaceChildren(el(document, 'span', { 'data-testid': 'token-none' }, t('tokenNone')));
  }
}

fetchStatus(api)
  .catch((err) => ({ state: 'error', version: null, error: String(err?.message ?? err) }))
  .then((status) => {
    renderStatus(document, status, t);
    if (status.state === 'ok') return Promise.all([showTab(), showToken()]);
    document.getElementById('site-section').hidden = true;
    document.getElementById('token-section').hidden = true;
    return null;
  });
