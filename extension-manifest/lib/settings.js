// User settings kept in storage.local, and their bounds. Pure.

import { DEFAULT_TIMEOUT_MS } from './port-client.js';
import { parseException, parseWebmailOrigin } from './domain.js';

export const TIMEOUT_KEY = 'requestTimeoutMs';
export const MIN_TIMEOUT_MS = 1000;
export const MAX_TIMEOUT_MS = 300000;

export const SCOPE_KEY = 'guardScope'; // "webmail" | "all"
export const WEBMAIL_KEY = 'webmailOrigins'; // ["https://mail.example.be", ...]
export const EXCEPTIONS_KEY = 'guardExceptions'; // ["example.com", ...]
export const MAX_LIST = 200;

/** A stored timeout, or the default when it is absent or out of bounds. */
export function normalizeTimeoutMs(value) {
  if (typeof value !== 'number' || !Number.isInteger(value)) return DEFAULT_TIMEOUT_MS;
  if (value < MIN_TIMEOUT_MS || value > MAX_TIMEOUT_MS) return DEFAULT_TIMEOUT_MS;
  return value;
}

/** Milliseconds from what the user typed in seconds, or null when it is not acceptable. */
export function parseTimeoutSeconds(text) {
  const s = String(text).trim();
  if (!/^\d{1,3}$/.test(s)) return null;
  const ms = Number(s) * 1000;
  if (ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) return null;
  return ms;
}

export function normalizeScope(value) {
  return value === 'all' ? 'all' : 'webmail';
}

function normalizeList(value, parse) {
  if (!Array.isArray(value)) return [];
  const out = [];
  for (const v of value) {
    const p = typeof v === 'string' ? parse(v) : null;
    if (p !== null && !out.includes(p)) out.push(p);
    if (out.length >= MAX_LIST) break;
  }
  return out;
}

export const normalizeWebmailOrigins = (v) => normalizeList(v, parseWebmailOrigin);
export const normalizeExceptions = (v) => normalizeList(v, parseException);

/** Every setting from a storage.local.get() result. */
export function readSettings(items) {
  const i = items ?? {};
  return {
    timeoutMs: normalizeTimeoutMs(i[TIMEOUT_KEY]),
    scope: normalizeScope(i[SCOPE_KEY]),
    webmailOrigins: normalizeWebmailOrigins(i[WEBMAIL_KEY]),
    exceptions: normalizeExceptions(i[EXCEPTIONS_KEY]),
  };
}

export const SETTING_KEYS = Object.freeze([TIMEOUT_KEY, SCOPE_KEY, WEBMAIL_KEY, EXCEPTIONS_KEY]);
