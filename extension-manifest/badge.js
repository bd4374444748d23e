// The mail badge: an extension-origin frame that webmail.js places above a
// message. It reads the verdict kept under the random key in its URL's
// fragment; a page that copies the frame can only show the same verdict.

import { localize } from './lib/status-view.js';
import { renderMail } from './lib/render.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);
localize(document, t);

const box = document.getElementById('mail');
const key = location.hash.slice(1);
let expanded = false;
let verdict = null;

function show() {
  renderMail(document, box, verdict, t, { links: expanded });
  document.body.classList.toggle('expanded', expanded);
}

document.getElementById('details').addEventListener('click', () => {
  expanded = !expanded;
  show();
});

api.runtime
  .sendMessage({ type: 'badge-get', key })
  .then((reply) => {
    verdict = reply?.verdict ?? { unreadable: true };
    show();
  })
  .catch(() => {
    verdict = { unreadable: true };
    show();
  });
