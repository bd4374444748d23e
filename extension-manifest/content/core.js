// Pure helpers of the content scripts (link guard, webmail adapters). A
// classic script, not a module: content scripts cannot be modules. It sets
// one frozen global in the extension's isolated world (pages cannot see it)
// and is loaded by node --test through vm for the unit tests.
//
// Webmail adapters here only build URLs and judge responses; fetching and
// the DOM are in webmail.js.
//  - Roundcube: the byte-exact raw source is
//    ?_task=mail&_action=viewsource&_uid=<uid>&_mbox=<mbox>&_save=1&_token=<request token>.
//    Without _save=1 Roundcube rewrites line ends and signatures break.
//  - Gmail: "show original" is ?view=om&permmsgid=msg-f:<id> under /mail/u/<n>/ with the
//    page's "ik" key.
// A raw fetch counts only when it returns 200 with a non-empty text/plain
// body: Roundcube answers a logged-out session, a bad token or an unknown uid
// with 200 and an HTML page or nothing, which must read "could not read this
// message", never "not signed".
(() => {
  'use strict';

  const MAX_RAW_BYTES = 32 * 1024 * 1024;

  function params(search) {
    try {
      return new URLSearchParams(search);
    } catch {
      return new URLSearchParams('');
    }
  }

  /** {uid, mbox} when location.search is a Roundcube message view (show or preview). */
  function roundcubeMessage(search) {
    const p = params(search);
    if (p.get('_task') !== 'mail') return null;
    const action = p.get('_action');
    if (action !== 'show' && action !== 'preview') return null;
    const uid = p.get('_uid') ?? '';
    if (!/^[0-9]{1,10}$/.test(uid)) return null;
    const mbox = p.get('_mbox') || 'INBOX';
    if (mbox.length > 1000) return null;
    return { uid, mbox };
  }

  /** The request token from page text (rcmail.set_env({... "request_token":"..." ...})). */
  function roundcubeTokenFromText(text) {
    const m = /"request_token"\s*:\s*"([A-Za-z0-9_-]{8,128})"/.exec(String(text ?? ''));
    return m ? m[1] : null;
  }

  /** The byte-exact raw source URL of a Roundcube message. */
  function roundcubeRawUrl(base, { uid, mbox, token }) {
    const u = new URL(base);
    const q = new URLSearchParams();
    q.set('_task', 'mail');
    q.set('_action', 'viewsource');
    q.set('_uid', uid);
    q.set('_mbox', mbox);
    q.set('_save', '1');
    q.set('_token', token);
    return `${u.origin}${u.pathname}?${q.toString()}`;
  }

  /** The account number in a Gmail path (/mail/u/1/...), "0" by default. */
  function gmailAccount(pathname) {
    const m = /^\/mail\/u\/(\d{1,2})\//.exec(String(pathname ?? ''));
    return m ? m[1] : '0';
  }

  /** The "ik" key from Gmail page text (GLOBALS=[..., "<ik>", ...] or "ik":"..."). */
  function gmailIkFromText(text) {
    const s = String(text ?? '');
    const m = /[?&"]ik["=:]+"?([0-9a-f]{10})\b/.exec(s) ?? /GLOBALS=\[(?:[^,\]]*,){9}"([0-9a-f]{10})"/.exec(s);
    return m ? m[1] : null;
  }

  /** Gmail's "show original" for a message id (the legacy id, hex, or msg-f:<decimal>). */
  function gmailRawUrl({ account = '0', ik, messageId }) {
    if (!/^\d{1,2}$/.test(String(account))) throw new Error('bad account');
    if (!/^[0-9a-f]{10}$/.test(String(ik ?? ''))) throw new Error('bad ik');
    let id = String(messageId ?? '');
    if (/^msg-f:\d{1,20}$/.test(id)) id = id.slice(6);
    else if (/^[0-9a-f]{16}$/.test(id)) id = BigInt(`0x${id}`).toString(10);
    else if (!/^\d{1,20}$/.test(id)) throw new Error('bad message id');
    const q = new URLSearchParams();
    q.set('ik', ik);
    q.set('view', 'om');
    q.set('permmsgid', `msg-f:${id}`);
    return `https://mail.google.com/mail/u/${account}/?${q.toString()}`;
  }

  /** True only for a response that can be a raw message. */
  function rawResponseUsable({ status, contentType, byteLength }) {
    if (status !== 200) return false;
    const type = String(contentType ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'text/plain') return false;
    return Number.isInteger(byteLength) && byteLength > 0 && byteLength <= MAX_RAW_BYTES;
  }

  /** Base64 of bytes, in chunks (no spread of a 30 MB array). */
  function toBase64(bytes) {
    let bin = '';
    const step = 0x8000;
    for (let i = 0; i < bytes.length; i += step) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + step));
    }
    return btoa(bin);
  }

  /** The URL a link leads to, when it leaves for another site over http(s). */
  function externalUrl(href, pageOrigin) {
    let u;
    try {
      u = new URL(href);
    } catch {
      return null;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    if (u.origin === pageOrigin) return null;
    return u.href;
  }

  /** Whether a click or key press would open the link in a new tab or window. */
  function opensNewTab({ button = 0, ctrlKey = false, metaKey = false, shiftKey = false, target = '' }) {
    if (button === 1 || ctrlKey || metaKey || shiftKey) return true;
    const t = String(target ?? '').toLowerCase();
    return t !== '' && t !== '_self' && t !== '_top' && t !== '_parent';
  }

  globalThis.TrustLensCore = Object.freeze({
    MAX_RAW_BYTES,
    roundcubeMessage,
    roundcubeTokenFromText,
    roundcubeRawUrl,
    gmailAccount,
    gmailIkFromText,
    gmailRawUrl,
    rawResponseUsable,
    toBase64,
    externalUrl,
    opensNewTab,
  });
})();
