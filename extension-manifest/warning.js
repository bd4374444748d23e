// The warning page the link guard opens before a website that is not
// `trusted`: who is (or is not) proven to be behind it, its registrable
// domain, the reasons. "Go back" is the default button; "Continue" lets the
// service worker approve this site for this tab, then goes there.

import { localize } from './lib/status-view.js';
import { hostLine, renderSite } from './lib/render.js';
import { hostOf, parseWebUrl } from './lib/domain.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);
localize(document, t);

const id = location.hash.slice(1);
const back = document.getElementById('back');
const cont = document.getElementById('continue');
back.focus();

async function goBack() {
  if (history.length > 1) {
    history.back();
    return;
  }
  // Opened in a new tab: close it.
  const tab = await api.tabs.getCurrent();
  if (tab?.id !== undefined) api.tabs.remove(tab.id);
  else window.close();
}

back.addEventListener('click', goBack);
cont.addEventListener('click', async () => {
  cont.disabled = true;
  const reply = await api.runtime.sendMessage({ type: 'warning-continue', id });
  const u = parseWebUrl(reply?.url ?? '');
  if (u !== null) location.replace(u.href);
  else cont.disabled = false;
});

api.runtime.sendMessage({ type: 'warning-info', id }).then((w) => {
  const u = parseWebUrl(w?.url ?? '');
  if (u === null) {
    document.getElementById('site').textContent = t('warningExpired');
    cont.disabled = true;
    return;
  }
  document.getElementById('target').replaceChildren(hostLine(document, hostOf(u), w.entry?.verdict?.registrable_domain));
  document.getElementById('full-url').textContent = u.href;
  renderSite(document, document.getElementById('site'), w.entry ?? { error: { code: 'internal', message: '' } }, t);
  document.body.dataset.ready = 'true';
});
