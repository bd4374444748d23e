// Unit tests for extension-manifest/lib/port-client.js with a fake port and clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PortClient,
  HostError,
  classifyDisconnect,
  classifyError,
  classifyHello,
  DEFAULT_TIMEOUT_MS,
} from '../../extension-manifest/lib/port-client.js';
import { FakeClock, FakePort, flush, track } from './fakes.mjs';

function setup(opts = {}) {
  const clock = new FakeClock();
  const ports = [];
  const client = new PortClient({
    connect: () => {
      const p = new FakePort();
      ports.push(p);
      return p;
    },
    lastError: (p) => p?.error?.message,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...opts,
  });
  return { clock, ports, client };
}

test('opens the port lazily, on the first request only', async () => {
  const { ports, client } = setup();
  assert.equal(ports.length, 0);
  assert.equal(client.connected, false);
  client.request('hello');
  client.request('hello');
  assert.equal(ports.length, 1);
  assert.equal(client.connected, true);
});

test('numbers requests with increasing integers and keeps the parameters', async () => {
  const { ports, client } = setup();
  client.request('hello');
  client.request('site', { url: 'https://example.be/', id: 'spoofed', type: 'spoofed' });
  const [a, b] = ports[0].sent;
  assert.ok(Number.isInteger(a.id));
  assert.equal(b.id, a.id + 1);
  assert.deepEqual(a, { id: a.id, type: 'hello' });
  assert.deepEqual(b, { id: b.id, type: 'site', url: 'https://example.be/' });
});

test('matches replies that arrive out of order by id', async () => {
  const { ports, client } = setup();
  const first = track(client.request('site', { url: 'https://slow.example/' }));
  const second = track(client.request('hello'));
  const [a, b] = ports[0].sent;
  ports[0].reply({ id: b.id, ok: true, result: { protocol: 1, version: '9.9.9' } });
  await flush();
  assert.equal(first.state, 'pending');
  assert.equal(second.state, 'fulfilled');
  assert.deepEqual(second.value, { protocol: 1, version: '9.9.9' });
  ports[0].reply({ id: a.id, ok: true, result: { verdict: 'caution' } });
  await flush();
  assert.equal(first.state, 'fulfilled');
  assert.deepEqual(first.value, { verdict: 'caution' });
  assert.equal(client.pendingCount, 0);
});

test('an error reply rejects with the host code and message', async () => {
  const { ports, client } = setup();
  const r = track(client.request('site', { url: 'nope' }));
  ports[0].reply({ id: ports[0].sent[0].id, ok: false, error: { code: 'bad_url', message: 'Not a URL.' } });
  await flush();
  assert.equal(r.state, 'rejected');
  assert.ok(r.error instanceof HostError);
  assert.equal(r.error.code, 'bad_url');
  assert.equal(r.error.message, 'Not a URL.');
});

test('a reply without "ok" is a bad_reply; a reply without error details is internal', async () => {
  const { ports, client } = setup();
  const a = track(client.request('hello'));
  const b = track(client.request('hello'));
  ports[0].reply({ id: ports[0].sent[0].id, result: {} });
  ports[0].reply({ id: ports[0].sent[1].id, ok: false });
  await flush();
  assert.equal(a.error.code, 'bad_reply');
  assert.equal(b.error.code, 'internal');
});

test('ignores replies to unknown ids and non-object messages', async () => {
  const { ports, client } = setup();
  const r = track(client.request('hello'));
  const { id } = ports[0].sent[0];
  for (const junk of [null, 42, 'text', [1, 2], { id: id + 100, ok: true, result: {} }, { id: String(id), ok: true }]) {
    ports[0].reply(junk);
  }
  await flush();
  assert.equal(r.state, 'pending');
  ports[0].reply({ id, ok: true, result: { protocol: 1 } });
  await flush();
  assert.equal(r.state, 'fulfilled');
});

test('rejects after the default timeout, not before, and drops the late reply', async () => {
  const { clock, ports, client } = setup();
  const r = track(client.request('site', { url: 'https://slow.example/' }));
  clock.advance(DEFAULT_TIMEOUT_MS - 1);
  await flush();
  assert.equal(r.state, 'pending');
  clock.advance(1);
  await flush();
  assert.equal(r.state, 'rejected');
  assert.equal(r.error.code, 'request_timeout');
  assert.equal(client.pendingCount, 0);
  // The late reply is ignored and does not disturb a new request.
  const next = track(client.request('hello'));
  ports[0].reply({ id: ports[0].sent[0].id, ok: true, result: { late: true } });
  ports[0].reply({ id: ports[0].sent[1].id, ok: true, result: { late: false } });
  await flush();
  assert.deepEqual(next.value, { late: false });
});

test('a per-request timeout overrides the default; a timeout affects only its request', async () => {
  const { clock, ports, client } = setup({ timeoutMs: 60000 });
  const quick = track(client.request('hello', {}, { timeoutMs: 500 }));
  const slow = track(client.request('site', { url: 'https://a.example/' }));
  clock.advance(500);
  await flush();
  assert.equal(quick.error?.code, 'request_timeout');
  assert.equal(slow.state, 'pending');
  clock.advance(59499);
  await flush();
  assert.equal(slow.state, 'pending');
  ports[0].reply({ id: ports[0].sent[1].id, ok: true, result: {} });
  await flush();
  assert.equal(slow.state, 'fulfilled');
});

test('an invalid per-request timeout falls back to the default', async () => {
  const { clock, client } = setup({ timeoutMs: 1000 });
  const r = track(client.request('hello', {}, { timeoutMs: -5 }));
  clock.advance(999);
  await flush();
  assert.equal(r.state, 'pending');
  clock.advance(1);
  await flush();
  assert.equal(r.state, 'rejected');
});

test('"host not found" fails pending requests as missing, and the next request reconnects', async () => {
  const { ports, client } = setup();
  const gone = [];
  client.onDisconnect = (e) => gone.push(e);
  const a = track(client.request('hello'));
  const b = track(client.request('site', { url: 'https://example.be/' }));
  ports[0].hostGone('Specified native messaging host not found.');
  await flush();
  for (const r of [a, b]) {
    assert.equal(r.state, 'rejected');
    assert.equal(r.error.code, 'disconnected');
    assert.equal(r.error.message, 'Specified native messaging host not found.');
    assert.equal(classifyError(r.error), 'missing');
  }
  assert.equal(gone.length, 1);
  assert.equal(client.connected, false);

  const c = track(client.request('hello'));
  assert.equal(ports.length, 2);
  ports[1].reply({ id: ports[1].sent[0].id, ok: true, result: { protocol: 1, version: '0.1.0' } });
  await flush();
  assert.equal(c.state, 'fulfilled');
});

test('ids stay unique across reconnections', async () => {
  const { ports, client } = setup();
  client.request('hello').catch(() => {});
  ports[0].hostGone('Native host has exited.');
  client.request('hello').catch(() => {});
  assert.notEqual(ports[1].sent[0].id, ports[0].sent[0].id);
});

test('a forbidden_origin reply with id null fails every pending request as forbidden', async () => {
  const { ports, client } = setup();
  const a = track(client.request('hello'));
  const b = track(client.request('tokens'));
  ports[0].reply({ id: null, ok: false, error: { code: 'forbidden_origin', message: 'Unknown caller.' } });
  await flush();
  for (const r of [a, b]) {
    assert.equal(r.error.code, 'forbidden_origin');
    assert.equal(classifyError(r.error), 'forbidden');
  }
  // The host then exits; the disconnect must not be reported as a different error.
  const gone = [];
  client.onDisconnect = (e) => gone.push(e);
  ports[0].hostGone('Native host has exited.');
  assert.equal(gone.length, 1);
  assert.equal(gone[0].code, 'forbidden_origin');
});

test('a request sent between the host\'s refusal and its exit fails as forbidden too', async () => {
  const { ports, client } = setup();
  client.request('hello').catch(() => {});
  ports[0].reply({ id: null, ok: false, error: { code: 'forbidden_origin', message: 'Unknown caller.' } });
  const late = track(client.request('hello'));
  ports[0].hostGone('Native host has exited.');
  await flush();
  assert.equal(late.error.code, 'forbidden_origin');
});

test('a disconnect without a reason is still an error', async () => {
  const { ports, client } = setup();
  const r = track(client.request('hello'));
  ports[0].hostGone();
  await flush();
  assert.equal(r.error.code, 'disconnected');
  assert.equal(classifyError(r.error), 'error');
});

test('closes the port after the idle period with nothing pending, not before', async () => {
  const { clock, ports, client } = setup({ idleMs: 20000 });
  client.request('hello');
  ports[0].reply({ id: ports[0].sent[0].id, ok: true, result: {} });
  await flush();
  clock.advance(19999);
  assert.equal(ports[0].disconnected, false);
  assert.equal(client.connected, true);
  clock.advance(1);
  assert.equal(ports[0].disconnected, true);
  assert.equal(client.connected, false);
});

test('a pending request keeps the port open past the idle period', async () => {
  const { clock, ports, client } = setup({ idleMs: 1000, timeoutMs: 5000 });
  const r = track(client.request('site', { url: 'https://slow.example/' }));
  clock.advance(4000);
  assert.equal(ports[0].disconnected, false);
  ports[0].reply({ id: ports[0].sent[0].id, ok: true, result: {} });
  await flush();
  assert.equal(r.state, 'fulfilled');
  clock.advance(999);
  assert.equal(ports[0].disconnected, false);
  clock.advance(1);
  assert.equal(ports[0].disconnected, true);
});

test('a reply to one request does not start the idle timer while another is pending', async () => {
  const { clock, ports, client } = setup({ idleMs: 1000, timeoutMs: 10000 });
  client.request('hello');
  const slow = track(client.request('site', { url: 'https://slow.example/' }));
  ports[0].reply({ id: ports[0].sent[0].id, ok: true, result: {} });
  await flush();
  clock.advance(5000);
  assert.equal(ports[0].disconnected, false);
  assert.equal(slow.state, 'pending');
  ports[0].reply({ id: ports[0].sent[1].id, ok: true, result: {} });
  await flush();
  assert.equal(slow.state, 'fulfilled');
});

test('a new request during the idle period keeps the same port', async () => {
  const { clock, ports, client } = setup({ idleMs: 1000 });
  client.request('hello');
  ports[0].reply({ id: ports[0].sent[0].id, ok: true, result: {} });
  await flush();
  clock.advance(900);
  client.request('hello');
  clock.advance(900);
  assert.equal(ports.length, 1);
  assert.equal(ports[0].disconnected, false);
  assert.equal(ports[0].sent.length, 2);
});

test('the idle timer also starts after a timeout', async () => {
  const { clock, ports, client } = setup({ idleMs: 1000, timeoutMs: 2000 });
  client.request('hello').catch(() => {});
  clock.advance(2000);
  assert.equal(ports[0].disconnected, false);
  clock.advance(1000);
  assert.equal(ports[0].disconnected, true);
});

test('close() fails pending requests and the next request opens a new port', async () => {
  const { ports, client } = setup();
  const r = track(client.request('hello'));
  client.close();
  await flush();
  assert.equal(r.error.code, 'disconnected');
  assert.equal(ports[0].disconnected, true);
  client.request('hello');
  assert.equal(ports.length, 2);
});

test('a connect that throws rejects the request', async () => {
  const client = new PortClient({
    connect: () => {
      throw new Error('Invalid native messaging host name specified.');
    },
  });
  const r = track(client.request('hello'));
  await flush();
  assert.equal(r.error.code, 'disconnected');
  assert.equal(r.error.message, 'Invalid native messaging host name specified.');
  assert.equal(client.connected, false);
});

test('a postMessage that throws rejects the request and drops the port', async () => {
  const { ports, client } = setup();
  client.request('hello').catch(() => {});
  ports[0].disconnected = true; // dead without the browser telling us yet
  const r = track(client.request('hello'));
  await flush();
  assert.equal(r.error.code, 'disconnected');
  assert.equal(client.connected, false);
});

test('refuses more than maxPending requests in flight', async () => {
  const { client } = setup({ maxPending: 2 });
  client.request('hello');
  client.request('hello');
  const third = track(client.request('hello'));
  await flush();
  assert.equal(third.error?.code, 'busy');
});

test('refuses a request without a type, without opening a port', async () => {
  const { ports, client } = setup();
  const r = track(client.request(''));
  await flush();
  assert.equal(r.error.code, 'bad_request');
  assert.equal(ports.length, 0);
});

test('classifyDisconnect maps browser messages to states', () => {
  const cases = [
    ['Specified native messaging host not found.', 'missing'],
    ['No such native application org.trustlens.host', 'missing'],
    ['Access to the specified native messaging host is forbidden.', 'forbidden'],
    ['This extension does not have permission to use native application org.trustlens.host (or the application is not installed)', 'forbidden'],
    ['Native host has exited.', 'error'],
    ['Error when communicating with the native messaging host.', 'error'],
    ['', 'error'],
    [undefined, 'error'],
    [null, 'error'],
  ];
  for (const [msg, want] of cases) assert.equal(classifyDisconnect(msg), want, String(msg));
});

test('classifyError: host codes and local codes', () => {
  assert.equal(classifyError(new HostError('forbidden_origin', 'x')), 'forbidden');
  assert.equal(classifyError(new HostError('request_timeout', 'not found')), 'error');
  assert.equal(classifyError(new HostError('disconnected', 'Specified native messaging host not found.')), 'missing');
  assert.equal(classifyError(new Error('Specified native messaging host not found.')), 'error');
  assert.equal(classifyError('forbidden'), 'error');
});

test('classifyHello: protocol and version decide', () => {
  const cases = [
    [{ protocol: 1, version: '0.1.0', capabilities: [] }, 'ok'],
    [{ protocol: 2, version: '1.0.0' }, 'ok'],
    [{ protocol: 0, version: '0.0.1' }, 'too_old'],
    [{ protocol: 0.5, version: '0.0.1' }, 'too_old'],
    [{ protocol: '1', version: '0.1.0' }, 'error'],
    [{ protocol: 1 }, 'error'],
    [{ version: '0.1.0' }, 'error'],
    [{ protocol: NaN, version: '0.1.0' }, 'error'],
    [null, 'error'],
    ['hello', 'error'],
  ];
  for (const [r, want] of cases) assert.equal(classifyHello(r), want, JSON.stringify(r));
});
