// Service worker (Chromium) / background script (Firefox): the only part of
// the extension that talks to trustlens-host. One native port (lib/port-client.js:
// request ids, per-request timeout, reconnect on the next request), an
// in-memory verdict cache and per-tab state (lib/verdict-cache.js), link
// look-ups batched into `sites` requests (lib/batcher.js).
//
// What it does:
//  - toolbar: for each tab's top-level http(s) page, the site verdict as a
//    badge (level and colour, "!" for danger). Chromium asks `site`; Firefox
//    asks `chain` with the certificates the browser itself received
//    (webRequest.getSecurityInfo, where the user granted the host permission),
//    else `site`.
//  - link guard: content/guard.js reports clicks on links leaving a guarded
//    page; a link to a site that is not `trusted` (and not a user exception)
//    opens warning.html first. Second line, for what a page script can do
//    without a click (window.open, location changes, links opened from the
//    context menu): webNavigation events of guarded tabs send navigations to
//    not-trusted sites to the warning page too.
//  - webmail: content/webmail.js sends the raw message (or "could not read");
//    the host's `mail` verdict is kept under a random key for the badge frame
//    (badge.html) and for the popup.
//
// Runtime messages are answered only from this extension: content scripts
// (sender.tab set, sender.url not ours) may send only CONTENT_TYPES.

import { PortClient } from './lib/port-client.js';
import { HostStatus } from './lib/host-status.js';
import { SETTING_KEYS, readSettings } from './lib/settings.js';
import { TabStates, VerdictCache } from './lib/verdict-cache.js';
import { SiteBatcher } from './lib/batcher.js';
import { siteBadge } from './lib/verdict-text.js';
import { exceptionMatches, hostOf, originPattern, parseWebUrl, siteKey } from './lib/domain.js';

const api = globalThis.browser ?? globalThis.chrome;
const HOST_NAME = 'org.trustlens.host';
const EXT_ORIGIN = api.runtime.getURL('');
const MAIL_TIMEOUT_MS = 120000;
const GMAIL_PATTERN = 'https://mail.google.com/*';
const CONTENT_TYPES = new Set(['guard-navigate', 'guard-check', 'mail-check']);
// Navigations a person starts from the browser's own UI: never intercepted.
const USER_TRANSITIONS = new Set(['typed', 'auto_bookmark', 'generated', 'keyword', 'keyword_generated', 'reload', 'start_page']);

let settings = readSettings({});
const settingsLoaded = api.storage.local
  .get(SETTING_KEYS)
  .then((items) => {
    settings = readSettings(items);
  })
  .catch(() => {});

const client = new PortClient({
  connect: () => api.runtime.connectNative(HOST_NAME),
  // Firefox puts the reason on the port; Chromium in runtime.lastError, which
  // must be read inside the onDisconnect listener (this runs there).
  lastError: (port) => port?.error?.message ?? api.runtime.lastError?.message,
});

const status = new HostStatus({ client: { request } });
client.onDisconnect = () => status.invalidate();

/** One request to the host with the user's timeout (or a longer one). */
async function request(type, params = {}, timeoutMs = null) {
  await settingsLoaded;
  return client.request(type, params, { timeoutMs: timeoutMs ?? settings.timeoutMs });
}

const cache = new VerdictCache();
const tabs = new TabStates();
const batcher = new SiteBatcher({ request, cache });
/** Firefox: tabId -> {key, host, port, chain} of the last main-frame response. */
const chains = new Map();
/** Warning pages and mail badges waiting to be shown: random id -> data. */
const warnings = new Map();
const badges = new Map();
const MAX_KEPT = 200;

function keep(map, id, value) {
  map.set(id, value);
  while (map.size > MAX_KEPT) map.delete(map.keys().next().value);
  // Survives a restart of the service worker (storage.session: memory only).
  api.storage.session?.set({ [`${map === warnings ? 'w' : 'b'}:${id}`]: value }).catch(() => {});
}

async function recall(map, id) {
  if (map.has(id)) return map.get(id);
  try {
    const k = `${map === warnings ? 'w' : 'b'}:${id}`;
    const items = await api.storage.session.get(k);
    return items?.[k] ?? null;
  } catch {
    return null;
  }
}

function errorEntry(err) {
  return { error: { code: err?.code ?? 'internal', message: String(err?.message ?? err) } };
}

// ------------------------------------------------------------------ site verdicts

/** The verdict entry ({verdict} or {error}) for a page the tab shows. */
async function siteForTab(tabId, url) {
  const key = siteKey(url);
  if (key === null) return null;
  const seen = chains.get(tabId);
  if (seen && seen.key === key) {
    try {
      const v = await request('chain', { host: seen.host, port: seen.port, chain: seen.chain });
      return { verdict: v, via: 'chain' };
    } catch (err) {
      // fall through to `site`
    }
  }
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let entry;
  try {
    entry = { verdict: await request('site', { url }) };
  } catch (err) {
    entry = errorEntry(err);
  }
  cache.set(key, entry);
  return entry;
}

async function showBadge(tabId, entry) {
  const b = siteBadge(entry);
  try {
    await api.action.setBadgeText({ tabId, text: b.text });
    await api.action.setBadgeBackgroundColor({ tabId, color: b.color });
    await api.action.setTitle({ tabId, title: api.i18n.getMessage(b.title) || 'TrustLens' });
  } catch {
    // the tab is gone
  }
}

async function updateSite(tabId, url) {
  const state = tabs.get(tabId);
  const entry = await siteForTab(tabId, url);
  if (state.url !== url) return null; // navigated meanwhile
  state.site = entry;
  await showBadge(tabId, entry);
  return entry;
}

// ------------------------------------------------------------------ link guard

function isGuardedUrl(url) {
  const u = parseWebUrl(url);
  if (u === null) return false;
  if (u.origin === 'https://mail.google.com') return true;
  if (settings.webmailOrigins.includes(u.origin)) return true;
  return settings.scope === 'all' && allSitesGranted;
}

function isException(url) {
  const u = parseWebUrl(url);
  return u !== null && settings.exceptions.some((p) => exceptionMatches(p, hostOf(u)));
}

/** Whether a guarded page may go to url without the warning page. */
async function passes(url) {
  if (isException(url)) return { pass: true, entry: null };
  const entry = await batcher.lookup(url);
  return { pass: entry?.verdict?.verdict === 'trusted', entry };
}

function newId() {
  return crypto.randomUUID();
}

async function openWarning(tabId, url, entry, newTab, fromTabId) {
  const id = newId();
  keep(warnings, id, { url, entry, newTab, created: Date.now() });
  const wurl = `${EXT_ORIGIN}warning.html#${id}`;
  if (newTab) return api.tabs.create({ url: wurl, openerTabId: fromTabId ?? tabId, active: true });
  return api.tabs.update(tabId, { url: wurl });
}

/** A click the guard caught on a guarded page (content/guard.js). */
async function guardNavigate(tabId, { url, newTab, background }) {
  const u = parseWebUrl(url);
  if (u === null) return { ok: false };
  const { pass, entry } = await passes(u.href);
  if (pass) {
    if (newTab) {
      const t = await api.tabs.create({ url: u.href, openerTabId: tabId, active: !background });
      tabs.approve(t.id, siteKey(u.href));
    } else {
      tabs.approve(tabId, siteKey(u.href));
      await api.tabs.update(tabId, { url: u.href });
    }
    return { ok: true, warned: false };
  }
  await openWarning(tabId, u.href, entry, newTab, tabId);
  return { ok: true, warned: true };
}

/** Second line: a navigation of a guarded tab that no click of ours started. */
async function interceptIfNeeded(tabId, url) {
  const key = siteKey(url);
  if (key === null || tabs.isApproved(tabId, key)) return;
  const { pass, entry } = await passes(url);
  if (pass) {
    tabs.approve(tabId, key);
    return;
  }
  if (tabs.get(tabId).url !== url) return; // moved on meanwhile
  await openWarning(tabId, url, entry, false);
}

function sameSite(a, b) {
  const ua = parseWebUrl(a);
  const ub = parseWebUrl(b);
  return ua !== null && ub !== null && ua.origin === ub.origin;
}

api.webNavigation.onCommitted.addListener((d) => {
  if (d.frameId !== 0) return;
  const prev = tabs.has(d.tabId) ? tabs.get(d.tabId) : null;
  // The page this navigation leaves: the tab's own guarded page, or the
  // guarded page that opened this tab (window.open, target=_blank).
  const from = prev?.guarded ? prev.url : prev?.openedByGuarded ?? null;
  const state = tabs.navigated(d.tabId, d.url, isGuardedUrl(d.url));
  state.openedByGuarded = null;
  if (parseWebUrl(d.url) === null) {
    showBadge(d.tabId, null);
    return;
  }
  updateSite(d.tabId, d.url).catch(() => {});
  if (from && !state.guarded && !USER_TRANSITIONS.has(d.transitionType) && !sameSite(from, d.url)) {
    interceptIfNeeded(d.tabId, d.url).catch(() => {});
  }
});

api.webNavigation.onCreatedNavigationTarget.addListener((d) => {
  const src = tabs.has(d.sourceTabId) ? tabs.get(d.sourceTabId) : null;
  if (src === null || !src.guarded) return;
  tabs.get(d.tabId).openedByGuarded = src.url;
});

api.tabs.onRemoved.addListener((tabId) => {
  tabs.remove(tabId);
  chains.delete(tabId);
});

// Firefox: the certificate chain the browser itself received.
if (typeof api.webRequest?.getSecurityInfo === 'function') {
  const b64 = (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.slice(i, i + 0x8000));
    return btoa(s);
  };
  try {
    api.webRequest.onHeadersReceived.addListener(
      async (d) => {
        if (d.tabId < 0) return;
        try {
          const info = await api.webRequest.getSecurityInfo(d.requestId, { certificateChain: true, rawDER: true });
          const certs = Array.isArray(info?.certificates) ? info.certificates : [];
          const u = parseWebUrl(d.url);
          if (u === null || certs.length === 0) return;
          chains.set(d.tabId, {
            key: siteKey(d.url),
            host: hostOf(u),
            port: u.port ? Number(u.port) : 443,
            chain: certs.slice(0, 10).map((c) => b64(Uint8Array.from(c.rawDER))),
          });
        } catch {
          // no security info for this request
        }
      },
      { urls: ['https://*/*'], types: ['main_frame'] },
      ['blocking'],
    );
  } catch {
    // webRequestBlocking not granted
  }
}

// ------------------------------------------------------------------ content scripts

let allSitesGranted = false;
const WEBMAIL_SCRIPTS = ['content/core.js', 'content/guard.js', 'content/webmail.js'];
const GUARD_SCRIPTS = ['content/core.js', 'content/guard.js'];

/** Registers the guard and the webmail adapter on the user's webmail origins
 *  (and the guard on all sites when enabled and granted). */
async function syncContentScripts() {
  await settingsLoaded;
  if (!api.scripting?.registerContentScripts) return;
  const patterns = [];
  for (const o of settings.webmailOrigins) {
    const p = originPattern(o);
    if (p === null || patterns.includes(p)) continue;
    if (await api.permissions.contains({ origins: [p] }).catch(() => false)) patterns.push(p);
  }
  allSitesGranted = await api.permissions.contains({ origins: ['*://*/*'] }).catch(() => false);
  const want = [];
  if (patterns.length > 0) {
    want.push({ id: 'tl-webmail', matches: patterns, js: WEBMAIL_SCRIPTS, runAt: 'document_start', allFrames: true });
  }
  if (settings.scope === 'all' && allSitesGranted) {
    want.push({
      id: 'tl-guard-all',
      matches: ['http://*/*', 'https://*/*'],
      excludeMatches: [...patterns, GMAIL_PATTERN],
      js: GUARD_SCRIPTS,
      runAt: 'document_start',
      allFrames: true,
    });
  }
  const have = (await api.scripting.getRegisteredContentScripts()).map((s) => s.id);
  const ours = have.filter((id) => id === 'tl-webmail' || id === 'tl-guard-all');
  if (ours.length > 0) await api.scripting.unregisterContentScripts({ ids: ours });
  for (const s of want) {
    try {
      await api.scripting.registerContentScripts([{ ...s, matchOriginAsFallback: true, persistAcrossSessions: true }]);
    } catch {
      await api.scripting.registerContentScripts([{ ...s, persistAcrossSessions: true }]);
    }
  }
  return want.map((s) => s.id);
}

let syncing = Promise.resolve([]);
function resync() {
  syncing = syncing.then(syncContentScripts, syncContentScripts).catch(() => []);
  return syncing;
}
resync();

api.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local') return;
  const items = {};
  for (const k of SETTING_KEYS) if (k in changes) items[k] = changes[k].newValue;
  if (Object.keys(items).length === 0) return;
  api.storage.local.get(SETTING_KEYS).then((all) => {
    settings = readSettings(all);
    resync();
  });
});
api.permissions.onAdded?.addListener(() => resync());
api.permissions.onRemoved?.addListener(() => resync());

// ------------------------------------------------------------------ mail

async function mailVerdict(params) {
  try {
    return await request('mail', params, MAIL_TIMEOUT_MS);
  } catch (err) {
    return { unreadable: true, error: errorEntry(err).error };
  }
}

async function mailCheck(tabId, msg) {
  const raw = typeof msg.raw_b64 === 'string' && msg.raw_b64 !== '' ? msg.raw_b64 : null;
  const verdict = raw === null ? { unreadable: true } : await mailVerdict({ raw_b64: raw });
  const key = newId();
  keep(badges, key, verdict);
  if (tabId !== undefined && tabId >= 0) tabs.get(tabId).mail = verdict;
  return { key, verdict };
}

// ------------------------------------------------------------------ messages

async function hostReply(type, params = {}, timeoutMs = null) {
  try {
    return { ok: true, result: await request(type, params, timeoutMs) };
  } catch (err) {
    return { ok: false, error: errorEntry(err).error };
  }
}

async function tabState({ tabId, url }) {
  if (!Number.isInteger(tabId)) return { url: null, site: null, mail: null };
  let state = tabs.has(tabId) ? tabs.get(tabId) : null;
  if ((state === null || state.url === null) && typeof url === 'string') {
    state = tabs.navigated(tabId, url, isGuardedUrl(url));
  }
  if (state === null) return { url: null, site: null, mail: null };
  if (state.site === null && state.url !== null && parseWebUrl(state.url) !== null) {
    await updateSite(tabId, state.url);
  }
  return { url: state.url, site: state.site, mail: state.mail };
}

async function handle(msg, sender) {
  const fromPage = typeof sender.url === 'string' && sender.url.startsWith(EXT_ORIGIN);
  if (!fromPage && !CONTENT_TYPES.has(msg.type)) return undefined;
  const tabId = sender.tab?.id;
  switch (msg.type) {
    case 'host-status':
      return status.get();
    case 'tab-state':
      return tabState(msg);
    case 'tokens':
      return hostReply('tokens');
    case 'diagnose':
      return hostReply('diagnose', {}, 60000);
    case 'mail-file':
      return { verdict: await mailVerdict({ raw_b64: String(msg.raw_b64 ?? '') }) };
    case 'confirm-signer':
      return hostReply('confirm_signer', { from: String(msg.from ?? ''), cert_sha256: String(msg.cert_sha256 ?? '') });
    case 'badge-get':
      return { verdict: await recall(badges, String(msg.key ?? '')) };
    case 'warning-info':
      return recall(warnings, String(msg.id ?? ''));
    case 'warning-continue': {
      const w = await recall(warnings, String(msg.id ?? ''));
      if (!w || tabId === undefined) return { url: null };
      tabs.approve(tabId, siteKey(w.url));
      return { url: w.url };
    }
    case 'settings-changed':
      await api.storage.local.get(SETTING_KEYS).then((all) => {
        settings = readSettings(all);
      });
      return { registered: await resync() };
    case 'guard-navigate':
      if (tabId === undefined) return { ok: false };
      return guardNavigate(tabId, msg);
    case 'guard-check': {
      const urls = (Array.isArray(msg.urls) ? msg.urls : []).filter((u) => typeof u === 'string').slice(0, 500);
      const out = [];
      const byKey = await batcher.lookupAll(urls);
      for (const u of urls) {
        const k = siteKey(u);
        const e = k === null ? null : byKey.get(k);
        out.push([u, isException(u) ? 'exception' : e?.verdict?.verdict ?? 'error']);
      }
      return { results: out };
    }
    case 'mail-check':
      return mailCheck(tabId, msg);
    default:
      return undefined;
  }
}

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender?.id !== api.runtime.id) return false;
  if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') return false;
  handle(msg, sender).then(
    (r) => sendResponse(r ?? null),
    (err) => sendResponse({ state: 'error', version: null, protocol: null, capabilities: [], error: String(err?.message ?? err) }),
  );
  return true; // answer asynchronously
});

// For tests and debugging from the service worker's console.
globalThis.trustlens = Object.freeze({
  request,
  hostStatus: () => status.get(),
  get connected() {
    return client.connected;
  },
  tabs: () => tabs.ids().map((id) => ({ id, url: tabs.get(id).url, guarded: tabs.get(id).guarded, site: tabs.get(id).site, mail: tabs.get(id).mail })),
  badgeOf: async (tabId) => ({ text: await api.action.getBadgeText({ tabId }), title: await api.action.getTitle({ tabId }) }),
  batches: () => batcher.batches,
  sync: () => resync(),
  settings: () => structuredClone(settings),
});
