// The generic path for any webmail: an .eml file opened or dropped here is
// read byte for byte and checked by the host (`mail`); the full verdict is
// shown. An empty or oversized file reads "could not read this message".

import { localize } from './lib/status-view.js';
import { renderMail } from './lib/render.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);
localize(document, t);

const MAX_BYTES = 32 * 1024 * 1024;
const box = document.getElementById('mail');
const drop = document.getElementById('drop');

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function check(file) {
  document.getElementById('file-name').textContent = file.name;
  box.hidden = false;
  box.dataset.kind = 'checking';
  box.textContent = t('checkingMail');
  let verdict = { unreadable: true };
  if (file.size > 0 && file.size <= MAX_BYTES) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const reply = await api.runtime.sendMessage({ type: 'mail-file', raw_b64: base64(bytes) });
    verdict = reply?.verdict ?? verdict;
  }
  renderMail(document, box, verdict, t);
}

document.getElementById('file').addEventListener('change', (e) => {
  const f = e.target.files?.[0];
  if (f) check(f);
});
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f) check(f);
});
