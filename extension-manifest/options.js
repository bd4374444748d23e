// Options: the host's status and version, the request timeout, the link
// guard's scope, the user's webmail addresses, per-site exceptions, and the
// host's diagnostics report with a "copy for the helpdesk" button. Settings
// live in storage.local; the service worker re-registers its content scripts
// when they change.

import { fetchStatus, localize, renderStatus } from './lib/status-view.js';
import {
  EXCEPTIONS_KEY,
  SCOPE_KEY,
  SETTING_KEYS,
  TIMEOUT_KEY,
  WEBMAIL_KEY,
  parseTimeoutSeconds,
  readSettings,
} from './lib/settings.js';
import { originPattern, parseException, parseWebmailOrigin } from './lib/domain.js';
import { el } from './lib/render.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);
const ALL_SITES = ['*://*/*'];

localize(document, t);

const input = document.getElementById('timeout');
const saved = document.getElementById('saved');
const form = document.getElementById('settings');
const recheck = document.getElementById('recheck');
let current = readSettings({});

function say(target, text, kind) {
  target.textContent = text;
  target.dataset.kind = kind;
}

async function showStatus() {
  recheck.disabled = true;
  try {
    const status = await fetchStatus(api).catch((err) => ({
      state: 'error',
      version: null,
      error: String(err?.message ?? err),
    }));
    renderStatus(document, status, t);
  } finally {
    recheck.disabled = false;
  }
}

function notify() {
  return api.runtime.sendMessage({ type: 'settings-changed' }).catch(() => null);
}

function renderList(ul, items, key) {
  ul.replaceChildren();
  if (items.length === 0) {
    ul.append(el(document, 'li', { className: 'empty' }, t('listEmpty')));
    return;
  }
  for (const item of items) {
    const li = el(document, 'li', { 'data-value': item });
    li.append(el(document, 'span', {}, item), ' ');
    const rm = el(document, 'button', { type: 'button', 'aria-label': t('removeItem', [item]) }, t('remove'));
    rm.addEventListener('click', async () => {
      const rest = current[key === WEBMAIL_KEY ? 'webmailOrigins' : 'exceptions'].filter((x) => x !== item);
      await api.storage.local.set({ [key]: rest });
      await load();
      await notify();
    });
    li.append(rm);
    ul.append(li);
  }
}

async function load() {
  current = readSettings(await api.storage.local.get(SETTING_KEYS));
  input.value = String(current.timeoutMs / 1000);
  document.getElementById(current.scope === 'all' ? 'scope-all' : 'scope-webmail').checked = true;
  renderList(document.getElementById('webmail-list'), current.webmailOrigins, WEBMAIL_KEY);
  renderList(document.getElementById('exception-list'), current.exceptions, EXCEPTIONS_KEY);
  form.dataset.loaded = 'true';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const ms = parseTimeoutSeconds(input.value);
  if (ms === null) {
    input.setAttribute('aria-invalid', 'true');
    say(saved, t('invalidTimeout'), 'error');
    return;
  }
  input.removeAttribute('aria-invalid');
  try {
    await api.storage.local.set({ [TIMEOUT_KEY]: ms });
    say(saved, t('saved'), 'ok');
  } catch (err) {
    say(saved, t('errorDetail', [String(err?.message ?? err)]), 'error');
  }
});
input.addEventListener('input', () => say(saved, '', ''));
recheck.addEventListener('click', showStatus);

// The scope: "all" needs the optional all-sites permission, asked in the click.
document.getElementById('scope').addEventListener('change', async (event) => {
  const status = document.getElementById('scope-status');
  const want = event.target.value === 'all' ? 'all' : 'webmail';
  if (want === 'all') {
    const granted = await api.permissions.request({ origins: ALL_SITES }).catch(() => false);
    if (!granted) {
      document.getElementById('scope-webmail').checked = true;
      say(status, t('permissionRefused'), 'error');
      return;
    }
  } else {
    await api.permissions.remove({ origins: ALL_SITES }).catch(() => false);
  }
  await api.storage.local.set({ [SCOPE_KEY]: want });
  await notify();
  say(status, t('saved'), 'ok');
});

// A webmail address: the browser asks the user for that one origin.
document.getElementById('webmail-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const box = document.getElementById('webmail-input');
  const status = document.getElementById('webmail-status');
  const origin = parseWebmailOrigin(box.value);
  const pattern = origin === null ? null : originPattern(origin);
  if (pattern === null) {
    say(status, t('invalidWebmail'), 'error');
    return;
  }
  const granted = await api.permissions.request({ origins: [pattern] }).catch(() => false);
  if (!granted) {
    say(status, t('permissionRefused'), 'error');
    return;
  }
  await api.storage.local.set({ [WEBMAIL_KEY]: [...current.webmailOrigins.filter((o) => o !== origin), origin] });
  box.value = '';
  await load();
  const reply = await notify();
  say(status, t('saved'), 'ok');
  status.dataset.registered = (reply?.registered ?? []).join(' ');
});

document.getElementById('exception-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const box = document.getElementById('exception-input');
  const status = document.getElementById('exception-status');
  const host = parseException(box.value);
  if (host === null) {
    say(status, t('invalidException'), 'error');
    return;
  }
  await api.storage.local.set({ [EXCEPTIONS_KEY]: [...current.exceptions.filter((h) => h !== host), host] });
  box.value = '';
  await load();
  await notify();
  say(status, t('saved'), 'ok');
});

// Diagnostics: the host's `diagnose` report.
let reportText = '';
const VERDICT_KEYS = { ok: 'diagOk', warning: 'diagWarning', problem: 'diagProblem' };

async function runDiagnose() {
  const list = document.getElementById('diag-areas');
  const status = document.getElementById('diag-status');
  const copy = document.getElementById('diag-copy');
  say(status, t('checkingShort'), '');
  list.replaceChildren();
  const reply = await api.runtime.sendMessage({ type: 'diagnose' }).catch((err) => ({ ok: false, error: { message: String(err) } }));
  if (!reply?.ok) {
    reportText = '';
    copy.disabled = true;
    say(status, t('diagFailed', [String(reply?.error?.message ?? '')]), 'error');
    return;
  }
  const areas = Array.isArray(reply.result?.areas) ? reply.result.areas : [];
  for (const a of areas) {
    const verdict = VERDICT_KEYS[a?.verdict] ? a.verdict : 'problem';
    const li = el(document, 'li', { 'data-verdict': verdict });
    li.append(el(document, 'strong', {}, `${t(VERDICT_KEYS[verdict])}: `), el(document, 'span', {}, String(a?.area ?? '')));
    if (typeof a?.message === 'string' && a.message) li.append(el(document, 'p', {}, a.message));
    if (typeof a?.fix === 'string' && a.fix) li.append(el(document, 'p', { className: 'detail' }, t('diagFix', [a.fix])));
    list.append(li);
  }
  reportText = typeof reply.result?.text === 'string' ? reply.result.text : '';
  copy.disabled = reportText === '';
  say(status, '', '');
}

document.getElementById('diag-run').addEventListener('click', runDiagnose);
document.getElementById('diag-copy').addEventListener('click', async () => {
  const status = document.getElementById('diag-status');
  try {
    await navigator.clipboard.writeText(reportText);
    say(status, t('diagCopied'), 'ok');
  } catch (err) {
    say(status, t('errorDetail', [String(err?.message ?? err)]), 'error');
  }
});

load();
showStatus().then(runDiagnose);
