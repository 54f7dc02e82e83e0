/**
 * The one winston logger: human lines on the console (stderr) at the chosen
 * level, and with --log-file, JSON lines with every field (run id, host,
 * instance, request id). Secrets are redacted at the source (the HTTP layer);
 * the `scrub` format here is a second net for anything that slips through.
 */
import winston from 'winston';
import type { Logger } from '../log.js';

export interface LoggingOptions {
  /** 0: warnings and errors (default), 1 (-v): info + HTTP requests, 2 (-vv): debug. */
  verbosity: number;
  logFile?: string | undefined;
  /** Console stream; default process.stderr. */
  stream?: NodeJS.WritableStream;
  /** No console output at all except errors (for --quiet / json). */
  quiet?: boolean;
  /** Fixed fields on every line (runId, host...). */
  defaultMeta?: Record<string, unknown>;
  /** Extra strings that must never be written (e.g. the password in use). */
  secrets?: string[];
}

const SECRET_KEY = /pass(word)?|secret|token|credential|authorization/i;

function scrubValue(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === 'string') {
    let v = value;
    for (const s of secrets) if (s && s.length >= 4) v = v.split(s).join('***');
    return v;
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && typeof v === 'string' ? '***' : scrubValue(v, secrets, depth + 1);
  }
  return out;
}

export function createLogger(opts: LoggingOptions): winston.Logger & Logger {
  const secrets = opts.secrets ?? [];
  const scrub = winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key === 'level') continue;
      (info as Record<string, unknown>)[key] = SECRET_KEY.test(key) && typeof info[key] === 'string'
        ? '***'
        : scrubValue(info[key], secrets);
    }
    return info;
  });
  const level = opts.verbosity >= 2 ? 'debug' : opts.verbosity === 1 ? 'info' : 'warn';
  const transports: winston.transport[] = [
    new winston.transports.Stream({
      stream: opts.stream ?? process.stderr,
      level: opts.quiet ? 'error' : level,
      format: winston.format.combine(
        scrub(),
        winston.format.timestamp(),
        winston.format.printf((info) => {
          const { level: lvl, message, timestamp, runId: _r, ...rest } = info as Record<string, unknown>;
          delete rest.host;
          const extra = Object.entries(rest)
            .filter(([k, v]) => v !== undefined && typeof k === 'string' && !k.startsWith('Symbol'))
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          return `${String(timestamp)} ${String(lvl).padEnd(5)} ${String(message)}${extra ? `  ${extra}` : ''}`;
        }),
      ),
    }),
  ];
  if (opts.logFile) {
    transports.push(
      new winston.transports.File({
        filename: opts.logFile,
        level: 'debug',
        format: winston.format.combine(scrub(), winston.format.timestamp(), winston.format.json()),
      }),
    );
  }
  return winston.createLogger({ level: 'debug', defaultMeta: opts.defaultMeta, transports }) as winston.Logger & Logger;
}

/** Wait until every transport has flushed (the log file is complete). */
export async function closeLogger(logger: winston.Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    let pending = 0;
    for (const t of logger.transports) {
      if (t instanceof winston.transports.File) {
        pending += 1;
        t.on('finish', () => {
          pending -= 1;
          if (pending === 0) resolve();
        });
      }
    }
    logger.end();
    if (pending === 0) resolve();
  });
}
