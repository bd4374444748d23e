#!/usr/bin/python3
"""Fault-injection suite for trustlens-host: real processes, real servers.

  tests/fault/run.py [--filter REGEX] [--host PATH] [--keep]

Servers (threads of this script, on a private loopback address per run):
  - TLS sites with the test PKI (tests/pki/make-pki.sh, built into
    build/fault/pki with CRL/OCSP URLs naming crl.fault.test / ocsp.fault.test);
  - a fault TLS server per behaviour: stall after accept, stall after the
    ClientHello, send part of the Certificate message then stall (a TLS 1.2
    proxy in front of a real site, cut half-way through the certificate),
    trickle a real handshake at one byte a second, reset (SO_LINGER 0);
  - a CRL server and an OCSP server that can be slow, huge (beyond the host's
    caps), answer garbage, or (CRL) serve the real CRL.
Host-side faults: a state directory re-mounted read-only or a tmpfs filled
up mid-run, the history database locked by another process, the host killed
with SIGKILL in the middle of a stream of writes and restarted, the browser
closing the port mid-request.

Each case checks: the error code of DESIGN.md s. 3 (or the verdict) arrives
within a bound derived from the configured timeouts; the same session keeps
answering a `hello` and a good `site` meanwhile (for stalls: before the
faulty reply); nothing stored before the fault is lost (PRAGMA
integrity_check, the counts and cached verdicts seen by a restarted host).
The host's configured timeouts are short (timeout_ms 1500). Bounds are
sanity limits, not speed tests; TRUSTLENS_TEST_SLOW multiplies them.
Ends with "N passed, N failed"; exit 1 on any failure.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
BUILD = os.environ.get('BUILD', 'build')
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
ORIGIN = 'chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/'
NOW = '2026-06-01T00:00:00Z'
TIMEOUT_MS = 1500          # config timeout_ms
CONNECT_MS = 1000          # config connect_timeout_ms
HISTORY_BUSY_MS = 5000     # host/history.c
SLOW = max(1.0, float(os.environ.get('TRUSTLENS_TEST_SLOW') or 1))
OCSP_PORT = 18988          # baked into build/fault/pki's certificates
CRL_PORT = 18989
MAIL_DIR = os.path.join(ROOT, 'tests', 'demo-mail')
WATCHDOG_S = 300 * SLOW

ap = argparse.ArgumentParser()
ap.add_argument('--filter')
ap.add_argument('--host')
ap.add_argument('--keep', action='store_true')
OPT = ap.parse_args()
HOST_BIN = os.path.abspath(OPT.host or os.environ.get('TRUSTLENS_HOST_BIN') or
                           os.path.join(BUILD, 'trustlens-host'))
FILTER = re.compile(OPT.filter) if OPT.filter else None
RUN = os.path.join(ROOT, 'tests', 'out', 'fault',
                   time.strftime('%Y%m%dT%H%M%S') + '-%d' % os.getpid())
os.makedirs(RUN)

passed = failed = 0
cleanups = []


def ok(name, note=''):
    global passed
    passed += 1
    print('ok %s%s' % (name, (' (' + note + ')') if note else ''), flush=True)


def fail(name, why):
    global failed
    failed += 1
    print('FAIL %s: %s' % (name, why), flush=True)


def skip(name, why):
    print('skip %s: %s' % (name, why), flush=True)


def selected(name):
    return FILTER is None or FILTER.search(name) is not None


def short(v, n=300):
    s = v if isinstance(v, str) else json.dumps(v)
    return s if len(s) <= n else s[:n] + '...'


# ------------------------------------------------------------------ the PKI
def make_pki():
    d = os.path.join(BUILD, 'fault', 'pki')
    env = dict(os.environ, PKI_OCSP_URL_BASE='http://ocsp.fault.test:%d' % OCSP_PORT,
               PKI_CRL_URL_BASE='http://crl.fault.test:%d' % CRL_PORT)
    r = subprocess.run(['bash', os.path.join(ROOT, 'tests', 'pki', 'make-pki.sh'), d], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError('make-pki.sh failed: ' + r.stderr.decode()[-2000:])
    with open(os.path.join(d, 'cases.json')) as f:
        return d, json.load(f)['cases']


# ------------------------------------------------------------------ servers
def serve_forever(sock, handler):
    def loop():
        while True:
            try:
                c, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def listener(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    cleanups.append(s.close)
    return s


held = []   # sockets a stalling server keeps open until the end


def tls_site(addr, port, leaf, max_tls12=False):
    """A real TLS site for one test leaf (answers one HTTP request)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(PKI, leaf['fullchain']), os.path.join(PKI, leaf['key']))
    if max_tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2

    def handle(c):
        try:
            c.settimeout(10)
            t = ctx.wrap_socket(c, server_side=True)
            buf = b''
            while b'\r\n\r\n' not in buf and len(buf) < 65536:
                d = t.recv(4096)
                if not d:
                    break
                buf += d
            t.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
            t.close()
        except (OSError, ssl.SSLError):
            c.close()
    serve_forever(listener(addr, port), handle)


def read_record(c):
    """One TLS record from c (header + body), or b'' at EOF."""
    h = b''
    while len(h) < 5:
        d = c.recv(5 - len(h))
        if not d:
            return b''
        h += d
    n = struct.unpack('>H', h[3:5])[0]
    b = b''
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return b''
        b += d
    return h + b


STATS = {}


def fault_server(addr, port, mode, upstream=None):
    STATS[mode] = {'connections': 0, 'client_hello': 0, 'cut_at': None, 'trickled': 0}
    st = STATS[mode]

    def pump(src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass

    def handle(c):
        st['connections'] += 1
        held.append(c)
        if mode == 'stall-accept':
            return                      # accept, then silence
        rec = read_record(c)
        if rec[:1] == b'\x16' and rec[5:6] == b'\x01':
            st['client_hello'] += 1
        if mode == 'stall-hello':
            return                      # the ClientHello was read; silence
        if mode == 'reset':
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            c.close()                   # RST
            return
        u = socket.create_connection(upstream, timeout=10)
        held.append(u)
        u.sendall(rec)
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        if mode == 'trickle':
            try:
                while True:
                    d = u.recv(65536)
                    if not d:
                        break
                    for i in range(len(d)):
                        c.sendall(d[i:i + 1])
                        st['trickled'] += 1
                        time.sleep(1)
            except OSError:
                pass
            return
        # partial-cert: forward the server's records until the Certificate
        # handshake message (TLS 1.2: in the clear), then half of it, then stall.
        out = b''
        try:
            while True:
                r = read_record(u)
                if not r:
                    return
                if r[0] == 0x16:
                    o = 5
                    while o + 4 <= len(r):
                        t = r[o]
                        n = int.from_bytes(r[o + 1:o + 4], 'big')
                        if t == 11:
                            cut = len(out) + o + 4 + n // 2
                            c.sendall((out + r)[:cut])
                            st['cut_at'] = cut
                            return
                        o += 4 + n
                out += r
        except OSError:
            return
    serve_forever(listener(addr, port), handle)


REV = {'crl': 'good', 'ocsp': 'garbage', 'hits': {}}


class RevHandler(BaseHTTPRequestHandler):
    """The CRL server (GET /<ca>.crl) and the OCSP responder (POST or GET /)."""
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        with open(os.path.join(RUN, 'rev-server.log'), 'a') as f:
            f.write('%s %s\n' % (self.server.kind, fmt % args))

    def answer(self):
        kind = self.server.kind
        mode = REV[kind]
        REV['hits'][kind] = REV['hits'].get(kind, 0) + 1
        n = int(self.headers.get('Content-Length') or 0)
        if n:
            self.rfile.read(n)
        ctype = 'application/pkix-crl' if kind == 'crl' else 'application/ocsp-response'
        try:
            if mode == 'good' and kind == 'crl':
                p = os.path.join(PKI, 'crl', os.path.basename(self.path))
                if not os.path.isfile(p):
                    self.send_error(404)
                    return
                body = open(p, 'rb').read()
                self.send_response(200)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif mode == 'slow':
                # Headers at once, then a byte every half second: the
                # transfer never ends within the host's timeout.
                self.send_response(200)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', '4096')
                self.end_headers()
                for _ in range(4096):
                    self.wfile.write(b'0')
                    self.wfile.flush()
                    time.sleep(0.5)
            elif mode == 'huge':
                # Far beyond the caps (CRL 8 MiB, OCSP 64 KiB): 64 MiB.
                self.send_response(200)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(64 << 20))
                self.end_headers()
                chunk = b'\x30' * 65536
                for _ in range(1024):
                    self.wfile.write(chunk)
            else:  # garbage: DER-ish noise of a plausible size
                body = b'\x30\x82\x10\x00' + random.Random(7).randbytes(4092)
                self.send_response(200)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except OSError:
            pass   # the host hung up (what a cap or a timeout does)

    do_GET = answer
    do_POST = answer


def rev_server(addr, port, kind):
    s = ThreadingHTTPServer((addr, port), RevHandler)
    s.daemon_threads = True
    s.kind = kind
    threading.Thread(target=s.serve_forever, daemon=True).start()
    cleanups.append(s.server_close)


# ------------------------------------------------------------------ the host
def host_env(name, state, config, resolve):
    env = {k: v for k, v in os.environ.items() if not k.startswith('TRUSTLENS_') and
           not re.match(r'^(https?|all|no|ftp)_proxy$', k, re.I)}
    safe = re.sub(r'[^A-Za-z0-9._-]', '_', name)
    cfg = os.path.join(RUN, 'config-%s.json' % safe)
    with open(cfg, 'w') as f:
        json.dump(config, f)
    env.update({
        'TRUSTLENS_CONFIG': cfg,
        'TRUSTLENS_CA_FILE': os.path.join(PKI, 'ca-bundle.pem'),
        'TRUSTLENS_EV_ROOTS': os.path.join(PKI, 'ev-roots.json'),
        'TRUSTLENS_QWAC_ROOTS': os.path.join(PKI, 'qwac-roots.pem'),
        'TRUSTLENS_EID_ROOTS': os.path.join(MAIL_DIR, 'eid-test-roots.pem'),
        'TRUSTLENS_SMIME_CA_FILE': os.path.join(MAIL_DIR, 'smime-test-ca.pem'),
        'TRUSTLENS_ALLOW_PRIVATE': '1',
        'TRUSTLENS_NOW': NOW,
        'TRUSTLENS_STATE_DIR': state,
        'TRUSTLENS_LOG': os.path.join(RUN, 'host-%s.log' % safe),
        'TRUSTLENS_RESOLVE': resolve,
    })
    return env


SANITIZER = re.compile(rb'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:')


class Host:
    """One native-messaging session with a real host process."""

    def __init__(self, name, env):
        safe = re.sub(r'[^A-Za-z0-9._-]', '_', name)
        self.errpath = os.path.join(RUN, 'stderr-%s.txt' % safe)
        self.err = open(self.errpath, 'ab')
        self.p = subprocess.Popen([HOST_BIN, ORIGIN], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err, env=env)
        self.cv = threading.Condition()
        self.replies = {}
        self.order = []
        self.sent = {}
        self.eof = False
        threading.Thread(target=self._read, daemon=True).start()
        cleanups.append(self.kill)

    def _read(self):
        f = self.p.stdout
        while True:
            h = f.read(4)
            if len(h) < 4:
                break
            n = struct.unpack('=I', h)[0]
            body = f.read(n)
            if len(body) < n:
                break
            try:
                msg = json.loads(body)
            except ValueError:
                msg = {'id': None, 'unparsable': body[:200].decode('latin-1')}
            with self.cv:
                self.replies[json.dumps(msg.get('id'))] = (msg, time.monotonic())
                self.order.append(msg.get('id'))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def send(self, obj):
        b = json.dumps(obj).encode()
        self.sent[json.dumps(obj['id'])] = time.monotonic()
        self.p.stdin.write(struct.pack('=I', len(b)) + b)
        self.p.stdin.flush()

    def wait(self, rid, limit_s):
        """(reply, ms since sent) or (None, None) after limit_s."""
        key = json.dumps(rid)
        end = time.monotonic() + limit_s * SLOW
        with self.cv:
            while key not in self.replies and not self.eof and time.monotonic() < end:
                self.cv.wait(0.05)
            if key not in self.replies:
                return None, None
            msg, at = self.replies[key]
            return msg, int((at - self.sent[key]) * 1000)

    def close(self, limit_s=5):
        """Closes the port (EOF); returns (exit code or None, ms to exit)."""
        t0 = time.monotonic()
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            code = self.p.wait(limit_s * SLOW)
        except subprocess.TimeoutExpired:
            code = None
        return code, int((time.monotonic() - t0) * 1000)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def sanitizer_report(self):
        self.err.flush()
        with open(self.errpath, 'rb') as f:
            return SANITIZER.search(f.read()) is not None


def children_of(pid):
    kids = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return kids


# ------------------------------------------------------------------ helpers
def mail_text(fname, msgid=None, sender=None):
    with open(os.path.join(MAIL_DIR, fname), 'rb') as f:
        raw = f.read().decode('utf-8')
    if msgid is not None:
        raw, n = re.subn(r'(?im)^Message-ID:.*$', 'Message-ID: <%s>' % msgid, raw, count=1)
        if n == 0:
            raw = 'Message-ID: <%s>\r\n' % msgid + raw
    if sender is not None:
        raw = re.sub(r'(?im)^From:.*$', 'From: %s' % sender, raw, count=1)
    return raw


def integrity(db):
    """'ok' or what SQLite says is wrong (or why it cannot be opened)."""
    if not os.path.exists(db):
        return 'missing'
    try:
        c = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=5)
        r = c.execute('PRAGMA integrity_check').fetchall()
        c.close()
        return 'ok' if r == [('ok',)] else short(str(r))
    except sqlite3.Error as e:
        return 'error: %s' % e


def count_rows(db, sql, args=()):
    c = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=5)
    try:
        return c.execute(sql, args).fetchone()[0]
    finally:
        c.close()


def is_error(msg, codes):
    return (msg is not None and msg.get('ok') is False and
            (msg.get('error') or {}).get('code') in codes)


def site_ok(msg):
    return msg is not None and msg.get('ok') is True and 'verdict' in (msg.get('result') or {})


def mail_ok(msg):
    return (msg is not None and msg.get('ok') is True and
            (msg.get('result') or {}).get('verdict') in ('trusted', 'caution', 'danger'))


def mounts_allowed(path):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        return False
    subprocess.run(['umount', path])
    return True


def umount_later(path):
    cleanups.append(lambda: subprocess.run(['umount', '-l', path], stderr=subprocess.DEVNULL))


# ------------------------------------------------------------------ the cases
def session_check(name, env, fault_req, want, limit_ms, stall):
    """One session: the faulty request, then hello and a good site while it
    is in flight. `want(msg)` judges the faulty reply; for a stall, the two
    others must be answered before it."""
    h = Host(name, env)
    bad = []
    h.send(fault_req)
    time.sleep(0.2)
    h.send({'id': 'hello', 'type': 'hello'})
    h.send({'id': 'good', 'type': 'site', 'url': GOOD_URL})
    fmsg, fms = h.wait(fault_req['id'], limit_ms / 1000.0 + 10)
    hmsg, _ = h.wait('hello', 10)
    gmsg, _ = h.wait('good', 10)
    if fmsg is None:
        bad.append('no reply to the faulty request')
    else:
        w = want(fmsg)
        if w:
            bad.append(w)
        if fms > limit_ms * SLOW:
            bad.append('reply after %d ms, bound %d ms' % (fms, limit_ms * SLOW))
    if not (hmsg and hmsg.get('ok') is True):
        bad.append('hello not answered: %s' % short(hmsg))
    if not site_ok(gmsg):
        bad.append('good site not answered: %s' % short(gmsg))
    if stall and fmsg is not None:
        order = [json.dumps(i) for i in h.order]
        fi = order.index(json.dumps(fault_req['id']))
        if json.dumps('hello') in order[fi:] or json.dumps('good') in order[fi:]:
            bad.append('hello/good answered only after the stalled request: %s' % h.order)
    code, ms = h.close()
    if code != 0:
        bad.append('exit %s after EOF' % code)
    if h.sanitizer_report():
        bad.append('sanitizer report in %s' % h.errpath)
    if bad:
        fail(name, '; '.join(bad))
    else:
        ok(name, 'faulty reply after %s ms' % fms)


def want_error(codes):
    def judge(msg):
        if is_error(msg, codes):
            return None
        return 'expected error code %s, got %s' % ('/'.join(codes), short(msg))
    return judge


def want_revocation_unknown(msg):
    r = (msg or {}).get('result') or {}
    if msg.get('ok') is True and r.get('revocation') == 'unknown' and \
            'revocation_unknown' in (r.get('reasons') or []) and r.get('valid') is True:
        return None
    return 'expected a valid verdict with revocation "unknown", got %s' % short(msg)


def tls_cases():
    cfg = base_config()
    limit = 2 * TIMEOUT_MS + 1000
    for mode, codes, stall in (('stall-accept', ['timeout'], True),
                               ('stall-hello', ['timeout'], True),
                               ('partial-cert', ['timeout'], True),
                               ('trickle', ['timeout'], True),
                               ('reset', ['tls_failed', 'connect_failed'], False)):
        name = 'fault/tls/' + mode
        if not selected(name):
            continue
        before = dict(STATS[mode])
        req = {'id': 'fault', 'type': 'site', 'url': 'https://%s.fault.test:%d/' % (mode, PORT)}
        session_check(name, host_env(name, state_dir(name), cfg, RESOLVE), req,
                      want_error(codes), limit, stall)
        st = STATS[mode]
        # The server really saw what the case is about.
        if st['connections'] == before['connections']:
            fail(name + '/server', 'the fault server saw no connection')
        elif mode in ('stall-hello', 'reset') and st['client_hello'] == before['client_hello']:
            fail(name + '/server', 'the fault server saw no ClientHello')
        elif mode == 'partial-cert' and st['cut_at'] is None:
            fail(name + '/server', 'the proxy never reached the Certificate message')
        elif mode == 'trickle' and st['trickled'] == before['trickled']:
            fail(name + '/server', 'nothing was trickled')
        else:
            ok(name + '/server')
    name = 'fault/dns/unresolvable'
    if selected(name):
        req = {'id': 'fault', 'type': 'site', 'url': 'https://nosuch.fault.invalid/'}
        session_check(name, host_env(name, state_dir(name), cfg, RESOLVE), req,
                      want_error(['dns_failed']), limit, False)


def revocation_cases():
    for kind, leaf in (('crl', LEAVES['good-crl']), ('ocsp', LEAVES['good-ocsp'])):
        cfg = base_config(ocsp_fetch=True)
        url = 'https://%s:%d/' % (leaf['host'], PORT)
        for mode in ('slow', 'huge', 'garbage'):
            name = 'fault/%s/%s' % (kind, mode)
            if not selected(name):
                continue
            REV[kind] = mode
            hits = REV['hits'].get(kind, 0)
            state = state_dir(name)
            # One CRL fetch and one OCSP fetch may each take the timeout.
            session_check(name, host_env(name, state, cfg, RESOLVE),
                          {'id': 'fault', 'type': 'site', 'url': url},
                          want_revocation_unknown, 3 * TIMEOUT_MS + 1500, mode == 'slow')
            if REV['hits'].get(kind, 0) == hits:
                fail(name + '/server', 'the %s server was never asked' % kind)
            if kind == 'crl':
                # Nothing bad was kept: with the real CRL back, the same
                # state directory gives "good" (nothing but a real CRL was
                # stored in its CRL cache).
                # The verdict cache keeps the revocation-unknown verdict (for
                # cache_ttl_s): drop it, keep the CRL cache under test.
                REV['crl'] = 'good'
                db = sqlite3.connect(os.path.join(state, 'cache.sqlite'), timeout=5)
                db.execute('DELETE FROM verdicts')
                db.commit()
                db.close()
                h = Host(name + '-after', host_env(name + '-after', state, cfg, RESOLVE))
                h.send({'id': 'again', 'type': 'site', 'url': 'https://%s:%d/' % (leaf['host'], PORT)})
                msg, _ = h.wait('again', 15)
                h.close()
                r = (msg or {}).get('result') or {}
                if r.get('revocation') == 'good' and r.get('cached') is False:
                    ok(name + '/recovers')
                else:
                    fail(name + '/recovers', 'after the fault: %s' % short(msg, 3000))
        REV[kind] = 'good' if kind == 'crl' else 'garbage'


def state_dir(name):
    d = os.path.join(RUN, 'state', re.sub(r'[^A-Za-z0-9._-]', '_', name))
    os.makedirs(d, exist_ok=True)
    return d


def base_config(**extra):
    c = {'allowed_ports': [PORT, OCSP_PORT, CRL_PORT], 'timeout_ms': TIMEOUT_MS,
         'connect_timeout_ms': CONNECT_MS}
    c.update(extra)
    return c


def requests_meanwhile(h, tag):
    """A mail, a site needing a CRL write, a cached site and a hello; all must
    be answered. Returns the problems."""
    bad = []
    h.send({'id': tag + '-mail', 'type': 'mail',
            'raw': mail_text('3-unsigned.eml', msgid='%s@fault.test' % tag)})
    h.send({'id': tag + '-crl', 'type': 'site',
            'url': 'https://%s:%d/' % (LEAVES['good-crl']['host'], PORT)})
    h.send({'id': tag + '-cached', 'type': 'site', 'url': GOOD_URL})
    h.send({'id': tag + '-hello', 'type': 'hello'})
    m, _ = h.wait(tag + '-mail', 15)
    if not mail_ok(m):
        bad.append('%s mail: %s' % (tag, short(m)))
    for rid in ('-crl', '-cached'):
        m, _ = h.wait(tag + rid, 15)
        if not site_ok(m):
            bad.append('%s site: %s' % (tag + rid, short(m)))
    m, _ = h.wait(tag + '-hello', 10)
    if not (m and m.get('ok')):
        bad.append('%s hello: %s' % (tag, short(m)))
    return bad


def seed_state(h, bad):
    """A cached verdict and a signed mail in the history."""
    h.send({'id': 'seed-site', 'type': 'site', 'url': GOOD_URL})
    h.send({'id': 'seed-mail', 'type': 'mail', 'raw': mail_text('1-eid-signed.eml')})
    for rid, judge in (('seed-site', site_ok), ('seed-mail', mail_ok)):
        m, _ = h.wait(rid, 15)
        if not judge(m):
            bad.append('%s: %s' % (rid, short(m)))


def nothing_lost(state, bad, alice):
    for db in ('history.sqlite', 'cache.sqlite'):
        r = integrity(os.path.join(state, db))
        if r != 'ok':
            bad.append('%s integrity_check: %s' % (db, r))
    try:
        if count_rows(os.path.join(state, 'history.sqlite'),
                      'SELECT count(*) FROM messages WHERE sender = ? AND signed = 1',
                      (alice,)) < 1:
            bad.append('the signed mail recorded before the fault is gone')
        if count_rows(os.path.join(state, 'cache.sqlite'),
                      "SELECT count(*) FROM verdicts WHERE key LIKE ?",
                      ('%' + LEAVES['ov']['host'] + '%',)) < 1:
            bad.append('the verdict cached before the fault is gone')
    except sqlite3.Error as e:
        bad.append('reading the state: %s' % e)


ALICE = 'alice.peeters@example.be'


def state_cases():
    cfg = base_config()
    probe = os.path.join(RUN, 'mount-probe')
    can_mount = mounts_allowed(probe)
    name = 'fault/state/read-only'
    if selected(name) and not can_mount:
        skip(name, 'mount not permitted here (needs CAP_SYS_ADMIN); read-only needs a '
             'mount because root ignores file modes')
    elif selected(name):
        # Linux refuses to turn a mount read-only while a file on it is open
        # for writing (EBUSY), and the running host keeps its databases open.
        # So mid-run, a read-only bind mount is stacked over the directory:
        # the running host keeps its open files, every later open (a new
        # host, a new database file) finds the directory read-only.
        mnt = state_dir(name)
        bad = []
        env = host_env(name, mnt, cfg, RESOLVE)
        h = Host(name, env)
        seed_state(h, bad)
        subprocess.run(['mount', '--bind', '-o', 'ro', mnt, mnt], check=True)
        umount_later(mnt)
        try:
            open(os.path.join(mnt, 'probe'), 'w').close()
            bad.append('the state directory is still writable')
        except OSError:
            pass
        bad += requests_meanwhile(h, 'ro')
        # A host started on the read-only directory still gives verdicts.
        h2 = Host(name + '-new', env)
        bad += ['new host on read-only state: ' + b for b in requests_meanwhile(h2, 'ro2')]
        code, _ = h2.close()
        if code != 0:
            bad.append('new host exit %s' % code)
        code, _ = h.close()
        if code != 0:
            bad.append('exit %s' % code)
        subprocess.run(['umount', mnt], check=True)
        nothing_lost(mnt, bad, ALICE)
        for x in (h, h2):
            if x.sanitizer_report():
                bad.append('sanitizer report in %s' % x.errpath)
        if bad:
            fail(name, '; '.join(bad))
        else:
            ok(name)
    name = 'fault/state/full'
    if selected(name) and not can_mount:
        skip(name, 'mount not permitted here (needs CAP_SYS_ADMIN)')
    elif selected(name):
        mnt = state_dir(name)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mnt], check=True)
        umount_later(mnt)
        bad = []
        h = Host(name, host_env(name, mnt, cfg, RESOLVE))
        seed_state(h, bad)
        filler = os.path.join(mnt, 'filler')
        with open(filler, 'wb') as f:
            try:
                while True:
                    f.write(b'\0' * 65536)
                    f.flush()
            except OSError:
                pass
        bad += requests_meanwhile(h, 'full')
        os.unlink(filler)
        # Space is back: the next mail is recorded.
        h.send({'id': 'after', 'type': 'mail',
                'raw': mail_text('3-unsigned.eml', msgid='after-full@fault.test',
                                 sender='Zoe <zoe@fault.test>')})
        m, _ = h.wait('after', 15)
        if not mail_ok(m):
            bad.append('mail after space returned: %s' % short(m))
        code, _ = h.close()
        if code != 0:
            bad.append('exit %s' % code)
        nothing_lost(mnt, bad, ALICE)
        try:
            if count_rows(os.path.join(mnt, 'history.sqlite'),
                          'SELECT count(*) FROM messages WHERE sender = ?', ('zoe@fault.test',)) != 1:
                bad.append('the mail after the space came back was not recorded')
        except sqlite3.Error as e:
            bad.append('reading the history: %s' % e)
        if h.sanitizer_report():
            bad.append('sanitizer report in %s' % h.errpath)
        if bad:
            fail(name, '; '.join(bad))
        else:
            ok(name)
    shutil.rmtree(probe, ignore_errors=True)


LOCKER = r'''
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
c.execute("ROLLBACK")
'''


def history_locked_case():
    name = 'fault/history/locked'
    if not selected(name):
        return
    state = state_dir(name)
    bad = []
    h = Host(name, host_env(name, state, base_config(), RESOLVE))
    seed_state(h, bad)
    locker = subprocess.Popen(['/usr/bin/python3', '-c', LOCKER,
                               os.path.join(state, 'history.sqlite')],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cleanups.append(lambda: locker.poll() is None and locker.kill())
    if locker.stdout.readline().strip() != b'locked':
        bad.append('the locker could not lock the history')
    # Alice usually signs; an unsigned mail from her while the history is
    # locked must still be read against her past.
    h.send({'id': 'locked-mail', 'type': 'mail',
            'raw': mail_text('3-unsigned.eml', msgid='locked@fault.test',
                             sender='Alice Peeters <%s>' % ALICE)})
    time.sleep(0.2)
    h.send({'id': 'locked-hello', 'type': 'hello'})
    h.send({'id': 'locked-site', 'type': 'site', 'url': GOOD_URL})
    m, ms = h.wait('locked-mail', HISTORY_BUSY_MS / 1000.0 + 15)
    hm, _ = h.wait('locked-hello', 10)
    gm, _ = h.wait('locked-site', 10)
    r = (m or {}).get('result') or {}
    if not mail_ok(m):
        bad.append('mail while locked: %s' % short(m))
    elif 'unsigned_usually_signed' not in (r.get('reasons') or []):
        bad.append('while locked, the verdict forgot that the sender usually signs: %s' % short(m))
    elif ms > (HISTORY_BUSY_MS + 3000) * SLOW:
        bad.append('mail verdict after %d ms (busy timeout %d ms)' % (ms, HISTORY_BUSY_MS))
    if not (hm and hm.get('ok')):
        bad.append('hello while locked: %s' % short(hm))
    if not site_ok(gm):
        bad.append('site while locked: %s' % short(gm))
    order = [json.dumps(i) for i in h.order]
    if m is not None and order.index(json.dumps('locked-hello')) > order.index(json.dumps('locked-mail')):
        bad.append('hello waited for the locked history')
    locker.stdin.close()
    locker.wait(10)
    h.send({'id': 'unlocked-mail', 'type': 'mail',
            'raw': mail_text('3-unsigned.eml', msgid='unlocked@fault.test',
                             sender='Alice Peeters <%s>' % ALICE)})
    m, _ = h.wait('unlocked-mail', 15)
    if not mail_ok(m):
        bad.append('mail after the lock: %s' % short(m))
    code, _ = h.close()
    if code != 0:
        bad.append('exit %s' % code)
    nothing_lost(state, bad, ALICE)
    try:
        if count_rows(os.path.join(state, 'history.sqlite'),
                      'SELECT count(*) FROM messages WHERE sender = ? AND signed = 0', (ALICE,)) < 1:
            bad.append('the mail after the lock was released was not recorded')
    except sqlite3.Error as e:
        bad.append('reading the history: %s' % e)
    if h.sanitizer_report():
        bad.append('sanitizer report in %s' % h.errpath)
    if bad:
        fail(name, '; '.join(bad))
    else:
        ok(name, 'verdict after %s ms while locked' % ms)


def sigkill_case():
    name = 'fault/kill/sigkill-mid-write'
    if not selected(name):
        return
    state = state_dir(name)
    env = host_env(name, state, base_config(), RESOLVE)
    bad = []
    h = Host(name, env)
    seed_state(h, bad)
    n = 300
    for i in range(n):
        h.send({'id': 'm%d' % i, 'type': 'mail',
                'raw': mail_text('3-unsigned.eml', msgid='kill-%d@fault.test' % i,
                                 sender='Bob <bob.kill@fault.test>')})
    # Kill as soon as ten replies came: the other writes are in flight.
    end = time.monotonic() + 30 * SLOW
    while time.monotonic() < end:
        with h.cv:
            got = sum(1 for k in h.replies if k.startswith('"m'))
        if got >= 10:
            break
        time.sleep(0.005)
    os.kill(h.p.pid, signal.SIGKILL)
    h.p.wait()
    with h.cv:
        replied = sum(1 for k in h.replies if k.startswith('"m'))
    if replied == 0:
        bad.append('no mail reply before the kill')
    nothing_lost(state, bad, ALICE)
    # A restarted host sees every message it had answered for.
    h2 = Host(name + '-restart', env)
    h2.send({'id': 'hello', 'type': 'hello'})
    h2.send({'id': 'site', 'type': 'site', 'url': GOOD_URL})
    h2.send({'id': 'next', 'type': 'mail',
             'raw': mail_text('3-unsigned.eml', msgid='kill-next@fault.test',
                              sender='Bob <bob.kill@fault.test>')})
    hm, _ = h2.wait('hello', 10)
    sm, _ = h2.wait('site', 15)
    mm, _ = h2.wait('next', 15)
    if not (hm and hm.get('ok')):
        bad.append('restarted host hello: %s' % short(hm))
    if not site_ok(sm) or (sm.get('result') or {}).get('cached') is not True:
        bad.append('restarted host lost the cached verdict: %s' % short(sm))
    before = ((mm or {}).get('result') or {}).get('history', {}).get('unsigned_before', -1)
    if not mail_ok(mm) or before < replied:
        bad.append('restarted host counts %s earlier mails, %d were answered before the kill'
                   % (before, replied))
    code, _ = h2.close()
    if code != 0:
        bad.append('restarted host exit %s' % code)
    for x in (h, h2):
        if x.sanitizer_report():
            bad.append('sanitizer report in %s' % x.errpath)
    if bad:
        fail(name, '; '.join(bad))
    else:
        ok(name, 'killed after %d of %d replies; restarted host counts %d' % (replied, n, before))


def port_close_cases():
    cfg = base_config(timeout_ms=30000, connect_timeout_ms=30000, ocsp_fetch=True)
    for sub, req, setup in (
            ('handshake', {'id': 'x', 'type': 'site',
                           'url': 'https://stall-hello.fault.test:%d/' % PORT}, None),
            ('crl-fetch', {'id': 'x', 'type': 'site',
                           'url': 'https://%s:%d/' % (LEAVES['good-crl']['host'], PORT)}, 'slow'),
            ('mail', {'id': 'x', 'type': 'mail', 'raw': mail_text('1-eid-signed.eml')}, None)):
        name = 'fault/port/close-mid-' + sub
        if not selected(name):
            continue
        if setup:
            REV['crl'] = setup
        bad = []
        h = Host(name, host_env(name, state_dir(name), cfg, RESOLVE))
        h.send({'id': 'hello', 'type': 'hello'})
        if not h.wait('hello', 10)[0]:
            bad.append('no hello')
        h.send(req)
        time.sleep(0.3)
        kids = children_of(h.p.pid)
        code, ms = h.close(limit_s=10)
        REV['crl'] = 'good'
        if code is None:
            bad.append('host still running 10 s after EOF')
        elif code != 0:
            bad.append('exit %s after EOF' % code)
        elif ms > 2000 * SLOW:
            bad.append('exit %d ms after EOF (bound 2000 ms)' % ms)
        alive = [k for k in kids if os.path.exists('/proc/%d' % k)]
        if alive or children_of(h.p.pid):
            bad.append('orphan processes: %s' % alive)
        if h.sanitizer_report():
            bad.append('sanitizer report in %s' % h.errpath)
        if bad:
            fail(name, '; '.join(bad))
        else:
            ok(name, 'exit %d ms after EOF' % ms)


# ------------------------------------------------------------------ main
def main():
    global PKI, LEAVES, PORT, RESOLVE, GOOD_URL
    if not os.access(HOST_BIN, os.X_OK):
        fail('setup', '%s not found (run make)' % HOST_BIN)
        return
    PKI, LEAVES = make_pki()
    base = '127.%d.%d.' % (random.randint(100, 250), random.randint(1, 250))
    addr = {k: base + str(i + 1) for i, k in enumerate(
        ('ov', 'good-crl', 'good-ocsp', 'stall-accept', 'stall-hello', 'partial-cert',
         'trickle', 'reset', 'crl', 'ocsp', 'upstream12', 'upstream'))}
    PORT = None
    for _ in range(20):
        p = random.randint(20000, 40000)
        try:
            socket.create_server((addr['ov'], p)).close()
            PORT = p
            break
        except OSError:
            continue
    tls_site(addr['ov'], PORT, LEAVES['ov'])
    tls_site(addr['good-crl'], PORT, LEAVES['good-crl'])
    tls_site(addr['good-ocsp'], PORT, LEAVES['good-ocsp'])
    tls_site(addr['upstream12'], PORT, LEAVES['ov'], max_tls12=True)
    tls_site(addr['upstream'], PORT, LEAVES['ov'])
    for mode in ('stall-accept', 'stall-hello', 'reset'):
        fault_server(addr[mode], PORT, mode)
    fault_server(addr['partial-cert'], PORT, 'partial-cert', (addr['upstream12'], PORT))
    fault_server(addr['trickle'], PORT, 'trickle', (addr['upstream'], PORT))
    rev_server(addr['crl'], CRL_PORT, 'crl')
    rev_server(addr['ocsp'], OCSP_PORT, 'ocsp')
    res = ['%s:%d:%s' % (LEAVES[k]['host'], PORT, addr[k]) for k in ('ov', 'good-crl', 'good-ocsp')]
    res += ['%s.fault.test:%d:%s' % (m, PORT, addr[m]) for m in
            ('stall-accept', 'stall-hello', 'partial-cert', 'trickle', 'reset')]
    res += ['crl.fault.test:%d:%s' % (CRL_PORT, addr['crl']),
            'ocsp.fault.test:%d:%s' % (OCSP_PORT, addr['ocsp'])]
    RESOLVE = ','.join(res)
    GOOD_URL = 'https://%s:%d/' % (LEAVES['ov']['host'], PORT)
    print('# fault servers on %s* port %d; evidence in %s' % (base, PORT, RUN), flush=True)
    tls_cases()
    revocation_cases()
    state_cases()
    history_locked_case()
    sigkill_case()
    port_close_cases()


def finish():
    for c in reversed(cleanups):
        try:
            c()
        except Exception:   # noqa: BLE001 (best effort at the end)
            pass
    for s in held:
        try:
            s.close()
        except OSError:
            pass
    if failed == 0 and not OPT.keep:
        shutil.rmtree(RUN, ignore_errors=True)
    elif failed:
        print('# evidence kept in %s' % RUN)
    print('%d passed, %d failed' % (passed, failed), flush=True)
    os._exit(0 if failed == 0 and passed > 0 else 1)


def watchdog():
    fail('watchdog', 'suite still running after %d s' % WATCHDOG_S)
    finish()


if __name__ == '__main__':
    t = threading.Timer(WATCHDOG_S, watchdog)
    t.daemon = True
    t.start()
    try:
        main()
    except Exception as e:   # noqa: BLE001
        fail('runner', repr(e))
    finish()
