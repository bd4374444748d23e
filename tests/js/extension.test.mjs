// Static checks of the extension directory: manifest, extension id, native
// host templates, _locales completeness, and the DOM-safety rules of STYLE.md.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'extension-manifest');
const CHROMIUM_ID = 'npfbfafbeggpjpnhdcidonbfednhhnij';
const GECKO_ID = 'trustlens@trustlens.org';
const LOCALES = ['en', 'nl', 'fr', 'de'];

const readJson = (p) => JSON.parse(readFileSync(join(EXT, p), 'utf8'));
const manifest = readJson('manifest.json');
const messages = Object.fromEntries(LOCALES.map((l) => [l, readJson(`_locales/${l}/messages.json`)]));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
const files = walk(EXT);
const jsFiles = files.filter((f) => f.endsWith('.js'));
const htmlFiles = files.filter((f) => f.endsWith('.html'));

/** Chromium's id: SHA-256 of the DER public key, first 32 hex digits mapped 0-f -> a-p. */
function extensionId(keyB64) {
  const hex = createHash('sha256').update(Buffer.from(keyB64, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

test('the manifest key gives the fixed Chromium id', () => {
  assert.equal(extensionId(manifest.key), CHROMIUM_ID);
});

test('manifest: MV3, ids, permissions, and every file it names exists', () => {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.browser_specific_settings.gecko.id, GECKO_ID);
  assert.deepEqual([...manifest.permissions].sort(), [
    'activeTab', 'nativeMessaging', 'scripting', 'storage', 'webNavigation', 'webRequest', 'webRequestBlocking',
  ]);
  // Fewest permissions: only the known webmail site up front; every other site
  // (the user's own webmail, the all-sites link guard) is asked for at run time.
  assert.deepEqual(manifest.host_permissions, ['https://mail.google.com/*']);
  assert.deepEqual(manifest.optional_host_permissions, ['*://*/*']);
  for (const cs of manifest.content_scripts) {
    assert.deepEqual(cs.matches, ['https://mail.google.com/*']);
    assert.equal(cs.run_at, 'document_start');
    assert.equal(cs.world ?? 'ISOLATED', 'ISOLATED');
    assert.equal(cs.js[0], 'content/core.js');
  }
  assert.deepEqual(manifest.web_accessible_resources.map((w) => w.resources).flat(), ['badge.html']);
  assert.equal(manifest.background.type, 'module');
  assert.equal(manifest.default_locale, 'en');
  const named = [
    manifest.background.service_worker,
    ...manifest.background.scripts,
    manifest.action.default_popup,
    manifest.options_ui.page,
    ...Object.values(manifest.icons ?? {}),
    ...manifest.content_scripts.flatMap((c) => c.js),
    ...manifest.web_accessible_resources.flatMap((w) => w.resources),
    'warning.html', 'mail.html', 'badge.html',
  ];
  for (const f of named) assert.ok(existsSync(join(EXT, f)), `${f} is missing`);
  for (const m of JSON.stringify(manifest).matchAll(/__MSG_(\w+)__/g)) {
    assert.ok(messages.en[m[1]], `manifest uses __MSG_${m[1]}__ but en has no such message`);
  }
});

test('native host templates name the host, the path placeholder and the extension ids', () => {
  const chromium = JSON.parse(readFileSync(join(EXT, 'native-host/chromium.json.in'), 'utf8'));
  const firefox = JSON.parse(readFileSync(join(EXT, 'native-host/firefox.json.in'), 'utf8'));
  for (const m of [chromium, firefox]) {
    assert.equal(m.name, 'org.trustlens.host');
    assert.equal(m.path, '@HOST_PATH@');
    assert.equal(m.type, 'stdio');
    assert.ok(typeof m.description === 'string' && m.description.length > 0);
  }
  // The trailing slash matters: without it Chromium reports the host "not found".
  assert.deepEqual(chromium.allowed_origins, [`chrome-extension://${extensionId(manifest.key)}/`]);
  assert.equal(chromium.allowed_extensions, undefined);
  assert.deepEqual(firefox.allowed_extensions, [GECKO_ID]);
  assert.equal(firefox.allowed_origins, undefined);
});

test('every locale has the same messages and placeholders as en', () => {
  const enKeys = Object.keys(messages.en).sort();
  for (const l of LOCALES) {
    assert.deepEqual(Object.keys(messages[l]).sort(), enKeys, `${l}: keys differ from en`);
    for (const [key, m] of Object.entries(messages[l])) {
      assert.ok(typeof m.message === 'string' && m.message.trim() !== '', `${l}/${key} is empty`);
      const used = [...m.message.matchAll(/\$([A-Za-z_]+)\$/g)].map((x) => x[1].toLowerCase()).sort();
      const declared = Object.keys(m.placeholders ?? {}).map((x) => x.toLowerCase()).sort();
      assert.deepEqual(used, declared, `${l}/${key}: placeholders used vs declared`);
      const enDeclared = Object.keys(messages.en[key].placeholders ?? {}).map((x) => x.toLowerCase()).sort();
      assert.deepEqual(declared, enDeclared, `${l}/${key}: placeholders differ from en`);
    }
  }
});

test('nl, fr and de are real translations', () => {
  // Words that are the same in English and the other language.
  const same = {
    extName: true,
    badgeTitleNone: true,
    hostHeading: ['nl', 'de'],
    errorDetail: ['nl', 'de'],
    showDetails: ['nl', 'de'],
    exceptionLabel: ['nl', 'de'],
    diagOk: ['fr'],
    diagProblem: ['de'],
  };
  for (const l of ['nl', 'fr', 'de']) {
    for (const key of Object.keys(messages.en)) {
      const allowed = same[key] === true || (Array.isArray(same[key]) && same[key].includes(l));
      if (allowed) continue;
      assert.notEqual(messages[l][key].message, messages.en[key].message, `${l}/${key} is not translated`);
    }
  }
});

test('every message key used by the pages and scripts exists, and every message is used', () => {
  const used = new Set();
  for (const f of htmlFiles) {
    for (const m of readFileSync(f, 'utf8').matchAll(/data-i18n(?:-title)?="([^"]+)"/g)) used.add(m[1]);
  }
  const literals = new Set();
  for (const f of jsFiles) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\b(?:t|getMessage)\(\s*'(\w+)'/g)) used.add(m[1]);
    // keys picked from tables (STATE_KEYS, SITE_REASON_KEYS, ...) or by a condition
    for (const m of src.matchAll(/'(\w+)'/g)) literals.add(m[1]);
  }
  for (const key of Object.keys(messages.en)) if (literals.has(key)) used.add(key);
  for (const m of JSON.stringify(manifest).matchAll(/__MSG_(\w+)__/g)) used.add(m[1]);
  for (const key of used) assert.ok(messages.en[key], `"${key}" is used but not in _locales/en`);
  for (const key of Object.keys(messages.en)) assert.ok(used.has(key), `"${key}" is in _locales/en but never used`);
});

test('pages build no HTML from strings and have no inline script', () => {
  for (const f of jsFiles) {
    const src = readFileSync(f, 'utf8');
    for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) {
      assert.ok(!src.includes(bad), `${f} uses ${bad}`);
    }
  }
  for (const f of htmlFiles) {
    const src = readFileSync(f, 'utf8');
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(src), `${f} has an inline <script>`);
    assert.ok(!/\son[a-z]+\s*=/i.test(src), `${f} has an inline event handler`);
  }
});

test('the popup and options pages carry the elements the status view fills', () => {
  for (const page of ['popup.html', 'options.html']) {
    const src = readFileSync(join(EXT, page), 'utf8');
    for (const id of ['host-state', 'host-checking', 'host-line', 'host-state-text', 'host-version', 'install-help', 'install-reason', 'host-error']) {
      assert.match(src, new RegExp(`id="${id}"`), `${page} lacks #${id}`);
    }
    assert.match(src, /<code>trustlens-host install --user<\/code>/, `${page} lacks the install command`);
  }
});

test('extension pages run under a strict content security policy and load no remote code', () => {
  const csp = manifest.content_security_policy.extension_pages;
  assert.match(csp, /(^|;)\s*script-src 'self'\s*(;|$)/);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /object-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|https?:/);
  for (const f of [...jsFiles, ...htmlFiles]) {
    const src = readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /\bimport\s*(?:[^'"]*from\s*)?['"]https?:/, `${f} imports remote code`);
    assert.doesNotMatch(src, /<script[^>]*\bsrc=["']?https?:/i, `${f} loads a remote script`);
    assert.doesNotMatch(src, /<link[^>]*\bhref=["']?https?:/i, `${f} loads a remote style sheet`);
  }
});

test('every page says which language it is in, and every button and field has a name', () => {
  for (const f of htmlFiles) {
    const src = readFileSync(f, 'utf8');
    assert.match(src, /<html lang="en">/, `${f}: no lang`);
    for (const m of src.matchAll(/<button\b[^>]*>/g)) assert.match(m[0], /data-i18n=/, `${f}: button without a translated name: ${m[0]}`);
    for (const m of src.matchAll(/<input\b[^>]*\bid="([^"]+)"[^>]*>/g)) {
      if (/type="radio"/.test(m[0])) continue;
      assert.match(src, new RegExp(`<label[^>]*for="${m[1]}"`), `${f}: input #${m[1]} has no label`);
    }
  }
});
