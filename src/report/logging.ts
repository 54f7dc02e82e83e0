/**
 * The one winston logger: human lines on the console (stderr) at the chosen
 * level, and with --log-file, JSON lines with every field (run id, host,
 * instance, request id). Secrets are redacted at the source (the HTTP layer);
 * the `scrub` format here is a second net for anything that slips through
 * (core/secrets.ts, by field and by value).
 *
 * Levels on the console: default warnings and errors; -v adds info and one
 * line per HTTP request (method, URL, status, request id, duration: the HTTP
 * layer logs them at debug with those fields); -vv everything at debug.
 *
 * The run id and host are not known when the logger is made (the session
 * opens the cloud first); `runLogContext(stream)` is a small mutable record,
 * keyed by the console stream, that the run output fills in at `run-started`
 * and that every later line (console and file) carries.
 */
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../core/log.js';
import { redactDeep } from '../core/secrets.js';

export interface LoggingOptions {
  /** 0: warnings and errors (default), 1 (-v): info + HTTP requests, 2 (-vv): debug. */
  verbosity: number;
  logFile?: string | undefined;
  /** Where the JSON lines of --log-file go (an opened, guarded target: targets.ts); wins over logFile. */
  logTarget?: { write(text: string): void } | undefined;
  /** Console stream; default process.stderr. */
  stream?: NodeJS.WritableStream;
  /** No console output at all except errors (for --quiet / json). */
  quiet?: boolean;
  /** Fixed fields on every line (runId, host...). */
  defaultMeta?: Record<string, unknown>;
  /** Extra strings that must never be written (e.g. the password in use). */
  secrets?: string[];
  /** Fields added to every line from then on (runId, host); default `runLogContext(stream)`. */
  context?: Record<string, unknown>;
}

/** Transports that write a --log-file target (closeLogger waits for them). */
const FILE_TRANSPORTS = new WeakSet<object>();

const contexts = new WeakMap<object, Record<string, unknown>>();

/**
 * The mutable fields (runId, host) every line of the logger writing to this
 * console stream carries. The run output sets them when the run starts.
 */
export function runLogContext(stream: NodeJS.WritableStream = process.stderr): Record<string, unknown> {
  let c = contexts.get(stream);
  if (!c) {
    c = {};
    contexts.set(stream, c);
  }
  return c;
}

/** An HTTP request line of the HTTP layer (debug, with method, url and status). */
export function isHttpLine(info: Record<string, unknown>): boolean {
  return typeof info.method === 'string' && typeof info.url === 'string' && typeof info.status === 'number';
}

/** Which lines the console shows: verbosity 0 warn+, 1 info+ and HTTP request lines, 2 everything. */
export function consoleShows(level: string, info: Record<string, unknown>, verbosity: number, quiet = false): boolean {
  const rank: Record<string, number> = { error: 0, warn: 1, info: 2, debug: 3 };
  const r = rank[level] ?? 3;
  if (quiet) return r === 0;
  if (verbosity >= 2) return true;
  if (verbosity === 1) return r <= 2 || isHttpLine(info);
  return r <= 1;
}

/** Fields not worth a column on the console at -v (they are all in the log file). */
const QUIET_FIELDS = new Set(['service', 'attempt', 'microversion', 'body', 'runId', 'host', 'method', 'url', 'status']);

export function createLogger(opts: LoggingOptions): winston.Logger & Logger {
  const secrets = opts.secrets ?? [];
  const stream = opts.stream ?? process.stderr;
  const context = opts.context ?? runLogContext(stream);
  const withContext = winston.format((info) => {
    for (const [k, v] of Object.entries(context)) {
      if (v !== undefined && (info as Record<string, unknown>)[k] === undefined) (info as Record<string, unknown>)[k] = v;
    }
    return info;
  });
  const verbosity = opts.verbosity;
  const consoleFilter = winston.format((info) => (consoleShows(String(info.level), info as Record<string, unknown>, verbosity, opts.quiet) ? info : false));
  // Every field redacted as data (core/secrets.ts): secret-looking fields, URL user-info, the secrets in use.
  const scrub = winston.format((info) => {
    const bag = info as Record<string, unknown>;
    for (const key of Object.keys(bag)) {
      if (key === 'level') continue;
      bag[key] = redactDeep({ [key]: bag[key] }, secrets)[key];
    }
    return info;
  });
  const transports: winston.transport[] = [
    new winston.transports.Stream({
      stream,
      level: 'debug',
      format: winston.format.combine(
        consoleFilter(),
        scrub(),
        winston.format.timestamp(),
        winston.format.printf((info) => {
          const { level: lvl, message, timestamp, ...rest } = info as Record<string, unknown>;
          const extra = Object.entries(rest)
            .filter(([k, v]) => v !== undefined && !(verbosity < 2 && QUIET_FIELDS.has(k)) && (verbosity >= 2 || (k !== 'runId' && k !== 'host')))
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          return `${String(timestamp)} ${String(lvl).padEnd(5)} ${String(message)}${extra ? `  ${extra}` : ''}`;
        }),
      ),
    }),
  ];
  const fileFormat = winston.format.combine(withContext(), scrub(), winston.format.timestamp(), winston.format.json());
  if (opts.logTarget) {
    const target = opts.logTarget;
    const sink = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        target.write(String(chunk));
        done();
      },
    });
    const t = new winston.transports.Stream({ stream: sink, level: 'debug', format: fileFormat });
    FILE_TRANSPORTS.add(t);
    transports.push(t);
  } else if (opts.logFile) {
    transports.push(new winston.transports.File({ filename: opts.logFile, level: 'debug', format: fileFormat, options: { flags: 'a', mode: 0o600 } } as never));
  }
  return winston.createLogger({ level: 'debug', defaultMeta: opts.defaultMeta, transports }) as winston.Logger & Logger;
}

/** Wait until every transport has flushed (the log file is complete). */
export async function closeLogger(logger: winston.Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    let pending = 0;
    for (const t of logger.transports) {
      if (t instanceof winston.transports.File || FILE_TRANSPORTS.has(t)) {
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
