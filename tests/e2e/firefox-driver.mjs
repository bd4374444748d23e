// Drives Firefox ESR through Marionette, its own remote protocol, with no
// driver binary in between (there is no geckodriver here).
//
// Why Marionette and not puppeteer-core over WebDriver BiDi: both refuse a
// top-level navigation to a moz-extension:// page ("not allowed in this
// context"), so the extension's own pages could not be opened. Marionette
// can run a script in the browser's chrome context when Firefox is started
// with -remote-allow-system-access; the driver uses that to open an
// extension page in a new tab (what a click on the toolbar button does for
// the popup) and to do what a person does in the browser's own dialogs
// (trust a root certificate, grant a site permission). The extension under
// test is the unchanged extension-manifest/, installed as a temporary
// add-on; it gets no test-only code path.
//
// Protocol (Marionette 3): TCP, every message "LENGTH:JSON". The server
// first sends {"applicationType":"gecko","marionetteProtocol":3}; then
// commands [0, id, "Name", params] answered by [1, id, error, result].
//
// withFirefox() gives each case its own directory under tests/out/e2e/:
// HOME (so ~/.mozilla/native-messaging-hosts is the case's own), the
// profile with user.js, TMPDIR, Firefox's stdout and stderr (firefox.log,
// with the extension's console output) and the host log (TRUSTLENS_LOG).
// On failure it adds a screenshot, URL and text of every tab, and keeps the
// directory; on success it is removed. Every process is stopped: Firefox
// through Marionette:Quit and then by its PID; host processes (found by the
// TRUSTLENS_LOG path only this case uses) must exit on EOF by themselves.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { EXT, HOST, OUT, WAIT_MS, exeOf, pidAlive, processesWithLog, waitFor, withTimeout } from './harness.mjs';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
export const GECKO_ID = 'trustlens@trustlens.org';
/** The add-on's internal UUID, fixed through extensions.webextensions.uuids. */
export const MOZ_UUID = '5d0f4a3e-7b21-4c8e-9a16-2f3b7c1d8e40';
export const MOZ_URL = `moz-extension://${MOZ_UUID}`;

const LAUNCH_MS = 30000;
const QUIT_MS = 10000;
const HOST_EXIT_MS = 5000;
const MAX_FRAME = 64 * 1024 * 1024;

function kill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** One Marionette connection: send(name, params) resolves with the result's value. */
export class Marionette {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.nextId = 0;
    this.pending = new Map();
    this.closed = null;
    this.greeting = new Promise((resolve, reject) => {
      this.greeted = resolve;
      this.failGreeting = reject;
    });
    socket.on('data', (d) => this.#receive(d));
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('Marionette connection closed')));
  }

  static async connect(port) {
    const socket = await new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const m = new Marionette(socket);
    const hello = await withTimeout(m.greeting, WAIT_MS, 'Marionette greeting');
    if (hello?.marionetteProtocol !== 3) throw new Error(`unexpected Marionette greeting ${JSON.stringify(hello)}`);
    return m;
  }

  #fail(err) {
    this.closed ??= err;
    this.failGreeting(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  #receive(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buffer.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len) || len < 0 || len > MAX_FRAME) {
        this.socket.destroy(new Error(`bad Marionette frame length ${this.buffer.subarray(0, colon)}`));
        return;
      }
      if (this.buffer.length < colon + 1 + len) return;
      const msg = JSON.parse(this.buffer.subarray(colon + 1, colon + 1 + len).toString('utf8'));
      this.buffer = this.buffer.subarray(colon + 1 + len);
      if (!Array.isArray(msg)) {
        this.greeted(msg);
        continue;
      }
      const [, id, error, result] = msg;
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (error) p.reject(new Error(`${p.name}: ${error.error}: ${error.message}`));
      else p.resolve(result && typeof result === 'object' && 'value' in result ? result.value : result);
    }
  }

  /** One command; rejects with the remote error, or after ms. */
  send(name, params = {}, ms = WAIT_MS) {
    if (this.closed) return Promise.reject(this.closed);
    const id = ++this.nextId;
    const body = Buffer.from(JSON.stringify([0, id, name, params]), 'utf8');
    const reply = new Promise((resolve, reject) => this.pending.set(id, { name, resolve, reject }));
    this.socket.write(`${body.length}:`);
    this.socket.write(body);
    return withTimeout(reply, ms, `Marionette ${name}`).finally(() => this.pending.delete(id));
  }

  close() {
    this.socket.destroy();
  }
}

function userJs(prefs) {
  return Object.entries(prefs)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join('\n');
}

/** Certificates of a PEM file as base64 DER strings. */
export function pemCertificates(file) {
  const pem = fs.readFileSync(file, 'utf8');
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => m[1].replace(/\s+/g, ''));
}

/**
 * Runs body in a fresh headless Firefox with the extension installed as a
 * temporary add-on.
 * @param {string} name  short case name, used for the output directory
 * @param {object} opts
 * @param {(c: {dir: string, home: string, profile: string}) => (void|Promise<void>)} [opts.prepare]
 *        runs before Firefox starts (install the host under home)
 * @param {object} [opts.prefs]  extra preferences for user.js
 * @param {object} [opts.env]    extra environment for Firefox (and so the host)
 * @param {number} [opts.bodyMs] bound on the body
 * @param {(c: object) => Promise<void>} body  gets {ff, dir, hostLog, ...} (see below)
 */
export async function withFirefox(name, opts, body) {
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(OUT, `${name}-`));
  const home = path.join(dir, 'home');
  const profile = path.join(dir, 'profile');
  const tmp = path.join(dir, 'tmp');
  const hostLog = path.join(dir, 'host.log');
  const browserLog = path.join(dir, 'firefox.log');
  for (const d of [home, profile, tmp]) fs.mkdirSync(d, { recursive: true });

  const notes = [];
  const note = (text) => notes.push(`${new Date().toISOString()} ${text}`);
  let child = null;
  let m = null;
  let failure = null;

  // Marionette's own session helpers, bound to this browser.
  const ff = {
    send: (cmd, params, ms) => m.send(cmd, params, ms),
    /** A script in the current tab's page; returns its value. */
    script: (script, args = []) => m.send('WebDriver:ExecuteScript', { script, args }),
    /** An async script: the page's `resolve` is the last argument. */
    asyncScript: (script, args = [], ms = WAIT_MS) =>
      m.send('WebDriver:ExecuteAsyncScript', { script, args, scriptTimeout: ms }, ms + 2000),
    /** A script in the browser's chrome (privileged) context. */
    async chrome(script, args = [], ms = WAIT_MS) {
      await m.send('Marionette:SetContext', { value: 'chrome' });
      try {
        return await m.send('WebDriver:ExecuteAsyncScript', { script, args, scriptTimeout: ms }, ms + 2000);
      } finally {
        await m.send('Marionette:SetContext', { value: 'content' });
      }
    },
    /** Opens url in a new tab, as the browser's own UI does, and switches to it. Returns its handle. */
    async openTab(url) {
      const before = new Set(await m.send('WebDriver:GetWindowHandles'));
      await ff.chrome(
        `const [url, resolve] = arguments;
         const w = Services.wm.getMostRecentWindow('navigator:browser');
         const tab = w.gBrowser.addTab(url, { triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal() });
         w.gBrowser.selectedTab = tab;
         resolve(true);`,
        [url],
      );
      const handle = await waitFor(
        async () => (await m.send('WebDriver:GetWindowHandles')).find((h) => !before.has(h)) ?? null,
        `a new tab for ${url}`,
      );
      await m.send('WebDriver:SwitchToWindow', { handle, focus: true });
      await waitFor(async () => (await m.send('WebDriver:GetCurrentURL')) === url, `the new tab to show ${url}`);
      return handle;
    },
    switchTo: (handle) => m.send('WebDriver:SwitchToWindow', { handle, focus: true }),
    url: () => m.send('WebDriver:GetCurrentURL'),
    async screenshot(file) {
      const b64 = await m.send('WebDriver:TakeScreenshot', { full: true, hash: false });
      fs.writeFileSync(file, Buffer.from(b64, 'base64'));
    },
  };

  try {
    try {
      fs.accessSync(FIREFOX, fs.constants.X_OK);
    } catch {
      throw new Error(`${FIREFOX} missing (installers/deps-debian.sh installs firefox-esr), or set FIREFOX`);
    }
    await opts.prepare?.({ dir, home, profile });
    fs.writeFileSync(
      path.join(profile, 'user.js'),
      userJs({
        // Port 0: Marionette picks a free port and writes it to MarionetteActivePort.
        'marionette.port': 0,
        'xpinstall.signatures.required': false,
        'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: MOZ_UUID }),
        'browser.shell.checkDefaultBrowser': false,
        'browser.startup.page': 0,
        'browser.startup.homepage_override.mstone': 'ignore',
        'browser.aboutwelcome.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'toolkit.telemetry.reportingpolicy.firstRun': false,
        'app.update.disabledForTesting': true,
        'app.normandy.enabled': false,
        'extensions.update.enabled': false,
        'network.captive-portal-service.enabled': false,
        'network.connectivity-service.enabled': false,
        'network.trr.mode': 5,
        // The extension's and the pages' console lines go to firefox.log.
        'devtools.console.stdout.content': true,
        'devtools.console.stdout.chrome': true,
        ...(opts.prefs ?? {}),
      }) + '\n',
    );

    const log = fs.openSync(browserLog, 'a');
    child = spawn(FIREFOX, ['--headless', '--marionette', '-remote-allow-system-access', '-no-remote', '--profile', profile], {
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        HOME: home,
        TMPDIR: tmp,
        MOZ_CRASHREPORTER_DISABLE: '1',
        TRUSTLENS_LOG: hostLog,
        ...(opts.env ?? {}),
      },
    });
    fs.closeSync(log);
    let exited = null;
    child.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    note(`firefox pid ${child.pid}`);

    const portFile = path.join(profile, 'MarionetteActivePort');
    const port = await waitFor(
      () => {
        if (exited) throw new Error(`firefox exited at start-up (${JSON.stringify(exited)}): see ${browserLog}`);
        const t = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
        return /^\d+$/.test(t) && Number(t) > 0 ? Number(t) : null;
      },
      'Marionette to listen (MarionetteActivePort)',
      LAUNCH_MS,
    );
    m = await Marionette.connect(port);
    const session = await m.send('WebDriver:NewSession', { capabilities: { alwaysMatch: {} } }, LAUNCH_MS);
    note(`Firefox ${session?.capabilities?.browserVersion}`);
    const id = await m.send('Addon:Install', { path: opts.ext ?? EXT, temporary: true });
    if (id !== GECKO_ID) throw new Error(`Addon:Install returned ${JSON.stringify(id)}, not ${GECKO_ID}`);

    await withTimeout(body({ ff, dir, home, profile, hostLog, note }), opts.bodyMs ?? 60000, `${name}: test body`);
  } catch (err) {
    failure = err;
  }

  if (failure && m && !m.closed) {
    try {
      const handles = await m.send('WebDriver:GetWindowHandles');
      for (const [i, h] of handles.entries()) {
        try {
          await m.send('WebDriver:SwitchToWindow', { handle: h });
          note(`tab ${i + 1}: ${await m.send('WebDriver:GetCurrentURL')}`);
          await ff.screenshot(path.join(dir, `tab-${i + 1}.png`));
          fs.writeFileSync(path.join(dir, `tab-${i + 1}.txt`), String(await ff.script('return document.body?.innerText ?? "";')));
        } catch (e) {
          note(`tab ${i + 1}: ${e.message}`);
        }
      }
    } catch (e) {
      note(`evidence: ${e.message}`);
    }
  }

  // Stop Firefox: Marionette:Quit, then by its PID.
  if (m) {
    await m.send('Marionette:Quit', { flags: ['eForceQuit'] }, QUIT_MS).catch((e) => note(`quit: ${e.message}`));
    m.close();
  }
  if (child) {
    const pid = child.pid;
    try {
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'firefox to exit', QUIT_MS);
    } catch {
      note(`firefox ${pid} still alive after quit: SIGKILL`);
      kill(pid);
    }
  }

  // The host gets EOF when the browser goes and must exit by itself.
  const hostExe = fs.existsSync(HOST) ? fs.realpathSync(HOST) : HOST;
  let left = [];
  try {
    await waitFor(() => {
      left = processesWithLog(hostLog).filter((p) => exeOf(p) === hostExe);
      return left.length === 0;
    }, 'host processes to exit after Firefox quit', HOST_EXIT_MS);
  } catch {
    left.forEach(kill);
    failure ??= new Error(`host process(es) ${left.join(', ')} did not exit after Firefox quit (EOF)`);
  }
  // Anything else of this case that outlived the browser (content processes).
  for (const p of processesWithLog(hostLog)) {
    if (!pidAlive(p)) continue;
    note(`leftover process ${p} (${exeOf(p)}): SIGKILL`);
    kill(p);
  }

  if (failure) {
    fs.writeFileSync(path.join(dir, 'notes.log'), notes.join('\n') + '\n');
    console.error(`# e2e ${name}: FAILED, evidence kept in ${dir}`);
    throw failure;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
