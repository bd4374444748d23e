// Pure logic of the extension: batching of link look-ups, caches, URL and
// domain helpers, webmail adapter URL building, verdict texts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { FakeClock } from './fakes.mjs';
import { SiteBatcher } from '../../extension-manifest/lib/batcher.js';
import { VerdictCache, TabStates, VERDICT_TTL_MS, ERROR_TTL_MS, APPROVAL_TTL_MS } from '../../extension-manifest/lib/verdict-cache.js';
import {
  siteKey, registrableDomain, splitHost, exceptionMatches, parseException, parseWebmailOrigin, originPattern,
} from '../../extension-manifest/lib/domain.js';
import {
  siteView, siteBadge, mailView, cardHolder, SITE_REASON_KEYS, MAIL_REASON_KEYS,
} from '../../extension-manifest/lib/verdict-text.js';
import { readSettings } from '../../extension-manifest/lib/settings.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXT = join(ROOT, 'extension-manifest');

/** content/core.js is a classic script: run it in a context and take its global. */
function loadCore() {
  const ctx = { URL, URLSearchParams, btoa, BigInt };
  ctx.globalThis = ctx;
  vm.runInNewContext(readFileSync(join(EXT, 'content/core.js'), 'utf8'), ctx);
  return ctx.TrustLensCore;
}
const core = loadCore();

const flush = () => new Promise((r) => setImmediate(r));
const ev = (host, port = 443, extra = {}) => ({ host, port, verdict: 'trusted', level: 'ev', valid: true, reasons: [], ...extra });

// ------------------------------------------------------------------ batching

test('batcher: links appearing together go out as one sites request, one entry per site', async () => {
  const clock = new FakeClock();
  const calls = [];
  const request = async (type, params) => {
    calls.push({ type, urls: params.urls });
    return { verdicts: [ev('a.example'), { ...ev('b.example'), verdict: 'caution', level: 'dv' }] };
  };
  const b = new SiteBatcher({ request, cache: new VerdictCache({ now: () => clock.now }), setTimeout: clock.setTimeout });
  const p = [
    b.lookup('https://a.example/x'),
    b.lookup('https://a.example/y?z'),
    b.lookup('https://B.example/'),
    b.lookup('https://a.example:443/'),
  ];
  assert.equal(calls.length, 0, 'nothing is sent before the batch delay');
  clock.advance(40);
  const r = await Promise.all(p);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].type, 'sites');
  assert.deepEqual(calls[0].urls, ['https://a.example/x', 'https://B.example/']);
  assert.equal(r[0].verdict.verdict, 'trusted');
  assert.equal(r[1].verdict.host, 'a.example');
  assert.equal(r[2].verdict.level, 'dv');
  assert.equal(r[3].verdict.host, 'a.example');
  // Cached now: no second request.
  const again = await b.lookup('https://a.example/other');
  assert.equal(again.verdict.verdict, 'trusted');
  assert.equal(calls.length, 1);
});

test('batcher: a site asked again while in flight shares the request', async () => {
  const clock = new FakeClock();
  let release;
  let n = 0;
  const request = () => {
    n += 1;
    return new Promise((r) => {
      release = () => r({ verdicts: [ev('a.example')] });
    });
  };
  const b = new SiteBatcher({ request, cache: new VerdictCache({ now: () => clock.now }), setTimeout: clock.setTimeout });
  const first = b.lookup('https://a.example/1');
  clock.advance(40);
  const second = b.lookup('https://a.example/2');
  clock.advance(40);
  release();
  assert.equal((await first).verdict.host, 'a.example');
  assert.equal((await second).verdict.host, 'a.example');
  assert.equal(n, 1);
});

test('batcher: a full batch goes out at once; more sites go in the next batch', async () => {
  const clock = new FakeClock();
  const sizes = [];
  const request = async (type, { urls }) => {
    sizes.push(urls.length);
    return { verdicts: urls.map((u) => ev(new URL(u).hostname)) };
  };
  const b = new SiteBatcher({ request, cache: new VerdictCache(), maxBatch: 3, setTimeout: clock.setTimeout });
  const all = [];
  for (let i = 0; i < 7; i++) all.push(b.lookup(`https://s${i}.example/`));
  clock.advance(100);
  const r = await Promise.all(all);
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(r.map((e) => e.verdict.host), [0, 1, 2, 3, 4, 5, 6].map((i) => `s${i}.example`));
});

test('batcher: per-site errors and a failed request become error entries, never a verdict', async () => {
  const clock = new FakeClock();
  let fail = false;
  const request = async () => {
    if (fail) throw Object.assign(new Error('The host did not answer within 10 ms.'), { code: 'request_timeout' });
    return { verdicts: [{ host: 'dead.example', port: 443, error: { code: 'timeout', message: 'x' } }, { index: 1, error: { code: 'bad_url', message: 'y' } }] };
  };
  const cache = new VerdictCache({ now: () => clock.now });
  const b = new SiteBatcher({ request, cache, setTimeout: clock.setTimeout });
  const p = b.lookup('https://dead.example/');
  clock.advance(40);
  assert.deepEqual(await p, { error: { code: 'timeout', message: 'x' } });
  fail = true;
  const q = b.lookup('https://other.example/');
  clock.advance(40);
  assert.equal((await q).error.code, 'request_timeout');
  assert.equal((await b.lookup('mailto:x@example.org')).error.code, 'bad_url');
  // Errors are cached briefly only.
  clock.advance(ERROR_TTL_MS);
  assert.equal(cache.get('dead.example:443'), undefined);
});

// ------------------------------------------------------------------ caches

test('verdict cache: entries expire, errors sooner, and the oldest go first', () => {
  let now = 0;
  const c = new VerdictCache({ now: () => now, max: 2 });
  c.set('a:443', { verdict: ev('a') });
  c.set('e:443', { error: { code: 'timeout' } });
  now = ERROR_TTL_MS;
  assert.equal(c.get('e:443'), undefined);
  assert.ok(c.get('a:443'));
  c.set('b:443', { verdict: ev('b') });
  c.get('a:443'); // a is now the most recently used
  c.set('c:443', { verdict: ev('c') });
  assert.equal(c.size, 2);
  assert.equal(c.get('b:443'), undefined, 'least recently used entry dropped');
  now += VERDICT_TTL_MS;
  assert.equal(c.get('a:443'), undefined);
});

test('tab states: a navigation clears verdicts but keeps approvals; approvals expire', () => {
  let now = 0;
  const t = new TabStates({ now: () => now });
  const s = t.navigated(5, 'https://mail.example/', true);
  s.site = { verdict: ev('mail.example') };
  s.mail = { verdict: 'trusted' };
  t.approve(5, 'dv.test:443');
  t.navigated(5, 'https://dv.test/', false);
  assert.equal(t.get(5).site, null);
  assert.equal(t.get(5).mail, null);
  assert.equal(t.isApproved(5, 'dv.test:443'), true);
  assert.equal(t.isApproved(6, 'dv.test:443'), false);
  now = APPROVAL_TTL_MS;
  assert.equal(t.isApproved(5, 'dv.test:443'), false);
  t.remove(5);
  assert.equal(t.has(5), false);
});

// ------------------------------------------------------------------ domains and settings

test('siteKey reduces URLs to host:port like the host does', () => {
  assert.equal(siteKey('https://WWW.Example.be/a?b#c'), 'www.example.be:443');
  assert.equal(siteKey('http://example.be/'), 'example.be:80');
  assert.equal(siteKey('https://example.be:8443/'), 'example.be:8443');
  assert.equal(siteKey('https://bücher.example/'), 'xn--bcher-kva.example:443');
  assert.equal(siteKey('https://[2001:db8::1]/'), '2001:db8::1:443');
  assert.equal(siteKey('mailto:a@b.c'), null);
  assert.equal(siteKey('javascript:alert(1)'), null);
  assert.equal(siteKey('not a url'), null);
});

test('registrable domain: the part a person should read', () => {
  assert.equal(registrableDomain('login.kbc.be'), 'kbc.be');
  assert.equal(registrableDomain('kbc.be.secure-login.example.com'), 'example.com');
  assert.equal(registrableDomain('www.bbc.co.uk'), 'bbc.co.uk');
  assert.equal(registrableDomain('evil.github.io'), 'evil.github.io');
  assert.equal(registrableDomain('192.0.2.7'), '192.0.2.7');
  assert.equal(registrableDomain('localhost'), 'localhost');
  assert.deepEqual(splitHost('www.belgium.be'), ['www.', 'belgium.be']);
  // The host's answer (full Public Suffix List) wins when it fits the host...
  assert.deepEqual(splitHost('a.b.example.pvt.k12.ma.us', 'example.pvt.k12.ma.us'), ['a.b.', 'example.pvt.k12.ma.us']);
  // ...and is ignored when it does not (not a label-boundary suffix of the host).
  assert.deepEqual(splitHost('login.notbelgium.be', 'belgium.be'), ['login.', 'notbelgium.be']);
  assert.deepEqual(splitHost('www.belgium.be', null), ['www.', 'belgium.be']);
});

test('exceptions and webmail origins are normalised and matched by host', () => {
  assert.equal(parseException(' https://Example.com/path '), 'example.com');
  assert.equal(parseException('*.example.com'), 'example.com');
  assert.equal(parseException('bücher.example'), 'xn--bcher-kva.example');
  assert.equal(parseException('no spaces please.com'), null);
  assert.equal(parseException(''), null);
  assert.equal(exceptionMatches('example.com', 'www.example.com'), true);
  assert.equal(exceptionMatches('example.com', 'example.com'), true);
  assert.equal(exceptionMatches('example.com', 'notexample.com'), false);
  assert.equal(exceptionMatches('example.com', 'example.com.evil.test'), false);
  assert.equal(parseWebmailOrigin('mail.example.be/roundcube/'), 'https://mail.example.be');
  assert.equal(parseWebmailOrigin('http://127.0.0.1:18080/?_task=mail'), 'http://127.0.0.1:18080');
  assert.equal(parseWebmailOrigin('ftp://x'), null);
  assert.equal(originPattern('http://127.0.0.1:18080'), 'http://127.0.0.1/*');
  const s = readSettings({ guardScope: 'all', webmailOrigins: ['mail.example.be', 'mail.example.be', 5], guardExceptions: ['Example.com', '??'] });
  assert.deepEqual(s, { timeoutMs: 15000, scope: 'all', webmailOrigins: ['https://mail.example.be'], exceptions: ['example.com'] });
  assert.equal(readSettings({ guardScope: 'everything' }).scope, 'webmail');
});

// ------------------------------------------------------------------ webmail adapters

test('Roundcube: message views are recognised from the frame URL, and the raw URL is the byte-exact one', () => {
  assert.deepEqual({ ...core.roundcubeMessage('?_task=mail&_caps=x&_uid=42&_mbox=INBOX&_framed=1&_action=preview') }, { uid: '42', mbox: 'INBOX' });
  assert.deepEqual({ ...core.roundcubeMessage('?_task=mail&_action=show&_uid=7&_mbox=Archive%2F2026') }, { uid: '7', mbox: 'Archive/2026' });
  assert.deepEqual({ ...core.roundcubeMessage('?_task=mail&_action=show&_uid=7') }, { uid: '7', mbox: 'INBOX' });
  assert.equal(core.roundcubeMessage('?_task=mail&_action=list&_mbox=INBOX'), null);
  assert.equal(core.roundcubeMessage('?_task=mail&_action=show&_uid=1%20OR%201'), null);
  assert.equal(core.roundcubeMessage('?_task=settings&_action=show&_uid=1'), null);
  const url = core.roundcubeRawUrl('http://127.0.0.1:18080/roundcube/?_task=mail&_action=show&_uid=7', {
    uid: '7', mbox: 'Archive/2026', token: 'AbC123xyz789AbC123xyz789',
  });
  const u = new URL(url);
  assert.equal(u.origin + u.pathname, 'http://127.0.0.1:18080/roundcube/');
  assert.equal(u.searchParams.get('_action'), 'viewsource');
  assert.equal(u.searchParams.get('_save'), '1', '_save=1: without it Roundcube rewrites line ends');
  assert.equal(u.searchParams.get('_uid'), '7');
  assert.equal(u.searchParams.get('_mbox'), 'Archive/2026');
  assert.equal(u.searchParams.get('_token'), 'AbC123xyz789AbC123xyz789');
  assert.equal(core.roundcubeTokenFromText('rcmail.set_env({"task":"mail","request_token":"Zx9Kq2LmNpQr8StUvWxYz012"});'), 'Zx9Kq2LmNpQr8StUvWxYz012');
  assert.equal(core.roundcubeTokenFromText('"request_token":"<script>"'), null);
});

test('Gmail: "show original" URL from the account, the page key and the message id', () => {
  assert.equal(core.gmailAccount('/mail/u/2/'), '2');
  assert.equal(core.gmailAccount('/mail/'), '0');
  assert.equal(
    core.gmailRawUrl({ account: '1', ik: '0123456789', messageId: '18f2a3b4c5d6e7f8' }),
    `https://mail.google.com/mail/u/1/?ik=0123456789&view=om&permmsgid=msg-f%3A${BigInt('0x18f2a3b4c5d6e7f8')}`,
  );
  assert.equal(core.gmailRawUrl({ ik: 'abcdef0123', messageId: 'msg-f:1796' }), 'https://mail.google.com/mail/u/0/?ik=abcdef0123&view=om&permmsgid=msg-f%3A1796');
  assert.throws(() => core.gmailRawUrl({ ik: 'x', messageId: '1' }));
  assert.throws(() => core.gmailRawUrl({ ik: 'abcdef0123', messageId: '../evil' }));
  assert.equal(core.gmailIkFromText('var GLOBALS=[null,null,1,"x",null,null,null,null,"y","abcdef0123",0]'), 'abcdef0123');
});

test('a raw fetch counts only as 200 with a non-empty text/plain body', () => {
  const ok = { status: 200, contentType: 'text/plain; charset=UTF-8', byteLength: 1200 };
  assert.equal(core.rawResponseUsable(ok), true);
  assert.equal(core.rawResponseUsable({ ...ok, contentType: 'text/html; charset=UTF-8' }), false, 'login page');
  assert.equal(core.rawResponseUsable({ ...ok, byteLength: 0 }), false, 'unknown uid');
  assert.equal(core.rawResponseUsable({ ...ok, status: 302 }), false);
  assert.equal(core.rawResponseUsable({ ...ok, contentType: null }), false);
  assert.equal(core.rawResponseUsable({ ...ok, byteLength: core.MAX_RAW_BYTES + 1 }), false);
  assert.equal(core.toBase64(new Uint8Array([0, 255, 13, 10])), 'AP8NCg==');
});

test('guard: which links leave the page and which clicks open a new tab', () => {
  assert.equal(core.externalUrl('https://dv.test:8443/x', 'http://127.0.0.1:18080'), 'https://dv.test:8443/x');
  assert.equal(core.externalUrl('http://127.0.0.1:18080/?_task=mail', 'http://127.0.0.1:18080'), null);
  assert.equal(core.externalUrl('javascript:void(0)', 'http://127.0.0.1:18080'), null);
  assert.equal(core.externalUrl('mailto:a@b.c', 'http://127.0.0.1:18080'), null);
  assert.equal(core.opensNewTab({ target: '_blank' }), true);
  assert.equal(core.opensNewTab({ button: 1 }), true);
  assert.equal(core.opensNewTab({ ctrlKey: true }), true);
  assert.equal(core.opensNewTab({ target: '_top' }), false);
  assert.equal(core.opensNewTab({}), false);
});

// ------------------------------------------------------------------ verdict texts

const EV_SITE = {
  host: 'ev.test', port: 443, verdict: 'trusted', level: 'ev', valid: true, reasons: [],
  identity: { organization: 'TrustLens Test EV NV', country: 'BE', jurisdiction_country: 'BE', enterprise_number: '0203.201.340' },
  issuer: { organization: null, common_name: 'TrustLens Test EV CA' }, not_after: '2030-01-01T00:00:00Z', revocation: 'not_checked',
};

test('site view: who is proven, level, identity rows, badge', () => {
  const v = siteView({ verdict: EV_SITE });
  assert.deepEqual(v.headline, { key: 'siteProvenTrusted', subs: ['TrustLens Test EV NV'] });
  assert.equal(v.level.key, 'levelEv');
  assert.deepEqual(v.rows.map((r) => r.value ?? r.valueKey), ['TrustLens Test EV NV', 'BE', '0203.201.340', 'TrustLens Test EV CA', '2030-01-01', 'revNotChecked']);
  assert.deepEqual(siteBadge({ verdict: EV_SITE }), { text: 'EV', color: '#1a7f37', title: 'badgeTitleTrusted' });
  const dv = siteView({ verdict: { host: 'dv.test', verdict: 'caution', level: 'dv', valid: true, reasons: [], identity: {} } });
  assert.deepEqual(dv.headline, { key: 'siteNobodyProven', subs: ['dv.test'] });
  assert.equal(siteBadge({ verdict: { verdict: 'caution', level: 'dv' } }).text, 'DV');
  const bad = { host: 'expired.test', verdict: 'danger', level: 'none', valid: false, reasons: ['expired', 'brand_new_reason'], identity: { organization: 'Liar NV' } };
  const x = siteView({ verdict: bad });
  assert.equal(x.headline.key, 'siteDanger');
  assert.equal(x.rows.length, 0, 'nothing from an invalid certificate is shown');
  assert.deepEqual(x.reasons.map((r) => r.key), ['sr_expired', 'sr_other']);
  assert.equal(siteBadge({ verdict: bad }).text, '!');
  assert.equal(siteView({ error: { code: 'timeout', message: 'slow' } }).reasons[0].key, 'err_timeout');
  assert.equal(siteBadge({ error: { code: 'timeout' } }).text, '?');
});

const ALICE = { name: 'Alice Marie Peeters', kind: 'eid', card: 'citizen', issuer: 'Citizen CT-Test', email: null, cert_sha256: 'ab' };

test('mail view: the four badge texts and "could not read"', () => {
  const eid = mailView({ verdict: 'trusted', signature: 'valid', reasons: ['address_not_certified'], signer: ALICE, from: 'a@x.be', links: [] });
  assert.deepEqual([eid.kind, eid.headline.key, eid.headline.subs[0]], ['eid', 'mailSignedEid', 'Alice Marie Peeters']);
  const none = mailView({ verdict: 'caution', signature: 'none', reasons: ['unsigned'], signer: null, from: 'x@y.z' });
  assert.deepEqual([none.kind, none.headline.key], ['unsigned', 'mailNotSigned']);
  const broken = mailView({ verdict: 'danger', signature: 'invalid', reasons: ['digest_mismatch'], signer: ALICE });
  assert.deepEqual([broken.kind, broken.headline.key, broken.reasons[0].key], ['broken', 'mailBroken', 'mr_digest_mismatch']);
  const usually = mailView({ verdict: 'danger', signature: 'none', reasons: ['unsigned', 'unsigned_usually_signed'], signer: null, from: 'alice.hist@example.be' });
  assert.deepEqual([usually.kind, usually.headline.key, usually.headline.subs[0], usually.tone], ['usually', 'mailUsuallySigns', 'alice.hist@example.be', 'danger']);
  for (const v of [null, { unreadable: true }, {}, { signature: 5 }]) {
    assert.equal(mailView(v).headline.key, 'mailUnreadable', JSON.stringify(v));
  }
  const smime = mailView({ verdict: 'caution', signature: 'valid', reasons: [], signer: { name: 'Bob Dupont', kind: 'smime', email: 'bob@example.org' }, from: 'bob@example.org' });
  assert.equal(smime.headline.key, 'mailSignedSmime');
  const revoked = mailView({ verdict: 'danger', signature: 'valid', reasons: ['revoked'], signer: ALICE });
  assert.equal(revoked.headline.key, 'mailSignedProblem', 'a valid signature that is not acceptable never reads as a plain "signed"');
  const links = mailView({ verdict: 'caution', signature: 'valid', reasons: ['partial_coverage'], signer: ALICE, links: [{ url: 'https://a/', signed: true }, { url: 'https://b/', signed: false }] });
  assert.deepEqual(links.links, [{ url: 'https://a/', signed: true }, { url: 'https://b/', signed: false }]);
});

test('eID holder: the first BELPIC token, its signature certificate, its name only', () => {
  const result = {
    tokens: [
      { label: 'Other', belpic: false, certificates: [{ label: 'Signature', subject: { name: 'Not Me' } }] },
      { label: 'BELPIC', belpic: true, serial: '534C494E33660013', certificates: [
        { label: 'Authentication', id: '02', subject: { name: 'Alice Auth' } },
        { label: 'Signature', id: '03', subject: { name: 'Alice Marie Peeters' } },
      ] },
    ],
  };
  assert.equal(cardHolder(result), 'Alice Marie Peeters');
  assert.equal(cardHolder({ tokens: [] }), null);
  assert.equal(cardHolder(null), null);
  assert.equal(cardHolder({ tokens: [{ belpic: true, certificates: [] }] }), null);
});

test('every reason code the host can send has a plain-words text', () => {
  const protocol = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8');
  const block = /`reasons`: stable codes[\s\S]*?`weak_key`/.exec(protocol)?.[0] ?? '';
  const siteCodes = [...block.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).filter((c) => c !== 'reasons');
  assert.ok(siteCodes.length >= 18, `found only ${siteCodes.length} site reason codes in docs/protocol.md`);
  for (const c of siteCodes) assert.ok(SITE_REASON_KEYS[c], `site reason ${c} has no text`);
  const mailSrc = readFileSync(join(ROOT, 'host/mail.c'), 'utf8');
  const names = /reason_names\[\] = \{([\s\S]*?)\};/.exec(mailSrc)?.[1] ?? '';
  const mailCodes = [...names.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(mailCodes.length >= 18, 'mail reason names not found in host/mail.c');
  for (const c of mailCodes) assert.ok(MAIL_REASON_KEYS[c], `mail reason ${c} has no text`);
  const smime = readFileSync(join(ROOT, 'host/smime.c'), 'utf8') + mailSrc;
  for (const m of smime.matchAll(/(?:invalid_)?reason = "([a-z_]+)"/g)) assert.ok(MAIL_REASON_KEYS[m[1]], `signature reason ${m[1]} has no text`);
});
