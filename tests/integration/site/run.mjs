#!/usr/bin/env node
// Site-identity integration suite: real `openssl s_server` sites with the
// throwaway test PKI (tests/pki/make-pki.sh), a real `openssl ocsp`
// responder, a local HTTP server for CRLs, hostile TCP servers, and the real
// host (build/trustlens-host) through its CLI and through native messaging.
//
//   node tests/integration/site/run.mjs [--filter REGEX] [--keep] [--host PATH]
//                                       [--pki DIR] [--jobs N]
//
// Prints one line per test (`ok NAME` / `FAIL NAME: ...`) and ends with one
// line `N passed, N failed`; exits 1 on any failure. Every process it starts
// is recorded and stopped by PID (also on failure, timeout and SIGINT). The
// run folder tests/out/integration/site-*/ (server and host logs, configs,
// verdicts) is kept when something failed, or with --keep.
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
const HOSTILE_TIMEOUT_MS = 2000;      // config timeout_ms for hostile/sites tests
const HOSTILE_CONNECT_MS = 1000;      // config connect_timeout_ms
const CASE_TIMEOUT_MS = 8000;         // config timeout_ms for ordinary cases
const CASE_CONNECT_MS = 4000;
// make check-valgrind runs the host ~20x slower: TRUSTLENS_TEST_SLOW
// stretches the two bounds below (never the host's own configured timeouts).
const SLOW = Math.max(1, Number(process.env.TRUSTLENS_TEST_SLOW) || 1);
const HOST_RUN_LIMIT_MS = 25000 * SLOW; // a host run longer than this is killed
const WATCHDOG_MS = 170000 * SLOW;    // whole suite

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
	const olds = fs.readdirSync(base).filter((d) => /^site-\d{8}T\d{6}-\d+$/.test(d))
		.map((d) => ({ d, t: fs.statSync(path.join(base, d)).mtimeMs })).sort((a, b) => b.t - a.t);
	for (const { d, t } of olds.slice(5)) {
		if (Date.now() - t > 600000) fs.rmSync(path.join(base, d), { recursive: true, force: true });
	}
} catch { /* nothing to prune */ }

const stampNow = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const RUN = path.join(ROOT, 'tests/out/integration', `site-${stampNow}-${process.pid}`);
for (const d of ['servers', 'host-logs', 'host-stderr', 'config', 'state', 'verdicts']) {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// Waits until addr:port accepts a TCP connection (then closes it at once).
async function waitTcp(addr, port, ms, rec) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (rec && rec.exited) throw new Error(`${rec.name} exited (${rec.code}) before listening`);
		const up = await new Promise((resolve) => {
			const s = net.connect({ host: addr, port });
			s.once('connect', () => { s.destroy(); resolve(true); });
			s.once('error', () => resolve(false));
			s.setTimeout(500, () => { s.destroy(); resolve(false); });
		});
		if (up) return;
		await sleep(50);
	}
	throw new Error(`${addr}:${port} did not answer within ${ms} ms`);
}

function httpPost(url, body, type, ms) {
	return new Promise((resolve, reject) => {
		const u = new URL(url);
		const req = http.request({
			host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
			headers: { 'Content-Type': type, 'Content-Length': body.length, Connection: 'close' },
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
		});
		req.on('error', reject);
		req.setTimeout(ms, () => req.destroy(new Error('timeout')));
		req.end(body);
	});
}

// ------------------------------------------------------------------ PKI
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
	let dir = opt.pki || process.env.PKI_DIR || path.join(ROOT, 'build/pki');
	let note = '';
	if (forcePrivate || (!env.PKI_OCSP_URL_BASE && !env.PKI_CRL_URL_BASE)) {
		// The default URL bases are baked into build/pki; when their ports are
		// taken (a parallel run), make a private PKI with other ports.
		const free = !forcePrivate &&
			(await portFree('::', 18888) || await portFree('0.0.0.0', 18888)) && await portFree('127.0.0.1', 18889);
		if (!free) {
			const p1 = await randomFreePort(['::', '127.0.0.1']);
			let p2 = await randomFreePort(['127.0.0.1']);
			if (p2 === p1) p2 = await randomFreePort(['127.0.0.1']);
			env.PKI_OCSP_URL_BASE = `http://127.0.0.1:${p1}`;
			env.PKI_CRL_URL_BASE = `http://127.0.0.1:${p2}`;
			dir = path.join(RUN, 'pki');
			note = ` (OCSP/CRL ports of the shared PKI busy: private PKI with ports ${p1}/${p2})`;
		} else {
			delete env.PKI_OCSP_URL_BASE;
			delete env.PKI_CRL_URL_BASE;
		}
	}
	const r = spawnSync('bash', [path.join(ROOT, 'tests/pki/make-pki.sh'), dir], { env, stdio: ['ignore', 'inherit', 'pipe'] });
	if (r.status !== 0) throw new Error(`make-pki.sh failed: ${short(r.stderr, 2000)}`);
	const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
	if (note) console.error(`site: test PKI in ${dir}${note}`);
	return { dir, cases, private: Boolean(note) };
}

// ------------------------------------------------------------------ hostile servers (in process)
function hostileServer(kind, addr, port, logFile) {
	const log = (m) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${kind} ${m}\n`);
	const sockets = new Set();
	const stats = { connections: 0, clientHello: 0 };
	const server = net.createServer((s) => {
		stats.connections++;
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
		s.on('error', (e) => log(`socket error ${e.code || e.message}`));
		log(`connection from ${s.remoteAddress}:${s.remotePort}`);
		if (kind === 'never-tls') {
			s.on('data', (d) => log(`read ${d.length} bytes, never answering`));
		} else if (kind === 'reset') {
			s.once('data', (d) => {
				if (d[0] === 0x16) stats.clientHello++;
				log(`read ${d.length} bytes (first byte 0x${d[0].toString(16)}), resetting`);
				s.resetAndDestroy();
			});
		} else if (kind === 'garbage') {
			s.on('data', (d) => { if (d[0] === 0x16) stats.clientHello++; });
			const junk = crypto.randomBytes(1 << 20);
			junk[0] = 0x47; // 'G': not a TLS record type, whatever the random bytes
			s.write(junk, () => { log('sent 1 MiB of garbage'); s.end(); });
		}
	});
	const rec = { kind, addr, port, server, stats, closeAll: () => { for (const s of sockets) s.destroy(); } };
	inProcessServers.push(rec);
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen({ host: addr, port, exclusive: true }, () => resolve(rec));
	});
}

function crlServer(baseUrl, crlDir, logFile) {
	const u = new URL(baseUrl);
	const log = (m) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${m}\n`);
	const stats = { requests: [] };
	const server = http.createServer((req, res) => {
		const name = path.basename(decodeURIComponent(req.url.split('?')[0]));
		const f = path.join(crlDir, name);
		stats.requests.push(req.url);
		if (req.method === 'GET' && name.endsWith('.crl') && fs.existsSync(f)) {
			const body = fs.readFileSync(f);
			log(`${req.method} ${req.url} 200 ${body.length}`);
			res.writeHead(200, { 'Content-Type': 'application/pkix-crl', 'Content-Length': body.length });
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

// ------------------------------------------------------------------ OCSP responder
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
			const res = await httpPost(r.url, probe, 'application/ocsp-request', 3000);
			if (res.status === 200 && res.body.length > 0) {
				// An answer from another run's responder on the same port while
				// ours failed to bind: ours exits at once.
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
		const res = await httpPost(ocsp.url, ocsp.probe, 'application/ocsp-request', 3000);
		if (res.status === 200 && res.body.length > 0) return true;
	} catch { /* restart below */ }
	fs.appendFileSync(path.join(RUN, 'servers', 'ocsp-responder.log'), '--- runner: responder unhealthy, restarting\n');
	await stopChild(ocsp.rec);
	await startOcsp(pki);
	return false;
}

// ------------------------------------------------------------------ the host
function hostEnv({ name, resolve, allowPrivate = true, config, pki }) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (k.startsWith('TRUSTLENS_') || /^(https?|all|no|ftp)_proxy$/i.test(k)) continue;
		env[k] = v;
	}
	const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
	env.TRUSTLENS_CA_FILE = path.join(pki.dir, 'ca-bundle.pem');
	env.TRUSTLENS_EV_ROOTS = path.join(pki.dir, 'ev-roots.json');
	env.TRUSTLENS_QWAC_ROOTS = path.join(pki.dir, 'qwac-roots.pem');
	if (resolve) env.TRUSTLENS_RESOLVE = resolve;
	if (allowPrivate) env.TRUSTLENS_ALLOW_PRIVATE = '1';
	env.TRUSTLENS_NOW = NOW;
	env.TRUSTLENS_STATE_DIR = fs.mkdtempSync(path.join(RUN, 'state', `${safe}-`));
	const cfgFile = path.join(RUN, 'config', `${safe}.json`);
	fs.writeFileSync(cfgFile, JSON.stringify(config, null, 1) + '\n');
	env.TRUSTLENS_CONFIG = cfgFile;
	env.TRUSTLENS_LOG = path.join(RUN, 'host-logs', `${safe}.log`);
	return env;
}

function runHost(name, args, env, limitMs = HOST_RUN_LIMIT_MS) {
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
		const t = setTimeout(() => { killed = true; try { proc.kill('SIGKILL'); } catch { /* gone */ } }, limitMs);
		const finishRun = (code, signal, spawnError) => {
			clearTimeout(t);
			rec.exited = true;
			children.delete(proc.pid);
			const stdout = Buffer.concat(out).toString('utf8');
			const stderr = Buffer.concat(err).toString('utf8');
			const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
			checkSanitizers(name, stderr);
			fs.writeFileSync(path.join(RUN, 'host-stderr', `${safe}.txt`),
				`$ ${HOST_BIN} ${args.join(' ')}\nexit ${code} signal ${signal}${killed ? ' (killed: too slow)' : ''}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
			resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, killed, spawnError });
		};
		proc.on('error', (e) => finishRun(null, null, e.message));
		proc.on('close', (code, signal) => finishRun(code, signal));
	});
}

// Sanitizer reports in any host's stderr (an ASan build passed with --host)
// fail the suite even when the exit status hides them.
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
				p.resolve({ msg, at: Date.now() });
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
		const safe = this.name.replace(/[^A-Za-z0-9._-]/g, '_');
		checkSanitizers(this.name, Buffer.concat(this.stderr).toString('utf8'));
		fs.writeFileSync(path.join(RUN, 'host-stderr', `${safe}.txt`),
			`$ ${HOST_BIN} ${ORIGIN} (native messaging)\nexit ${code}\n--- unmatched frames\n${this.extra.join('\n')}\n--- stderr\n${Buffer.concat(this.stderr).toString('utf8')}`);
		return code;
	}
}

// ------------------------------------------------------------------ comparing verdicts
function compareVerdict(exp, act) {
	const bad = [];
	if (act === null || typeof act !== 'object' || Array.isArray(act)) return [`verdict is not a JSON object: ${J(act)}`];
	for (const k of ['level', 'verdict', 'valid', 'revocation', 'host', 'port', 'not_after', 'cached']) {
		if (!(k in exp)) continue;
		if (act[k] !== exp[k]) bad.push(`${k}: expected ${J(exp[k])}, actual ${J(act[k])}`);
	}
	if ('reasons' in exp) {
		if (!Array.isArray(act.reasons)) {
			bad.push(`reasons: expected ${J(exp.reasons)}, actual ${J(act.reasons)}`);
		} else {
			const missing = exp.reasons.filter((r) => !act.reasons.includes(r));
			const extra = act.reasons.filter((r) => !exp.reasons.includes(r));
			if (missing.length || extra.length) {
				bad.push(`reasons: expected ${J([...exp.reasons].sort())}, actual ${J([...act.reasons].sort())}`);
			}
		}
	}
	for (const obj of ['identity', 'issuer']) {
		if (!exp[obj]) continue;
		const a = act[obj] && typeof act[obj] === 'object' ? act[obj] : {};
		for (const [k, v] of Object.entries(exp[obj])) {
			const av = a[k];
			if (v === null ? av !== null && av !== undefined : av !== v) {
				bad.push(`${obj}.${k}: expected ${v === null ? 'absent or null' : J(v)}, actual ${J(av)}`);
			}
		}
	}
	return bad;
}

function canonical(v) {
	if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
	if (v && typeof v === 'object') {
		return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
	}
	return JSON.stringify(v);
}

function diffObjects(a, b, prefix = '') {
	const out = [];
	const keys = new Set([...Object.keys(a || {}), ...Object.keys(b || {})]);
	for (const k of [...keys].sort()) {
		const x = a?.[k];
		const y = b?.[k];
		if (canonical(x) === canonical(y)) continue;
		if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) {
			out.push(...diffObjects(x, y, `${prefix}${k}.`));
		} else {
			out.push(`${prefix}${k}: cli ${J(x)}, protocol ${J(y)}`);
		}
	}
	return out;
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


// ------------------------------------------------------------------ harness checks
function execCapture(cmd, args, { env, cwd, input, limitMs = 15000 } = {}) {
	return new Promise((resolve) => {
		const proc = spawn(cmd, args, { env: env || process.env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
		const rec = { name: `${cmd} ${args[0]}`, proc, exited: false };
		if (proc.pid) children.set(proc.pid, rec);
		const out = [];
		proc.stdout.on('data', (d) => out.push(d));
		proc.stderr.on('data', (d) => out.push(d));
		const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, limitMs);
		proc.on('error', (e) => { clearTimeout(t); resolve({ code: null, out: e.message }); });
		proc.on('close', (code) => {
			clearTimeout(t);
			rec.exited = true;
			children.delete(proc.pid);
			resolve({ code, out: Buffer.concat(out).toString('utf8') });
		});
		proc.stdin.on('error', () => {});
		proc.stdin.end(input || '');
	});
}

// openssl verify error numbers s_client must report at TRUSTLENS_NOW.
const SCLIENT_VERIFY = { expired: 10, notyet: 9, wronghost: 62, selfsigned: 18, unknownroot: 20 };

async function harnessChecks({ pki, leaves, leafList, addrOf, P }) {
	const nowEpoch = String(Math.floor(Date.parse(NOW) / 1000));
	const sha = (pem) => crypto.createHash('sha256').update(new crypto.X509Certificate(pem).raw).digest('hex');
	await pool(leafList, 4, async (n) => {
		const name = `harness/s_server/${n}`;
		const L = leaves[n];
		const r = await execCapture('openssl', ['s_client', '-connect', `${addrOf[n]}:${P}`, '-servername', L.host,
			'-CAfile', 'ca-bundle.pem', '-attime', nowEpoch, '-verify_hostname', L.host, '-status', '-showcerts'],
			{ cwd: pki.dir });
		fs.writeFileSync(path.join(RUN, 'servers', `s_client-${n}.txt`), r.out);
		const bad = [];
		// The chain section only: with -status the staple's certificates are printed too.
		const chainText = (r.out.split('Certificate chain')[1] || '').split('\n---\n')[0];
		const pems = chainText.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) || [];
		const want = fs.readFileSync(path.join(pki.dir, L.fullchain), 'utf8')
			.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) || [];
		if (!pems.length) bad.push(`no certificate received (${short(r.out, 200)})`);
		else if (pems.map(sha).join() !== want.map(sha).join()) bad.push(`served ${pems.length} certificates, not the ${want.length} of ${L.fullchain}`);
		const m = r.out.match(/Verify return code: (\d+)/);
		const code = m ? Number(m[1]) : null;
		const wantCode = SCLIENT_VERIFY[n] ?? 0;
		if (code !== wantCode) bad.push(`s_client verify return code ${code}, expected ${wantCode}`);
		if (L.staple) {
			const st = r.out.match(/Cert Status: (\w+)/);
			const wantSt = L.status_in_ca === 'revoked' ? 'revoked' : 'good';
			if (!st || st[1] !== wantSt) bad.push(`staple Cert Status ${st ? st[1] : 'absent'}, expected ${wantSt}`);
		} else if (!/OCSP response: no response sent/.test(r.out)) {
			bad.push('a staple was sent where none is configured');
		}
		if (bad.length) fail(name, bad.join('; '));
		else ok(name);
	});
	if (ocsp && selected('harness/ocsp-responder')) {
		const lib = faketimeLib();
		const env = { ...process.env, LD_PRELOAD: lib, FAKETIME: '@2026-06-01 00:00:00', TZ: 'UTC' };
		const bad = [];
		for (const [leaf, want] of [['revoked-ocsp', 'revoked'], ['good-ocsp', 'good']]) {
			const r = await execCapture('openssl', ['ocsp', '-issuer', 'ca/rev-ca/cert.pem', '-cert', leaves[leaf].cert,
				'-url', ocsp.url, '-CAfile', 'ca-bundle.pem', '-verify_other', 'ca/rev-ca/chain.pem', '-timeout', '5'],
			{ env, cwd: pki.dir });
			if (!/Response verify OK/.test(r.out) || !new RegExp(`cert\\.pem: ${want}\\b`).test(r.out)) {
				bad.push(`${leaf}: expected a verified "${want}", got ${short(r.out, 200)}`);
			}
		}
		if (bad.length) fail('harness/ocsp-responder', bad.join('; '));
		else ok('harness/ocsp-responder');
	}
	const crl = inProcessServers.find((x) => x.stats && x.stats.requests);
	if (crl && selected('harness/crl-server')) {
		const bad = [];
		const get = (p) => new Promise((resolve) => {
			http.get({ host: crl.host, port: crl.port, path: p }, (res) => {
				const c = [];
				res.on('data', (d) => c.push(d));
				res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(c) }));
			}).on('error', (e) => resolve({ status: e.message, body: Buffer.alloc(0) }));
		});
		const a = await get('/rev-ca.crl');
		const file = fs.readFileSync(path.join(pki.dir, 'crl', 'rev-ca.crl'));
		if (a.status !== 200 || !a.body.equals(file)) bad.push(`/rev-ca.crl: status ${a.status}, ${a.body.length} bytes`);
		const b = await get('/missing.crl');
		if (b.status !== 404) bad.push(`/missing.crl: status ${b.status}, expected 404`);
		crl.stats.requests.length = 0;
		if (bad.length) fail('harness/crl-server', bad.join('; '));
		else ok('harness/crl-server');
	}
}

// ------------------------------------------------------------------ main
const ERROR_TESTS = ['errors/blocked-private', 'errors/blocked-port', 'errors/never-tls',
	'errors/reset-mid-handshake', 'errors/garbage', 'errors/dns-failed', 'protocol/error/blocked-address',
	'protocol/exit-on-eof-mid-request'];
let finished = false;
function finish(code) {
	if (finished) return;
	finished = true;
	if (failed > 0 || opt.keep) {
		console.error(`site: evidence (server logs, host logs and stderr, configs, verdicts) kept in ${path.relative(process.cwd(), RUN) || RUN}`);
	} else {
		fs.rmSync(RUN, { recursive: true, force: true });
	}
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(code ?? (failed > 0 ? 1 : 0));
}

async function main() {
	const expected = JSON.parse(fs.readFileSync(path.join(HERE, 'expected.json'), 'utf8'));
	if (!fs.existsSync(HOST_BIN)) {
		fail('setup', `${HOST_BIN} not found (run make)`);
		return;
	}
	let pki;
	try {
		pki = await preparePki();
	} catch (e) {
		fail('setup/pki', e.message);
		return;
	}
	// The CRL server and the OCSP responder listen where the PKI's URLs say.
	// If another run holds those ports, fall back once to a private PKI.
	const startRevocation = async () => {
		await crlServer(pki.cases.crl_url_base, path.join(pki.dir, 'crl'), path.join(RUN, 'servers', 'crl-http.log'));
		await startOcsp(pki);
	};
	try {
		await startRevocation();
	} catch (e) {
		const again = !pki.private && !opt.pki && !process.env.PKI_DIR;
		for (const x of inProcessServers.splice(0)) { try { x.server.close(); } catch { /* closed */ } }
		if (ocsp) await stopChild(ocsp.rec);
		ocsp = null;
		if (!again) {
			fail('setup/revocation-servers', `${e.message} (logs in ${RUN}/servers)`);
			return;
		}
		try {
			pki = await preparePki(true);
			await startRevocation();
		} catch (e2) {
			fail('setup/revocation-servers', `${e2.message} (logs in ${RUN}/servers)`);
			return;
		}
	}
	const leaves = pki.cases.cases;
	const crlUrl = new URL(pki.cases.crl_url_base);
	const ocspUrl = new URL(pki.cases.ocsp_url_base);
	const ocspPort = Number(ocspUrl.port || 80);
	const crlPort = Number(crlUrl.port || 80);

	// Addresses 127.A.B.x and one port P shared by every TLS server of this run.
	const A = 16 + crypto.randomInt(230);
	const B = crypto.randomInt(256);
	const addr = (i) => `127.${A}.${B}.${i}`;
	const tests = expected.tests.filter((t) => selected(`site/${t.name}`));
	const wantProtocol = expected.protocol_subset.filter((n) => selected(`protocol/site/${n}`));
	const wantErrors = ERROR_TESTS.some(selected);
	const wantSites = selected('protocol/sites/200-urls-20-hosts');

	const leafNames = new Set(tests.map((t) => t.leaf));
	for (const n of wantProtocol) leafNames.add(expected.tests.find((t) => t.name === n).leaf);
	if (wantSites) for (const n of expected.sites_hosts) leafNames.add(n);
	if (wantErrors) leafNames.add('ov');
	const wantHarness = selected('harness/');
	if (wantHarness) for (const t of expected.tests) leafNames.add(t.leaf);
	const leafList = [...leafNames].sort();
	const addrOf = {};
	leafList.forEach((n, i) => { addrOf[n] = addr(i + 1); });
	const hostileAddr = { 'never-tls': addr(201), reset: addr(202), garbage: addr(203), dead: addr(204) };

	let P;
	try {
		P = await randomFreePort([...Object.values(addrOf), ...Object.values(hostileAddr)]);
	} catch (e) {
		fail('setup/port', e.message);
		return;
	}
	const allowedPorts = [P, ocspPort, crlPort];

	// Servers.
	try {
		const recs = [];
		for (const n of leafList) {
			const L = leaves[n];
			const args = ['s_server', '-accept', `${addrOf[n]}:${P}`, '-cert', L.cert, '-key', L.key, '-www', '-quiet'];
			if (fs.statSync(path.join(pki.dir, L.chain)).size > 0) args.push('-cert_chain', L.chain);
			if (L.staple) args.push('-status_file', L.staple);
			recs.push([n, startChild(`s_server ${n}`, 'openssl', args,
				{ cwd: pki.dir, log: path.join(RUN, 'servers', `s_server-${n}.log`) })]);
		}
		if (wantErrors || wantSites) {
			const hl = path.join(RUN, 'servers', 'hostile.log');
			await hostileServer('never-tls', hostileAddr['never-tls'], P, hl);
			await hostileServer('reset', hostileAddr.reset, P, hl);
			await hostileServer('garbage', hostileAddr.garbage, P, hl);
			await hostileServer('never-tls', hostileAddr.dead, P, hl);
		}
		await Promise.all(recs.map(([n, rec]) => waitTcp(addrOf[n], P, 10000, rec)));
	} catch (e) {
		fail('setup/servers', `${e.message} (logs in ${RUN}/servers)`);
		return;
	}

	// 0. The harness itself, checked with openssl and node only (no host):
	// each site serves its leaf and chain (and staple), the OCSP responder
	// and the CRL server answer as the PKI says.
	if (wantHarness) await harnessChecks({ pki, leaves, leafList, addrOf, P });

	const baseConfig = (extra = {}) => ({
		// Ordinary cases are not about timeouts: under valgrind (SLOW) the
		// host's own bounds stretch like the test's.
		allowed_ports: allowedPorts, timeout_ms: CASE_TIMEOUT_MS * SLOW, connect_timeout_ms: CASE_CONNECT_MS * SLOW, ...extra,
	});
	const cliVerdicts = {};

	// 1. One CLI run per expected verdict.
	async function siteTest(t) {
		const name = `site/${t.name}`;
		const L = leaves[t.leaf];
		const urlHost = t.url_host || L.host;
		const url = `https://${urlHost}:${P}/`;
		const env = hostEnv({ name, pki, resolve: `${L.host}:${P}:${addrOf[t.leaf]}`, config: baseConfig(t.config || {}) });
		if (t.config && t.config.ocsp_fetch) await ocspHealthy(pki);
		const r = await runHost(name, ['site', url, '--json'], env);
		const v = parseJson(r.stdout);
		fs.writeFileSync(path.join(RUN, 'verdicts', `${t.name}.json`), r.stdout);
		if (r.spawnError) return fail(name, `cannot run the host: ${r.spawnError}`);
		if (r.code !== 0) {
			return fail(name, `exit ${r.code ?? r.signal}${r.killed ? ' (killed after ' + HOST_RUN_LIMIT_MS + ' ms)' : ''}, expected 0 and a verdict; stdout: ${short(r.stdout)}; stderr: ${short(r.stderr)}`);
		}
		if (v === undefined) return fail(name, `stdout is not JSON: ${short(r.stdout)}`);
		cliVerdicts[t.name] = v;
		const exp = { host: L.host, port: P, not_after: L.not_after, cached: false, ...t.expect };
		const bad = compareVerdict(exp, v);
		if (bad.length) return fail(name, `${t.leaf} at ${url}: ${bad.join('; ')}`);
		ok(name);
	}
	const ocspTests = tests.filter((t) => t.config && t.config.ocsp_fetch);
	const otherTests = tests.filter((t) => !(t.config && t.config.ocsp_fetch));
	await pool(otherTests, opt.jobs, siteTest);
	for (const t of ocspTests) await siteTest(t); // one responder, one request at a time

	// 1b. The cache is shared by host processes through the state directory.
	if (selected('site/cache-across-processes') && leaves.ov) {
		const name = 'site/cache-across-processes';
		const L = leaves.ov;
		const env = hostEnv({ name, pki, resolve: `${L.host}:${P}:${addrOf.ov}`, config: baseConfig() });
		const first = parseJson((await runHost(name, ['site', `https://${L.host}:${P}/`, '--json'], env)).stdout);
		const second = parseJson((await runHost(name, ['site', `https://${L.host}:${P}/`, '--json'], env)).stdout);
		if (!first || !second) fail(name, 'no verdict');
		else if (first.cached !== false || second.cached !== true) fail(name, `cached: first ${J(first.cached)}, second ${J(second.cached)}; expected false then true`);
		else if (second.level !== 'ov') fail(name, `second verdict level ${J(second.level)}`);
		else ok(name);
	}

	// 1c. A verdict whose revocation status could not be learned is cached
	// for minutes, not for the whole TTL (an outage is not remembered);
	// a good one for the TTL. Read from the state database itself.
	if (selected('site/unknown-revocation-cached-briefly') && leaves['crl-missing'] && leaves['good-crl']) {
		const name = 'site/unknown-revocation-cached-briefly';
		const life = {};
		for (const leaf of ['crl-missing', 'good-crl']) {
			const L = leaves[leaf];
			const env = hostEnv({ name: `${name}-${leaf}`, pki, resolve: `${L.host}:${P}:${addrOf[leaf]}`, config: baseConfig({ cache_ttl_s: 3600 }) });
			const v = parseJson((await runHost(name, ['site', `https://${L.host}:${P}/`, '--json'], env)).stdout);
			const q = spawnSync('/usr/bin/sqlite3', [path.join(env.TRUSTLENS_STATE_DIR, 'cache.sqlite'), 'SELECT expires - stored FROM verdicts;'], { encoding: 'utf8', timeout: 10000 });
			life[leaf] = { revocation: v?.revocation, seconds: Number(q.stdout.trim()) };
		}
		const u = life['crl-missing'];
		const g = life['good-crl'];
		if (u.revocation !== 'unknown' || g.revocation !== 'good') fail(name, `revocation: ${J(u.revocation)} and ${J(g.revocation)}; expected unknown and good`);
		else if (!(u.seconds > 0 && u.seconds <= 300)) fail(name, `an unknown-revocation verdict is cached for ${J(u.seconds)} s; expected at most 300`);
		else if (!(g.seconds > 3000 && g.seconds <= 3600)) fail(name, `a good verdict is cached for ${J(g.seconds)} s; expected the TTL (3600)`);
		else ok(name);
	}

	// 2. The same verdicts through native messaging.
	if (wantProtocol.length) {
		const subset = wantProtocol.map((n) => expected.tests.find((t) => t.name === n));
		const resolve = [...new Set(subset.map((t) => `${leaves[t.leaf].host}:${P}:${addrOf[t.leaf]}`))].join(',');
		const nh = new NativeHost('protocol-site', hostEnv({ name: 'protocol-site', pki, resolve, config: baseConfig() }));
		await Promise.all(subset.map(async (t, i) => {
			const name = `protocol/site/${t.name}`;
			const L = leaves[t.leaf];
			const url = `https://${t.url_host || L.host}:${P}/`;
			let reply;
			try {
				reply = (await nh.request({ id: i + 1, type: 'site', url })).msg;
			} catch (e) {
				return fail(name, e.message);
			}
			fs.writeFileSync(path.join(RUN, 'verdicts', `protocol-${t.name}.json`), JSON.stringify(reply, null, 1));
			if (reply.ok !== true || !reply.result) return fail(name, `expected ok:true with a result, got ${short(JSON.stringify(reply))}`);
			const cli = cliVerdicts[t.name];
			if (!cli) {
				// No CLI verdict to compare with: at least check the expectations.
				const exp = { host: L.host, port: P, not_after: L.not_after, ...t.expect };
				const bad = compareVerdict(exp, reply.result);
				return fail(name, `no CLI verdict to compare with (site/${t.name} failed or did not run)${bad.length ? '; against expected.json: ' + bad.join('; ') : ''}`);
			}
			const a = { ...cli };
			const b = { ...reply.result };
			delete a.cached;
			delete b.cached;
			if (canonical(a) !== canonical(b)) return fail(name, `protocol result differs from the CLI verdict: ${diffObjects(a, b).join('; ')}`);
			ok(name);
		}));
		if (selected('protocol/site/cached-second-time') && cliVerdicts.ev && wantProtocol.includes('ev')) {
			// The same site again in the same process: served from the cache.
			const name = 'protocol/site/cached-second-time';
			try {
				const { msg } = await nh.request({ id: 'again', type: 'site', url: `https://${leaves.ev.host}:${P}/other/path` });
				const bad = [];
				if (msg.ok !== true || !msg.result) bad.push(`expected ok:true with a result, got ${short(JSON.stringify(msg))}`);
				else {
					if (msg.result.cached !== true) bad.push(`cached: expected true, actual ${J(msg.result.cached)}`);
					const a = { ...cliVerdicts.ev };
					const b = { ...msg.result };
					delete a.cached;
					delete b.cached;
					if (canonical(a) !== canonical(b)) bad.push(`differs from the CLI verdict: ${diffObjects(a, b).join('; ')}`);
				}
				if (bad.length) fail(name, bad.join('; '));
				else ok(name);
			} catch (e) {
				fail(name, e.message);
			}
		}
		// The chain the browser saw (Firefox): same verdict, no connection.
		for (const leafName of ['ev', 'qwac-ov', 'expired', 'unknownroot']) {
			const name = `protocol/chain/${leafName}`;
			if (!selected(name) || !cliVerdicts[leafName]) continue;
			const L = leaves[leafName];
			const pems = fs.readFileSync(path.join(pki.dir, L.fullchain), 'utf8')
				.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) || [];
			const chain = pems.map((p) => new crypto.X509Certificate(p).raw.toString('base64'));
			try {
				const { msg } = await nh.request({ id: `chain-${leafName}`, type: 'chain', host: L.host, port: P, chain });
				if (msg.ok !== true) { fail(name, `expected ok:true, got ${short(JSON.stringify(msg))}`); continue; }
				const a = { ...cliVerdicts[leafName] };
				const b = { ...msg.result };
				delete a.cached;
				delete b.cached;
				if (canonical(a) !== canonical(b)) fail(name, `chain verdict differs from the site verdict: ${diffObjects(a, b).join('; ')}`);
				else ok(name);
			} catch (e) {
				fail(name, e.message);
			}
		}
		if (selected('protocol/chain/garbage')) {
			const { msg } = await nh.request({ id: 'chain-garbage', type: 'chain', host: 'ev.test', chain: ['AAAA'] });
			if (msg.ok === false && msg.error && msg.error.code === 'bad_request') ok('protocol/chain/garbage');
			else fail('protocol/chain/garbage', `expected bad_request, got ${short(JSON.stringify(msg))}`);
		}
		const code = await nh.close();
		if (selected('protocol/exit-on-eof')) {
			if (code === 0) ok('protocol/exit-on-eof');
			else fail('protocol/exit-on-eof', `host exit after EOF: ${code}`);
		}
	}

	// 3. Errors: blocked addresses and ports, hostile servers, DNS.
	async function errorTest(name, { url, resolve, allowPrivate = true, config, codes, maxMs }) {
		if (!selected(name)) return;
		const env = hostEnv({ name, pki, resolve, allowPrivate, config });
		const r = await runHost(name, ['site', url, '--json'], env);
		const v = parseJson(r.stdout);
		fs.writeFileSync(path.join(RUN, 'verdicts', `${name.replace(/\//g, '_')}.json`), r.stdout);
		const bad = [];
		if (r.spawnError) bad.push(`cannot run the host: ${r.spawnError}`);
		if (r.code !== 3) bad.push(`exit: expected 3, actual ${r.code ?? r.signal}`);
		const code = v && v.error && v.error.code;
		if (!codes.includes(code)) bad.push(`error.code: expected ${codes.map(J).join(' or ')}, actual ${J(code)} (stdout ${short(r.stdout, 200)})`);
		if (v && v.error && typeof v.error.message !== 'string') bad.push('error.message: expected a string');
		if (maxMs && r.ms >= maxMs * SLOW) bad.push(`elapsed: expected < ${maxMs * SLOW} ms, actual ${r.ms} ms`);
		if (bad.length) return fail(name, `${url}: ${bad.join('; ')}${r.stderr ? '; stderr: ' + short(r.stderr, 200) : ''}`);
		ok(name);
		if (maxMs) console.log(`#   ${name}: ${code} after ${r.ms} ms (limit ${maxMs * SLOW} ms)`);
		return r;
	}
	if (wantErrors) {
		const ovRes = `ov.test:${P}:${addrOf.ov}`;
		const ovLocal = `ov.test:${P}:127.0.0.1`; // a name resolving to 127.0.0.1
		const hostileCfg = { allowed_ports: allowedPorts, timeout_ms: HOSTILE_TIMEOUT_MS, connect_timeout_ms: HOSTILE_CONNECT_MS };
		const byKind = (k) => inProcessServers.find((s) => s.addr === hostileAddr[k]);
		await errorTest('errors/blocked-private', {
			url: `https://ov.test:${P}/`, resolve: ovLocal, allowPrivate: false, config: baseConfig(), codes: ['blocked_address'],
		});
		await errorTest('errors/blocked-port', {
			url: `https://ov.test:${P}/`, resolve: ovRes, config: { ...baseConfig(), allowed_ports: [ocspPort, crlPort] },
			codes: ['blocked_address'],
		});
		const nt = byKind('never-tls');
		const before = nt.stats.connections;
		const r = await errorTest('errors/never-tls', {
			url: `https://never-tls.test:${P}/`, resolve: `never-tls.test:${P}:${hostileAddr['never-tls']}`,
			config: hostileCfg, codes: ['timeout', 'tls_failed'], maxMs: HOSTILE_TIMEOUT_MS + 1500,
		});
		if (r && nt.stats.connections === before) console.log('#   note: the never-TLS server saw no connection');
		const rs = byKind('reset');
		const r2 = await errorTest('errors/reset-mid-handshake', {
			url: `https://reset.test:${P}/`, resolve: `reset.test:${P}:${hostileAddr.reset}`,
			config: hostileCfg, codes: ['tls_failed', 'connect_failed'], maxMs: HOSTILE_TIMEOUT_MS + 1500,
		});
		if (r2 && rs.stats.clientHello === 0) console.log('#   note: the reset server received no ClientHello');
		await errorTest('errors/garbage', {
			url: `https://garbage.test:${P}/`, resolve: `garbage.test:${P}:${hostileAddr.garbage}`,
			config: hostileCfg, codes: ['tls_failed'], maxMs: HOSTILE_TIMEOUT_MS + 1500,
		});
		await errorTest('errors/dns-failed', {
			url: 'https://nosuch.invalid/', config: hostileCfg, codes: ['dns_failed'],
		});
		if (selected('protocol/exit-on-eof-mid-request')) {
			// The browser closes the port while a handshake is stalled: the
			// host cancels it and exits promptly (no orphan). The bound is a
			// sanity limit, not a speed test; the figure is printed.
			const name = 'protocol/exit-on-eof-mid-request';
			const nh = new NativeHost('protocol-eof', hostEnv({ name, pki,
				resolve: `never-tls.test:${P}:${hostileAddr['never-tls']}`,
				config: { ...hostileCfg, timeout_ms: 30000, connect_timeout_ms: 30000 } }));
			const pending = nh.request({ id: 'stalled', type: 'site', url: `https://never-tls.test:${P}/` }, 40000)
				.catch(() => null);
			await sleep(300);
			const t0 = Date.now();
			const code = await nh.close();
			const ms = Date.now() - t0;
			await pending;
			console.log(`#   host exited ${ms} ms after EOF with a stalled handshake in flight`);
			if (code !== 0) fail(name, `exit ${code} after EOF, expected 0`);
			else if (ms > 1000) fail(name, `host took ${ms} ms to exit after EOF (limit 1000 ms)`);
			else ok(name);
		}
		if (selected('protocol/error/blocked-address')) {
			const name = 'protocol/error/blocked-address';
			const nh = new NativeHost('protocol-error', hostEnv({ name, pki, resolve: ovLocal, allowPrivate: false, config: baseConfig() }));
			try {
				const { msg } = await nh.request({ id: 'blocked-1', type: 'site', url: `https://ov.test:${P}/` });
				const bad = [];
				if (msg.id !== 'blocked-1') bad.push(`id: expected "blocked-1", actual ${J(msg.id)}`);
				if (msg.ok !== false) bad.push(`ok: expected false, actual ${J(msg.ok)}`);
				if (!msg.error || msg.error.code !== 'blocked_address') bad.push(`error.code: expected "blocked_address", actual ${J(msg.error && msg.error.code)}`);
				if (bad.length) fail(name, bad.join('; '));
				else ok(name);
			} catch (e) {
				fail(name, e.message);
			}
			await nh.close();
		}
	}

	// 4. `sites`: 200 URLs over 20 hosts, one of them dead.
	if (wantSites) {
		const name = 'protocol/sites/200-urls-20-hosts';
		const live = expected.sites_hosts;
		const hostsList = [...live.map((n) => leaves[n].host), 'dead.test'];
		const resolve = [...live.map((n) => `${leaves[n].host}:${P}:${addrOf[n]}`), `dead.test:${P}:${hostileAddr.dead}`].join(',');
		const urls = [];
		for (let i = 0; i < 10; i++) {
			for (const h of hostsList) {
				if (i === 0) urls.push(`https://${h}:${P}/`);
				else if (i === 1) urls.push(`https://${h}:${P}`);
				else if (i === 2) urls.push(`https://${h.toUpperCase()}:${P}/Upper`);
				else if (i === 3) urls.push(`https://${h}:${P}/page#fragment`);
				else urls.push(`https://${h}:${P}/path/${i}?q=${i}&h=${encodeURIComponent(h)}`);
			}
		}
		const cfg = { allowed_ports: allowedPorts, timeout_ms: HOSTILE_TIMEOUT_MS, connect_timeout_ms: HOSTILE_CONNECT_MS };
		const nh = new NativeHost('protocol-sites', hostEnv({ name, pki, resolve, config: cfg }));
		const bad = [];
		try {
			const hello = await nh.request({ id: 0, type: 'hello' }, 10000);
			if (!hello.msg.ok) bad.push(`hello failed: ${short(JSON.stringify(hello.msg))}`);
			const t0 = Date.now();
			const { msg, at } = await nh.request({ id: 1, type: 'sites', urls }, HOSTILE_TIMEOUT_MS + 20000);
			const ms = at - t0;
			console.log(`#   ${name}: reply after ${ms} ms (limit ${HOSTILE_TIMEOUT_MS + 3000} ms)`);
			fs.writeFileSync(path.join(RUN, 'verdicts', 'protocol-sites.json'), JSON.stringify(msg, null, 1));
			const limit = HOSTILE_TIMEOUT_MS + 3000;
			if (ms >= limit) bad.push(`elapsed: expected < ${limit} ms, actual ${ms} ms`);
			const vs = msg.ok === true && msg.result && msg.result.verdicts;
			if (!Array.isArray(vs)) {
				bad.push(`expected ok:true and result.verdicts, got ${short(JSON.stringify(msg))}`);
			} else {
				const keys = vs.map((v) => `${v && v.host}:${v && v.port}`);
				const want = hostsList.map((h) => `${h}:${P}`);
				if (vs.length !== 20) bad.push(`verdicts: expected 20 (one per host:port), actual ${vs.length}`);
				const missing = want.filter((k) => !keys.includes(k));
				const extra = keys.filter((k) => !want.includes(k));
				const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
				if (missing.length) bad.push(`missing host:port ${J(missing)}`);
				if (extra.length) bad.push(`unexpected host:port ${J(extra)}`);
				if (dup.length) bad.push(`duplicate host:port ${J(dup)}`);
				const dead = vs.find((v) => v && v.host === 'dead.test');
				if (dead && !(dead.error && ['timeout', 'tls_failed'].includes(dead.error.code))) {
					bad.push(`dead.test: expected error.code "timeout" or "tls_failed", actual ${short(JSON.stringify(dead), 200)}`);
				}
				for (const n of live) {
					const v = vs.find((x) => x && x.host === leaves[n].host);
					if (!v) continue;
					const t = expected.tests.find((x) => x.name === n);
					const e = {};
					for (const k of ['level', 'verdict', 'valid', 'revocation', 'reasons']) e[k] = t.expect[k];
					const b = compareVerdict(e, v);
					if (b.length) bad.push(`${n}: ${b.join(', ')}`);
				}
			}
		} catch (e) {
			bad.push(e.message);
		}
		await nh.close();
		if (bad.length) fail(name, bad.join('; '));
		else ok(name);
	}
}

const watchdog = setTimeout(async () => {
	fail('watchdog', `suite still running after ${WATCHDOG_MS / 1000} s`);
	await cleanup();
	finish(1);
}, WATCHDOG_MS);

main()
	.catch((e) => fail('runner', e && e.stack ? e.stack : String(e)))
	.then(async () => {
		if (sanitizerHits.length) fail('sanitizers', `sanitizer reports in the stderr of: ${sanitizerHits.join(', ')} (see host-stderr/)`);
		clearTimeout(watchdog);
		await cleanup();
		finish();
	});
