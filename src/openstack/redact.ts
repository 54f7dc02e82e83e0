/**
 * Keeping secrets out of logs and errors. Everything the HTTP layer logs or
 * puts into an error goes through here first.
 */

import { REDACTED, isSecretKey, redactText } from '../core/secrets.js';

export { REDACTED, SECRET_KEY, isSecretKey } from '../core/secrets.js';

/** Headers that carry a token: dropped entirely, not even shown as redacted. */
const TOKEN_HEADERS = new Set(['x-auth-token', 'x-subject-token', 'x-service-token', 'authorization']);

/**
 * Deep copy of `value` with every property whose key looks secret replaced by
 * `[REDACTED]` and token headers removed. Arrays, nested objects and cycles
 * are handled; the input is not modified.
 */
export function redact<T>(value: T): T {
  return walk(value, new WeakMap()) as T;
}

function walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(walk(v, seen));
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    seen.set(value, out);
    return out;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (TOKEN_HEADERS.has(k.toLowerCase())) continue;
    out[k] = isSecretKey(k) ? (v === undefined || v === null ? v : REDACTED) : walk(v, seen);
  }
  return out;
}

/** Headers safe to show: token headers removed, other secret-looking ones redacted. */
export function redactHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    if (TOKEN_HEADERS.has(k.toLowerCase())) continue;
    out[k] = isSecretKey(k) ? REDACTED : String(v);
  }
  return out;
}

/**
 * A URL with no credentials: user info removed, secret-looking query
 * parameters redacted. Unparseable input is returned with any `user:pass@`
 * stripped.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//');
  }
  u.username = '';
  u.password = '';
  for (const key of [...new Set(u.searchParams.keys())]) {
    if (isSecretKey(key)) u.searchParams.set(key, REDACTED);
  }
  // Keep the query readable (URLSearchParams would encode the brackets of [REDACTED]).
  return u.toString().replace(/%5BREDACTED%5D/g, REDACTED);
}

/** `text` redacted by value (last line of defence for messages; core/secrets.ts: ordinary words stay). */
export function scrub(text: string, secrets: Array<string | null | undefined>): string {
  return redactText(text, secrets);
}
