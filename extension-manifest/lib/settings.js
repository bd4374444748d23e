// User settings kept in storage.local, and their bounds. Pure.

import { DEFAULT_TIMEOUT_MS } from './port-client.js';

export const TIMEOUT_KEY = 'requestTimeoutMs';
export const MIN_TIMEOUT_MS = 1000;
export const MAX_TIMEOUT_MS = 300000;

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
