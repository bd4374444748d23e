// Unit tests for extension-manifest/lib/host-status.js with a fake client and clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostStatus, statusFromHello, statusFromError, STATUS_CACHE_MS } from '../../extension-manifest/lib/host-status.js';
import { HostError } from '../../extension-manifest/lib/port-client.js';

function fakeClient(answers) {
  const calls = [];
  return {
    calls,
    request(type) {
      calls.push(type);
      const next = answers.shift();
      if (next instanceof Error) return Promise.reject(next);
      return Promise.resolve(next);
    },
  };
}

const HELLO = { protocol: 1, version: '0.1.0', capabilities: ['hello', 'site', 42] };

test('ok status carries version, protocol and string capabilities', async () => {
  const client = fakeClient([HELLO]);
  const s = await new HostStatus({ client }).get();
  assert.deepEqual(s, { state: 'ok', version: '0.1.0', protocol: 1, capabilities: ['hello', 'site'], error: null });
  assert.deepEqual(client.calls, ['hello']);
});

test('a success is answered from cache for 5 s, then asked again', async () => {
  let now = 1000;
  const client = fakeClient([HELLO, { ...HELLO, version: '0.2.0' }]);
  const hs = new HostStatus({ client, now: () => now });
  assert.equal((await hs.get()).version, '0.1.0');
  now += STATUS_CACHE_MS - 1;
  assert.equal((await hs.get()).version, '0.1.0');
  assert.equal(client.calls.length, 1);
  now += 1;
  assert.equal((await hs.get()).version, '0.2.0');
  assert.equal(client.calls.length, 2);
});

test('the cached answer is a copy the caller cannot corrupt', async () => {
  const hs = new HostStatus({ client: fakeClient([HELLO]), now: () => 0 });
  const a = await hs.get();
  a.capabilities.push('evil');
  a.state = 'error';
  const b = await hs.get();
  assert.equal(b.state, 'ok');
  assert.deepEqual(b.capabilities, ['hello', 'site']);
});

test('a failure is not cached: installing the host shows at once', async () => {
  const client = fakeClient([new HostError('disconnected', 'Specified native messaging host not found.'), HELLO]);
  const hs = new HostStatus({ client, now: () => 0 });
  const first = await hs.get();
  assert.equal(first.state, 'missing');
  assert.equal(first.version, null);
  assert.equal(first.error, 'Specified native messaging host not found.');
  assert.equal((await hs.get()).state, 'ok');
});

test('invalidate() forgets a cached success', async () => {
  const client = fakeClient([HELLO, new HostError('disconnected', 'Native host has exited.')]);
  const hs = new HostStatus({ client, now: () => 0 });
  await hs.get();
  hs.invalidate();
  assert.equal((await hs.get()).state, 'error');
});

test('concurrent callers share one round trip', async () => {
  const client = fakeClient([HELLO, HELLO]);
  const hs = new HostStatus({ client, now: () => 0, cacheMs: 0 });
  const all = await Promise.all([hs.get(), hs.get(), hs.get()]);
  assert.equal(client.calls.length, 1);
  for (const s of all) assert.equal(s.state, 'ok');
});

test('states from hello results and errors', () => {
  assert.equal(statusFromHello({ protocol: 0, version: '0.0.1' }).state, 'too_old');
  assert.equal(statusFromHello({ protocol: 0, version: '0.0.1' }).version, '0.0.1');
  assert.equal(statusFromHello({ version: '0.0.1' }).state, 'error');
  assert.equal(statusFromError(new HostError('forbidden_origin', 'Unknown caller.')).state, 'forbidden');
  assert.equal(
    statusFromError(new HostError('disconnected', 'Access to the specified native messaging host is forbidden.')).state,
    'forbidden',
  );
  assert.equal(statusFromError(new HostError('request_timeout', 'slow')).state, 'error');
  assert.equal(statusFromError(new HostError('request_timeout', 'slow')).error, 'slow');
});
