// End-to-end, sites: the real extension and the real host in headless
// Chromium against local HTTPS sites of the test PKI (openssl s_server):
// the toolbar badge and the popup for EV, DV, QWAC and expired sites; the
// link guard on a local webmail page (warning page, go back, continue,
// straight through to EV, a hostile page that fights the guard, window.open).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXT_URL, OUT, WAIT_MS, extensionCopy, installHost, readMessages, waitFor, withBrowser } from './harness.mjs';
import { startPages, startSites } from './servers.mjs';

const en = readMessages('en');
const SHOTS = path.join(OUT, '..', 'screenshots');
let sites;
let pages;
let work;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  work = fs.mkdtempSync(path.join(OUT, 'sites-servers-'));
  sites = await startSites(['ev', 'dv', 'qwac-ev', 'expired'], work);
  const links = `
    <p><a id="dv" href="${sites.url('dv', '/offer')}">a DV site</a></p>
    <p><a id="ev" href="${sites.url('ev', '/account')}">an EV site</a></p>
    <p><a id="dv-blank" target="_blank" href="${sites.url('dv', '/new')}">a DV site in a new tab</a></p>
    <p><a id="same" href="/other">this webmail</a></p>`;
  pages = await startPages((p) => {
    if (p === '/' || p === '/other') return `<!doctype html><title>Local webmail</title><h1>Inbox</h1>${links}`;
    if (p === '/hostile') {
      // A page that fights the guard: its own capture listener on window that
      // stops everything, links replaced by clones, a fake "trusted" badge and
      // marks, a function that clicks the link from script, and window.open.
      return `<!doctype html><title>Hostile</title>${links}
        <div class="trustlens-badge" data-trustlens-mark="trusted">Signed with eID by Your Bank (TrustLens)</div>
        <script>
          window.addEventListener('click', (e) => { e.stopImmediatePropagation(); }, true);
          document.addEventListener('click', (e) => { e.stopImmediatePropagation(); }, true);
          for (const a of document.querySelectorAll('a')) {
            const b = a.cloneNode(true);
            b.setAttribute('data-trustlens-mark', 'trusted');
            b.setAttribute('data-trustlens-verdict', 'trusted');
            b.onclick = null;
            a.replaceWith(b);
          }
          // (its own window listener would swallow a click on a button, so script calls this)
          window.clickFromScript = () => document.getElementById('dv').click();
        </script>`;
    }
    return null;
  });
});

after(async () => {
  sites?.stop();
  await pages?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The service worker's record of the tab showing url (waits for its site verdict). */
async function tabFor(sw, url) {
  return waitFor(
    () => sw.evaluate((u) => globalThis.trustlens.tabs().find((t) => t.url === u && t.site !== null) ?? null, url),
    `a site verdict for ${url}`,
  );
}

async function popupFor(context, tabId) {
  const popup = await context.newPage();
  await popup.setViewportSize({ width: 380, height: 560 });
  await popup.goto(`${EXT_URL}/popup.html?tabId=${tabId}`);
  await popup.waitForSelector('body[data-ready=true]', { timeout: WAIT_MS });
  return popup;
}

const siteText = (popup) =>
  popup.evaluate(() => {
    const box = document.querySelector('[data-testid=popup-site]');
    return {
      tone: box.dataset.tone,
      level: box.dataset.level,
      headline: box.querySelector('[data-testid=site-headline]')?.textContent ?? '',
      rows: [...box.querySelectorAll('dd')].map((d) => d.textContent),
      reasons: [...box.querySelectorAll('[data-testid=site-reasons] li')].map((li) => li.dataset.code),
    };
  });

test('toolbar and popup: EV, QWAC, DV and expired sites show who is proven and the level', async () => {
  await withBrowser(
    'sites-popup',
    { prepare: ({ manifestDir }) => installHost(manifestDir), args: sites.browserArgs, env: sites.hostEnv, bodyMs: 90000 },
    async ({ context, serviceWorker }) => {
      const sw = await serviceWorker();
      const page = await context.newPage();
      const expect = {
        ev: { badge: 'EV', tone: 'trusted', level: 'ev', headline: en.siteProvenTrusted.message.replace('$ORG$', 'TrustLens Test EV NV'), rows: ['TrustLens Test EV NV', 'BE', '0203.201.340'] },
        'qwac-ev': { badge: 'QWAC', tone: 'trusted', level: 'qwac', headline: en.siteProvenTrusted.message.replace('$ORG$', 'TrustLens Test QWAC NV'), rows: ['TrustLens Test QWAC NV', 'BE', '0203.201.340'] },
        dv: { badge: 'DV', tone: 'caution', level: 'dv', headline: en.siteNobodyProven.message.replace('$HOST$', 'dv.test'), rows: [] },
        expired: { badge: '!', tone: 'danger', level: 'none', headline: en.siteDanger.message.replace('$HOST$', 'expired.test'), rows: [], reason: 'expired' },
      };
      for (const [leaf, want] of Object.entries(expect)) {
        const url = sites.url(leaf);
        await page.goto(url);
        const tab = await tabFor(sw, url);
        assert.equal(tab.site.verdict?.level, want.level, `${leaf}: ${JSON.stringify(tab.site)}`);
        const badge = await sw.evaluate((id) => globalThis.trustlens.badgeOf(id), tab.id);
        assert.equal(badge.text, want.badge, `${leaf} badge`);
        const popup = await popupFor(context, tab.id);
        const s = await siteText(popup);
        assert.equal(s.tone, want.tone, leaf);
        assert.equal(s.level, want.level, leaf);
        assert.equal(s.headline, want.headline, leaf);
        for (const r of want.rows) assert.ok(s.rows.includes(r), `${leaf}: row ${r} missing in ${JSON.stringify(s.rows)}`);
        if (want.rows.length === 0) assert.ok(!s.rows.some((r) => /NV|BV/.test(r)), `${leaf}: shows an identity`);
        if (want.reason) assert.ok(s.reasons.includes(want.reason), `${leaf}: reasons ${s.reasons}`);
        if (leaf === 'ev' || leaf === 'expired') await popup.screenshot({ path: path.join(SHOTS, `popup-${leaf}.png`) });
        await popup.close();
      }
    },
  );
});

test('link guard on a local webmail page: warning for DV, go back, continue; EV goes straight through; a hostile page cannot defeat it', async () => {
  const extDir = fs.mkdtempSync(path.join(OUT, 'ext-copy-'));
  // The user grants the local webmail's origin in the browser's dialog; a
  // headless browser shows none, so the copy holds that grant up front.
  const ext = extensionCopy(extDir, (m) => ({ ...m, host_permissions: [...m.host_permissions, 'http://127.0.0.1/*'] }));
  try {
    await withBrowser(
      'sites-guard',
      { ext, prepare: ({ manifestDir }) => installHost(manifestDir), args: sites.browserArgs, env: sites.hostEnv, bodyMs: 120000 },
      async ({ context, serviceWorker }) => {
        const sw = await serviceWorker();
        // The options page adds the webmail address, as a user does.
        const options = await context.newPage();
        await options.goto(`${EXT_URL}/options.html`);
        await options.waitForSelector('#settings[data-loaded=true]', { timeout: WAIT_MS });
        await options.fill('#webmail-input', pages.origin);
        await options.click('#webmail-add');
        await options.waitForFunction(() => /tl-webmail/.test(document.querySelector('#webmail-status').dataset.registered ?? ''), null, { timeout: WAIT_MS });
        assert.match(await options.textContent('[data-testid=webmail-list]'), /127\.0\.0\.1/);
        await options.close();

        const page = await context.newPage();
        const seen = [];
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) seen.push(f.url());
        });
        const atWarning = () => page.waitForURL(/\/warning\.html#/, { timeout: WAIT_MS });

        // DV: the warning page, "go back" is the default and returns.
        await page.goto(`${pages.origin}/`);
        await page.click('#dv');
        await atWarning();
        await page.waitForSelector('body[data-ready=true]', { timeout: WAIT_MS });
        assert.equal(await page.textContent('[data-testid=registrable]'), 'dv.test');
        assert.equal(await page.getAttribute('[data-testid=warning-site]', 'data-level'), 'dv');
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'back', '"go back" has the focus');
        await page.screenshot({ path: path.join(SHOTS, 'warning-dv.png') });
        await page.keyboard.press('Enter');
        await page.waitForURL(`${pages.origin}/`, { timeout: WAIT_MS });

        // DV again: "continue" proceeds to the site.
        await page.click('#dv');
        await atWarning();
        await page.waitForSelector('body[data-ready=true]', { timeout: WAIT_MS });
        await page.click('#continue');
        await page.waitForURL(sites.url('dv', '/offer'), { timeout: WAIT_MS });

        // EV: straight through, no warning page on the way.
        await page.goto(`${pages.origin}/`);
        seen.length = 0;
        await page.click('#ev');
        await page.waitForURL(sites.url('ev', '/account'), { timeout: WAIT_MS });
        assert.ok(!seen.some((u) => u.includes('/warning.html')), `EV went through the warning page: ${seen}`);

        // A link inside the webmail itself is not touched.
        await page.goto(`${pages.origin}/`);
        await page.click('#same');
        await page.waitForURL(`${pages.origin}/other`, { timeout: WAIT_MS });

        // target=_blank: the warning opens in the new tab.
        await page.goto(`${pages.origin}/`);
        const [blank] = await Promise.all([context.waitForEvent('page', { timeout: WAIT_MS }), page.click('#dv-blank')]);
        await blank.waitForURL(/\/warning\.html#/, { timeout: WAIT_MS });
        await blank.close();

        // Hostile page: its capture listeners, cloned links, fake marks and badge change nothing.
        await page.goto(`${pages.origin}/hostile`);
        await page.click('#dv');
        await atWarning();
        await page.goBack();
        await page.waitForURL(`${pages.origin}/hostile`, { timeout: WAIT_MS });
        // A click made by page script (a.click()) is guarded too.
        await page.evaluate(() => window.clickFromScript());
        await atWarning();
        await page.goBack();
        await page.waitForURL(`${pages.origin}/hostile`, { timeout: WAIT_MS });
        // Keyboard: Enter on a focused link.
        await page.focus('#dv');
        await page.keyboard.press('Enter');
        await atWarning();
        await page.goBack();
        await page.waitForURL(`${pages.origin}/hostile`, { timeout: WAIT_MS });
        // window.open from page script: the second line (webNavigation) sends the new tab to the warning page.
        const [popup] = await Promise.all([
          context.waitForEvent('page', { timeout: WAIT_MS }),
          page.evaluate((u) => window.open(u), sites.url('dv', '/popup')),
        ]);
        await popup.waitForURL(/\/warning\.html#/, { timeout: WAIT_MS });
        await popup.close();
        assert.ok((await sw.evaluate(() => globalThis.trustlens.batches())) >= 1, 'links were looked up in batches');
      },
    );
  } finally {
    fs.rmSync(extDir, { recursive: true, force: true });
  }
});
