// End-to-end: a real Chromium finds and starts the host where the host's own
// installers put it.
//   1. `trustlens-host install --user --browser chromium` with HOME set to a
//      temporary directory: Debian's Chromium reads
//      ~/.config/chromium/NativeMessagingHosts when that is its user data
//      directory, so the profile is $HOME/.config/chromium.
//   2. The Debian package (`make deb`), installed with `dpkg -i` on this
//      machine and purged afterwards: Chromium finds the host through
//      /etc/chromium/native-messaging-hosts and starts /usr/bin/trustlens-host.
//      Needs root (skipped, with the reason, otherwise).
// See harness.mjs for the per-case profile, evidence and process cleanup.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EXT_ID, HOST, OUT, ROOT, hostVersion, withBrowser } from './harness.mjs';

let VERSION;
const SYSTEM_MANIFEST = '/etc/chromium/native-messaging-hosts/org.trustlens.host.json';

before(() => {
  VERSION = hostVersion();
});

/** hello through the extension's service worker (its one port to the host). */
async function helloThroughExtension(serviceWorker) {
  const sw = await serviceWorker();
  return sw.evaluate(() => globalThis.trustlens.request('hello'));
}

test('install --user: Chromium with HOME=<tmp> finds the host in ~/.config/chromium and starts it', async () => {
  const home = fs.mkdtempSync(path.join(OUT, 'install-user-home-'));
  try {
    await withBrowser(
      'install-user',
      {
        prepare: ({ profile }) => {
          fs.mkdirSync(path.join(home, '.config'), { recursive: true });
          // The browser's user data dir is the harness's profile: make it
          // $HOME/.config/chromium, as for a person running plain `chromium`.
          fs.symlinkSync(profile, path.join(home, '.config', 'chromium'));
          const out = execFileSync(HOST, ['install', '--user', '--browser', 'chromium'], {
            encoding: 'utf8',
            timeout: 10000,
            env: { PATH: process.env.PATH, HOME: home },
          });
          assert.match(out, /^chromium: wrote ~\/\.config\/chromium\/NativeMessagingHosts\/org\.trustlens\.host\.json$/m);
          const m = JSON.parse(fs.readFileSync(path.join(profile, 'NativeMessagingHosts', 'org.trustlens.host.json'), 'utf8'));
          assert.equal(fs.realpathSync(m.path), fs.realpathSync(HOST));
          assert.deepEqual(m.allowed_origins, [`chrome-extension://${EXT_ID}/`]);
        },
        env: { HOME: home },
      },
      async ({ serviceWorker, hostLog }) => {
        const hello = await helloThroughExtension(serviceWorker);
        assert.equal(hello.protocol, 1);
        assert.equal(hello.version, VERSION);
        assert.ok(fs.existsSync(hostLog), 'the host never started (no log)');
      },
    );
    // The browser start was recorded for diagnose, for our extension.
    const report = JSON.parse(execFileSync(HOST, ['diagnose', '--json'], {
      encoding: 'utf8',
      timeout: 60000,
      env: { PATH: process.env.PATH, HOME: home, TRUSTLENS_DIAGNOSE_URL: 'https://nonexistent.invalid/' },
    }));
    const last = report.areas.find((a) => a.area === 'last_start');
    assert.equal(last.verdict, 'ok', JSON.stringify(last));
    assert.equal(report.last_start.extension_id, EXT_ID);
  } finally {
    // The same tool removes the manifest again.
    const out = execFileSync(HOST, ['uninstall', '--user', '--browser', 'chromium'], {
      encoding: 'utf8',
      timeout: 10000,
      env: { PATH: process.env.PATH, HOME: home },
    });
    fs.rmSync(home, { recursive: true, force: true });
    assert.match(out, /^chromium: (removed|nothing to remove in) /m);
  }
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

test(
  'Debian package: dpkg -i registers the host system-wide, Chromium starts /usr/bin/trustlens-host, dpkg --purge removes everything',
  { skip: isRoot ? false : 'needs root to install a .deb with dpkg -i (run make check as root)' },
  async () => {
    if (fs.existsSync('/usr/bin/trustlens-host')) {
      let owner = '';
      try {
        owner = execFileSync('dpkg', ['-S', '/usr/bin/trustlens-host'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        // not from a package
      }
      if (!/^trustlens:/.test(owner)) {
        throw new Error('/usr/bin/trustlens-host exists and is not from the trustlens package: refusing to replace it');
      }
      // Left by an earlier run that was killed: start clean.
      execFileSync('dpkg', ['--purge', 'trustlens'], { timeout: 60000, stdio: 'ignore' });
    }
    const deb = execFileSync(path.join(ROOT, 'installers', 'debian', 'build-deb.sh'), [path.dirname(HOST)], {
      encoding: 'utf8',
      timeout: 120000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    assert.ok(fs.existsSync(deb), `no package at ${deb}`);
    execFileSync('dpkg', ['-i', deb], { timeout: 60000, stdio: 'ignore' });
    try {
      const m = JSON.parse(fs.readFileSync(SYSTEM_MANIFEST, 'utf8'));
      assert.equal(m.path, '/usr/bin/trustlens-host');
      assert.deepEqual(m.allowed_origins, [`chrome-extension://${EXT_ID}/`]);
      assert.ok(fs.existsSync('/usr/share/trustlens/extension/manifest.json'), 'the extension is not shipped');
      await withBrowser('install-deb', {}, async ({ serviceWorker, manifestDir, hostLog }) => {
        assert.equal(fs.existsSync(path.join(manifestDir, 'org.trustlens.host.json')), false, 'a per-profile manifest exists');
        const hello = await helloThroughExtension(serviceWorker);
        assert.equal(hello.protocol, 1);
        assert.equal(hello.version, VERSION);
        assert.ok(fs.existsSync(hostLog), 'the host never started (no log)');
      });
    } finally {
      execFileSync('dpkg', ['--purge', 'trustlens'], { timeout: 60000, stdio: 'ignore' });
    }
    for (const gone of [SYSTEM_MANIFEST, '/usr/bin/trustlens-host', '/usr/share/trustlens', '/usr/lib/mozilla/native-messaging-hosts/org.trustlens.host.json', '/etc/opt/chrome/native-messaging-hosts/org.trustlens.host.json']) {
      assert.equal(fs.existsSync(gone), false, `${gone} is left after dpkg --purge`);
    }
  },
);
