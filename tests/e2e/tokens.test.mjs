// End-to-end: the eID card through the browser. A SoftHSM2 token shaped like
// a Belgian eID card (tests/pkcs11/make-tokens.sh) is reached by the real
// host through TRUSTLENS_PKCS11_MODULES (the browser's environment reaches
// the host); the extension asks `tokens` and the popup shows the holder.
// See harness.mjs for the per-case profile, evidence and process cleanup.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EXT_URL, OUT, ROOT, WAIT_MS, installHost, withBrowser } from './harness.mjs';

const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
let T = null;      // the token data (make-tokens.sh output)
let CARDS = null;

before(() => {
  fs.mkdirSync(OUT, { recursive: true });
  T = fs.mkdtempSync(path.join(OUT, 'tokens-data-'));
  // Nothing listens on the revocation URLs (port 9): revocation reads
  // "unknown" at once; the pkcs11 suite covers it with real servers.
  execFileSync('bash', [path.join(ROOT, 'tests/pkcs11/make-tokens.sh'), T, 'http://127.0.0.1:9/', 'http://127.0.0.1:9'],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
  CARDS = JSON.parse(fs.readFileSync(path.join(T, 'cards.json'), 'utf8'));
});

after(() => {
  if (T) fs.rmSync(T, { recursive: true, force: true });
});

function cardEnv(store) {
  return {
    SOFTHSM2_CONF: path.join(T, 'tokens', store, 'softhsm2.conf'),
    TRUSTLENS_PKCS11_MODULES: SOFTHSM,
    TRUSTLENS_EID_ROOTS: path.join(T, 'pki', 'root.pem'),
  };
}

test('eID card in the reader: tokens through the extension, and the popup shows the holder', async () => {
  const alice = CARDS.cards.alice;
  const holder = `${alice.given_name} ${alice.surname}`;
  await withBrowser(
    'tokens-card',
    { prepare: ({ manifestDir }) => installHost(manifestDir), env: cardEnv('alice') },
    async ({ context, serviceWorker }) => {
      const sw = await serviceWorker();
      const r = await sw.evaluate(() => globalThis.trustlens.request('tokens'));
      const card = (r?.tokens ?? []).find((t) => t.serial === alice.serial);
      assert.ok(card, `the card is not in the tokens result: ${JSON.stringify(r).slice(0, 500)}`);
      assert.equal(card.belpic, true);
      assert.equal(card.holder?.name, holder);
      const sig = card.certificates.find((c) => c.label === 'Signature');
      assert.equal(sig?.subject?.name, holder);
      assert.equal(sig?.eid_chain, 'trusted');
      // Never the national register number, anywhere in what the browser got.
      const rrns = fs.readFileSync(path.join(T, 'rrn.txt'), 'utf8').split('\n').filter(Boolean);
      const text = JSON.stringify(r);
      for (const n of rrns) assert.ok(!text.includes(n), 'a national register number reached the browser');

      const tab = await context.newPage();
      await tab.goto(`${EXT_URL}/popup.html`);
      const shown = tab.locator('[data-testid="token-holder"]');
      await shown.waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal((await shown.textContent()).trim(), holder);
    },
  );
});

test('no card in the reader: the popup says so, no holder', async () => {
  await withBrowser(
    'tokens-none',
    { prepare: ({ manifestDir }) => installHost(manifestDir), env: cardEnv('none') },
    async ({ context }) => {
      const tab = await context.newPage();
      await tab.goto(`${EXT_URL}/popup.html`);
      await tab.locator('[data-testid="token-none"]').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await tab.locator('[data-testid="token-holder"]').count(), 0);
    },
  );
});
