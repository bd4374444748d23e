#!/usr/bin/env node
// PKCS#11 suite: the real host (build/trustlens-host) against SoftHSM2 tokens
// shaped like Belgian eID cards (tests/pkcs11/make-tokens.sh), a real
// `openssl ocsp` responder and a CRL server on loopback, a fake module
// that prints on stdout, and shim-module.c: a module that forwards to
// SoftHSM and injects card faults (locked PIN, card removed before and
// during the signature, cancelled, broken or slow module); the fault cases
// run once more against the ASan+UBSan host (build/asan/trustlens-host, or
// --asan-host PATH) when it is there.
//
//   node tests/pkcs11/run.mjs [--host PATH] [--asan-host PATH] [--keep] [--filter REGEX]
//
// Prints `ok NAME` / `FAIL NAME: why` per check and ends with one line
// `N passed, N failed`; exit 1 on any failure. Every process started is
// stopped by PID. The run folder tests/out/pkcs11/run-*/ is kept on failure
// or with --keep. Node built-ins only.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const ORIGIN = 'chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/';
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
const LIMIT_MS = 30000;

const opt = { host: null, asanHost: null, keep: false, filter: null };
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === '--host') opt.host = path.resolve(process.argv[++i]);
	else if (a === '--asan-host') opt.asanHost = path.resolve(process.argv[++i]);
	else if (a === '--keep') opt.keep = true;
	else if (a === '--filter') opt.filter = new RegExp(process.argv[++i]);
	else { console.error(`run.mjs: unknown argument ${a}`); process.exit(2); }
}
const HOST_BUILT = opt.host || process.env.TRUSTLENS_HOST_BIN || path.join(ROOT, 'build/trustlens-host');
let HOST = HOST_BUILT;   // a copy in the run folder once set up (others rebuild build/ meanwhile)
const ASAN_BUILT = opt.asanHost || path.join(ROOT, 'build/asan/trustlens-host');
let ASAN_HOST = null;    // its copy, when there is one
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const RUN = path.join(ROOT, 'tests/out/pkcs11', `run-${stamp}-${process.pid}`);
const SHIM = path.join(RUN, 'shim-module.so');
fs.mkdirSync(path.join(RUN, 'host'), { recursive: true });

// ------------------------------------------------------------ results
let passed = 0;
let failed = 0;
function check(name, cond, why = '') {
	if (opt.filter && !opt.filter.test(name)) return;
	if (cond) { passed++; console.log(`ok ${name}`); } else { failed++; console.log(`FAIL ${name}: ${why}`); }
}
const J = (v) => JSON.stringify(v);
const short = (s, n = 300) => { s = String(s ?? '').replace(/\s+/g, ' ').trim(); return s.length > n ? s.slice(0, n) + '...' : s; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ processes
const children = new Set();
function track(proc) { children.add(proc); proc.on('exit', () => children.delete(proc)); return proc; }
process.on('exit', () => { for (const p of children) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } } });
const servers = [];
async function cleanup() {
	for (const p of [...children]) { try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ } }
	for (const s of servers) { try { s.close(); } catch { /* closed */ } }
	await sleep(50);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { failed++; console.log(`FAIL interrupted: ${sig}`); await cleanup(); finish(); });
const watchdog = setTimeout(async () => { failed++; console.log('FAIL watchdog: the suite took more than 240 s'); await cleanup(); finish(); }, 240000);

function runSync(cmd, args, o = {}) {
	const r = spawnSync(cmd, args, { encoding: o.encoding === null ? undefined : 'utf8', timeout: LIMIT_MS, ...o });
	return r;
}

function portFree(port) {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once('error', () => resolve(false));
		s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
	});
}
async function freePort(avoid = []) {
	for (let i = 0; i < 200; i++) {
		const p = 21000 + crypto.randomInt(20000);
		if (!avoid.includes(p) && await portFree(p)) return p;
	}
	throw new Error('no free port');
}

function httpPost(url, body) {
	return new Promise((resolve, reject) => {
		const u = new URL(url);
		const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
			headers: { 'Content-Type': 'application/ocsp-request', 'Content-Length': body.length, Connection: 'close' } }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
		});
		req.on('error', reject);
		req.setTimeout(2000, () => req.destroy(new Error('timeout')));
		req.end(body);
	});
}

// ------------------------------------------------------------ the host
const outputs = [];   // every stdout/stderr/log text, for the privacy scans
let hostRuns = 0;
function hostEnv(extra = {}) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (k.startsWith('TRUSTLENS_') || k.startsWith('TL_SHIM_') || k === 'SOFTHSM2_CONF' || k === 'PINENTRY_PROGRAM' ||
			k.startsWith('ASAN_') || k.startsWith('UBSAN_') || /^(https?|all|no)_proxy$/i.test(k)) continue;
		env[k] = v;
	}
	const n = ++hostRuns;
	env.TRUSTLENS_CONFIG = CONFIG;
	env.TRUSTLENS_EID_ROOTS = path.join(T, 'pki/root.pem');
	env.TRUSTLENS_ALLOW_PRIVATE = '1';
	env.TRUSTLENS_STATE_DIR = path.join(RUN, 'state', String(n));
	env.TRUSTLENS_LOG = path.join(RUN, 'host', `log-${n}.txt`);
	env.TRUSTLENS_PKCS11_MODULES = SOFTHSM;
	env.SOFTHSM2_CONF = path.join(T, 'tokens/all/softhsm2.conf');
	return Object.assign(env, extra);
}
function store(name) { return path.join(T, 'tokens', name, 'softhsm2.conf'); }

// Runs the host; pin: a string given through TRUSTLENS_PIN_FD=3 (a pipe);
// limit: killed (SIGKILL) after that many ms; detached: in a session of
// its own, without a controlling terminal (no /dev/tty to ask a PIN on).
function runHost(name, args, env, { pin = null, limit = LIMIT_MS, detached = false, host = HOST } = {}) {
	return new Promise((resolve) => {
		const stdio = ['ignore', 'pipe', 'pipe'];
		if (pin !== null) { stdio.push('pipe'); env = { ...env, TRUSTLENS_PIN_FD: '3' }; }
		const proc = track(spawn(host, args, { env, stdio, detached }));
		if (pin !== null) { proc.stdio[3].on('error', () => {}); proc.stdio[3].end(pin); }
		const out = [];
		const err = [];
		proc.stdout.on('data', (d) => out.push(d));
		proc.stderr.on('data', (d) => err.push(d));
		const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, limit);
		proc.on('error', (e) => err.push(Buffer.from(`spawn failed: ${e.message}\n`)));
		proc.on('close', (code, signal) => {
			clearTimeout(t);
			const r = { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
			outputs.push(r.stdout, r.stderr);
			fs.writeFileSync(path.join(RUN, 'host', `${name}.txt`), `$ ${args.join(' ')}\nexit ${code} ${signal ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
			resolve(r);
		});
	});
}
function parseJson(s) { try { return JSON.parse(s); } catch { return undefined; } }

class NativeHost {
	constructor(name, env, host = HOST) {
		this.name = name;
		this.order = [];   // ids in the order their replies came
		this.proc = track(spawn(host, [ORIGIN], { env, stdio: ['pipe', 'pipe', 'pipe'] }));
		this.buf = Buffer.alloc(0);
		this.pending = new Map();
		this.extra = [];
		this.err = [];
		this.proc.stdin.on('error', () => {});
		this.proc.on('error', (e) => this.err.push(Buffer.from(`spawn failed: ${e.message}\n`)));
		this.proc.stderr.on('data', (d) => this.err.push(d));
		this.proc.stdout.on('data', (d) => this.onData(d));
		this.closed = new Promise((r) => this.proc.on('close', (code) => {
			for (const [, p] of this.pending) p.reject(new Error(`host exited (${code})`));
			r(code);
		}));
	}
	stderr() { return Buffer.concat(this.err).toString('utf8'); }
	onData(d) {
		this.buf = Buffer.concat([this.buf, d]);
		while (this.buf.length >= 4) {
			const n = os.endianness() === 'LE' ? this.buf.readUInt32LE(0) : this.buf.readUInt32BE(0);
			if (n > 1048576) { this.extra.push(`bad length ${n}`); this.buf = Buffer.alloc(0); return; }
			if (this.buf.length < 4 + n) return;
			const text = this.buf.subarray(4, 4 + n).toString('utf8');
			this.buf = this.buf.subarray(4 + n);
			const msg = parseJson(text);
			const p = msg && this.pending.get(msg.id);
			if (p) { this.order.push(msg.id); this.pending.delete(msg.id); p.resolve(msg); } else this.extra.push(text);
		}
	}
	request(obj) {
		const body = Buffer.from(JSON.stringify(obj));
		const len = Buffer.alloc(4);
		if (os.endianness() === 'LE') len.writeUInt32LE(body.length); else len.writeUInt32BE(body.length);
		return new Promise((resolve, reject) => {
			const t = setTimeout(() => { this.pending.delete(obj.id); reject(new Error(`no reply to ${obj.id}`)); }, LIMIT_MS);
			this.pending.set(obj.id, { resolve: (v) => { clearTimeout(t); resolve(v); }, reject: (e) => { clearTimeout(t); reject(e); } });
			this.proc.stdin.write(Buffer.concat([len, body]));
		});
	}
	async close() {
		this.proc.stdin.end();
		const code = await Promise.race([this.closed, sleep(5000).then(() => 'running 5 s after EOF')]);
		const e = this.stderr();
		outputs.push(e, ...this.extra);
		fs.writeFileSync(path.join(RUN, 'host', `${this.name}.txt`), `native messaging, exit ${code}\n--- unmatched frames\n${this.extra.join('\n')}\n--- stderr\n${e}`);
		return code;
	}
}

// ------------------------------------------------------------ set-up
let T;        // token data folder
let CONFIG;
let CARDS;
const finishOnce = { done: false };
function finish() {
	if (finishOnce.done) return;
	finishOnce.done = true;
	clearTimeout(watchdog);
	if (failed === 0 && !opt.keep) fs.rmSync(RUN, { recursive: true, force: true });
	else console.log(`# evidence kept in ${RUN}`);
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed === 0 ? 0 : 1);
}

async function setup() {
	for (const tool of ['openssl', 'softhsm2-util', 'pkcs11-tool', 'cc']) {
		if (runSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is missing (installers/deps-debian.sh)`);
	}
	if (!fs.existsSync(SOFTHSM)) throw new Error(`${SOFTHSM} is missing (softhsm2)`);
	if (!fs.existsSync(HOST_BUILT)) throw new Error(`${HOST_BUILT} is missing: make first`);
	HOST = path.join(RUN, 'trustlens-host');
	fs.copyFileSync(HOST_BUILT, HOST);
	fs.chmodSync(HOST, 0o755);
	const ocspPort = await freePort();
	const httpPort = await freePort([ocspPort]);
	T = path.join(RUN, 'tokens-data');
	const r = runSync('bash', [path.join(HERE, 'make-tokens.sh'), T, `http://127.0.0.1:${ocspPort}/`, `http://127.0.0.1:${httpPort}`]);
	if (r.status !== 0) throw new Error(`make-tokens.sh failed: ${short(r.stderr, 1000)}`);
	CARDS = JSON.parse(fs.readFileSync(path.join(T, 'cards.json'), 'utf8'));
	const cc = runSync('cc', ['-shared', '-fPIC', '-O1', '-o', path.join(RUN, 'fake-module.so'), path.join(HERE, 'fake-module.c')]);
	if (cc.status !== 0) throw new Error(`fake module does not build: ${short(cc.stderr)}`);
	// The shim is held to the host's own warning set.
	const shimCc = runSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Wpedantic', '-Wshadow', '-Wformat=2', '-Wstrict-prototypes',
		'-Wmissing-prototypes', '-Wwrite-strings', '-Wcast-qual', '-Wundef', '-Wvla', '-Wimplicit-fallthrough', '-Werror',
		'-shared', '-fPIC', '-O1', '-pthread', '-o', SHIM, path.join(HERE, 'shim-module.c')]);
	if (shimCc.status !== 0) throw new Error(`shim module does not build: ${short(shimCc.stderr, 1000)}`);
	if (fs.existsSync(ASAN_BUILT)) {
		ASAN_HOST = path.join(RUN, 'trustlens-host-asan');
		fs.copyFileSync(ASAN_BUILT, ASAN_HOST);
		fs.chmodSync(ASAN_HOST, 0o755);
	}
	CONFIG = path.join(RUN, 'config.json');
	fs.writeFileSync(CONFIG, JSON.stringify({ allowed_ports: [ocspPort, httpPort] }) + '\n');

	// CRL server
	const crlLog = [];
	const srv = http.createServer((req, res) => {
		crlLog.push(`${req.method} ${req.url}`);
		const f = path.join(T, 'www', path.basename(req.url.split('?')[0]));
		if (req.method === 'GET' && f.endsWith('.crl') && fs.existsSync(f)) {
			const body = fs.readFileSync(f);
			res.writeHead(200, { 'Content-Type': 'application/pkix-crl', 'Content-Length': body.length });
			res.end(body);
		} else { res.writeHead(404); res.end(); }
	});
	servers.push(srv);
	await new Promise((resolve, reject) => { srv.once('error', reject); srv.listen({ host: '127.0.0.1', port: httpPort, exclusive: true }, resolve); });

	// OCSP responder (the Citizen CA signs its own answers)
	const probe = path.join(T, 'probe.req');
	if (runSync('openssl', ['ocsp', '-issuer', path.join(T, 'pki/ca.pem'), '-cert', path.join(T, 'pki/alice-signature.pem'), '-no_nonce', '-reqout', probe]).status !== 0) {
		throw new Error('cannot make the OCSP probe request');
	}
	const ocspLogFile = path.join(RUN, 'ocsp-responder.log');
	const fd = fs.openSync(ocspLogFile, 'a');
	const ocsp = track(spawn('openssl', ['ocsp', '-index', path.join(T, 'pki/index.txt'), '-port', String(ocspPort),
		'-rsigner', path.join(T, 'pki/ca.pem'), '-rkey', path.join(T, 'pki/ca.key'), '-CA', path.join(T, 'pki/ca.pem'),
		'-ndays', '7', '-ignore_err', '-text'], { stdio: ['ignore', fd, fd] }));
	fs.closeSync(fd);
	const body = fs.readFileSync(probe);
	const end = Date.now() + 10000;
	for (;;) {
		if (ocsp.exitCode !== null) throw new Error(`openssl ocsp exited (${ocsp.exitCode})`);
		try {
			const res = await httpPost(`http://127.0.0.1:${ocspPort}/`, body);
			if (res.status === 200 && res.body.length > 0) break;
		} catch { /* not yet */ }
		if (Date.now() > end) throw new Error('the OCSP responder did not answer within 10 s');
		await sleep(100);
	}
	return { crlLog, ocspLogFile, ocspPort, httpPort };
}

// ------------------------------------------------------------ helpers on certificates
function opensslSha256(pem) {
	const r = runSync('openssl', ['x509', '-in', pem, '-noout', '-fingerprint', '-sha256']);
	return r.stdout.trim().replace(/^.*=/, '').replace(/:/g, '').toLowerCase();
}
function opensslEnd(pem) {
	const r = runSync('openssl', ['x509', '-in', pem, '-noout', '-enddate']);
	return new Date(r.stdout.trim().replace(/^notAfter=/, '')).getTime();
}

const EXPECT_REVOCATION = {
	'alice:02': 'good', 'alice:03': 'good', 'lotte:02': 'good', 'lotte:03': 'good',
	'noah:02': 'good', 'rik:02': 'revoked', 'rik:03': 'revoked',
};
const EXPECT_NOTES = {
	alice: [], lotte: ['certificate_expires_soon'], noah: ['no_signature_certificate'],
	rik: ['certificate_revoked'], empty: ['empty'],
};
const EXPECT_KEY = {
	alice: { type: 'rsa', bits: 2048, curve: null }, lotte: { type: 'ec', bits: 384, curve: 'P-384' },
	noah: { type: 'rsa', bits: 2048, curve: null }, rik: { type: 'rsa', bits: 2048, curve: null },
};

// ------------------------------------------------------------ the checks
function checkListing(res, t0, t1) {
	check('tokens --json: exit 0', res.code === 0, `exit ${res.code}: ${short(res.stderr)}`);
	const lines = res.stdout.split('\n').filter((l) => l.length > 0);
	const r = parseJson(lines[0] ?? '');
	check('tokens --json: stdout is one JSON line', lines.length === 1 && r !== undefined, short(res.stdout));
	if (!r) return null;
	const m0 = r.modules?.[0];
	check('tokens --json: SoftHSM listed first, from the configuration, loaded',
		m0?.path === SOFTHSM && m0?.source === 'config' && m0?.loaded === true && m0?.found === true && m0?.error === null, J(m0));
	const mine = (r.tokens ?? []).filter((t) => t.module === SOFTHSM);
	const want = Object.values(CARDS.cards).map((c) => `${c.label}/${c.serial}`).sort();
	const got = mine.map((t) => `${t.label}/${t.serial}`).sort();
	check('tokens --json: exactly the five tokens put there (the blank SoftHSM slot left out)', isDeepStrictEqual(got, want), `got ${J(got)} want ${J(want)}`);
	for (const [card, c] of Object.entries(CARDS.cards)) {
		const t = mine.find((x) => x.serial === c.serial);
		if (!t) { check(`${card}: listed`, false, 'missing'); continue; }
		check(`${card}: label, manufacturer, model`, t.label === c.label && t.manufacturer === 'SoftHSM project' && t.model === 'SoftHSM v2', J([t.label, t.manufacturer, t.model]));
		check(`${card}: belpic ${c.label === 'BELPIC'}`, t.belpic === (c.label === 'BELPIC'), J(t.belpic));
		const f = t.flags ?? {};
		check(`${card}: PIN flags (login required, initialised, not locked, no pin pad)`,
			f.login_required === true && f.pin_initialized === true && f.pin_locked === false && f.pin_final_try === false &&
			f.protected_authentication_path === false, J(f));
		const labels = (t.certificates ?? []).map((x) => `${x.id}:${x.label}`);
		const wantLabels = c.objects.map((o) => `${o.id}:${o.label}`);
		check(`${card}: certificates ${wantLabels.join(', ') || '(none)'}`, isDeepStrictEqual(labels, wantLabels), J(labels));
		check(`${card}: notes ${J(EXPECT_NOTES[card])}`, isDeepStrictEqual([...(t.notes ?? [])].sort(), [...EXPECT_NOTES[card]].sort()), J(t.notes));
		if (card === 'empty') {
			check('empty: no holder, no signature certificate', t.holder === null && t.has_signature_certificate === false, J([t.holder, t.has_signature_certificate]));
			continue;
		}
		const wantName = `${c.given_name} ${c.surname}`;
		check(`${card}: holder ${wantName}`, t.holder?.name === wantName && t.holder?.given_name === c.given_name && t.holder?.surname === c.surname, J(t.holder));
		check(`${card}: has_signature_certificate ${card !== 'noah'}`, t.has_signature_certificate === (card !== 'noah'), J(t.has_signature_certificate));
		for (const o of c.objects) {
			const x = (t.certificates ?? []).find((y) => y.id === o.id);
			if (!x) continue;
			const pem = path.join(T, o.cert);
			const name = `${card} ${o.label}`;
			check(`${name}: sha256 as openssl computes it`, x.sha256 === opensslSha256(pem), `${x.sha256}`);
			const end = opensslEnd(pem);
			check(`${name}: not_after as openssl reads it`, new Date(x.not_after).getTime() === end, `${x.not_after} vs ${new Date(end).toISOString()}`);
			const d0 = Math.floor((end - t1) / 86400000);
			const d1 = Math.floor((end - t0) / 86400000);
			check(`${name}: days_left`, x.days_left >= d0 && x.days_left <= d1, `${x.days_left}, want ${d0}..${d1}`);
			check(`${name}: eid_chain trusted`, x.eid_chain === 'trusted', x.eid_chain);
			if (o.id === '02' || o.id === '03') {
				check(`${name}: subject names`, x.subject?.name === wantName && x.subject?.given_name === c.given_name &&
					x.subject?.surname === c.surname && x.subject?.common_name === `${c.name} (${o.label})`, J(x.subject));
				check(`${name}: issuer`, x.issuer === 'Citizen CT-P11Test', x.issuer);
				check(`${name}: key ${J(EXPECT_KEY[card])}`, isDeepStrictEqual(x.key, EXPECT_KEY[card]), J(x.key));
				check(`${name}: revocation ${EXPECT_REVOCATION[`${card}:${o.id}`]}`, x.revocation === EXPECT_REVOCATION[`${card}:${o.id}`], x.revocation);
				check(`${name}: usage`, x.usage === (o.id === '03' ? 'signature' : 'authentication') && x.card === 'citizen', J([x.usage, x.card]));
			} else {
				check(`${name}: CA, not checked for revocation`, x.ca === true && x.revocation === 'not_checked', J([x.ca, x.revocation]));
			}
		}
	}
	if (mine.find((t) => t.label === 'BELPIC' && t.serial === CARDS.cards.lotte.serial)) {
		const soon = mine.find((t) => t.serial === CARDS.cards.lotte.serial).certificates.find((x) => x.id === '02');
		check('lotte Authentication: expires within 30 days', soon.days_left >= 0 && soon.days_left <= 30, String(soon.days_left));
	}
	return r;
}

function extractFirstPart(eml) {
	const text = eml.toString('latin1');
	const m = /boundary="([^"]+)"/.exec(text);
	if (!m) return null;
	const delim = `\r\n--${m[1]}\r\n`;
	const a = text.indexOf(`--${m[1]}\r\n`);
	if (a < 0) return null;
	const start = a + m[1].length + 4;
	const end = text.indexOf(`\r\n--${m[1]}`, start);
	if (end < 0 || delim.length === 0) return null;
	return Buffer.from(text.slice(start, end), 'latin1');
}

async function signCase(label, { card, storeName, args = [], input, expectMicalg, expectSigAlg, expectName }) {
	const inFile = path.join(RUN, `${label}.in.eml`);
	const outFile = path.join(RUN, `${label}.out.eml`);
	fs.writeFileSync(inFile, input);
	const env = hostEnv({ SOFTHSM2_CONF: store(storeName) });
	const res = await runHost(`sign-${label}`, ['sign-mail', '--in', inFile, '--out', outFile, ...args], env, { pin: `${CARDS.pin}\n` });
	check(`sign-mail ${label}: exit 0`, res.code === 0, `exit ${res.code}: ${short(res.stderr)}`);
	if (res.code !== 0 || !fs.existsSync(outFile)) return null;
	const eml = fs.readFileSync(outFile);
	const head = eml.toString('latin1').split('\r\n\r\n')[0];
	check(`sign-mail ${label}: multipart/signed, protocol application/pkcs7-signature, micalg ${expectMicalg}`,
		/Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=([a-z0-9-]+);/.exec(head)?.[1] === expectMicalg, short(head, 600));
	check(`sign-mail ${label}: every line ends in CRLF`, !/[^\r]\n/.test(eml.toString('latin1')) && !/\r(?!\n)/.test(eml.toString('latin1')), 'bare LF or CR');
	const content = path.join(RUN, `${label}.content`);
	const certs = path.join(RUN, `${label}.certs.pem`);
	const v = runSync('openssl', ['cms', '-verify', '-in', outFile, '-CAfile', path.join(T, 'pki/root.pem'), '-out', content, '-certsout', certs]);
	check(`sign-mail ${label}: openssl cms -verify against the test root`, v.status === 0 && /Verification successful/.test(v.stderr), short(v.stderr));
	const part = extractFirstPart(eml);
	check(`sign-mail ${label}: the signed bytes are the first part, byte for byte`, part !== null && fs.existsSync(content) && Buffer.compare(fs.readFileSync(content), part) === 0, 'content differs');
	const p = runSync('openssl', ['cms', '-cmsout', '-print', '-in', outFile]);
	check(`sign-mail ${label}: ${expectSigAlg}, signingTime signed`, p.stdout.includes(expectSigAlg) && /signingTime/.test(p.stdout), short(p.stderr));
	if (fs.existsSync(certs)) {
		const s = fs.readFileSync(certs, 'utf8');
		const n = (s.match(/BEGIN CERTIFICATE/g) || []).length;
		const subj = runSync('sh', ['-c', `openssl crl2pkcs7 -nocrl -certfile '${certs}' | openssl pkcs7 -print_certs -noout`]).stdout;
		check(`sign-mail ${label}: signer and Citizen CA included, root not`, n === 2 && subj.includes('Citizen CT-P11Test') && !/subject=.*Belgium Root CT-P11Test/.test(subj), `${n} certificates: ${short(subj)}`);
	}
	const m = await runHost(`mail-${label}`, ['mail', outFile, '--json'], hostEnv());
	const verdict = parseJson(m.stdout);
	check(`sign-mail ${label}: the host's own mail check: valid eID signature by ${expectName}, chain trusted`,
		verdict?.signature === 'valid' && verdict?.signer?.kind === 'eid' && verdict?.signer?.name === expectName && verdict?.chain === 'trusted',
		short(m.stdout, 500));
	return { eml, verdict, part };
}

async function errorCase(label, { storeName, modules = SOFTHSM, pin = `${CARDS.pin}\n`, args = [], expect }) {
	const inFile = path.join(RUN, 'plain.in.eml');
	const outFile = path.join(RUN, `${label}.out.eml`);
	const env = hostEnv({ SOFTHSM2_CONF: store(storeName), TRUSTLENS_PKCS11_MODULES: modules });
	const res = await runHost(`error-${label}`, ['sign-mail', '--in', inFile, '--out', outFile, ...args], env, { pin });
	const line = res.stderr.trim().split('\n').pop() ?? '';
	check(`sign-mail ${label}: exit 3, token_error, "${expect.source}"`, res.code === 3 && /\(token_error\)$/.test(line) && expect.test(line),
		`exit ${res.code}: ${short(res.stderr)}`);
	check(`sign-mail ${label}: no output file, nothing on stdout`, !fs.existsSync(outFile) && res.stdout === '', short(res.stdout));
	return line;
}

// ------------------------------------------------------------ card faults (shim-module.c)
// Each fault: what sign-mail must say (exit 3, token_error), where the shim
// must have met it (its call trace), and what the listing shows. `same`: a
// second way into the same situation, which must read the same.
const FAULT_LIMIT_MS = 20000;
const SENTINEL = 'an earlier file at the --out path: a failed sign-mail must leave it alone\n';
// SoftHSM keeps CKF_USER_PIN_COUNT_LOW from the wrong-PIN case above until a
// good login: that note may be there.
const LISTING_UNTOUCHED = (r, t) => [t !== undefined && t.certificates?.length === 4 && t.flags?.pin_locked === false &&
	t.flags?.pin_final_try === false && (t.notes ?? []).every((n) => n === 'pin_count_low'), J([t?.flags, t?.notes])];
const SIGN_FAULTS = [
	{ name: 'locked PIN (the card refuses the login)', fault: 'login:CKR_PIN_LOCKED', expect: /^trustlens-host: The card's PIN is locked after too many wrong PINs/,
		met: /^C_Login CKR_PIN_LOCKED injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'locked PIN (flag on the token)', fault: 'token_info:pin_locked', same: 'locked PIN (the card refuses the login)',
		expect: /PIN is locked/, met: /^C_GetTokenInfo CKR_OK$/m, notMet: /^C_Login /m,
		listing: (r, t) => [t?.flags?.pin_locked === true && (t?.notes ?? []).includes('pin_locked'), J([t?.flags, t?.notes])] },
	{ name: 'wrong PIN on the last try', fault: 'login:CKR_PIN_INCORRECT,token_info:pin_final_try', expect: /^trustlens-host: Wrong PIN: the card refused it; one more wrong PIN locks the card\./,
		met: /^C_Login CKR_PIN_INCORRECT injected$/m,
		listing: (r, t) => [t?.flags?.pin_final_try === true && t?.flags?.pin_locked === false && (t?.notes ?? []).includes('pin_final_try'), J([t?.flags, t?.notes])] },
	{ name: 'PIN entry cancelled on the reader', fault: 'login:CKR_FUNCTION_CANCELED', same: 'cancelled PIN entry',
		expect: /PIN entry was cancelled/, met: /^C_Login CKR_FUNCTION_CANCELED injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'card removed before the login', fault: 'login:CKR_DEVICE_REMOVED', expect: /^trustlens-host: The card was removed \(or the reader lost it\) before the signature was made\./,
		met: /^C_Login CKR_DEVICE_REMOVED injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'card removed between the scan and the login', fault: 'slot:removed_after_2', same: 'card removed before the login',
		expect: /before the signature was made/, met: /^C_GetTokenInfo CKR_TOKEN_NOT_PRESENT injected$/m, notMet: /^C_Login /m,
		listing: (r, t) => [t !== undefined, 'the card is read before it is pulled out'] },
	{ name: 'card removed during the signature (C_Sign: CKR_DEVICE_REMOVED)', fault: 'sign:CKR_DEVICE_REMOVED', sentinel: true,
		expect: /^trustlens-host: The card was removed \(or the reader lost it\) while it was signing: nothing was signed\./,
		met: /^C_Login CKR_OK$[\s\S]*^C_Sign CKR_DEVICE_REMOVED injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'card pulled out at C_Sign (every later call finds no card)', fault: 'sign:removed', sentinel: true,
		same: 'card removed during the signature (C_Sign: CKR_DEVICE_REMOVED)', expect: /while it was signing/,
		met: /^C_Sign CKR_DEVICE_REMOVED injected$[\s\S]*^C_(GetTokenInfo CKR_TOKEN_NOT_PRESENT|Logout CKR_DEVICE_REMOVED) injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'signature cancelled at the card', fault: 'sign:CKR_FUNCTION_CANCELED', sentinel: true,
		expect: /^trustlens-host: The signature was cancelled at the card \(its own PIN dialog or the reader's pin pad\): nothing was signed\./,
		met: /^C_Sign CKR_FUNCTION_CANCELED injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'card fails while signing', fault: 'sign:CKR_GENERAL_ERROR', sentinel: true,
		expect: /^trustlens-host: The card failed while making the signature \(CKR_GENERAL_ERROR\): nothing was signed\./,
		met: /^C_Sign CKR_GENERAL_ERROR injected$/m, listing: LISTING_UNTOUCHED },
	{ name: 'module broken (every call CKR_GENERAL_ERROR)', fault: 'any:CKR_GENERAL_ERROR',
		expect: /^trustlens-host: The PKCS#11 module \S+shim-module\.so failed when asked for its cards \(CKR_GENERAL_ERROR\): unplug the card reader/,
		met: /^C_GetSlotList CKR_GENERAL_ERROR injected$/m,
		listing: (r, t) => [r?.modules?.[0]?.loaded === true && /failed when asked for its cards \(CKR_GENERAL_ERROR\)/.test(r?.modules?.[0]?.error) && t === undefined, J(r?.modules?.[0])] },
	{ name: 'module does not start', fault: 'init:CKR_GENERAL_ERROR', expect: /^trustlens-host: The PKCS#11 module \S+ \(TRUSTLENS_PKCS11_MODULES\) could not be initialised: CKR_GENERAL_ERROR\./,
		met: /^C_Initialize CKR_GENERAL_ERROR injected$/m,
		listing: (r, t) => [r?.modules?.[0]?.loaded === false && /could not be initialised/.test(r?.modules?.[0]?.error) && t === undefined, J(r?.modules?.[0])] },
	{ name: 'certificates unreadable', fault: 'find:CKR_DEVICE_ERROR', expect: /^trustlens-host: The certificates of the card "BELPIC" \(serial \w+\) could not be read \(CKR_DEVICE_ERROR\)/,
		met: /^C_FindObjectsInit CKR_DEVICE_ERROR injected$/m,
		listing: (r, t) => [(t?.notes ?? []).includes('certificates_unreadable') && !(t?.notes ?? []).includes('empty') && t?.certificates?.length === 0, J(t?.notes)] },
];
const SANITIZER = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

let faultRuns = 0;
function shimEnv(fault, storeName, trace, extra = {}) {
	return hostEnv({ SOFTHSM2_CONF: store(storeName), TRUSTLENS_PKCS11_MODULES: SHIM, TL_SHIM_FAULT: fault, TL_SHIM_TRACE: trace, ...extra });
}
const readTrace = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
const lastLine = (s) => s.trim().split('\n').pop() ?? '';

// sign-mail through the shim; returns { res, line, trace, outFile }.
async function shimSign(tag, fault, { storeName = 'alice', sentinel = false, host = HOST, extraEnv = {}, pin = `${CARDS.pin}\n`, detached = false } = {}) {
	const n = ++faultRuns;
	const outFile = path.join(RUN, `fault-${n}.out.eml`);
	const trace = path.join(RUN, 'host', `trace-${n}.txt`);
	if (sentinel) fs.writeFileSync(outFile, SENTINEL);
	const env = shimEnv(fault, storeName, trace, extraEnv);
	const res = await runHost(`fault-${n}-${tag}`, ['sign-mail', '--in', path.join(RUN, 'plain.in.eml'), '--out', outFile], env,
		{ pin, limit: FAULT_LIMIT_MS, host, detached });
	return { res, line: lastLine(res.stderr), trace: readTrace(trace), outFile };
}
function outUntouched(r, sentinel) {
	return sentinel ? fs.existsSync(r.outFile) && fs.readFileSync(r.outFile, 'utf8') === SENTINEL : !fs.existsSync(r.outFile);
}
const failedClean = (r) => r.res.code === 3 && r.res.signal === null && /\(token_error\)$/.test(r.line) && r.res.stdout === '';

async function shimCases(msgs, cancelledMsg) {
	const byName = {};
	const cliMsg = {};
	for (const c of SIGN_FAULTS) {
		const label = `fault ${c.name} [${c.fault}]`;
		const r = await shimSign('sign', c.fault, { sentinel: c.sentinel });
		cliMsg[c.name] = r.line;
		check(`${label}: sign-mail exit 3, token_error, stdout empty, no signal, within ${FAULT_LIMIT_MS / 1000} s`, failedClean(r),
			`exit ${r.res.code} ${r.res.signal ?? ''}: ${short(r.res.stderr)}`);
		check(`${label}: says "${c.expect.source}"`, c.expect.test(r.line), r.line);
		check(`${label}: the shim met the fault where it was meant to (${c.met.source})`,
			c.met.test(r.trace) && (!c.notMet || !c.notMet.test(r.trace)), short(r.trace.split('\n').filter((l) => !/ CKR_OK$/.test(l)).join('; ')));
		check(`${label}: ${c.sentinel ? 'the existing --out file left byte for byte' : 'no --out file'}`, outUntouched(r, c.sentinel), 'output touched');
		if (c.same) byName[c.name] = c.same;

		// The same fault under the listing: CLI and protocol, one answer.
		const n = ++faultRuns;
		const trace = path.join(RUN, 'host', `trace-${n}.txt`);
		const env = shimEnv(c.fault, 'alice', trace);
		const cli = await runHost(`fault-${n}-tokens-json`, ['tokens', '--json'], env, { limit: FAULT_LIMIT_MS });
		const lines = cli.stdout.split('\n').filter(Boolean);
		const lj = lines.length === 1 ? parseJson(lines[0]) : undefined;
		const tok = (lj?.tokens ?? []).find((t) => t.module === SHIM && t.serial === CARDS.cards.alice.serial);
		check(`${label}: tokens --json exit 0, one JSON line, the shim listed first, no signal`,
			cli.code === 0 && cli.signal === null && lj !== undefined && lj.modules?.[0]?.path === SHIM, `exit ${cli.code} ${cli.signal ?? ''}: ${short(cli.stdout)} ${short(cli.stderr)}`);
		const [ok, why] = c.listing(lj, tok);
		check(`${label}: tokens --json shows it`, ok, why);
		const nh = new NativeHost(`fault-${n}-native`, shimEnv(c.fault, 'alice', trace));
		let same = false;
		let why2 = '';
		try {
			const t = await nh.request({ id: 'tok', type: 'tokens' });
			const h = await nh.request({ id: 'h', type: 'hello' });
			same = t.ok === true && isDeepStrictEqual(t.result, lj) && h.ok === true;
			why2 = short(J(t), 400);
		} catch (e) { why2 = e.message; }
		const code = await nh.close();
		check(`${label}: native tokens answers the same as tokens --json, the session goes on, exit 0 on EOF, no stray frame`,
			same && code === 0 && nh.extra.length === 0, `${why2} exit ${code}`);
	}

	// Messages: one per situation, the same for two ways into one situation.
	const fdMsgs = { 'cancelled PIN entry': cancelledMsg };
	for (const [name, other] of Object.entries(byName)) {
		const want = cliMsg[other] ?? fdMsgs[other];
		check(`fault messages: "${name}" reads as "${other}"`, want !== undefined && cliMsg[name] === want, J([cliMsg[name], want]));
	}
	const distinct = [...msgs, ...Object.entries(cliMsg).filter(([name]) => !byName[name]).map(([, m]) => m)];
	check(`fault messages: all ${distinct.length} situations (${SIGN_FAULTS.length - Object.keys(byName).length} card faults, ${msgs.length} earlier errors) read differently`,
		new Set(distinct).size === distinct.length, J(distinct));
	console.log('# fault messages:');
	for (const [name, m] of Object.entries(cliMsg)) console.log(`#   ${name}: ${m.replace(/^trustlens-host: /, '')}`);

	// Removal at every point of the run: never a crash or a hang, and only
	// "no card", "removed before the signature" or a good signature.
	const seen = new Set();
	let allClean = true;
	const bad = [];
	for (let k = 0; k <= 6; k++) {
		const r = await shimSign(`removed-after-${k}`, `slot:removed_after_${k}`);
		let kind = null;
		if (failedClean(r) && /No eID card or other token was found/.test(r.line)) kind = 'no card';
		else if (failedClean(r) && /before the signature was made/.test(r.line)) kind = 'removed';
		else if (r.res.code === 0 && r.res.signal === null && fs.existsSync(r.outFile) &&
			runSync('openssl', ['cms', '-verify', '-in', r.outFile, '-CAfile', path.join(T, 'pki/root.pem'), '-out', '/dev/null']).status === 0) kind = 'signed';
		if (kind === null || (kind !== 'signed' && !outUntouched(r, false))) { allClean = false; bad.push(`${k}: exit ${r.res.code} ${r.res.signal ?? ''} ${r.line}`); }
		seen.add(kind);
	}
	check('card removed after 0..6 slot/token queries: each run says "no card" or "removed before the signature", or signs; no crash, no hang, no partial file',
		allClean && seen.has('no card') && seen.has('removed'), `${J([...seen])} ${J(bad)}`);

	// PIN state flags in the listing (tokens --json and the text).
	for (const [flag, words] of [['pin_locked', /PIN: +LOCKED/], ['pin_final_try', /PIN: +one try left/], ['pin_count_low', /PIN: +tries were used/]]) {
		const n = ++faultRuns;
		const trace = path.join(RUN, 'host', `trace-${n}.txt`);
		const env = shimEnv(`token_info:${flag}`, 'all', trace);
		const res = await runHost(`fault-${n}-flags-${flag}`, ['tokens', '--json'], env, { limit: FAULT_LIMIT_MS });
		const r = parseJson(res.stdout.trim());
		const mine = (r?.tokens ?? []).filter((t) => t.module === SHIM);
		const others = ['pin_locked', 'pin_final_try', 'pin_count_low'].filter((x) => x !== flag);
		check(`flags: token_info:${flag}: tokens --json reports ${flag} (and only it) with its note on all five tokens`,
			res.code === 0 && mine.length === 5 && mine.every((t) => t.flags?.[flag] === true && others.every((o) => t.flags?.[o] === false) &&
				t.flags?.pin_initialized === true && (t.notes ?? []).includes(flag)), short(J(mine.map((t) => [t.flags, t.notes])), 500));
		const text = await runHost(`fault-${n}-flags-text-${flag}`, ['tokens'], env, { limit: FAULT_LIMIT_MS });
		check(`flags: token_info:${flag}: the text for people says "${words.source}" for every token`,
			text.code === 0 && (text.stdout.match(new RegExp(words.source, 'g')) || []).length === 5, short(text.stdout, 600));
	}
	const anyText = await runHost('fault-any-text', ['tokens'], shimEnv('any:CKR_GENERAL_ERROR', 'alice', path.join(RUN, 'host', 'trace-any-text.txt')), { limit: FAULT_LIMIT_MS });
	check('any:CKR_GENERAL_ERROR: the text names the failing module instead of "is the card in the reader?"',
		anyText.code === 0 && /shim-module\.so \(TRUSTLENS_PKCS11_MODULES\): loaded, failed when asked for its cards \(CKR_GENERAL_ERROR\)/.test(anyText.stdout) &&
		/A module above FAILED/.test(anyText.stdout) && !/Is the card in the reader/.test(anyText.stdout), short(anyText.stdout, 600));

	// A slow card: it signs, within the test's bound; the session of a
	// browser answers other requests meanwhile and ends on EOF.
	const slow = await shimSign('slow', 'login:hang_ms=1500,sign:hang_ms=2500');
	check('slow card (login 1.5 s, C_Sign 2.5 s): sign-mail waits for it and signs; the signature verifies',
		slow.res.code === 0 && slow.res.signal === null && /^C_Sign CKR_OK$/m.test(slow.trace) &&
		runSync('openssl', ['cms', '-verify', '-in', slow.outFile, '-CAfile', path.join(T, 'pki/root.pem'), '-out', '/dev/null']).status === 0,
		`exit ${slow.res.code} ${slow.res.signal ?? ''}: ${short(slow.res.stderr)}`);
	const nh = new NativeHost('fault-slow-native', shimEnv('token_info:hang_ms=2500', 'alice', path.join(RUN, 'host', 'trace-slow-native.txt')));
	try {
		const tp = nh.request({ id: 'slow-tok', type: 'tokens' });
		const h = await nh.request({ id: 'quick', type: 'hello' });
		const t = await tp;
		check('slow card over native messaging: hello answered while the card is busy, then tokens',
			h.ok === true && t.ok === true && (t.result?.tokens ?? []).some((x) => x.module === SHIM) && isDeepStrictEqual(nh.order, ['quick', 'slow-tok']), J(nh.order));
	} catch (e) { check('slow card over native messaging', false, e.message); }
	const slowCode = await nh.close();
	check('slow card over native messaging: exit 0 on EOF', slowCode === 0, String(slowCode));
	const nh2 = new NativeHost('fault-slow-eof', shimEnv('token_info:hang_ms=4000', 'alice', path.join(RUN, 'host', 'trace-slow-eof.txt')));
	nh2.request({ id: 'never', type: 'tokens' }).catch(() => {});
	await sleep(300);
	const eofCode = await nh2.close();
	check('slow card over native messaging: EOF while the card is busy: the host exits 0 at once (within the 5 s the runner waits), no crash',
		eofCode === 0 && !SANITIZER.test(nh2.stderr()), `${eofCode} ${short(nh2.stderr())}`);

	// Cancelled in a pinentry dialog (no terminal): a scripted user presses
	// Cancel; the host's Assuan client must read it as a cancel.
	const pe = path.join(RUN, 'pinentry-cancel.sh');
	fs.writeFileSync(pe, '#!/bin/sh\necho "OK Pleased to meet you"\nwhile IFS= read -r line; do\n  case "$line" in\n' +
		'    GETPIN*) echo "ERR 83886179 Operation cancelled <Pinentry>";;\n    BYE*) echo "OK closing connection"; exit 0;;\n    *) echo "OK";;\n  esac\ndone\n', { mode: 0o755 });
	const pc = await shimSign('pinentry-cancel', '', { pin: null, detached: true, extraEnv: { PINENTRY_PROGRAM: pe } });
	check('pinentry Cancel (no terminal): exit 3, "PIN entry was cancelled", as the other cancel, no login tried, no file',
		failedClean(pc) && pc.line === cancelledMsg && !/^C_Login /m.test(pc.trace) && outUntouched(pc, false), `${pc.res.code}: ${short(pc.res.stderr)}`);

	// A pinentry that gives the PIN and counts how often it was asked: once
	// for a signature, and still once when the card fails the signature
	// (pkcs11-helper then logs in afresh; no second prompt may follow).
	const asked = path.join(RUN, 'pinentry-asked.txt');
	const pg = path.join(RUN, 'pinentry-give.sh');
	fs.writeFileSync(pg, `#!/bin/sh\necho "OK Pleased to meet you"\nwhile IFS= read -r line; do\n  case "$line" in\n` +
		`    GETPIN*) echo GETPIN >> '${asked}'; echo "D ${CARDS.pin}"; echo OK;;\n    BYE*) echo "OK closing connection"; exit 0;;\n    *) echo "OK";;\n  esac\ndone\n`, { mode: 0o755 });
	const timesAsked = () => (fs.existsSync(asked) ? fs.readFileSync(asked, 'utf8').split('\n').filter(Boolean).length : 0);
	const pgOk = await shimSign('pinentry-give', '', { pin: null, detached: true, extraEnv: { PINENTRY_PROGRAM: pg } });
	check('pinentry gives the PIN (no terminal): signed, the PIN asked once',
		pgOk.res.code === 0 && fs.existsSync(pgOk.outFile) && timesAsked() === 1, `${pgOk.res.code} asked ${timesAsked()}: ${short(pgOk.res.stderr)}`);
	fs.rmSync(asked, { force: true });
	const pgRm = await shimSign('pinentry-removed', 'sign:CKR_DEVICE_REMOVED', { pin: null, detached: true, sentinel: true, extraEnv: { PINENTRY_PROGRAM: pg } });
	check('pinentry, card removed during the signature: the removal reported, the PIN asked once (no second prompt)',
		failedClean(pgRm) && pgRm.line === cliMsg['card removed during the signature (C_Sign: CKR_DEVICE_REMOVED)'] && timesAsked() === 1 && outUntouched(pgRm, true),
		`${pgRm.res.code} asked ${timesAsked()}: ${short(pgRm.res.stderr)}`);

	// The same faults under the ASan+UBSan host: same answers, no report.
	if (ASAN_HOST === null) {
		console.log(`# ${ASAN_BUILT} is not built: the ASan runs of the fault cases are left out (make build/asan/trustlens-host)`);
		return;
	}
	for (const c of SIGN_FAULTS) {
		const r = await shimSign('asan', c.fault, { sentinel: c.sentinel, host: ASAN_HOST });
		check(`asan: fault ${c.name}: same exit and message as the release host, no sanitizer report, file untouched`,
			failedClean(r) && r.line === cliMsg[c.name] && !SANITIZER.test(r.res.stderr) && outUntouched(r, c.sentinel), `exit ${r.res.code} ${r.res.signal ?? ''}: ${short(r.res.stderr, 600)}`);
	}
	// Leak checking is on for these sessions too: a worker frees its OpenSSL
	// thread state (the per-thread DRBG that SoftHSM's C_Initialize creates)
	// before it reports itself done (host/server.c), so an exit right after
	// the session cannot leave it behind.
	for (const fault of ['any:CKR_GENERAL_ERROR', 'find:CKR_DEVICE_ERROR', 'slot:removed_after_3', 'token_info:pin_locked']) {
		const a = new NativeHost(`asan-native-${fault.replace(/\W/g, '_')}`, shimEnv(fault, 'all', path.join(RUN, 'host', `trace-asan-${fault.replace(/\W/g, '_')}.txt`),
			{ ASAN_OPTIONS: 'detect_leaks=1' }), ASAN_HOST);
		let ok = false;
		try { ok = (await a.request({ id: 1, type: 'tokens' })).ok === true && (await a.request({ id: 2, type: 'tokens' })).ok === true; } catch { ok = false; }
		const code = await a.close();
		check(`asan: native tokens twice under ${fault}: answered, exit 0, no sanitizer report`, ok && code === 0 && !SANITIZER.test(a.stderr()), `${code} ${short(a.stderr(), 600)}`);
	}
	const as = await shimSign('asan-slow', 'sign:hang_ms=1000', { host: ASAN_HOST });
	check('asan: slow card signs, no sanitizer report', as.res.code === 0 && !SANITIZER.test(as.res.stderr), short(as.res.stderr, 600));
}

async function main() {
	let env0;
	let srv;
	try {
		srv = await setup();
	} catch (e) {
		check('set-up (tokens, PKI, OCSP responder, CRL server)', false, e.message);
		await cleanup();
		return finish();
	}
	check('set-up (tokens, PKI, OCSP responder, CRL server)', true);

	// 1. The listing, CLI.
	env0 = hostEnv();
	const t0 = Date.now();
	const list = await runHost('tokens-json', ['tokens', '--json'], env0);
	const t1 = Date.now();
	const listing = checkListing(list, t0, t1);
	const ocspLog = fs.readFileSync(srv.ocspLogFile, 'utf8');
	// One request is the runner's own readiness probe.
	check('revocation: the OCSP responder was asked by the host', (ocspLog.match(/OCSP Request Data/g) || []).length >= 2 && listing !== null, short(ocspLog));
	check('revocation: the CRL server was asked for the Citizen CA CRL', srv.crlLog.some((l) => l === 'GET /citizen-ca.crl'), J(srv.crlLog));

	// 2. The text for people.
	const text = await runHost('tokens-text', ['tokens'], hostEnv({ TRUSTLENS_STATE_DIR: env0.TRUSTLENS_STATE_DIR }));
	check('tokens (text): exit 0, names the cards, holders and notes',
		text.code === 0 && /Belgian eID card/.test(text.stdout) && text.stdout.includes('Alice Marie Peeters') &&
		text.stdout.includes('Noah Janssens') && /no signature certificate/.test(text.stdout) && /REVOKED/.test(text.stdout) &&
		/expires within 30 days/.test(text.stdout) && text.stdout.includes('EMPTY TOKEN'), short(text.stdout, 800));

	// 3. Native messaging: a module printing on stdout, lazy loading, same result as the CLI.
	const fake = path.join(RUN, 'fake-module.so');
	const envFake = hostEnv({ TRUSTLENS_PKCS11_MODULES: `${fake}:${SOFTHSM}` });
	const nh = new NativeHost('native-fake-module', envFake);
	try {
		const hello = await nh.request({ id: 1, type: 'hello' });
		check('native: hello answered', hello.ok === true && hello.result?.capabilities?.includes('tokens'), J(hello));
		await sleep(100);
		check('native: no module loaded at start-up (lazy)', !nh.stderr().includes('FAKE-PKCS11-MODULE'), short(nh.stderr()));
		const tok = await nh.request({ id: 'tok-1', type: 'tokens' });
		check('native: tokens answered through a module that prints on stdout', tok.ok === true && Array.isArray(tok.result?.tokens), short(J(tok)));
		check('native: the module did run (its bytes went to stderr)', /ctor:FAKE-PKCS11-MODULE/.test(nh.stderr()) && /raw:FAKE-PKCS11-MODULE/.test(nh.stderr()) && /init:FAKE-PKCS11-MODULE/.test(nh.stderr()), short(nh.stderr()));
		const fm = tok.result?.modules?.[0];
		check('native: the fake module is listed, loaded, without tokens', fm?.path === fake && fm?.loaded === true && !(tok.result?.tokens ?? []).some((t) => t.module === fake), J(fm));
		const tok2 = await nh.request({ id: 'tok-2', type: 'tokens' });
		const hello2 = await nh.request({ id: 2, type: 'hello' });
		check('native: the session goes on (tokens again, hello)', tok2.ok === true && hello2.ok === true, short(J([tok2, hello2])));
		const sign = await nh.request({ id: 3, type: 'sign' });
		check('native: no sign request over the protocol', sign.ok === false && sign.error?.code === 'unknown_type', J(sign));
		check('native: no stray bytes, no unmatched frame', nh.extra.length === 0, J(nh.extra));
		const cli = await runHost('tokens-json-fake', ['tokens', '--json'], { ...envFake });
		const cliJson = parseJson(cli.stdout.trim());
		check('CLI: tokens --json stays one clean JSON line with the printing module', cli.code === 0 && cliJson !== undefined && cli.stdout.trim().split('\n').length === 1 && /FAKE-PKCS11-MODULE/.test(cli.stderr), short(cli.stdout));
		check('native: tokens over the protocol equals tokens --json', isDeepStrictEqual(tok.result, cliJson), 'results differ');
	} catch (e) {
		check('native session', false, e.message);
	}
	const code = await nh.close();
	check('native: exit 0 on EOF', code === 0, String(code));

	// 4. sign-mail.
	const plain = 'From: Alice Peeters <alice@example.be>\nTo: Jan <jan@example.be>\nSubject: Invoice 2026-117\nMessage-ID: <p11-1@example.be>\n\nHello Jan,\n\nPlease pay invoice 2026-117.\n\nAlice\n';
	fs.writeFileSync(path.join(RUN, 'plain.in.eml'), plain);
	const rsa = await signCase('rsa', { card: 'alice', storeName: 'alice', input: plain, expectMicalg: 'sha-256', expectSigAlg: 'sha256WithRSAEncryption', expectName: 'Alice Marie Peeters' });
	if (rsa) {
		check('sign-mail rsa: verdict trusted (revocation good through OCSP)', rsa.verdict?.verdict === 'trusted', J(rsa.verdict?.reasons));
		check('sign-mail rsa: the outer fields stay outside, Date added', /^From: Alice Peeters/m.test(rsa.eml.toString()) && /^Date: /m.test(rsa.eml.toString()) && !/^From:/m.test(rsa.part.toString()), 'headers');
		check('sign-mail rsa: the body signed as CRLF text', rsa.part.toString().endsWith('\r\nHello Jan,\r\n\r\nPlease pay invoice 2026-117.\r\n\r\nAlice\r\n'), J(rsa.part.toString().slice(-80)));
	}
	const ecInput = plain.replace('p11-1@', 'p11-2@').replace(/Alice Peeters <alice@/, 'Lotte Claes <lotte@');
	await signCase('p384', { card: 'lotte', storeName: 'all', args: ['--token', CARDS.cards.lotte.serial], input: ecInput, expectMicalg: 'sha-384', expectSigAlg: 'ecdsa-with-SHA384', expectName: 'Lotte Claes' });
	const auth = await signCase('authentication', { card: 'alice', storeName: 'alice', args: ['--cert', 'Authentication'], input: plain.replace('p11-1@', 'p11-3@'), expectMicalg: 'sha-256', expectSigAlg: 'sha256WithRSAEncryption', expectName: 'Alice Marie Peeters' });
	if (auth) {
		const sha = opensslSha256(path.join(T, 'pki/alice-authentication.pem'));
		check('sign-mail authentication: signed with the Authentication certificate', auth.verdict?.signer?.cert_sha256 === sha, auth.verdict?.signer?.cert_sha256);
	}
	const eight = 'From: Alice <alice@example.be>\nSubject: caf\u00e9\nMessage-ID: <p11-4@example.be>\nContent-Type: text/plain; charset=utf-8\n\nCaf\u00e9 cr\u00e8me, 3 \u20ac\n';
	const e8 = await signCase('8bit', { card: 'alice', storeName: 'alice', input: Buffer.from(eight, 'utf8'), expectMicalg: 'sha-256', expectSigAlg: 'sha256WithRSAEncryption', expectName: 'Alice Marie Peeters' });
	if (e8) {
		const [h, b] = e8.part.toString('latin1').split('\r\n\r\n');
		check('sign-mail 8bit: 8-bit text base64-encoded, CRLF inside', /Content-Transfer-Encoding: base64/.test(h) && /charset=utf-8/.test(h) &&
			Buffer.from(b.replace(/\r\n/g, ''), 'base64').toString('utf8') === 'Caf\u00e9 cr\u00e8me, 3 \u20ac\r\n', short(h));
	}

	// 5. Errors: each a distinct token_error.
	const msgs = [];
	msgs.push(await errorCase('wrong PIN', { storeName: 'alice', pin: '000000\n', expect: /Wrong PIN/ }));
	msgs.push(await errorCase('cancelled PIN entry', { storeName: 'alice', pin: '', expect: /cancelled/ }));
	msgs.push(await errorCase('no token', { storeName: 'none', expect: /No eID card or other token was found/ }));
	msgs.push(await errorCase('module path that does not exist', { storeName: 'alice', modules: path.join(RUN, 'no-such-module.so'), expect: /does not exist/ }));
	msgs.push(await errorCase('card without a signature certificate', { storeName: 'noah', expect: /no signature certificate/ }));
	msgs.push(await errorCase('several cards', { storeName: 'all', expect: /Several tokens/ }));
	msgs.push(await errorCase('unknown --token', { storeName: 'all', args: ['--token', 'NOSUCHCARD'], expect: /No token with the label or serial/ }));
	check('sign-mail errors: every message distinct', new Set(msgs).size === msgs.length, J(msgs));

	// 6. Card faults through the shim module, release host then ASan host.
	await shimCases(msgs, msgs[1]);   // msgs[1]: the cancelled PIN entry's
	const usage = await runHost('usage', ['sign-mail', '--in', path.join(RUN, 'plain.in.eml')], hostEnv());
	check('sign-mail without --out: usage, exit 2', usage.code === 2 && /usage: trustlens-host sign-mail/.test(usage.stderr), short(usage.stderr));
	const missing = await runHost('tokens-missing-module', ['tokens', '--json'], hostEnv({ TRUSTLENS_PKCS11_MODULES: path.join(RUN, 'no-such-module.so') }));
	const mj = parseJson(missing.stdout);
	check('tokens with a module path that does not exist: a line in modules, not a failure', missing.code === 0 && mj?.modules?.[0]?.found === false &&
		mj?.modules?.[0]?.loaded === false && typeof mj?.modules?.[0]?.error === 'string', short(missing.stdout));

	// 7. Privacy: no national register number, no PIN, anywhere the host wrote
	// (the shim's call traces included).
	for (const f of fs.readdirSync(path.join(RUN, 'host'))) outputs.push(fs.readFileSync(path.join(RUN, 'host', f), 'utf8'));
	const all = outputs.join('\n');
	const rrns = fs.readFileSync(path.join(T, 'rrn.txt'), 'utf8').split('\n').filter(Boolean);
	const leaked = rrns.filter((n) => all.includes(n));
	check(`privacy: none of the ${rrns.length} national register numbers in any output or log`, leaked.length === 0 && rrns.length === 4, J(leaked));
	check('privacy: no "serialNumber" in any output', !/serialNumber/.test(all), 'found');
	check('privacy: the PIN in no output or log', !all.includes(CARDS.pin), 'found');

	await cleanup();
	finish();
}

main().catch(async (e) => { failed++; console.log(`FAIL runner: ${e.stack}`); await cleanup(); finish(); });
