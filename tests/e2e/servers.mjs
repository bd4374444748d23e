// Local servers for the browser suites: HTTPS sites (Node's TLS server)
// with the site test PKI (build/pki, tests/pki/make-pki.sh), each on its own
// loopback address, and a plain HTTP server for test pages (a local
// "webmail" page with links). Everything started here is stopped by stop().

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './harness.mjs';

export const PKI = path.join(ROOT, 'build', 'pki');
export const NOW = '2026-06-01T00:00:00Z';

/** Builds the test PKI when it is missing (idempotent, about 10 s). */
export function ensurePki() {
  if (!fs.existsSync(path.join(PKI, '.complete'))) {
    execFileSync(path.join(ROOT, 'tests/pki/make-pki.sh'), [PKI], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120000 });
  }
}

function portFree(host, port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function freePort(hosts) {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 25000);
    let ok = true;
    for (const h of hosts) if (!(await portFree(h, p))) ok = false;
    if (ok) return p;
  }
  throw new Error('no free port');
}

/**
 * Starts one HTTPS server per PKI leaf ("ev", "dv", "qwac-ev", "expired", ...)
 * on 127.0.78.N, all on one port, each sending its leaf and intermediates.
 * A small Node TLS server rather than `openssl s_server -www`: s_server
 * serves one connection at a time, and a browser's speculative second
 * connection then stalls the real one. Returns the pieces the browser and
 * the host need, and stop().
 */
export async function startSites(leaves, dir) {
  ensurePki();
  const addrs = leaves.map((_, i) => `127.0.78.${i + 1}`);
  const port = await freePort(addrs);
  const servers = [];
  const stop = () => {
    for (const s of servers) {
      s.closeAllConnections?.();
      s.close();
    }
  };
  try {
    for (const [i, leaf] of leaves.entries()) {
      const d = path.join(PKI, 'leaves', leaf);
      const server = https.createServer(
        { key: fs.readFileSync(`${d}/key.pem`), cert: fs.readFileSync(`${d}/fullchain.pem`) },
        (req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' });
          res.end(`<!doctype html><title>${leaf}.test</title><h1>${leaf}.test</h1><p>${req.url.replace(/[<>&"]/g, '')}</p>`);
        },
      );
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, addrs[i], resolve);
      });
      servers.push(server);
    }
  } catch (e) {
    stop();
    throw e;
  }
  const config = path.join(dir, 'host-config.json');
  fs.writeFileSync(config, JSON.stringify({ allowed_ports: [port], timeout_ms: 8000, connect_timeout_ms: 4000 }));
  const names = leaves.map((l) => `${l}.test`);
  return {
    port,
    url: (leaf, p = '/') => `https://${leaf}.test:${port}${p}`,
    // Chromium: every test name to its address; the host: the same through TRUSTLENS_RESOLVE.
    browserArgs: [`--host-resolver-rules=${names.map((n, i) => `MAP ${n} ${addrs[i]}`).join(', ')}`, '--ignore-certificate-errors'],
    hostEnv: {
      TRUSTLENS_CONFIG: config,
      TRUSTLENS_CA_FILE: path.join(PKI, 'ca-bundle.pem'),
      TRUSTLENS_EV_ROOTS: path.join(PKI, 'ev-roots.json'),
      TRUSTLENS_QWAC_ROOTS: path.join(PKI, 'qwac-roots.pem'),
      TRUSTLENS_RESOLVE: names.map((n, i) => `${n}:${port}:${addrs[i]}`).join(','),
      TRUSTLENS_ALLOW_PRIVATE: '1',
      TRUSTLENS_NOW: NOW,
      TRUSTLENS_STATE_DIR: path.join(dir, 'state'),
    },
    stop,
  };
}

/** A plain HTTP server on 127.0.0.1 answering pages(path) => html | null. */
export async function startPages(pages) {
  const server = http.createServer((req, res) => {
    const body = pages(new URL(req.url, 'http://x').pathname);
    if (body === null) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, port, stop: () => new Promise((r) => server.close(r)) };
}
