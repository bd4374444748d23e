// Unit tests for extension-manifest/lib/settings.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTimeoutMs, parseTimeoutSeconds } from '../../extension-manifest/lib/settings.js';

test('normalizeTimeoutMs keeps valid values and falls back to 15000', () => {
  const cases = [
    [undefined, 15000], [null, 15000], ['7000', 15000], [7000, 7000], [1000, 1000],
    [300000, 300000], [999, 15000], [300001, 15000], [1500.5, 15000], [NaN, 15000], [-1, 15000],
  ];
  for (const [v, want] of cases) assert.equal(normalizeTimeoutMs(v), want, String(v));
});

test('parseTimeoutSeconds accepts whole seconds from 1 to 300', () => {
  const cases = [
    ['7', 7000], [' 30 ', 30000], ['1', 1000], ['300', 300000], ['0', null], ['301', null],
    ['1.5', null], ['-3', null], ['', null], ['1e2', null], ['abc', null], ['0010', null],
  ];
  for (const [v, want] of cases) assert.equal(parseTimeoutSeconds(v), want, JSON.stringify(v));
});
