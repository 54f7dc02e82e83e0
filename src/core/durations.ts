/**
 * One duration vocabulary for flags, workflow files, saved runs and output:
 * "250ms", "30s", "5m", "1h30m", or a number of seconds. One parser
 * (durationMs), one formatter (formatDuration), and the flag checks built on
 * them.
 */
import { usageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Pattern of a duration string (the workflow schema and the parser agree). */
export const DURATION_PATTERN = '^\\s*(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ms|s|m|h))+)\\s*$';

/** "250ms", "30s", "5m", "1h30m" or a number (of seconds) to ms; null when malformed or negative. */
export function durationMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * (UNITS[m[2] as string] ?? 0);
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/**
 * ms as duration text. Rounded (default) for people: "250ms", "42s", "5m30s",
 * "1h5m". Exact for files and flags, so the text reads back to the same ms:
 * "1h30m", "1500ms", "0".
 */
export function formatDuration(ms: number, opts: { exact?: boolean } = {}): string {
  if (opts.exact) {
    if (ms === 0) return '0';
    if (ms % 1000 !== 0) return `${ms}ms`;
    let s = ms / 1000;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  }
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${m ? `${m}m` : ''}` : `${m}m${rest ? `${rest}s` : ''}`;
}

/**
 * A duration flag to ms. Rejects negative, empty, malformed and absurd values
 * (above `maxMs`, default 7 days) with a usage error naming the flag.
 */
export function parseDuration(flag: string, value: unknown, opts: { minMs?: number; maxMs?: number } = {}): number {
  const minMs = opts.minMs ?? 0;
  const maxMs = opts.maxMs ?? 7 * 24 * 3_600_000;
  const text = String(value ?? '').trim();
  const ms = durationMs(text);
  if (ms === null) throw usageError(`--${flag} '${text}' is not a duration`, `Give seconds (90) or a duration with a unit: 250ms, 30s, 5m, 1h30m.`);
  if (ms < minMs || ms > maxMs) throw usageError(`--${flag} ${text} is out of range`, `Use a value between ${formatDuration(minMs)} and ${formatDuration(maxMs)}.`);
  return ms;
}

/** A whole-number flag within [min, max], or a usage error naming the flag. */
export function parseIntFlag(flag: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(`--${flag} ${String(value)} is not allowed`, `Use a whole number from ${min} to ${max}.`);
  return n;
}
