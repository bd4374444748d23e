// Runs one end-to-end case in a fresh headless Chromium with the unpacked
// extension and (when the case installs it) the real trustlens-host.
//
// Each case gets its own directory under tests/out/e2e/: the browser profile
// (its TMPDIR is a short directory under /tmp), the host log (TRUSTLENS_LOG) and Chromium's own
// log, plus on failure a screenshot and the text of every open page and the
// console of the pages and the service worker (console.log). The directory
// is removed when the case passes and kept, with its path printed, when it
// fails.
//
// Every process started here is stopped here: the browser through
// context.close(), then by its own PID (read from the profile's
// SingletonLock) if it is still alive; host processes are found by the
// TRUSTLENS_LOG path that only this case uses, and must exit on EOF.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXT = path.join(ROOT, 'extension-manifest');
export const EXT_ID = 'npfbfafbeggpjpnhdcidonbfednhhnij';
export const EXT_URL = `chrome-extension://${EXT_ID}`;
export const HOST_NAME = 'org.trustlens.host';
export const HOST = path.resolve(ROOT, process.env.TRUSTLENS_HOST || 'build/trustlens-host');
export const OUT = path.join(ROOT, 'tests', 'out', 'e2e');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const WAIT_MS = 15000; // any single condition
const LAUNCH_MS = 30000;
const CLOSE_MS = 10000;
const HOST_EXIT_MS = 5000;

/**
 * A copy of the extension in dir/ext with edit(manifest) applied: for cases
 * that need a permission a person would grant in the browser's own dialog
 * (which a headless browser cannot show). The id stays the same (the "key").
 */
export function extensionCopy(dir, edit) {
  const to = path.join(dir, 'ext');
  fs.cpSync(EXT, to, { recursive: true });
  const file = path.join(to, 'manifest.json');
  fs.writeFileSync(file, JSON.stringify(edit(JSON.parse(fs.readFileSync(file, 'utf8'))), null, 2));
  return to;
}

export function readMessages(locale) {
  return JSON.parse(fs.readFileSync(path.join(EXT, '_locales', locale, 'messages.json'), 'utf8'));
}

export function assertHostBinary() {
  try {
    fs.accessSync(HOST, fs.constants.X_OK);
  } catch {
    throw new Error(`no executable host at ${HOST}: run make first, or set TRUSTLENS_HOST`);
  }
}

/** The version printed by `trustlens-host --version`: the last word of its
 *  "trustlens-host X.Y.Z" line (more lines may follow: protocol, libraries). */
export function hostVersion() {
  assertHostBinary();
  const out = execFileSync(HOST, ['--version'], { encoding: 'utf8', timeout: 10000 });
  const line = out.split('\n').find((l) => /^trustlens-host\s/.test(l)) ?? '';
  const version = line.trim().split(/\s+/).pop();
  if (!/^\d+\.\d+\.\d+/.test(version ?? '')) throw new Error(`unexpected --version output: ${JSON.stringify(out)}`);
  return version;
}

/** The project's own install code, writing the Chromium host manifest into dir. Returns its path. */
export function installHost(dir) {
  assertHostBinary();
  execFileSync(HOST, ['install', '--browser', 'chromium', '--manifest-dir', dir], {
    encoding: 'utf8',
    timeout: 10000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const file = path.join(dir, `${HOST_NAME}.json`);
  if (!fs.existsSync(file)) throw new Error(`install --manifest-dir ${dir} wrote no ${HOST_NAME}.json`);
  return file;
}

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The browser's PID from Chromium's SingletonLock symlink ("hostname-PID"). */
function browserPid(profile) {
  try {
    const m = /-(\d+)$/.exec(fs.readlinkSync(path.join(profile, 'SingletonLock')));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** PIDs of processes whose environment holds exactly TRUSTLENS_LOG=<hostLog> (ours only). */
export function processesWithLog(hostLog) {
  const needle = Buffer.from(`TRUSTLENS_LOG=${hostLog}\0`);
  const pids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/environ`).includes(needle)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

export function exeOf(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** Waits for cond() to be truthy, polling; throws `what` after ms. */
export async function waitFor(cond, what, ms = WAIT_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs body in a fresh browser.
 * @param {string} name  short case name, used for the output directory
 * @param {object} opts
 * @param {(c: {dir: string, profile: string, manifestDir: string}) => (void|Promise<void>)} [opts.prepare]
 *        runs before the browser starts (install the host, write manifests)
 * @param {string[]} [opts.args]  extra browser flags
 * @param {object} [opts.env]     extra environment for the browser (and so the host)
 * @param {number} [opts.bodyMs]  bound on the body
 * @param {string} [opts.ext]     extension directory to load (default: extension-manifest/)
 * @param {(c: object) => Promise<void>} body
 */
export async function withBrowser(name, opts, body) {
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(OUT, `${name}-`));
  const profile = path.join(dir, 'profile');
  const manifestDir = path.join(profile, 'NativeMessagingHosts');
  const hostLog = path.join(dir, 'host.log');
  fs.mkdirSync(profile, { recursive: true });
  // Chromium puts its singleton socket in TMPDIR, and a Unix socket path
  // must fit in 108 bytes: a deep checkout (CI clones under long paths)
  // would overflow it, so the browser's TMPDIR is a short one under /tmp.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-'));

  const consoleLines = [];
  const note = (where, text) => consoleLines.push(`${new Date().toISOString()} [${where}] ${text}`);

  let context = null;
  let pid = null;
  let failure = null;
  try {
    await opts.prepare?.({ dir, profile, manifestDir });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: LAUNCH_MS,
      // Playwright adds --disable-extensions by default, which would drop ours.
      ignoreDefaultArgs: ['--disable-extensions'],
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--disable-extensions-except=${opts.ext ?? EXT}`,
        `--load-extension=${opts.ext ?? EXT}`,
        // Chromium's own log (native messaging errors, extension load warnings).
        '--enable-logging',
        `--log-file=${path.join(dir, 'chromium.log')}`,
        ...(opts.args ?? []),
      ],
      env: { ...process.env, TMPDIR: tmp, TRUSTLENS_LOG: hostLog, ...(opts.env ?? {}) },
    });
    pid = browserPid(profile);
    context.on('console', (m) => note('page', `${m.type()}: ${m.text()}`));
    context.on('weberror', (e) => note('page', `error: ${e.error()}`));
    const watchWorker = (w) => w.on('console', (m) => note('worker', `${m.type()}: ${m.text()}`));
    context.serviceWorkers().forEach(watchWorker);
    context.on('serviceworker', watchWorker);

    const serviceWorker = async () =>
      context.serviceWorkers().find((w) => w.url().startsWith(EXT_URL)) ??
      context.waitForEvent('serviceworker', {
        predicate: (w) => w.url().startsWith(EXT_URL),
        timeout: WAIT_MS,
      });

    await withTimeout(
      body({ context, dir, profile, manifestDir, hostLog, serviceWorker, note }),
      opts.bodyMs ?? 40000,
      `${name}: test body`,
    );
  } catch (err) {
    failure = err;
  }

  if (failure && context) {
    let i = 0;
    for (const page of context.pages()) {
      i += 1;
      try {
        note('evidence', `page ${i}: ${page.url()}`);
        await withTimeout(page.screenshot({ path: path.join(dir, `page-${i}.png`), fullPage: true }), 5000, 'screenshot');
        fs.writeFileSync(path.join(dir, `page-${i}.txt`), await withTimeout(page.evaluate(() => document.body?.innerText ?? ''), 5000, 'page text'));
      } catch (e) {
        note('evidence', `page ${i}: ${e.message}`);
      }
    }
  }

  // Stop the browser: through the driver, then by its PID.
  if (context) {
    try {
      await withTimeout(context.close(), CLOSE_MS, 'context.close()');
    } catch (e) {
      note('cleanup', e.message);
    }
  }
  if (pid && pidAlive(pid)) {
    note('cleanup', `browser ${pid} still alive after close: SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  // The host gets EOF when the browser goes and must exit by itself.
  const hostExe = fs.existsSync(HOST) ? fs.realpathSync(HOST) : HOST;
  const isHost = (p) => exeOf(p) === hostExe;
  let left = [];
  try {
    await waitFor(() => {
      left = processesWithLog(hostLog).filter(isHost);
      return left.length === 0;
    }, 'host processes to exit after the browser closed', HOST_EXIT_MS);
  } catch {
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    failure ??= new Error(`host process(es) ${left.join(', ')} did not exit after the browser closed (EOF)`);
  }
  // Anything else this case started and that outlived the browser (renderers, zygotes).
  for (const p of processesWithLog(hostLog)) {
    if (!pidAlive(p)) continue;
    note('cleanup', `leftover process ${p} (${exeOf(p)}): SIGKILL`);
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }

  fs.rmSync(tmp, { recursive: true, force: true });
  if (failure) {
    fs.writeFileSync(path.join(dir, 'console.log'), consoleLines.join('\n') + '\n');
    console.error(`# e2e ${name}: FAILED, evidence kept in ${dir}`);
    throw failure;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
