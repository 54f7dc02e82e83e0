/** What the wire translations of every service (compute/wire.ts, placement/wire.ts) share. */
import { HostmaintError } from '../core/errors.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Read `body[key]` and insist it is of the expected JSON kind; a wrong shape is
 * a server error, never a crash later. `who` starts the hint: the service that
 * answered ("Placement"), or "The service".
 */
export function pickFrom<T>(who: string, body: unknown, key: string, what: 'array' | 'object', context: string): T {
  const value = isRecord(body) ? body[key] : undefined;
  const ok = what === 'array' ? Array.isArray(value) : isRecord(value);
  if (!ok) {
    throw new HostmaintError('server-error', `${context}: the response has no ${what} '${key}'`, {
      details: { context, key },
      hint: `${who} answered with an unexpected body; check the endpoint in the catalog and the API version.`,
    });
  }
  return value as T;
}
