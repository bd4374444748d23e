// Shared by the popup and the options page: fills data-i18n elements from
// _locales and shows a host status in the #host-state / #install-help block.
// Builds text with textContent only: the status carries strings from the host
// and from the browser, which are never parsed as HTML.

import { STATES } from './host-status.js';

const STATE_KEYS = Object.freeze({
  missing: 'stateMissing',
  forbidden: 'stateForbidden',
  too_old: 'stateTooOld',
  error: 'stateError',
});

const REASON_KEYS = Object.freeze({
  missing: 'reasonMissing',
  forbidden: 'reasonForbidden',
  too_old: 'reasonTooOld',
  error: 'reasonError',
});

/**
 * Replaces the text of every [data-i18n] element (and the title of every
 * [data-i18n-title] element) with its translation; keeps the English text
 * in the HTML when a message is missing.
 */
export function localize(root, getMessage) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const text = getMessage(el.dataset.i18n);
    if (text) el.textContent = text;
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    const text = getMessage(el.dataset.i18nTitle);
    if (text) el.setAttribute('title', text);
  }
  // The language of the translation actually used (not @@ui_locale, which
  // can differ from it): for screen readers and hyphenation.
  const lang = getMessage('langCode');
  if (lang) root.documentElement.lang = lang;
}

/** Asks the background for the host status. */
export async function fetchStatus(api) {
  const reply = await api.runtime.sendMessage({ type: 'host-status' });
  if (reply === null || typeof reply !== 'object') {
    return { state: 'error', version: null, protocol: null, capabilities: [], error: 'No answer from the background.' };
  }
  return reply;
}

/** Shows `status` in the page's host block. */
export function renderStatus(doc, status, getMessage) {
  const state = STATES.includes(status?.state) ? status.state : 'error';
  const version = typeof status?.version === 'string' ? status.version : '';

  const stateEl = doc.getElementById('host-state');
  stateEl.dataset.state = state;
  doc.getElementById('host-checking').hidden = true;
  doc.getElementById('host-line').hidden = version === '';
  doc.getElementById('host-version').textContent = version;
  const stateText = doc.getElementById('host-state-text');
  stateText.hidden = state === 'ok';
  stateText.textContent = state === 'ok' ? '' : getMessage(STATE_KEYS[state]);

  const help = doc.getElementById('install-help');
  help.hidden = state === 'ok';
  const reason = doc.getElementById('install-reason');
  reason.textContent = state === 'ok' ? '' : getMessage(REASON_KEYS[state], [version || '?']);

  const detail = doc.getElementById('host-error');
  const error = typeof status?.error === 'string' ? status.error : '';
  detail.hidden = state === 'ok' || error === '';
  detail.textContent = detail.hidden ? '' : getMessage('errorDetail', [error]);
}
