// Webmail adapter: in a frame that shows one message, obtains the message's
// raw bytes from the webmail itself, sends them to the service worker (which
// asks the host's `mail`), and shows the verdict in an extension-origin frame
// (badge.html) placed above the message. The verdict is never written as HTML
// into the mail's DOM, where a mail could imitate it; only link marks are
// (content/guard.js), and they can only add warnings.
//
// Roundcube: the message frame's own URL carries _uid and _mbox (preview and
// full view); the request token is in the page's inline rcmail.set_env(...)
// text or a _token input. The raw source is fetched with the session's
// cookies (same origin). Anything but 200 with a non-empty text/plain body
// (login page, error page, empty) reads "could not read this message".
// Gmail: the open message's id ([data-legacy-message-id]) and the page key
// ("ik") give the "show original" URL; the same rule applies to its answer.
//
// Needs content/core.js and content/guard.js first.
(() => {
  'use strict';
  if (globalThis.TrustLensWebmail) return;
  globalThis.TrustLensWebmail = true;
  const api = globalThis.browser ?? globalThis.chrome;
  const core = globalThis.TrustLensCore;
  const FRAME_HEIGHT = '8.5em';

  function pageText(doc) {
    let s = '';
    for (const sc of doc.scripts) {
      if (!sc.src) s += sc.textContent + '\n';
      if (s.length > 4_000_000) break;
    }
    return s;
  }

  function roundcubeToken() {
    const docs = [document];
    try {
      if (window.parent !== window && window.parent.document) docs.push(window.parent.document);
    } catch {
      // another origin
    }
    for (const d of docs) {
      const t = core.roundcubeTokenFromText(pageText(d));
      if (t) return t;
      const input = d.querySelector('input[name=_token]');
      if (input && /^[A-Za-z0-9_-]{8,128}$/.test(input.value)) return input.value;
    }
    return null;
  }

  async function fetchRaw(url) {
    try {
      const resp = await fetch(url, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' });
      const bytes = new Uint8Array(await resp.arrayBuffer());
      const usable = core.rawResponseUsable({
        status: resp.status,
        contentType: resp.headers.get('content-type'),
        byteLength: bytes.length,
      });
      return usable ? core.toBase64(bytes) : null;
    } catch {
      return null;
    }
  }

  function placeBadge(anchor, key, where) {
    const old = document.querySelector('iframe[data-trustlens-badge]');
    old?.remove();
    const frame = document.createElement('iframe');
    frame.src = `${api.runtime.getURL('badge.html')}#${key}`;
    frame.setAttribute('data-trustlens-badge', '');
    frame.title = api.i18n.getMessage('badgeFrameTitle');
    frame.setAttribute('style', `display:block !important; visibility:visible !important; width:100% !important; height:${FRAME_HEIGHT} !important; border:0 !important; margin:0 0 6px 0 !important; position:static !important; opacity:1 !important;`);
    if (where === 'before') anchor.before(frame);
    else anchor.prepend(frame);
    return frame;
  }

  async function check(raw, anchor, where, root) {
    const reply = await api.runtime.sendMessage({ type: 'mail-check', raw_b64: raw });
    if (!reply?.key) return;
    placeBadge(anchor, reply.key, where);
    if (raw !== null && root) await globalThis.TrustLensGuard?.markLinks(root, reply.verdict);
  }

  async function roundcube() {
    const msg = core.roundcubeMessage(location.search);
    if (msg === null) return;
    const token = roundcubeToken();
    const raw = token ? await fetchRaw(core.roundcubeRawUrl(location.href, { ...msg, token })) : null;
    const body = document.getElementById('messagebody');
    const header = document.getElementById('message-header') ?? document.querySelector('.message-header, #messageheader, .headers-table');
    const anchor = header ?? body ?? document.body;
    await check(raw, anchor, anchor === document.body ? 'prepend' : 'before', body ?? document.body);
  }

  // Gmail: one badge per opened message id.
  const gmailDone = new Set();
  async function gmailMessage(el) {
    const id = el.getAttribute('data-legacy-message-id') ?? el.getAttribute('data-message-id');
    if (!id || gmailDone.has(id)) return;
    gmailDone.add(id);
    let raw = null;
    try {
      const ik = core.gmailIkFromText(pageText(document));
      if (ik) raw = await fetchRaw(core.gmailRawUrl({ account: core.gmailAccount(location.pathname), ik, messageId: id }));
    } catch {
      raw = null;
    }
    await check(raw, el, 'prepend', el);
  }

  function gmail() {
    const seek = () => document.querySelectorAll('[data-legacy-message-id]').forEach((el) => gmailMessage(el));
    new MutationObserver(seek).observe(document.documentElement, { childList: true, subtree: true });
    seek();
  }

  function start() {
    if (location.hostname === 'mail.google.com') gmail();
    else roundcube();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();
