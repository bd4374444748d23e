// End-to-end: the unpacked extension in headless Debian Chromium, talking to
// the real trustlens-host installed by the host's own `install` command.
// See harness.mjs for the per-case profile, evidence and process cleanup.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXT_ID, EXT_URL, HOST, WAIT_MS, hostVersion, installHost, readMessages, withBrowser } from './harness.mjs';

const en = readMessages('en');
const nl = readMessages('nl');
let VERSION;

before(() => {
  VERSION = hostVersion();
});

/** Opens an extension page and waits until the status block has left "checking". */
async function openStatusPage(context, page = 'popup.html') {
  const tab = await context.newPage();
  await tab.goto(`${EXT_URL}/${page}`);
  await tab.waitForFunction(
    () => document.querySelector('#host-state')?.dataset.state !== 'checking',
    null,
    { timeout: WAIT_MS },
  );
  return tab;
}

async function statusOf(tab) {
  return tab.evaluate(() => {
    const help = document.querySelector('#install-help');
    return {
      state: document.querySelector('#host-state').dataset.state,
      version: document.querySelector('#host-version').textContent,
      helpVisible: !!help && !help.hidden && help.getClientRects().length > 0,
      helpText: help?.innerText ?? '',
      reason: document.querySelector('#install-reason').textContent,
      stateText: document.querySelector('#host-state-text').textContent,
      error: document.querySelector('#host-error').textContent,
    };
  });
}

/** Rewrites the installed host manifest with fn(manifest). */
function editManifest(manifestDir, fn) {
  const file = path.join(manifestDir, 'org.trustlens.host.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify(fn(m), null, 2));
}

test('host installed: the popup shows the host version, and hello through the service worker gives protocol 1', async () => {
  await withBrowser(
    'installed',
    {
      prepare: ({ manifestDir }) => {
        const file = installHost(manifestDir);
        const m = JSON.parse(fs.readFileSync(file, 'utf8'));
        assert.equal(m.name, 'org.trustlens.host');
        assert.ok(path.isAbsolute(m.path), `manifest path ${m.path} is not absolute`);
        assert.equal(fs.realpathSync(m.path), fs.realpathSync(HOST));
        assert.ok(m.allowed_origins.includes(`chrome-extension://${EXT_ID}/`), 'allowed_origins lacks the extension');
      },
    },
    async ({ context, serviceWorker }) => {
      const tab = await context.newPage();
      await tab.goto(`${EXT_URL}/popup.html`);
      try {
        await tab.waitForFunction((v) => document.querySelector('#host-version')?.textContent === v, VERSION, {
          timeout: WAIT_MS,
        });
      } catch (e) {
        throw new Error(`#host-version never showed ${VERSION}: ${JSON.stringify(await statusOf(tab))}`, { cause: e });
      }
      const s = await statusOf(tab);
      assert.equal(s.state, 'ok');
      assert.equal(s.version, VERSION);
      assert.equal(s.helpVisible, false);
      assert.ok(await tab.isVisible('#host-version'), '#host-version is not visible');

      const sw = await serviceWorker();
      const hello = await sw.evaluate(() => globalThis.trustlens.request('hello'));
      assert.equal(hello.protocol, 1);
      assert.equal(hello.version, VERSION);
      assert.ok(Array.isArray(hello.capabilities) && hello.capabilities.includes('hello'), JSON.stringify(hello));

      // Several requests in flight on the one port, each matched to its reply.
      const many = await sw.evaluate(() =>
        Promise.all([1, 2, 3, 4, 5].map(() => globalThis.trustlens.request('hello'))),
      );
      assert.equal(many.length, 5);
      for (const h of many) assert.equal(h.protocol, 1);
      assert.equal(await sw.evaluate(() => globalThis.trustlens.connected), true);

      // An unknown type is the host's error, with its code, not a hang.
      const err = await sw.evaluate(() =>
        globalThis.trustlens.request('no-such-type').then(
          () => null,
          (e) => ({ code: e.code, message: e.message }),
        ),
      );
      assert.equal(err?.code, 'unknown_type', JSON.stringify(err));

      // The status message the popup uses answers the same.
      const status = await sw.evaluate(() => globalThis.trustlens.hostStatus());
      assert.equal(status.state, 'ok');
      assert.equal(status.protocol, 1);
      assert.equal(status.version, VERSION);
    },
  );
});

test('host missing: the popup explains how to install it', async () => {
  await withBrowser('missing', {}, async ({ context }) => {
    const tab = await openStatusPage(context);
    const s = await statusOf(tab);
    assert.equal(s.state, 'missing', JSON.stringify(s));
    assert.equal(s.helpVisible, true);
    assert.equal(await tab.isVisible('#install-help'), true);
    assert.equal(s.reason, en.reasonMissing.message);
    assert.equal(s.stateText, en.stateMissing.message);
    assert.ok(await tab.isVisible('#host-state'), '#host-state is not visible');
    assert.match(s.helpText, /trustlens-host install --user/);
    assert.match(s.helpText, /Debian/);
    assert.equal(s.version, '');
    assert.equal(await tab.locator('#host-state[data-state=missing]').count(), 1);
  });
});

test('host missing, Dutch browser: the explanation is in Dutch', async () => {
  await withBrowser('missing-nl', { args: ['--lang=nl'] }, async ({ context }) => {
    const tab = await openStatusPage(context);
    const s = await statusOf(tab);
    assert.equal(s.state, 'missing');
    assert.equal(s.reason, nl.reasonMissing.message);
    assert.equal(s.stateText, nl.stateMissing.message);
    assert.match(s.helpText, new RegExp(nl.installUser.message));
    assert.match(s.helpText, /trustlens-host install --user/);
    assert.equal(await tab.evaluate(() => document.documentElement.lang), 'nl');
  });
});

test('host refuses the caller (forbidden_origin): the popup says forbidden', async () => {
  await withBrowser(
    'forbidden-host',
    {
      // The browser only starts hosts whose manifest lists the extension, so a
      // wrapper starts the real host as if another extension were calling.
      prepare: ({ dir, manifestDir }) => {
        installHost(manifestDir);
        const wrapper = path.join(dir, 'foreign-caller.sh');
        const quoted = `'${fs.realpathSync(HOST).replaceAll("'", "'\\''")}'`;
        fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${quoted} chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/\n`, { mode: 0o755 });
        editManifest(manifestDir, (m) => ({ ...m, path: wrapper }));
      },
    },
    async ({ context, serviceWorker }) => {
      const tab = await openStatusPage(context);
      const s = await statusOf(tab);
      assert.equal(s.state, 'forbidden', JSON.stringify(s));
      assert.equal(s.helpVisible, true);
      assert.equal(s.reason, en.reasonForbidden.message);
      const sw = await serviceWorker();
      const err = await sw.evaluate(() =>
        globalThis.trustlens.request('hello').then(() => null, (e) => e.code),
      );
      assert.equal(err, 'forbidden_origin');
    },
  );
});

test('browser refuses the host (extension not in allowed_origins): the popup says forbidden', async () => {
  await withBrowser(
    'forbidden-browser',
    {
      prepare: ({ manifestDir }) => {
        installHost(manifestDir);
        editManifest(manifestDir, (m) => ({ ...m, allowed_origins: ['chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'] }));
      },
    },
    async ({ context }) => {
      const tab = await openStatusPage(context);
      const s = await statusOf(tab);
      assert.equal(s.state, 'forbidden', JSON.stringify(s));
      assert.equal(s.helpVisible, true);
      assert.match(s.error, /forbidden/i);
    },
  );
});

test('options: shows the host and stores the request timeout in storage.local', async () => {
  await withBrowser('options', { prepare: ({ manifestDir }) => installHost(manifestDir) }, async ({ context, serviceWorker }) => {
    const tab = await openStatusPage(context, 'options.html');
    const s = await statusOf(tab);
    assert.equal(s.state, 'ok', JSON.stringify(s));
    assert.equal(s.version, VERSION);

    await tab.waitForSelector('#settings[data-loaded=true]', { timeout: WAIT_MS });
    assert.equal(await tab.inputValue('#timeout'), '15');

    const sw = await serviceWorker();
    const stored = () => sw.evaluate(() => chrome.storage.local.get('requestTimeoutMs').then((v) => v.requestTimeoutMs ?? null));

    await tab.fill('#timeout', '7');
    await tab.click('#save');
    await tab.waitForFunction((t) => document.querySelector('#saved').textContent === t, en.saved.message, { timeout: WAIT_MS });
    assert.equal(await stored(), 7000);

    await tab.fill('#timeout', '0');
    await tab.click('#save');
    await tab.waitForFunction((t) => document.querySelector('#saved').textContent === t, en.invalidTimeout.message, {
      timeout: WAIT_MS,
    });
    assert.equal(await stored(), 7000, 'an invalid value must not be stored');

    await tab.reload();
    await tab.waitForSelector('#settings[data-loaded=true]', { timeout: WAIT_MS });
    assert.equal(await tab.inputValue('#timeout'), '7');
  });
});
