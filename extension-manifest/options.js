// Options: the host's status, and the request timeout kept in storage.local.

import { fetchStatus, localize, renderStatus } from './lib/status-view.js';
import { TIMEOUT_KEY, normalizeTimeoutMs, parseTimeoutSeconds } from './lib/settings.js';

const api = globalThis.browser ?? globalThis.chrome;
const t = (key, subs) => api.i18n.getMessage(key, subs);

localize(document, t);

const input = document.getElementById('timeout');
const saved = document.getElementById('saved');
const form = document.getElementById('settings');
const recheck = document.getElementById('recheck');

function say(text, kind) {
  saved.textContent = text;
  saved.dataset.kind = kind;
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

async function loadSettings() {
  const items = await api.storage.local.get(TIMEOUT_KEY);
  input.value = String(normalizeTimeoutMs(items?.[TIMEOUT_KEY]) / 1000);
  form.dataset.loaded = 'true';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const ms = parseTimeoutSeconds(input.value);
  if (ms === null) {
    input.setAttribute('aria-invalid', 'true');
    say(t('invalidTimeout'), 'error');
    return;
  }
  input.removeAttribute('aria-invalid');
  try {
    await api.storage.local.set({ [TIMEOUT_KEY]: ms });
    say(t('saved'), 'ok');
  } catch (err) {
    say(t('errorDetail', [String(err?.message ?? err)]), 'error');
  }
});

input.addEventListener('input', () => say('', ''));
recheck.addEventListener('click', showStatus);

loadSettings();
showStatus();
