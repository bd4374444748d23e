// End-to-end smoke test in Firefox ESR: the unchanged extension
// (extension-manifest/, a temporary add-on) and the real host, installed for
// Firefox by the host's own `install --browser firefox --manifest-dir
// $HOME/.mozilla/native-messaging-hosts` under a HOME of the case's own.
// Driven over Marionette (firefox-driver.mjs says why not WebDriver BiDi).
//
// It proves, in Firefox: `hello` through the native port (the popup shows
// state ok and the host's own --version), and one site verdict for a local
// EV site of the test PKI, first through `site` (no host permission for the
// site: the extension's fallback), then, once the site permission is granted
// as a person grants it in the add-on's permissions, through `chain` with
// the certificate chain Firefox itself received (webRequest.getSecurityInfo):
// the verdict names the SHA-256 of exactly the leaf the server sent.
//
// Firefox trusts the test PKI's roots through its certificate database (as
// a person imports a root); every test name resolves to the site's loopback
// address (network.dns.forceResolve); the host gets TRUSTLENS_CA_FILE,
// TRUSTLENS_RESOLVE and TRUSTLENS_ALLOW_PRIVATE=1 through Firefox's
// environment.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, HOST_NAME, OUT, hostVersion, readMessages, waitFor } from './harness.mjs';
import { GECKO_ID, MOZ_URL, pemCertificates, withFirefox } from './firefox-driver.mjs';
import { PKI, startSites } from './servers.mjs';

const en = readMessages('en');
const SHOTS = path.join(OUT, '..', 'screenshots');
let VERSION;
let sites;
let work;

before(async () => {
  VERSION = hostVersion();
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  work = fs.mkdtempSync(path.join(OUT, 'firefox-servers-'));
  sites = await startSites(['ev'], work);
});

after(() => {
  sites?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The project's own install code, for Firefox, under home. Returns the manifest. */
function installForFirefox(home) {
  const dir = path.join(home, '.mozilla', 'native-messaging-hosts');
  execFileSync(HOST, ['install', '--browser', 'firefox', '--manifest-dir', dir], {
    encoding: 'utf8',
    timeout: 10000,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home },
  });
  return JSON.parse(fs.readFileSync(path.join(dir, `${HOST_NAME}.json`), 'utf8'));
}

/** browser.runtime.sendMessage from the extension page in the current tab (a message type the popup itself sends). */
const pageMessage = (ff, msg) =>
  ff.asyncScript(
    `const [msg, resolve] = arguments;
     window.browser.runtime.sendMessage(msg).then(
       (r) => resolve(JSON.stringify(r ?? null)),
       (e) => resolve(JSON.stringify({ failed: String(e) })));`,
    [msg],
  ).then((s) => JSON.parse(s));

/** Another extension API call from the extension page in the current tab. */
const pageApi = (ff, body, args = []) =>
  ff.asyncScript(
    `const resolve = arguments[arguments.length - 1];
     const browser = window.browser;
     const args = [...arguments].slice(0, -1);
     (async () => { ${body} })().then((r) => resolve(JSON.stringify(r ?? null)), (e) => resolve(JSON.stringify({ failed: String(e) })));`,
    args,
  ).then((s) => JSON.parse(s));

/** (Re)loads popup.html?tabId=N in the current tab and waits until it has rendered the tab. */
async function showPopup(ff, tabId) {
  await ff.send('WebDriver:Navigate', { url: `${MOZ_URL}/popup.html?tabId=${tabId}` });
  await waitFor(async () => (await ff.script('return document.body?.dataset.ready ?? null;')) === 'true', 'the popup to render the tab (body[data-ready=true])');
  return ff.script(`
    const box = document.querySelector('[data-testid=popup-site]');
    return {
      tone: box.dataset.tone,
      level: box.dataset.level,
      headline: box.querySelector('[data-testid=site-headline]')?.textContent ?? '',
      rows: [...box.querySelectorAll('dd')].map((d) => d.textContent),
    };`);
}

function assertEvPopup(s, when) {
  assert.equal(s.tone, 'trusted', when);
  assert.equal(s.level, 'ev', when);
  assert.equal(s.headline, en.siteProvenTrusted.message.replace('$ORG$', 'TrustLens Test EV NV'), when);
  for (const r of ['TrustLens Test EV NV', 'BE', '0203.201.340']) assert.ok(s.rows.includes(r), `${when}: row ${r} missing in ${JSON.stringify(s.rows)}`);
}

test('Firefox ESR: hello through the host, and an EV site verdict by `site`, then by `chain` with the certificate Firefox received', async () => {
  const address = /^ev\.test:\d+:([\d.]+)$/.exec(sites.hostEnv.TRUSTLENS_RESOLVE)?.[1];
  assert.ok(address, `no address for ev.test in ${sites.hostEnv.TRUSTLENS_RESOLVE}`);
  const leafSha256 = createHash('sha256').update(fs.readFileSync(path.join(PKI, 'leaves', 'ev', 'cert.der'))).digest('hex');

  await withFirefox(
    'firefox',
    {
      prepare: ({ home }) => {
        const m = installForFirefox(home);
        assert.equal(fs.realpathSync(m.path), fs.realpathSync(HOST));
        assert.deepEqual(m.allowed_extensions, [GECKO_ID]);
      },
      prefs: { 'network.dns.forceResolve': address },
      env: sites.hostEnv,
    },
    async ({ ff, hostLog }) => {
      // The test roots, as a person imports them in the certificate manager.
      const roots = pemCertificates(path.join(PKI, 'ca-bundle.pem'));
      const imported = await ff.chrome(
        `const [roots, resolve] = arguments;
         const db = Cc['@mozilla.org/security/x509certdb;1'].getService(Ci.nsIX509CertDB);
         for (const b64 of roots) db.addCertFromBase64(b64, 'C,,');
         resolve(roots.length);`,
        [roots],
      );
      assert.equal(imported, 3);

      // The site, in the first tab (Navigate fails on a certificate error).
      const url = sites.url('ev');
      await ff.send('WebDriver:Navigate', { url });
      assert.equal(await ff.script('return document.querySelector("h1")?.textContent;'), 'ev.test');
      const siteHandle = await ff.send('WebDriver:GetWindowHandle');

      // hello: the popup page (opened in a tab, as the toolbar button opens it).
      await ff.openTab(`${MOZ_URL}/popup.html`);
      await waitFor(async () => {
        const s = await ff.script('return document.querySelector("#host-state")?.dataset.state ?? "checking";');
        return s !== 'checking';
      }, 'the popup to leave "checking"');
      const shown = await ff.script(`return {
        state: document.querySelector('#host-state').dataset.state,
        version: document.querySelector('#host-version').textContent,
        error: document.querySelector('#host-error')?.textContent ?? '' };`);
      assert.equal(shown.state, 'ok', JSON.stringify(shown));
      assert.equal(shown.version, VERSION);
      const status = await pageMessage(ff, { type: 'host-status' });
      assert.equal(status.state, 'ok');
      assert.equal(status.protocol, 1);
      assert.equal(status.version, VERSION);

      // The site tab's id, through the extension's own tabs API.
      const tabId = await pageApi(
        ff,
        `const me = await browser.tabs.getCurrent();
         const others = (await browser.tabs.query({})).filter((t) => t.id !== me.id);
         if (others.length !== 1) throw new Error('tabs: ' + others.length);
         return others[0].id;`,
      );
      assert.equal(typeof tabId, 'number', JSON.stringify(tabId));

      // Without a grant for the site: `site` (the host fetches the certificate itself).
      assertEvPopup(await showPopup(ff, tabId), 'site');
      const bySite = await pageMessage(ff, { type: 'tab-state', tabId });
      assert.equal(bySite.url, url);
      assert.equal(bySite.site?.verdict?.level, 'ev', JSON.stringify(bySite));
      assert.equal(bySite.site.via, undefined, 'a verdict by chain without the site permission');
      assert.equal(bySite.site.verdict.cert_sha256, leafSha256);
      const badge = await pageApi(ff, 'return browser.action.getBadgeText({ tabId: args[0] });', [tabId]);
      assert.equal(badge, 'EV');

      // The person grants the site in the add-on's permissions; the next load
      // is judged on the chain Firefox received (getSecurityInfo).
      const granted = await ff.chrome(
        `const [id, origins, resolve] = arguments;
         const { ExtensionPermissions } = ChromeUtils.importESModule('resource://gre/modules/ExtensionPermissions.sys.mjs');
         const policy = WebExtensionPolicy.getByID(id);
         ExtensionPermissions.add(id, { permissions: [], origins }, policy.extension).then(
           () => resolve(policy.allowedOrigins.patterns.map((p) => p.pattern)),
           (e) => resolve(String(e)));`,
        [GECKO_ID, ['https://ev.test/*']],
      );
      assert.ok(Array.isArray(granted) && granted.includes('https://ev.test/*'), JSON.stringify(granted));
      assert.equal(await pageApi(ff, "return browser.permissions.contains({ origins: ['https://ev.test/*'] });"), true);

      const popupHandle = await ff.send('WebDriver:GetWindowHandle');
      const again = sites.url('ev', '/again');
      await ff.switchTo(siteHandle);
      await ff.send('WebDriver:Navigate', { url: again });
      await ff.switchTo(popupHandle);
      const byChain = await waitFor(async () => {
        const s = await pageMessage(ff, { type: 'tab-state', tabId });
        return s.url === again && s.site !== null ? s : null;
      }, `a verdict for ${again}`);
      assert.equal(byChain.site.via, 'chain', JSON.stringify(byChain));
      assert.equal(byChain.site.verdict.level, 'ev');
      assert.equal(byChain.site.verdict.verdict, 'trusted');
      assert.equal(byChain.site.verdict.cert_sha256, leafSha256, 'the verdict is not about the leaf the server sent');
      assertEvPopup(await showPopup(ff, tabId), 'chain');
      await ff.send('WebDriver:SetWindowRect', { width: 420, height: 640 });
      await ff.screenshot(path.join(SHOTS, 'firefox-popup-ev.png'));

      // The host answered each of them (its log names request types and status only).
      const log = fs.readFileSync(hostLog, 'utf8');
      for (const type of ['hello', 'site', 'chain']) assert.match(log, new RegExp(`request ${type}: ok`), `host log has no ${type}`);
    },
  );
});
