import { usageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration flag: "90" (seconds), "90s", "5m", "1h", "1h30m", "250ms".
 * Returns milliseconds. Rejects negative, empty, malformed and absurd values
 * (above `maxMs`, default 7 days) with a usage error naming the flag.
 */
export function parseDuration(flag: string, value: unknown, opts: { minMs?: number; maxMs?: number } = {}): number {
  const minMs = opts.minMs ?? 0;
  const maxMs = opts.maxMs ?? 7 * 24 * 3_600_000;
  const text = String(value ?? '').trim();
  let ms: number | null = null;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    ms = 0;
    for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * (UNITS[m[2] as string] ?? 0);
  }
  if (ms === null || !Number.isFinite(ms)) {
    throw usageError(`--${flag} '${text}' is not a duration`, `Give seconds (90) or a duration with a unit: 250ms, 30s, 5m, 1h30m.`);
  }
  if (ms < minMs || ms > maxMs) {
    throw usageError(
      `--${flag} ${text} is out of range`,
      `Use a value between ${formatDuration(minMs)} and ${formatDuration(maxMs)}.`,
    );
  }
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${m ? `${m}m` : ''}` : `${m}m${rest ? `${rest}s` : ''}`;
}

export function parseIntFlag(flag: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw usageError(`--${flag} ${String(value)} is not allowed`, `Use a whole number from ${min} to ${max}.`);
  }
  return n;
}
