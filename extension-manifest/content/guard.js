// Link guard: a content script injected at document_start, in every frame of
// a guarded page (the user's webmail, and every page when the user enables it),
// in the extension's isolated world. It needs content/core.js first.
//
// Clicks: one capture-phase listener on window for `click` and one for
// `auxclick`, registered before any page script exists. The capture phase
// starts at window, and listeners of one target run in the order they were
// added, so ours runs first: a page's own capture listener on window (with
// stopImmediatePropagation), a removed or replaced onclick, a link swapped for
// a clone, a synthetic a.click() or dispatchEvent from page script, keyboard
// Enter on a focused link (the browser turns it into a click), a middle click
// or a modifier click all reach it. For every link that leaves this origin over
// http(s) it cancels the browser's default action (preventDefault cannot be
// undone by the page) and asks the service worker to navigate: straight on
// when the target is `trusted` (or a user exception), through warning.html
// otherwise. The URL is read at click time from the element itself, so an
// href changed after the check cannot slip through.
//
// Verdicts of the links on the page are looked up in batches as links appear
// (MutationObserver), kept here in the isolated world (a page cannot read or
// change them), and used by content/webmail.js to mark risky links before the
// click.
//
// Not covered here (the service worker's webNavigation second line catches
// them after the navigation starts): window.open or location changes by page
// script, "open link in new tab" from the context menu, drag and drop of a
// link, forms posted to other sites.
(() => {
  'use strict';
  if (globalThis.TrustLensGuard) return; // injected twice (static and registered)
  const api = globalThis.browser ?? globalThis.chrome;
  const core = globalThis.TrustLensCore;
  const origin = location.origin;
  const verdicts = new Map(); // url -> "trusted" | "caution" | "danger" | "error" | "exception"
  const waiting = new Map(); // url -> [resolve]
  const queue = new Set();
  let timer = null;
  const MAX_LINKS = 2000;

  function anchorOf(event) {
    const path = typeof event.composedPath === 'function' ? event.composedPath() : [event.target];
    for (const n of path) {
      if (!(n instanceof Element)) continue;
      const name = n.localName;
      if ((name === 'a' || name === 'area') && n.hasAttribute('href')) return n;
      if (name === 'a' && n.namespaceURI === 'http://www.w3.org/2000/svg' && (n.hasAttribute('href') || n.hasAttribute('xlink:href'))) {
        return n;
      }
    }
    return null;
  }

  function hrefOf(a) {
    if (typeof a.href === 'string') return a.href;
    const raw = a.getAttribute('href') ?? a.getAttribute('xlink:href');
    try {
      return new URL(raw, document.baseURI).href;
    } catch {
      return null;
    }
  }

  function targetOf(a) {
    const t = a.getAttribute('target');
    if (t !== null) return t;
    return document.querySelector('base[target]')?.getAttribute('target') ?? '';
  }

  function onActivate(event) {
    if (event.type === 'click' && event.button !== 0) return;
    if (event.type === 'auxclick' && event.button !== 1) return;
    const a = anchorOf(event);
    if (a === null) return;
    const url = core.externalUrl(hrefOf(a), origin);
    if (url === null) return;
    event.preventDefault();
    const newTab = core.opensNewTab({
      button: event.button,
      ctrlKey: event.ctrlKey,
      metaKey: event.metaKey,
      shiftKey: event.shiftKey,
      target: targetOf(a),
    });
    api.runtime.sendMessage({
      type: 'guard-navigate',
      url,
      newTab,
      background: event.button === 1 || event.ctrlKey || event.metaKey,
    });
  }

  window.addEventListener('click', onActivate, { capture: true });
  window.addEventListener('auxclick', onActivate, { capture: true });

  // ---------------------------------------------------------------- look-ups

  function flush() {
    timer = null;
    const urls = [...queue].slice(0, 500);
    for (const u of urls) queue.delete(u);
    if (queue.size > 0) timer = setTimeout(flush, 50);
    if (urls.length === 0) return;
    api.runtime.sendMessage({ type: 'guard-check', urls }).then(
      (reply) => {
        for (const [u, v] of Array.isArray(reply?.results) ? reply.results : []) {
          verdicts.set(u, v);
          for (const w of waiting.get(u) ?? []) w(v);
          waiting.delete(u);
        }
      },
      () => {
        for (const u of urls) {
          for (const w of waiting.get(u) ?? []) w('error');
          waiting.delete(u);
        }
      },
    );
  }

  /** Resolves with the verdict of the site a URL points to. */
  function verdictOf(url) {
    if (verdicts.has(url)) return Promise.resolve(verdicts.get(url));
    return new Promise((resolve) => {
      const list = waiting.get(url) ?? [];
      list.push(resolve);
      waiting.set(url, list);
      if (!queue.has(url) && list.length === 1) queue.add(url);
      if (timer === null) timer = setTimeout(flush, 50);
    });
  }

  function scan(root) {
    if (verdicts.size + queue.size >= MAX_LINKS) return;
    const links = root.querySelectorAll ? root.querySelectorAll('a[href], area[href]') : [];
    for (const a of links) {
      const url = core.externalUrl(hrefOf(a), origin);
      if (url !== null && !verdicts.has(url)) verdictOf(url);
    }
  }

  function start() {
    scan(document);
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) if (n.nodeType === 1) scan(n);
        if (r.type === 'attributes' && r.target.nodeType === 1) scan(r.target.parentNode ?? r.target);
      }
    }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['href'] });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();

  // ---------------------------------------------------------------- marks

  /**
   * Marks links before the click (webmail.js): in a mail that is not
   * `trusted`, links to sites that are not `trusted` get a red outline; in a
   * signed mail, links outside the signed part get a dashed one. Inline styles
   * with !important, so the mail's own style sheet cannot hide them.
   */
  async function markLinks(root, mail) {
    const signedUrls = new Set((mail?.links ?? []).filter((l) => l.signed).map((l) => l.url));
    const signed = mail?.signature === 'valid';
    const trustedMail = mail?.verdict === 'trusted';
    const marked = [];
    for (const a of root.querySelectorAll('a[href]')) {
      const url = core.externalUrl(hrefOf(a), origin);
      if (url === null) continue;
      const raw = a.getAttribute('href');
      const inSigned = signed && (signedUrls.has(raw) || signedUrls.has(url));
      const v = await verdictOf(url);
      let mark = null;
      if (!trustedMail && v !== 'trusted' && v !== 'exception') mark = 'risky';
      else if (signed && !inSigned) mark = 'unsigned';
      if (mark === null) continue;
      a.setAttribute('data-trustlens-mark', mark);
      a.style.setProperty('outline', mark === 'risky' ? '2px solid #b3261e' : '2px dashed #9a6700', 'important');
      a.style.setProperty('outline-offset', '1px', 'important');
      a.title = api.i18n.getMessage(mark === 'risky' ? 'markRisky' : 'markUnsigned');
      marked.push(mark);
    }
    return marked;
  }

  globalThis.TrustLensGuard = Object.freeze({ verdictOf, markLinks });
})();
