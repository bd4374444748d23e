// make demo, browser part: the real extension and host in headless Chromium
// on the local demo sites (EV, QWAC, DV, expired) and the bundled sample
// mails (tests/demo-mail, opened on the extension's .eml page). Saves
// screenshots under tests/out/demo/ and prints what each shows.
//   node tests/e2e/demo-shots.mjs

import fs from 'node:fs';
import path from 'node:path';
import { EXT_URL, ROOT, installHost, waitFor, withBrowser } from './harness.mjs';
import { startSites } from './servers.mjs';

const out = path.join(ROOT, 'tests', 'out', 'demo');
fs.mkdirSync(out, { recursive: true });
const work = fs.mkdtempSync(path.join(out, 'servers-'));
const mails = path.join(ROOT, 'tests', 'demo-mail');
const sites = await startSites(['qwac-ev', 'ev', 'dv', 'expired'], work);
try {
  await withBrowser(
    'demo',
    {
      prepare: ({ manifestDir }) => installHost(manifestDir),
      args: sites.browserArgs,
      env: { ...sites.hostEnv, TRUSTLENS_EID_ROOTS: path.join(mails, 'eid-test-roots.pem'), TRUSTLENS_SMIME_CA_FILE: path.join(mails, 'smime-test-ca.pem') },
      bodyMs: 120000,
    },
    async ({ context, serviceWorker }) => {
      const sw = await serviceWorker();
      const page = await context.newPage();
      for (const leaf of ['qwac-ev', 'ev', 'dv', 'expired']) {
        const url = sites.url(leaf);
        await page.goto(url);
        const tab = await waitFor(() => sw.evaluate((u) => globalThis.trustlens.tabs().find((t) => t.url === u && t.site) ?? null, url), url);
        const popup = await context.newPage();
        await popup.setViewportSize({ width: 380, height: 560 });
        await popup.goto(`${EXT_URL}/popup.html?tabId=${tab.id}`);
        await popup.waitForSelector('body[data-ready=true]');
        const file = path.join(out, `popup-${leaf}.png`);
        await popup.screenshot({ path: file });
        console.log(`${leaf}.test: ${await popup.textContent('[data-testid=site-headline]')}  (${path.relative(ROOT, file)})`);
        await popup.close();
      }
      const mailPage = await context.newPage();
      await mailPage.setViewportSize({ width: 900, height: 700 });
      await mailPage.goto(`${EXT_URL}/mail.html`);
      for (const m of fs.readdirSync(mails).filter((f) => f.endsWith('.eml')).sort()) {
        await mailPage.setInputFiles('#file', path.join(mails, m));
        await mailPage.waitForFunction(() => !['checking', 'none'].includes(document.querySelector('#mail').dataset.kind));
        const file = path.join(out, `mail-${m.replace(/\.eml$/, '')}.png`);
        await mailPage.screenshot({ path: file });
        console.log(`${m}: ${await mailPage.textContent('[data-testid=mail-headline]')}  (${path.relative(ROOT, file)})`);
      }
    },
  );
} finally {
  sites.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
