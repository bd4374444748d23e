// Webmail suite: the real extension and the real host in headless Chromium,
// against a real Roundcube over a real Dovecot on loopback (set up by
// tests/webmail/setup.sh; WEBMAIL_DIR names its directory). Each test
// message is opened in the preview pane and in the full view, and the badge
// that the extension shows beside it (an extension-origin frame) must say
// who signed it. A logged-out session must read "could not read this
// message", never "not signed".

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXT_URL, OUT, WAIT_MS, extensionCopy, installHost, readMessages, waitFor, withBrowser } from '../e2e/harness.mjs';

const en = readMessages('en');
const SHOTS = path.join(OUT, '..', 'screenshots');
const NOW = '2026-06-01T00:00:00Z';
let env;

before(() => {
  const dir = process.env.WEBMAIL_DIR;
  if (!dir) throw new Error('WEBMAIL_DIR is not set: run tests/webmail/run.sh');
  env = Object.fromEntries(
    fs.readFileSync(path.join(dir, 'env'), 'utf8').split('\n').filter(Boolean).map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')];
    }),
  );
  fs.mkdirSync(SHOTS, { recursive: true });
});

const say = (key, v = {}) => Object.entries(v).reduce((s, [k, x]) => s.replace(`$${k.toUpperCase()}$`, x), en[key].message);

/** What each message's badge must say (UIDs follow setup.sh's order). */
function expected() {
  return [
    { name: 'eid-citizen-rsa', kind: 'eid', text: say('mailSignedEid', { name: 'Alice Marie Peeters' }) },
    { name: 'smime-bob', kind: 'smime', text: say('mailSignedSmime', { name: 'Bob Dupont' }) },
    { name: 'unsigned-html-links', kind: 'unsigned', text: say('mailNotSigned') },
    { name: 'tampered-body', kind: 'broken', text: say('mailBroken') },
    { name: 'hist-alice-signed', kind: 'eid', text: say('mailSignedEid', { name: 'Alice Marie Peeters' }) },
    { name: 'hist-alice-unsigned', kind: 'usually', text: say('mailUsuallySigns', { from: 'alice.hist@example.be' }) },
  ];
}

const rowId = (uid) => `rcmrow${Buffer.from(String(uid)).toString('base64url')}`;

/** The badge frame's headline once it has a verdict. */
async function badgeOf(page, what) {
  const frame = await waitFor(
    () => page.frames().find((f) => f.url().startsWith(`${EXT_URL}/badge.html#`)) ?? null,
    `${what}: the TrustLens badge frame`,
  );
  await frame.waitForFunction(() => {
    const k = document.querySelector('#mail')?.dataset.kind;
    return k && k !== 'checking';
  }, null, { timeout: 30000 });
  return frame.evaluate(() => ({
    kind: document.querySelector('#mail').dataset.kind,
    text: document.querySelector('[data-testid=mail-headline]').textContent,
  }));
}

test('Roundcube over Dovecot: badges for eID-signed, S/MIME, unsigned, tampered, usually-signing sender, and a logged-out session', async (t) => {
  const extDir = fs.mkdtempSync(path.join(OUT, 'ext-copy-'));
  const ext = extensionCopy(extDir, (m) => ({ ...m, host_permissions: [...m.host_permissions, 'http://127.0.0.1/*'] }));
  try {
    await withBrowser(
      'roundcube',
      {
        ext,
        prepare: ({ manifestDir }) => installHost(manifestDir),
        env: {
          TRUSTLENS_EID_ROOTS: path.join(env.MAILPKI, 'eid-roots.pem'),
          TRUSTLENS_SMIME_CA_FILE: path.join(env.MAILPKI, 'smime-ca.pem'),
          TRUSTLENS_NOW: NOW,
          // A sender history of this run only (the usually-signing case needs it).
          TRUSTLENS_STATE_DIR: path.join(extDir, 'state'),
        },
        bodyMs: 240000,
      },
      async ({ context, serviceWorker }) => {
        const sw = await serviceWorker();
        // The user adds the webmail's address in the options.
        const options = await context.newPage();
        await options.goto(`${EXT_URL}/options.html`);
        await options.waitForSelector('#settings[data-loaded=true]', { timeout: WAIT_MS });
        await options.fill('#webmail-input', env.URL);
        await options.click('#webmail-add');
        await options.waitForFunction(() => /tl-webmail/.test(document.querySelector('#webmail-status').dataset.registered ?? ''), null, { timeout: WAIT_MS });
        await options.close();

        const page = await context.newPage();
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${env.URL}/`);
        await page.fill('#rcmloginuser', env.USER);
        await page.fill('#rcmloginpwd', env.PASS);
        await page.click('#rcmloginsubmit');
        await page.waitForSelector('#messagelist tr[id^=rcmrow]', { timeout: WAIT_MS });

        const cases = expected();
        for (const [i, c] of cases.entries()) {
          const uid = i + 1;
          await t.test(`${c.name}: preview pane reads "${c.text}"`, async () => {
            await page.click(`#${rowId(uid)} td.subject`);
            await page.waitForFunction((u) => new URL(document.querySelector('#messagecontframe')?.contentWindow?.location.href ?? 'about:blank', location.href).searchParams.get('_uid') === u, String(uid), { timeout: WAIT_MS });
            const preview = await badgeOf(page, `${c.name} (preview)`);
            assert.equal(preview.text, c.text, `${c.name} in the preview pane`);
            assert.equal(preview.kind, c.kind, `${c.name} in the preview pane`);
            if (c.name === 'eid-citizen-rsa') await page.screenshot({ path: path.join(SHOTS, 'roundcube-preview-eid.png') });
            if (c.name === 'tampered-body') await page.screenshot({ path: path.join(SHOTS, 'roundcube-preview-tampered.png') });
          });
        }
        // Full view of each message, in a second tab (the list stays in the first).
        const full = await context.newPage();
        await full.setViewportSize({ width: 1280, height: 900 });
        for (const [i, c] of cases.entries()) {
          await t.test(`${c.name}: full view reads "${c.text}"`, async () => {
            await full.goto(`${env.URL}/?_task=mail&_mbox=INBOX&_uid=${i + 1}&_action=show`);
            const shown = await badgeOf(full, `${c.name} (full view)`);
            assert.equal(shown.text, c.text, `${c.name} in the full view`);
            assert.equal(shown.kind, c.kind, `${c.name} in the full view`);
            if (c.name === 'hist-alice-unsigned') await full.screenshot({ path: path.join(SHOTS, 'roundcube-full-usually-signs.png') });
          });
        }
        // The popup shows the mail of its tab.
        await t.test('the popup shows the mail verdict of its tab', async () => {
        await full.goto(`${env.URL}/?_task=mail&_mbox=INBOX&_uid=1&_action=show`);
        await badgeOf(full, 'eid (full view, for the popup)');
        const tab = await waitFor(
          () => sw.evaluate(() => globalThis.trustlens.tabs().find((t) => t.mail && /_uid=1&/.test(t.url ?? '')) ?? null),
          'the tab state with the mail verdict',
        );
        const popup = await context.newPage();
        await popup.setViewportSize({ width: 380, height: 600 });
        await popup.goto(`${EXT_URL}/popup.html?tabId=${tab.id}`);
        await popup.waitForSelector('body[data-ready=true]', { timeout: WAIT_MS });
        assert.equal(await popup.textContent('[data-testid=popup-mail] [data-testid=mail-headline]'), cases[0].text);
        await popup.screenshot({ path: path.join(SHOTS, 'popup-mail.png') });
        await popup.close();
        });

        // Logged out: Roundcube answers with its login page, which is not a message.
        await t.test('a logged-out session reads "could not read this message", never "not signed"', async () => {
        await context.clearCookies();
        await full.goto(`${env.URL}/?_task=mail&_mbox=INBOX&_uid=1&_action=show`);
        const out = await badgeOf(full, 'logged-out session');
        assert.equal(out.kind, 'unreadable');
        assert.equal(out.text, en.mailUnreadable.message);
        assert.notEqual(out.text, en.mailNotSigned.message);
        });
      },
    );
  } finally {
    fs.rmSync(extDir, { recursive: true, force: true });
  }
});
