#!/usr/bin/env node
// Mail-signature integration suite: the messages and the test eID / S/MIME
// PKI of tests/mailpki/make-mailpki.sh, a real `openssl ocsp` responder (under
// libfaketime), a local HTTP server for CRLs and CA certificates, and the real
// host (build/trustlens-host) through its CLI (`mail FILE --json`) and through
// native messaging.
//
//   node tests/integration/mail/run.mjs [--filter REGEX] [--keep] [--host PATH]
//                                       [--pki DIR] [--jobs N]
//
// Prints one line per test (`ok NAME` / `FAIL NAME: ...`) and ends with one
// line `N passed, N failed`; exits 1 on any failure. Every process it starts
// is recorded and stopped by PID (also on failure, timeout and SIGINT). The
// run folder tests/out/integration/mail-*/ (messages of the failed tests,
// verdicts, host logs and stderr, state directories, server logs) is kept
// when something failed, or with --keep.
//
// Expectations: expected.json beside this file. Node built-ins only.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const NOW = '2026-06-01T00:00:00Z';
const ORIGIN = 'chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/';
// make check-valgrind runs the host ~20x slower: TRUSTLENS_TEST_SLOW
// stretches the two bounds below (never the host's own configured timeouts).
const SLOW = Math.max(1, Number(process.env.TRUSTLENS_TEST_SLOW) || 1);
const HOST_RUN_LIMIT_MS = 30000 * SLOW; // a host run longer than this is killed
const WATCHDOG_MS = 240000 * SLOW;    // whole suite (the first PKI build included)
const DEFAULT_OCSP_PORT = 18890;
const DEFAULT_HTTP_PORT = 18891;
const MAIL_MAX = 48 * 1024 * 1024;    // the largest mail_max_bytes the host accepts

const REASON_CODES = new Set([
	'no_signer', 'several_signers', 'econtent_and_detached', 'weak_digest', 'weak_signature',
	'no_signed_attributes', 'bad_signed_attributes', 'digest_mismatch', 'bad_signature', 'unparseable',
	'no_content', 'malformed_mime', 'unsigned', 'unsupported', 'from_mismatch', 'several_from',
	'sender_differs', 'address_not_certified', 'signer_untrusted', 'invalid_at_signing',
	'certificate_expired_since', 'revoked', 'revoked_since', 'revocation_unknown', 'signing_time_differs',
	'partial_coverage', 'signature_in_attachment_only', 'unsigned_usually_signed', 'signer_changed',
]);
const DANGER_REASONS = ['from_mismatch', 'several_from', 'sender_differs', 'revoked', 'invalid_at_signing',
	'unsigned_usually_signed', 'signer_changed'];

// ------------------------------------------------------------------ options
function parseArgs(argv) {
	const o = { filter: null, keep: false, host: null, pki: null, jobs: 4 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--filter') o.filter = new RegExp(argv[++i]);
		else if (a === '--keep') o.keep = true;
		else if (a === '--host') o.host = path.resolve(argv[++i]);
		else if (a === '--pki') o.pki = path.resolve(argv[++i]);
		else if (a === '--jobs') o.jobs = Math.max(1, parseInt(argv[++i], 10) || 1);
		else if (a === '--help' || a === '-h') {
			console.log('usage: run.mjs [--filter REGEX] [--keep] [--host PATH] [--pki DIR] [--jobs N]');
			process.exit(0);
		} else {
			console.error(`run.mjs: unknown argument ${a}`);
			process.exit(2);
		}
	}
	return o;
}
const opt = parseArgs(process.argv.slice(2));
const HOST_BIN = opt.host || process.env.TRUSTLENS_HOST_BIN || path.join(ROOT, 'build/trustlens-host');

// Old evidence folders: keep the 5 newest (and anything from the last 10 minutes).
try {
	const base = path.join(ROOT, 'tests/out/integration');
	const olds = fs.readdirSync(base).filter((d) => /^mail-\d{8}T\d{6}-\d+$/.test(d))
		.map((d) => ({ d, t: fs.statSync(path.join(base, d)).mtimeMs })).sort((a, b) => b.t - a.t);
	for (const { d, t } of olds.slice(5)) {
		if (Date.now() - t > 600000) fs.rmSync(path.join(base, d), { recursive: true, force: true });
	}
} catch { /* nothing to prune */ }

const stampNow = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const RUN = path.join(ROOT, 'tests/out/integration', `mail-${stampNow}-${process.pid}`);
for (const d of ['servers', 'host-logs', 'host-stderr', 'config', 'state', 'verdicts', 'messages', 'generated']) {
	fs.mkdirSync(path.join(RUN, d), { recursive: true });
}

// ------------------------------------------------------------------ results
let passed = 0;
let failed = 0;
const failures = [];
function ok(name) {
	passed++;
	console.log(`ok ${name}`);
}
function fail(name, msg) {
	failed++;
	failures.push(name);
	console.log(`FAIL ${name}: ${msg}`);
}
// Checks TRUSTLENS_TEST_SKIP_FILE lists ("NAME reason" lines: check-valgrind)
// are announced and not run.
const SKIP = new Map((process.env.TRUSTLENS_TEST_SKIP_FILE ?
	fs.readFileSync(process.env.TRUSTLENS_TEST_SKIP_FILE, 'utf8').split('\n') : [])
	.filter((l) => l && !l.startsWith('#')).map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
function selected(name) {
	if (SKIP.has(name)) {
		console.log(`skip ${name}: ${SKIP.get(name)}`);
		return false;
	}
	return !opt.filter || opt.filter.test(name);
}
const short = (s, n = 300) => {
	s = String(s ?? '').replace(/\s+/g, ' ').trim();
	return s.length > n ? s.slice(0, n) + '...' : s;
};
const J = (v) => (v === undefined ? 'absent' : JSON.stringify(v));
const safeName = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ processes
const children = new Map(); // pid -> { name, proc }

function startChild(name, cmd, args, { env, cwd, log } = {}) {
	const fd = log ? fs.openSync(log, 'a') : 'ignore';
	const proc = spawn(cmd, args, { env: env || process.env, cwd, stdio: ['ignore', fd, fd] });
	if (typeof fd === 'number') fs.closeSync(fd);
	const rec = { name, proc, exited: false, code: null };
	proc.on('exit', (code, sig) => {
		rec.exited = true;
		rec.code = code ?? sig;
		children.delete(proc.pid);
	});
	proc.on('error', (e) => {
		rec.exited = true;
		rec.code = String(e.message);
	});
	if (proc.pid) children.set(proc.pid, rec);
	return rec;
}

async function stopChild(rec, graceMs = 1500) {
	if (!rec || rec.exited || !rec.proc.pid) return;
	const done = new Promise((r) => rec.proc.once('exit', r));
	try { process.kill(rec.proc.pid, 'SIGTERM'); } catch { return; }
	const t = setTimeout(() => { try { process.kill(rec.proc.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
	await Promise.race([done, sleep(graceMs + 1000)]);
	clearTimeout(t);
}

const inProcessServers = [];
let cleaning = null;
async function cleanup() {
	if (cleaning) return cleaning;
	cleaning = (async () => {
		await Promise.all([...children.values()].map((r) => stopChild(r)));
		for (const s of inProcessServers) {
			try { s.closeAll?.(); s.server.close(); } catch { /* closed */ }
		}
	})();
	return cleaning;
}
process.on('exit', () => {
	for (const pid of children.keys()) {
		try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
	}
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, async () => {
		console.log(`FAIL interrupted: ${sig}`);
		failed++;
		await cleanup();
		finish(130);
	});
}

// ------------------------------------------------------------------ network helpers
function portFree(host, port) {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once('error', () => resolve(false));
		s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
	});
}

async function randomFreePort(hosts) {
	for (let i = 0; i < 200; i++) {
		const p = 20000 + crypto.randomInt(25000);
		let free = true;
		for (const h of hosts) if (!(await portFree(h, p))) { free = false; break; }
		if (free) return p;
	}
	throw new Error('no free port found');
}

function httpRequest(url, { method = 'GET', body = null, type = null, ms = 3000 } = {}) {
	return new Promise((resolve, reject) => {
		const u = new URL(url);
		const headers = { Connection: 'close' };
		if (body) { headers['Content-Type'] = type; headers['Content-Length'] = body.length; }
		const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, headers }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
		});
		req.on('error', reject);
		req.setTimeout(ms, () => req.destroy(new Error('timeout')));
		req.end(body || undefined);
	});
}

// ------------------------------------------------------------------ PKI and messages
function faketimeLib() {
	for (const d of ['/usr/lib', '/usr/lib64']) {
		let entries = [];
		try { entries = fs.readdirSync(d); } catch { continue; }
		for (const e of ['', ...entries]) {
			const f = path.join(d, e, 'faketime', 'libfaketime.so.1');
			if (fs.existsSync(f)) return f;
		}
	}
	return null;
}

async function preparePki(forcePrivate = false) {
	const env = { ...process.env };
	let dir = opt.pki || process.env.MAILPKI_DIR || path.join(ROOT, 'build/mailpki');
	let note = '';
	if (forcePrivate || (!env.MAILPKI_OCSP_URL_BASE && !env.MAILPKI_HTTP_URL_BASE)) {
		// The default URL bases are baked into build/mailpki; when their ports
		// are taken (a parallel run), make a private PKI with other ports.
		const free = !forcePrivate &&
			(await portFree('::', DEFAULT_OCSP_PORT) || await portFree('0.0.0.0', DEFAULT_OCSP_PORT)) &&
			await portFree('127.0.0.1', DEFAULT_HTTP_PORT);
		if (!free) {
			const p1 = await randomFreePort(['::', '127.0.0.1']);
			let p2 = await randomFreePort(['127.0.0.1']);
			if (p2 === p1) p2 = await randomFreePort(['127.0.0.1']);
			env.MAILPKI_OCSP_URL_BASE = `http://127.0.0.1:${p1}`;
			env.MAILPKI_HTTP_URL_BASE = `http://127.0.0.1:${p2}`;
			dir = path.join(RUN, 'pki');
			note = ` (OCSP/HTTP ports of the shared PKI busy: private PKI with ports ${p1}/${p2})`;
		} else {
			delete env.MAILPKI_OCSP_URL_BASE;
			delete env.MAILPKI_HTTP_URL_BASE;
		}
	}
	const t0 = Date.now();
	const r = spawnSync('bash', [path.join(ROOT, 'tests/mailpki/make-mailpki.sh'), dir], { env, stdio: ['ignore', 'inherit', 'pipe'] });
	if (r.status !== 0) throw new Error(`make-mailpki.sh failed: ${short(r.stderr, 2000)}`);
	if (Date.now() - t0 > 2000) console.log(`#   mail test PKI and messages built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dir})`);
	const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
	const mail = JSON.parse(fs.readFileSync(path.join(dir, 'mail', 'cases.json'), 'utf8'));
	if (note) console.error(`mail: test PKI in ${dir}${note}`);
	return { dir, cases, mail: mail.messages, private: Boolean(note) };
}

// ------------------------------------------------------------------ servers
function httpFileServer(baseUrl, dir, logFile) {
	const u = new URL(baseUrl);
	const log = (m) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${m}\n`);
	const stats = { requests: [] };
	const server = http.createServer((req, res) => {
		const name = path.basename(decodeURIComponent(req.url.split('?')[0]));
		const f = path.join(dir, name);
		stats.requests.push(req.url);
		if (req.method === 'GET' && /\.(crl|crt)$/.test(name) && fs.existsSync(f)) {
			const body = fs.readFileSync(f);
			log(`${req.method} ${req.url} 200 ${body.length}`);
			res.writeHead(200, {
				'Content-Type': name.endsWith('.crl') ? 'application/pkix-crl' : 'application/pkix-cert',
				'Content-Length': body.length,
			});
			res.end(body);
		} else {
			log(`${req.method} ${req.url} 404`);
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('not found\n');
		}
	});
	const rec = { server, stats, host: u.hostname, port: Number(u.port || 80) };
	inProcessServers.push(rec);
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen({ host: u.hostname, port: rec.port, exclusive: true }, () => resolve(rec));
	});
}

let ocsp = null; // { rec, url, port, probe }
async function startOcsp(pki) {
	const r = pki.cases.ocsp_responder;
	const lib = faketimeLib();
	if (!lib) throw new Error('libfaketime not found (Debian package faketime, installers/deps-debian.sh)');
	const u = new URL(r.url);
	const env = { ...process.env, LD_PRELOAD: lib, FAKETIME: r.faketime, FAKETIME_DONT_RESET: '1', TZ: 'UTC' };
	const args = ['ocsp', '-index', r.index, '-port', String(u.port), '-rsigner', r.rsigner, '-rkey', r.rkey,
		'-CA', r.ca_cert, '-ndays', String(r.ndays), '-ignore_err'];
	const rec = startChild('openssl ocsp responder', 'openssl', args,
		{ env, cwd: pki.dir, log: path.join(RUN, 'servers', 'ocsp-responder.log') });
	const probe = fs.readFileSync(path.join(pki.dir, r.probe_request));
	ocsp = { rec, url: r.url, port: Number(u.port), probe };
	// Ready when it answers a real request (a bare TCP probe makes it spin).
	const end = Date.now() + 10000;
	for (;;) {
		if (rec.exited) throw new Error(`openssl ocsp exited (${rec.code}); see servers/ocsp-responder.log`);
		try {
			const res = await httpRequest(r.url, { method: 'POST', body: probe, type: 'application/ocsp-request' });
			if (res.status === 200 && res.body.length > 0) {
				await sleep(150);
				if (rec.exited) throw new Error(`openssl ocsp exited (${rec.code}): port ${u.port} in use?`);
				return;
			}
		} catch (e) {
			if (rec.exited) throw e;
		}
		if (Date.now() > end) throw new Error('openssl ocsp responder did not answer within 10 s');
		await sleep(100);
	}
}

async function ocspHealthy(pki) {
	try {
		const res = await httpRequest(ocsp.url, { method: 'POST', body: ocsp.probe, type: 'application/ocsp-request' });
		if (res.status === 200 && res.body.length > 0) return true;
	} catch { /* restart below */ }
	fs.appendFileSync(path.join(RUN, 'servers', 'ocsp-responder.log'), '--- runner: responder unhealthy, restarting\n');
	await stopChild(ocsp.rec);
	await startOcsp(pki);
	return false;
}

// ------------------------------------------------------------------ the host
let PKI = null;
let ALLOWED_PORTS = [];
const stateDirs = [];

function hostEnv({ name, config = {}, stateDir = null, eidRoots = null }) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (k.startsWith('TRUSTLENS_') || /^(https?|all|no|ftp)_proxy$/i.test(k)) continue;
		env[k] = v;
	}
	const safe = safeName(name);
	env.TRUSTLENS_EID_ROOTS = path.join(PKI.dir, eidRoots === 'with-testcards' ? PKI.cases.eid_roots_with_testcards : PKI.cases.eid_roots);
	env.TRUSTLENS_SMIME_CA_FILE = path.join(PKI.dir, PKI.cases.smime_ca_file);
	env.TRUSTLENS_ALLOW_PRIVATE = '1';
	env.TRUSTLENS_NOW = NOW;
	if (!stateDir) {
		stateDir = fs.mkdtempSync(path.join(RUN, 'state', `${safe}-`));
		stateDirs.push(stateDir);
	}
	env.TRUSTLENS_STATE_DIR = stateDir;
	const cfgFile = path.join(RUN, 'config', `${safe}.json`);
	fs.writeFileSync(cfgFile, JSON.stringify({ allowed_ports: ALLOWED_PORTS, ...config }, null, 1) + '\n');
	env.TRUSTLENS_CONFIG = cfgFile;
	env.TRUSTLENS_LOG = path.join(RUN, 'host-logs', `${safe}.log`);
	return env;
}

function newStateDir(name) {
	const d = fs.mkdtempSync(path.join(RUN, 'state', `${safeName(name)}-`));
	stateDirs.push(d);
	return d;
}

// Runs the host once. killAfterMs: SIGKILL it after that long (sigkill test).
let hostRuns = 0;
function runHost(name, args, env, { limitMs = HOST_RUN_LIMIT_MS, killAfterMs = null, quiet = false } = {}) {
	hostRuns++;
	return new Promise((resolve) => {
		const t0 = Date.now();
		const proc = spawn(HOST_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
		const rec = { name: `host ${name}`, proc, exited: false };
		if (proc.pid) children.set(proc.pid, rec);
		const out = [];
		const err = [];
		proc.stdout.on('data', (d) => out.push(d));
		proc.stderr.on('data', (d) => err.push(d));
		let killed = false;
		let sigkilled = false;
		const t = setTimeout(() => { killed = true; try { proc.kill('SIGKILL'); } catch { /* gone */ } }, limitMs);
		const tk = killAfterMs === null ? null
			: setTimeout(() => { sigkilled = true; try { proc.kill('SIGKILL'); } catch { /* gone */ } }, killAfterMs);
		const finishRun = (code, signal, spawnError) => {
			clearTimeout(t);
			if (tk) clearTimeout(tk);
			rec.exited = true;
			children.delete(proc.pid);
			const stdout = Buffer.concat(out).toString('utf8');
			const stderr = Buffer.concat(err).toString('utf8');
			checkSanitizers(name, stderr);
			if (!quiet || stderr) {
				fs.writeFileSync(path.join(RUN, 'host-stderr', `${safeName(name)}.txt`),
					`$ ${HOST_BIN} ${args.join(' ')}\nexit ${code} signal ${signal}${killed ? ' (killed: too slow)' : ''}${sigkilled ? ' (SIGKILL by the test)' : ''}\n--- stdout\n${stdout.length > 20000 ? stdout.slice(0, 20000) + '...' : stdout}\n--- stderr\n${stderr}`);
			}
			resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, killed, sigkilled, spawnError });
		};
		proc.on('error', (e) => finishRun(null, null, e.message));
		proc.on('close', (code, signal) => finishRun(code, signal));
	});
}

const sanitizerHits = [];
function checkSanitizers(name, stderr) {
	if (/ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:/.test(stderr)) sanitizerHits.push(name);
}

function parseJson(s) {
	try { return JSON.parse(s); } catch { return undefined; }
}

// Native-messaging client for one long-lived host process.
class NativeHost {
	constructor(name, env) {
		this.name = name;
		this.proc = spawn(HOST_BIN, [ORIGIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
		this.rec = { name: `host ${name}`, proc: this.proc, exited: false };
		if (this.proc.pid) children.set(this.proc.pid, this.rec);
		this.buf = Buffer.alloc(0);
		this.pending = new Map();
		this.extra = [];
		this.stderr = [];
		this.exit = new Promise((r) => this.proc.on('close', (code, sig) => {
			this.rec.exited = true;
			children.delete(this.proc.pid);
			for (const [, p] of this.pending) p.reject(new Error(`host exited (${code ?? sig}) before replying`));
			this.pending.clear();
			r(code ?? sig);
		}));
		this.proc.on('error', (e) => { for (const [, p] of this.pending) p.reject(e); });
		this.proc.stdin.on('error', () => { /* host gone: reported by the pending replies */ });
		this.proc.stderr.on('data', (d) => this.stderr.push(d));
		this.proc.stdout.on('data', (d) => this.onData(d));
	}

	onData(d) {
		this.buf = Buffer.concat([this.buf, d]);
		for (;;) {
			if (this.buf.length < 4) return;
			const n = os.endianness() === 'LE' ? this.buf.readUInt32LE(0) : this.buf.readUInt32BE(0);
			if (this.buf.length < 4 + n) return;
			const text = this.buf.subarray(4, 4 + n).toString('utf8');
			this.buf = this.buf.subarray(4 + n);
			const msg = parseJson(text);
			const p = msg && this.pending.get(msg.id);
			if (p) {
				this.pending.delete(msg.id);
				p.resolve({ msg, text, at: Date.now() });
			} else {
				this.extra.push(text);
			}
		}
	}

	request(obj, limitMs = HOST_RUN_LIMIT_MS) {
		const body = Buffer.from(JSON.stringify(obj), 'utf8');
		const len = Buffer.alloc(4);
		if (os.endianness() === 'LE') len.writeUInt32LE(body.length); else len.writeUInt32BE(body.length);
		return new Promise((resolve, reject) => {
			const t = setTimeout(() => {
				this.pending.delete(obj.id);
				reject(new Error(`no reply to id ${JSON.stringify(obj.id)} within ${limitMs} ms`));
			}, limitMs);
			this.pending.set(obj.id, {
				resolve: (v) => { clearTimeout(t); resolve(v); },
				reject: (e) => { clearTimeout(t); reject(e); },
			});
			this.proc.stdin.write(Buffer.concat([len, body]));
		});
	}

	async close() {
		try { this.proc.stdin.end(); } catch { /* gone */ }
		const code = await Promise.race([this.exit, sleep(5000).then(() => 'still running 5 s after EOF')]);
		if (!this.rec.exited) await stopChild(this.rec);
		checkSanitizers(this.name, Buffer.concat(this.stderr).toString('utf8'));
		fs.writeFileSync(path.join(RUN, 'host-stderr', `${safeName(this.name)}.txt`),
			`$ ${HOST_BIN} ${ORIGIN} (native messaging)\nexit ${code}\n--- unmatched frames\n${this.extra.join('\n')}\n--- stderr\n${Buffer.concat(this.stderr).toString('utf8')}`);
		return code;
	}
}

// ------------------------------------------------------------------ comparing verdicts
let EXPECTED = null;

function canonical(v) {
	if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
	if (v && typeof v === 'object') {
		return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
	}
	return JSON.stringify(v);
}

function diffObjects(a, b, prefix = '', la = 'cli', lb = 'protocol') {
	const out = [];
	const keys = new Set([...Object.keys(a || {}), ...Object.keys(b || {})]);
	for (const k of [...keys].sort()) {
		const x = a?.[k];
		const y = b?.[k];
		if (canonical(x) === canonical(y)) continue;
		if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) {
			out.push(...diffObjects(x, y, `${prefix}${k}.`, la, lb));
		} else {
			out.push(`${prefix}${k}: ${la} ${short(J(x), 200)}, ${lb} ${short(J(y), 200)}`);
		}
	}
	return out;
}

// Does `actual` satisfy `want` (a plain value, or {"one_of": [...]})?
function matches(want, actual) {
	if (want && typeof want === 'object' && !Array.isArray(want) && Array.isArray(want.one_of)) {
		return want.one_of.some((w) => canonical(w) === canonical(actual));
	}
	return canonical(want) === canonical(actual);
}
const showWant = (w) => (w && typeof w === 'object' && Array.isArray(w.one_of) ? `one of ${J(w.one_of)}` : J(w));

function checkSigner(want, act, label) {
	const bad = [];
	let prof = want;
	let sha = null;
	if (typeof want === 'string') {
		prof = EXPECTED.signers[want];
		if (!prof) return [`${label}: expected.json names an unknown signer "${want}"`];
		if (want === 'realcard') sha = PKI.cases.testcard_signing_sha256;
		else if (PKI.cases.leaves[want]) sha = PKI.cases.leaves[want].sha256;
	}
	if (act === null || typeof act !== 'object' || Array.isArray(act)) {
		return [`${label}: expected ${typeof want === 'string' ? want + "'s certificate" : J(want)}, actual ${J(act)}`];
	}
	for (const [k, v] of Object.entries(prof)) {
		const av = act[k];
		if (v === null) {
			if (av !== null && av !== undefined) bad.push(`${label}.${k}: expected absent or null, actual ${J(av)}`);
		} else if (!matches(v, av)) {
			bad.push(`${label}.${k}: expected ${showWant(v)}, actual ${J(av)}`);
		}
	}
	if (sha && act.cert_sha256 !== sha) {
		bad.push(`${label}.cert_sha256: expected ${sha} (${want}), actual ${J(act.cert_sha256)}`);
	}
	// The national register number never appears: not in any signer field.
	for (const [k, v] of Object.entries(act)) {
		if (k !== 'cert_sha256' && typeof v === 'string' && /\d{11}/.test(v.replace(/[\s.-]/g, ''))) bad.push(`${label}.${k} holds an 11-digit number: ${J(v)}`);
	}
	return bad;
}

// The rules of /tmp/mailrules.md (docs: the mail issue) as code: what verdict
// a reply's own fields imply. Used to say which side is wrong on a mismatch.
function ruleVerdict(v) {
	const r = new Set(Array.isArray(v.reasons) ? v.reasons : []);
	if (v.signature === 'invalid' || DANGER_REASONS.some((x) => r.has(x))) return 'danger';
	if (v.signature === 'valid' && ['trusted', 'expired'].includes(v.chain) && v.signer &&
		['eid', 'qualified'].includes(v.signer.kind) && ['match', 'cert_without_address'].includes(v.from_binding) &&
		v.coverage === 'full' && !r.has('signing_time_differs') && !r.has('revoked_since') && !r.has('partial_coverage') &&
		!r.has('signer_untrusted')) return 'trusted';
	return 'caution';
}

// Compares one mail verdict with its expectation. msg: the message's entry of
// mail/cases.json. useDefaults: apply expected.json's defaults (links,
// history) and the automatic signing_time check.
function compareMail(exp, act, msg, { useDefaults = true } = {}) {
	const bad = [];
	if (act === null || typeof act !== 'object' || Array.isArray(act)) return [`verdict is not a JSON object: ${short(J(act))}`];
	for (const k of ['verdict', 'signature', 'from', 'from_binding', 'chain', 'coverage']) {
		if (!(k in exp)) continue;
		if (!(k in act)) bad.push(`${k}: expected ${showWant(exp[k])}, actual absent`);
		else if (!matches(exp[k], act[k])) bad.push(`${k}: expected ${showWant(exp[k])}, actual ${J(act[k])}`);
	}
	// reasons
	if (!Array.isArray(act.reasons)) {
		bad.push(`reasons: expected an array, actual ${J(act.reasons)}`);
	} else {
		const unknown = act.reasons.filter((x) => !REASON_CODES.has(x));
		if (unknown.length) bad.push(`reasons: codes not in the rules: ${J(unknown)}`);
		if (new Set(act.reasons).size !== act.reasons.length) bad.push(`reasons: duplicates in ${J(act.reasons)}`);
		const A = [...new Set(act.reasons)].sort();
		if (exp.reasons) {
			const missing = exp.reasons.filter((x) => !A.includes(x));
			const extra = A.filter((x) => !exp.reasons.includes(x));
			if (missing.length || extra.length) {
				bad.push(`reasons: expected ${J([...exp.reasons].sort())}, actual ${J(A)}` +
					`${missing.length ? ` (missing ${J(missing)})` : ''}${extra.length ? ` (unexpected ${J(extra)})` : ''}`);
			}
		} else if (exp.reasons_include || exp.reasons_any || exp.reasons_may) {
			const inc = exp.reasons_include || [];
			const any = exp.reasons_any || [];
			const may = exp.reasons_may || [];
			const missing = inc.filter((x) => !A.includes(x));
			if (missing.length) bad.push(`reasons: ${J(missing)} missing from ${J(A)}`);
			if (any.length && !any.some((x) => A.includes(x))) bad.push(`reasons: none of ${J(any)} in ${J(A)}`);
			const extra = A.filter((x) => !inc.includes(x) && !any.includes(x) && !may.includes(x));
			if (extra.length) bad.push(`reasons: unexpected ${J(extra)} in ${J(A)} (allowed: ${J([...inc, ...any, ...may])})`);
		}
	}
	// signer
	if ('signer' in exp) {
		if (!('signer' in act)) bad.push('signer: absent (the contract says an object or null)');
		else if (exp.signer === null) {
			if (act.signer !== null) bad.push(`signer: expected null, actual ${short(J(act.signer), 200)}`);
		} else bad.push(...checkSigner(exp.signer, act.signer, 'signer'));
	}
	if (exp.signer_if_present && act.signer !== null && act.signer !== undefined) {
		bad.push(...checkSigner(exp.signer_if_present, act.signer, 'signer (reported)'));
	}
	// signing_time
	if ('signing_time' in exp) {
		if (!sameTime(exp.signing_time, act.signing_time)) bad.push(`signing_time: expected ${J(exp.signing_time)}, actual ${J(act.signing_time)}`);
	} else if (useDefaults && exp.signature === 'valid' && msg) {
		if (!sameTime(msg.signed_at, act.signing_time)) bad.push(`signing_time: expected ${J(msg.signed_at)} (the signingTime attribute), actual ${J(act.signing_time)}`);
	} else if (useDefaults && ['none', 'unsupported'].includes(exp.signature)) {
		if (act.signing_time !== null) bad.push(`signing_time: expected null, actual ${J(act.signing_time)}`);
	}
	// links, as a set of {url, signed}
	const wantLinks = exp.links ?? (useDefaults ? EXPECTED.defaults.links : undefined);
	if (wantLinks) {
		if (!Array.isArray(act.links)) bad.push(`links: expected an array, actual ${J(act.links)}`);
		else {
			const key = (l) => `${l && l.url}\u0000${l && l.signed}`;
			const A = act.links.map(key);
			const W = wantLinks.map(key);
			const missing = wantLinks.filter((l) => !A.includes(key(l)));
			const extra = act.links.filter((l) => !W.includes(key(l)));
			if (missing.length || extra.length) {
				bad.push(`links: ${missing.length ? `missing ${J(missing)}` : ''}${missing.length && extra.length ? ', ' : ''}${extra.length ? `unexpected ${J(extra)}` : ''}`);
			}
		}
	}
	const wantHist = exp.history ?? (useDefaults ? EXPECTED.defaults.history : undefined);
	if (wantHist) {
		const h = act.history;
		if (!h || typeof h !== 'object') bad.push(`history: expected ${J(wantHist)}, actual ${J(h)}`);
		else {
			for (const k of ['signed_before', 'unsigned_before', 'signer_changed']) {
				if (h[k] !== wantHist[k]) bad.push(`history.${k}: expected ${J(wantHist[k])}, actual ${J(h[k])}`);
			}
		}
	}
	// The reply against the rules: is its verdict the one its own fields imply?
	if (typeof act.verdict === 'string' && act.reasons && !(act.reasons || []).includes('revocation_unknown')) {
		const rv = ruleVerdict(act);
		if (rv !== act.verdict) bad.push(`rules: the reply's own fields imply verdict "${rv}", it says "${act.verdict}"`);
	}
	return bad;
}

function sameTime(a, b) {
	if (a === null || a === undefined) return b === null;
	if (typeof b !== 'string') return false;
	const x = Date.parse(a);
	const y = Date.parse(b);
	return !Number.isNaN(x) && x === y && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(b);
}

// A pool running async jobs with bounded concurrency.
async function pool(items, n, fn) {
	let i = 0;
	const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
		while (i < items.length) {
			const item = items[i++];
			await fn(item);
		}
	});
	await Promise.all(workers);
}

function keepMessage(name) {
	const m = PKI.mail[name];
	if (!m) return;
	const src = path.join(PKI.dir, 'mail', m.file);
	const dst = path.join(RUN, 'messages', m.file);
	try {
		if (fs.existsSync(dst)) return;
		if (m.bytes > 1000000) fs.writeFileSync(`${dst}.txt`, `${m.bytes} bytes: see ${src}\n`);
		else fs.copyFileSync(src, dst);
	} catch { /* evidence only */ }
}

// Runs `mail FILE --json` and parses the verdict.
async function mailCli(name, file, env, opts = {}) {
	const r = await runHost(name, ['mail', file, '--json'], env, opts);
	const v = parseJson(r.stdout);
	if (!opts.quiet) fs.writeFileSync(path.join(RUN, 'verdicts', `${safeName(name)}.json`), r.stdout);
	else fs.appendFileSync(path.join(RUN, 'verdicts', 'bulk-runs.jsonl'), `${JSON.stringify({ name, exit: r.code ?? r.signal })}\n${r.stdout}\n`);
	return { r, v };
}

// ------------------------------------------------------------------ privacy
function rrnPatterns(d) {
	const pats = new Set([d,
		`${d.slice(0, 2)}.${d.slice(2, 4)}.${d.slice(4, 6)}-${d.slice(6, 9)}.${d.slice(9)}`,
		`${d.slice(0, 2)}.${d.slice(2, 4)}.${d.slice(4, 6)} ${d.slice(6, 9)} ${d.slice(9)}`,
		`${d.slice(0, 2)}.${d.slice(2, 4)}.${d.slice(4, 6)}-${d.slice(6, 9)}-${d.slice(9)}`,
		`${d.slice(0, 6)}-${d.slice(6, 9)}-${d.slice(9)}`, `${d.slice(0, 6)}-${d.slice(6, 9)}.${d.slice(9)}`,
		`${d.slice(0, 6)} ${d.slice(6, 9)} ${d.slice(9)}`, `${d.slice(0, 6)}-${d.slice(6)}`, `${d.slice(0, 9)}-${d.slice(9)}`,
		`${d.slice(0, 6)}${d.slice(6, 9)}-${d.slice(9)}`, `${d.slice(0, 6)}.${d.slice(6, 9)}.${d.slice(9)}`,
		`${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4, 6)} ${d.slice(6, 9)} ${d.slice(9)}`]);
	const out = [...pats].map((p) => ({ label: p, bytes: Buffer.from(p, 'latin1') }));
	const raw = Buffer.from(d, 'latin1');
	out.push({ label: `${d} as hex`, bytes: Buffer.from(raw.toString('hex'), 'latin1') });
	out.push({ label: `${d} as HEX`, bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'latin1') });
	out.push({ label: `${d} as UTF-16LE`, bytes: Buffer.from(d, 'utf16le') });
	// base64 at the three byte alignments: the characters fully determined by the digits
	for (let k = 0; k < 3; k++) {
		const b = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
		const from = Math.ceil((8 * k) / 6);
		const to = Math.floor((8 * k + 8 * raw.length) / 6);
		out.push({ label: `${d} as base64 (offset ${k})`, bytes: Buffer.from(b.slice(from, to), 'latin1') });
	}
	return out;
}

function listFiles(dir) {
	const out = [];
	let entries = [];
	try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return out; }
	for (const e of entries) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) out.push(...listFiles(p));
		else if (e.isFile()) out.push(p);
	}
	return out;
}

function privacyScan(dirs, numbers) {
	const pats = numbers.flatMap((d) => rrnPatterns(d).map((p) => ({ ...p, number: d })));
	const hits = [];
	let files = 0;
	let bytes = 0;
	for (const dir of dirs) {
		for (const f of listFiles(dir)) {
			let buf;
			try { buf = fs.readFileSync(f); } catch { continue; }
			files++;
			bytes += buf.length;
			for (const p of pats) {
				const at = buf.indexOf(p.bytes);
				if (at >= 0) hits.push(`${path.relative(RUN, f)} @${at}: ${p.label}`);
			}
		}
	}
	return { hits, files, bytes };
}

// ------------------------------------------------------------------ main
let finished = false;
function finish(code) {
	if (finished) return;
	finished = true;
	if (failed > 0 || opt.keep) {
		console.error(`mail: evidence (messages, verdicts, host logs and stderr, state directories, configs, server logs) kept in ${path.relative(process.cwd(), RUN) || RUN}`);
	} else {
		fs.rmSync(RUN, { recursive: true, force: true });
	}
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(code ?? (failed > 0 ? 1 : 0));
}

async function main() {
	EXPECTED = JSON.parse(fs.readFileSync(path.join(HERE, 'expected.json'), 'utf8'));
	if (!fs.existsSync(HOST_BIN)) {
		fail('setup', `${HOST_BIN} not found (run make)`);
		return;
	}
	try {
		PKI = await preparePki();
	} catch (e) {
		fail('setup/pki', e.message);
		return;
	}
	let httpSrv = null;
	const startServers = async () => {
		httpSrv = await httpFileServer(PKI.cases.http_url_base, path.join(PKI.dir, PKI.cases.http_server.dir),
			path.join(RUN, 'servers', 'http.log'));
		await startOcsp(PKI);
	};
	try {
		await startServers();
	} catch (e) {
		const again = !PKI.private && !opt.pki && !process.env.MAILPKI_DIR;
		for (const x of inProcessServers.splice(0)) { try { x.server.close(); } catch { /* closed */ } }
		if (ocsp) await stopChild(ocsp.rec);
		ocsp = null;
		if (!again) {
			fail('setup/servers', `${e.message} (logs in ${RUN}/servers)`);
			return;
		}
		try {
			PKI = await preparePki(true);
			await startServers();
		} catch (e2) {
			fail('setup/servers', `${e2.message} (logs in ${RUN}/servers)`);
			return;
		}
	}
	ALLOWED_PORTS = [ocsp.port, httpSrv.port];
	const rrn = fs.readFileSync(path.join(PKI.dir, PKI.cases.rrn), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);

	// 0. The harness itself (no host): servers answer as the PKI says, every
	// message the expectations name exists, the privacy scanner finds what
	// it must find.
	await harnessChecks(rrn, httpSrv);

	// 1. One CLI run per expected verdict.
	const cliVerdicts = {};
	const tests = EXPECTED.tests.filter((t) => selected(`mail/${t.name}`));
	async function mailTest(t) {
		const name = `mail/${t.name}`;
		const msg = PKI.mail[t.message];
		if (!msg) return fail(name, `message ${t.message} not in mail/cases.json`);
		const file = path.join(PKI.dir, 'mail', msg.file);
		if (t.config && t.config.ocsp_fetch) await ocspHealthy(PKI);
		const env = hostEnv({ name: t.name, config: t.config || {}, eidRoots: t.eid_roots || null });
		const { r, v } = await mailCli(t.name, file, env);
		const exits = t.exit || [0];
		const bad = [];
		if (r.spawnError) return fail(name, `cannot run the host: ${r.spawnError}`);
		if (!exits.includes(r.code)) {
			keepMessage(t.message);
			return fail(name, `exit ${r.code ?? r.signal}${r.killed ? ` (killed after ${HOST_RUN_LIMIT_MS} ms)` : ''}, expected ${exits.join(' or ')}; stdout: ${short(r.stdout)}; stderr: ${short(r.stderr)}`);
		}
		if (r.code === 3) {
			// could not be evaluated: a JSON error, never a verdict
			if (!v || !v.error || typeof v.error.code !== 'string') bad.push(`exit 3 without a JSON error object on stdout: ${short(r.stdout)}`);
			else cliVerdicts[t.name] = { error: v.error };
		} else if (v === undefined) {
			bad.push(`stdout is not JSON: ${short(r.stdout)}`);
		} else {
			cliVerdicts[t.name] = { verdict: v };
			bad.push(...compareMail(t.expect, v, msg));
		}
		if (t.max_ms && r.ms > t.max_ms * SLOW) bad.push(`took ${r.ms} ms (limit ${t.max_ms * SLOW} ms)`);
		if (bad.length) {
			keepMessage(t.message);
			return fail(name, bad.join('; '));
		}
		ok(name);
		if (t.max_ms) console.log(`#   ${name}: ${r.ms} ms`);
	}
	// The OCSP-only case alone (one responder, one request at a time); the
	// 25 MB one alone too.
	const solo = (t) => (t.config && t.config.ocsp_fetch) || t.name === 'big-25mb';
	await pool(tests.filter((t) => !solo(t)), opt.jobs, mailTest);
	for (const t of tests.filter(solo)) await mailTest(t);
	const http0 = httpSrv.stats.requests.length;
	if (http0 === 0 && tests.length > 10) console.log('#   note: the host fetched nothing from the CRL/CA-certificate server');
	else console.log(`#   CRL/CA-certificate server: ${http0} requests (${[...new Set(httpSrv.stats.requests)].join(' ')})`);

	// 2. The same verdicts through native messaging (one host process, all
	// requests in flight at once).
	await protocolTests(cliVerdicts);

	// 3. History.
	await historyTests();
	if (selected('history/confirm-signer')) await confirmSigner();
	if (selected('history/parallel-writers')) await parallelWriters();
	if (selected('history/sigkill')) await sigkillTest();

	// 4. Privacy: every reply, log, stderr and state file of the whole run.
	if (selected('privacy/national-register-numbers')) {
		const name = 'privacy/national-register-numbers';
		const dirs = ['verdicts', 'host-logs', 'host-stderr', 'state'].map((d) => path.join(RUN, d));
		const { hits, files, bytes } = privacyScan(dirs, rrn);
		if (files === 0 && hostRuns === 0) console.log(`#   ${name}: skipped (no host run in this selection)`);
		else if (files === 0) fail(name, 'nothing to scan (no reply, log or state file was produced)');
		else if (hits.length) fail(name, `${hits.length} hit(s) of a national register number: ${short(hits.join('; '), 1500)}`);
		else {
			ok(name);
			console.log(`#   ${name}: ${rrn.length} numbers x ${rrnPatterns(rrn[0]).length} spellings, ${files} files, ${(bytes / 1e6).toFixed(1)} MB, no hit`);
		}
	}
}

async function harnessChecks(rrn, httpSrv) {
	if (selected('harness/ocsp-responder')) {
		const lib = faketimeLib();
		const env = { ...process.env, LD_PRELOAD: lib, FAKETIME: '@2026-06-01 00:00:00', TZ: 'UTC' };
		const bad = [];
		for (const [leaf, want] of [['rik-sig', 'revoked'], ['nora-sig', 'revoked'], ['alice-sig', 'good']]) {
			const r = spawnSync('openssl', ['ocsp', '-issuer', 'ca/citizen-ca/cert.pem', '-cert', PKI.cases.leaves[leaf].cert,
				'-url', ocsp.url, '-CAfile', PKI.cases.eid_roots, '-verify_other', 'ca/citizen-ca/chain.pem', '-timeout', '5'],
			{ env, cwd: PKI.dir, encoding: 'utf8', timeout: 15000 });
			const out = `${r.stdout}${r.stderr}`;
			fs.appendFileSync(path.join(RUN, 'servers', 'ocsp-client.txt'), `--- ${leaf}\n${out}\n`);
			if (!/Response verify OK/.test(out) || !new RegExp(`cert\\.pem: ${want}\\b`).test(out)) {
				bad.push(`${leaf}: expected a verified "${want}", got ${short(out, 200)}`);
			}
		}
		if (bad.length) fail('harness/ocsp-responder', bad.join('; '));
		else ok('harness/ocsp-responder');
	}
	if (selected('harness/http-server')) {
		const bad = [];
		const base = PKI.cases.http_url_base;
		for (const f of ['citizen-ca.crl', 'foreigner-ca.crl', 'smime-ca.crl', 'qualified-ca.crl', 'eid-root.crl', 'citizen-ca.crt']) {
			try {
				const a = await httpRequest(`${base}/${f}`);
				const want = fs.readFileSync(path.join(PKI.dir, 'www', f));
				if (a.status !== 200 || !a.body.equals(want)) bad.push(`/${f}: status ${a.status}, ${a.body.length} bytes`);
			} catch (e) { bad.push(`/${f}: ${e.message}`); }
		}
		try {
			const b = await httpRequest(`${base}/missing.crl`);
			if (b.status !== 404) bad.push(`/missing.crl: status ${b.status}, expected 404`);
		} catch (e) { bad.push(`/missing.crl: ${e.message}`); }
		httpSrv.stats.requests.length = 0;
		if (bad.length) fail('harness/http-server', bad.join('; '));
		else ok('harness/http-server');
	}
	if (selected('harness/messages')) {
		const bad = [];
		const named = new Set([...EXPECTED.tests.map((t) => t.message), ...EXPECTED.history_tests.flatMap((h) => h.steps.map((s) => s.message))]);
		for (const n of named) {
			const m = PKI.mail[n];
			if (!m) { bad.push(`${n}: not in mail/cases.json`); continue; }
			const f = path.join(PKI.dir, 'mail', m.file);
			if (!fs.existsSync(f) || fs.statSync(f).size !== m.bytes) bad.push(`${n}: ${m.file} missing or not ${m.bytes} bytes`);
		}
		const unused = Object.keys(PKI.mail).filter((n) => !named.has(n));
		if (unused.length) bad.push(`messages no test uses: ${unused.join(', ')}`);
		for (const n of EXPECTED.protocol_subset) if (!EXPECTED.tests.find((t) => t.name === n)) bad.push(`protocol_subset names unknown test ${n}`);
		const froms = EXPECTED.protocol_subset.map((n) => PKI.mail[EXPECTED.tests.find((t) => t.name === n)?.message]?.from).filter(Boolean);
		const dup = froms.filter((f, i) => froms.indexOf(f) !== i);
		if (dup.length) bad.push(`protocol_subset shares senders (history would differ from the CLI): ${dup.join(', ')}`);
		if (rrn.length < 8 || !rrn.includes('67063029659')) bad.push(`rrn.txt holds ${rrn.length} numbers (the real test card's missing?)`);
		if (bad.length) fail('harness/messages', bad.join('; '));
		else ok('harness/messages');
	}
	if (selected('harness/privacy-scanner')) {
		// The scanner must find a planted number in each spelling, in a
		// directory of its own (removed afterwards).
		const dir = fs.mkdtempSync(path.join(RUN, 'generated', 'scanner-'));
		const d = rrn[0];
		const pats = rrnPatterns(d);
		pats.forEach((p, i) => fs.writeFileSync(path.join(dir, `f${i}`), Buffer.concat([Buffer.from('x{"n":"'), p.bytes, Buffer.from('"}')])));
		fs.writeFileSync(path.join(dir, 'b64'), Buffer.from(`zz${d}zz`).toString('base64'));
		fs.writeFileSync(path.join(dir, 'clean'), 'nothing to see: 8507310013 1234567890');
		const { hits } = privacyScan([dir], [d]);
		const hitFiles = new Set(hits.map((h) => h.split(' @')[0].split('/').pop()));
		const missed = pats.map((p, i) => (hitFiles.has(`f${i}`) ? null : p.label)).filter(Boolean);
		fs.rmSync(dir, { recursive: true, force: true });
		if (missed.length || !hitFiles.has('b64') || hitFiles.has('clean')) {
			fail('harness/privacy-scanner', `missed ${J(missed)}${hitFiles.has('b64') ? '' : ', missed base64'}${hitFiles.has('clean') ? ', false hit' : ''}`);
		} else ok('harness/privacy-scanner');
	}
}

async function protocolTests(cliVerdicts) {
	const subset = EXPECTED.protocol_subset.filter((n) => selected(`protocol/mail/${n}`));
	if (!subset.length) return;
	const nh = new NativeHost('protocol-mail', hostEnv({ name: 'protocol-mail', config: { mail_max_bytes: MAIL_MAX } }));
	const b64 = new Set(EXPECTED.protocol_raw_b64 || []);
	await Promise.all(subset.map(async (n, i) => {
		const name = `protocol/mail/${n}`;
		const t = EXPECTED.tests.find((x) => x.name === n);
		const msg = PKI.mail[t.message];
		const raw = fs.readFileSync(path.join(PKI.dir, 'mail', msg.file));
		const utf8ok = Buffer.from(raw.toString('utf8'), 'utf8').equals(raw) && !raw.includes(0);
		const req = { id: i + 1, type: 'mail' };
		if (b64.has(n) || !utf8ok) req.raw_b64 = raw.toString('base64');
		else req.raw = raw.toString('utf8');
		let reply;
		try {
			reply = (await nh.request(req)).msg;
		} catch (e) {
			return fail(name, e.message);
		}
		fs.writeFileSync(path.join(RUN, 'verdicts', `protocol-${safeName(n)}.json`), JSON.stringify(reply, null, 1));
		const cli = cliVerdicts[n];
		if (!cli) {
			const bad = reply.ok === true ? compareMail(t.expect, reply.result, msg) : [`not ok: ${short(J(reply))}`];
			keepMessage(t.message);
			return fail(name, `no CLI verdict to compare with (mail/${n} failed or did not run)${bad.length ? '; against expected.json: ' + bad.join('; ') : ' (protocol result matches expected.json)'}`);
		}
		if (cli.error) {
			if (reply.ok === false && reply.error && typeof reply.error.code === 'string') return ok(name);
			return fail(name, `the CLI could not evaluate it (${J(cli.error)}), the protocol answered ${short(J(reply))}`);
		}
		if (reply.ok !== true || !reply.result) {
			keepMessage(t.message);
			return fail(name, `expected ok:true with a result, got ${short(JSON.stringify(reply))}`);
		}
		if (canonical(cli.verdict) !== canonical(reply.result)) {
			keepMessage(t.message);
			return fail(name, `protocol result differs from the CLI verdict (${req.raw_b64 ? 'raw_b64' : 'raw'}): ${diffObjects(cli.verdict, reply.result).join('; ')}`);
		}
		ok(name);
	}));
	const code = await nh.close();
	if (selected('protocol/exit-on-eof')) {
		if (code === 0) ok('protocol/exit-on-eof');
		else fail('protocol/exit-on-eof', `host exit after EOF: ${code}`);
	}
}

async function historyTests() {
	for (const h of EXPECTED.history_tests) {
		const name = `history/${h.name}`;
		if (!selected(name)) continue;
		const stateDir = newStateDir(h.name);
		const bad = [];
		const seen = [];
		for (let i = 0; i < h.steps.length; i++) {
			const s = h.steps[i];
			const msg = PKI.mail[s.message];
			const stepName = `${h.name}.${i}-${s.message}`;
			const env = hostEnv({ name: stepName, stateDir });
			const { r, v } = await mailCli(stepName, path.join(PKI.dir, 'mail', msg.file), env);
			seen.push(v);
			if (r.code !== 0 || v === undefined) {
				bad.push(`step ${i} (${s.message}): exit ${r.code ?? r.signal}, stdout ${short(r.stdout, 200)}`);
				keepMessage(s.message);
				break;
			}
			const b = compareMail(s.expect, v, msg, { useDefaults: false });
			if ('same_as_step' in s && seen[s.same_as_step] && canonical(seen[s.same_as_step]) !== canonical(v)) {
				b.push(`differs from step ${s.same_as_step} (the same message): ${diffObjects(seen[s.same_as_step], v, '', 'first', 'again').join('; ')}`);
			}
			if (b.length) {
				bad.push(`step ${i} (${s.message}): ${b.join('; ')}`);
				keepMessage(s.message);
			}
		}
		if (bad.length) fail(name, bad.join(' | '));
		else ok(name);
	}
}

// A new signer certificate stays "changed" until the reader confirms it
// (confirm_signer), however often it signs.
async function confirmSigner() {
	const name = 'history/confirm-signer';
	const stateDir = newStateDir('confirm-signer');
	const nh = new NativeHost('confirm-signer', hostEnv({ name: 'confirm-signer', stateDir }));
	const bad = [];
	const b64 = (m) => fs.readFileSync(path.join(PKI.dir, 'mail', PKI.mail[m].file)).toString('base64');
	const mail = async (id, m) => (await nh.request({ id, type: 'mail', raw_b64: b64(m) })).msg.result;
	try {
		const v1 = await mail('c1', 'hist-bob-cert1');
		if (!v1 || v1.history.signer_changed) bad.push('first certificate read as changed');
		const v2 = await mail('c2', 'hist-bob-cert2');
		if (!v2 || !v2.history.signer_changed || v2.verdict !== 'danger') bad.push(`new certificate: ${J(v2 && v2.history)}`);
		const v3 = await mail('c3', 'hist-bob-cert2');
		if (!v3 || !v3.history.signer_changed) bad.push('new certificate no longer changed without confirmation');
		const c = (await nh.request({ id: 'c4', type: 'confirm_signer', from: v2.from, cert_sha256: v2.signer.cert_sha256 })).msg;
		if (c.ok !== true || !c.result || c.result.confirmed !== true) bad.push(`confirm_signer: ${short(JSON.stringify(c))}`);
		const v5 = await mail('c5', 'hist-bob-cert2');
		if (!v5 || v5.history.signer_changed || (v5.reasons || []).includes('signer_changed')) bad.push(`after confirmation: ${J(v5 && v5.reasons)}`);
		const e = (await nh.request({ id: 'c6', type: 'confirm_signer', from: 'x@y', cert_sha256: 'nope' })).msg;
		if (e.ok !== false || e.error.code !== 'bad_request') bad.push(`bad confirm: ${short(JSON.stringify(e))}`);
	} catch (err) {
		bad.push(err.message);
	}
	await nh.close();
	if (bad.length) fail(name, bad.join('; '));
	else ok(name);
}

function unsignedMessage(from, mid, i) {
	const lines = [`From: ${from}`, 'To: Jan Janssens <jan.janssens@example.be>', `Subject: Message ${i}`,
		'Date: Sat, 30 May 2026 10:00:00 +0000'];
	if (mid) lines.push(`Message-ID: <${mid}>`);
	lines.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', `Message ${i}.`, '');
	return lines.join('\r\n');
}

async function parallelWriters() {
	const name = 'history/parallel-writers';
	const cfg = EXPECTED.parallel_writers;
	const stateDir = newStateDir('parallel-writers');
	const dir = path.join(RUN, 'generated', 'parallel');
	fs.mkdirSync(dir, { recursive: true });
	const from = 'Paula Parallel <paula.parallel@example.net>';
	const files = [];
	for (let i = 0; i < cfg.messages; i++) {
		const f = path.join(dir, `par-${i}.eml`);
		fs.writeFileSync(f, unsignedMessage(from, `par-${i}@mail.trustlens.test`, i));
		files.push(f);
	}
	const dupFile = path.join(dir, 'par-dup.eml');
	fs.writeFileSync(dupFile, unsignedMessage(from, 'par-dup@mail.trustlens.test', 'dup'));
	for (let i = 0; i < cfg.duplicates; i++) files.push(dupFile);
	const probe = path.join(dir, 'par-probe.eml');
	fs.writeFileSync(probe, unsignedMessage(from, 'par-probe@mail.trustlens.test', 'probe'));
	const env = hostEnv({ name: 'parallel-writers', stateDir });
	const bad = [];
	// every process at once, one shared state directory
	const results = await Promise.all(files.map((f, i) => mailCli(`parallel-writers.${i}`, f, env, { quiet: true })));
	results.forEach(({ r, v }, i) => {
		if (r.code !== 0 || !v || !v.history) bad.push(`writer ${i}: exit ${r.code ?? r.signal}, stdout ${short(r.stdout, 150)}, stderr ${short(r.stderr, 150)}`);
	});
	const want = cfg.messages + 1;
	for (const round of [1, 2]) {
		const { r, v } = await mailCli(`parallel-writers.probe${round}`, probe, env);
		const h = v && v.history;
		if (r.code !== 0 || !h) bad.push(`probe ${round}: exit ${r.code}, stdout ${short(r.stdout, 200)}`);
		else if (h.unsigned_before !== want || h.signed_before !== 0) {
			bad.push(`probe ${round}: history ${J(h)}, expected unsigned_before ${want} (${cfg.messages} messages + 1 sent ${cfg.duplicates} times at once) and signed_before 0`);
		}
	}
	if (bad.length) fail(name, short(bad.join('; '), 2000));
	else ok(name);
}

async function sigkillTest() {
	const name = 'history/sigkill';
	const cfg = EXPECTED.sigkill;
	const stateDir = newStateDir('sigkill');
	const dir = path.join(RUN, 'generated', 'sigkill');
	fs.mkdirSync(dir, { recursive: true });
	const from = 'Kim Kill <kim.kill@example.net>';
	const files = [];
	for (let i = 0; i < cfg.messages; i++) {
		const f = path.join(dir, `kill-${i}.eml`);
		// half with a Message-ID, half keyed by the hash of the raw message
		fs.writeFileSync(f, unsignedMessage(from, i % 2 ? `kill-${i}@mail.trustlens.test` : null, i));
		files.push(f);
	}
	const probe = path.join(dir, 'kill-probe.eml');
	fs.writeFileSync(probe, unsignedMessage(from, 'kill-probe@mail.trustlens.test', 'probe'));
	const env = hostEnv({ name: 'sigkill', stateDir });
	const bad = [];
	let completed = 0;
	let killedCount = 0;
	const [lo, hi] = cfg.kill_after_ms;
	// Round 1: many runs at once, some killed with SIGKILL at random moments.
	await pool(files.map((f, i) => ({ f, i })), cfg.jobs, async ({ f, i }) => {
		const kill = Math.random() < cfg.kill_fraction ? lo + crypto.randomInt(hi - lo + 1) : null;
		const { r, v } = await mailCli(`sigkill.${i}`, f, env, { killAfterMs: kill, quiet: true });
		if (r.sigkilled && r.signal === 'SIGKILL') killedCount++;
		else if (r.code === 0 && v && v.history) completed++;
		else bad.push(`run ${i}: exit ${r.code ?? r.signal}, stdout ${short(r.stdout, 150)}, stderr ${short(r.stderr, 150)}`);
	});
	// The database still answers, and counts each finished message once at most.
	const p1 = await mailCli('sigkill.probe1', probe, env);
	const h1 = p1.v && p1.v.history;
	if (p1.r.code !== 0 || !h1) bad.push(`probe after the kills: exit ${p1.r.code ?? p1.r.signal}, stdout ${short(p1.r.stdout, 200)}, stderr ${short(p1.r.stderr, 200)}`);
	else if (!(h1.unsigned_before >= completed && h1.unsigned_before <= cfg.messages) || h1.signed_before !== 0) {
		bad.push(`probe after the kills: history ${J(h1)}, expected ${completed} <= unsigned_before <= ${cfg.messages} (completed ${completed}, killed ${killedCount}), signed_before 0`);
	}
	// Round 2: every message again, to completion: each is then counted exactly once.
	await pool(files.map((f, i) => ({ f, i })), cfg.jobs, async ({ f, i }) => {
		const { r, v } = await mailCli(`sigkill.again.${i}`, f, env, { quiet: true });
		if (r.code !== 0 || !v || !v.history) bad.push(`re-run ${i}: exit ${r.code ?? r.signal}, stdout ${short(r.stdout, 150)}`);
	});
	const p2 = await mailCli('sigkill.probe2', probe, env);
	const h2 = p2.v && p2.v.history;
	if (p2.r.code !== 0 || !h2) bad.push(`final probe: exit ${p2.r.code ?? p2.r.signal}, stdout ${short(p2.r.stdout, 200)}`);
	else if (h2.unsigned_before !== cfg.messages || h2.signed_before !== 0) {
		bad.push(`final probe: history ${J(h2)}, expected unsigned_before ${cfg.messages} (every message once), signed_before 0`);
	}
	// SQLite's own opinion of the database files, when the CLI is there.
	const dbs = listFiles(stateDir).filter((f) => /\.(sqlite3?|db)$/.test(f));
	if (fs.existsSync('/usr/bin/sqlite3')) {
		for (const db of dbs) {
			const r = spawnSync('/usr/bin/sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8', timeout: 10000 });
			if ((r.stdout || '').trim() !== 'ok') bad.push(`${path.basename(db)}: integrity_check says ${short(r.stdout || r.stderr, 200)}`);
		}
	}
	console.log(`#   ${name}: ${killedCount} of ${cfg.messages} runs killed with SIGKILL, ${completed} completed; probe saw ${h1 ? h1.unsigned_before : '?'}, then ${h2 ? h2.unsigned_before : '?'} after re-running all; database files: ${dbs.map((f) => path.basename(f)).join(', ') || 'none found'}`);
	if (bad.length) fail(name, short(bad.join('; '), 2000));
	else ok(name);
}

const watchdog = setTimeout(async () => {
	fail('watchdog', `suite still running after ${WATCHDOG_MS / 1000} s`);
	await cleanup();
	finish(1);
}, WATCHDOG_MS);

const T0 = Date.now();
main()
	.catch((e) => fail('runner', e && e.stack ? e.stack : String(e)))
	.then(async () => {
		if (sanitizerHits.length) fail('sanitizers', `sanitizer reports in the stderr of: ${sanitizerHits.join(', ')} (see host-stderr/)`);
		clearTimeout(watchdog);
		await cleanup();
		console.log(`#   mail suite: ${((Date.now() - T0) / 1000).toFixed(1)} s`);
		finish();
	});
