/**
 * What every cloud-touching command shares: validated output flags, the
 * logger, the cloud (real or demo), progress output, Ctrl-C handling, and the
 * run record. Commands supply only their flags and the workflow call.
 */
import os from 'node:os';
import path from 'node:path';
import type { CommandState } from './main.js';
import { openCloud, type OpenedCloud } from './cloud.js';
import { cloudOverrides } from './global-options.js';
import { parseDuration } from './durations.js';
import { usageError } from './errors.js';
import { createLogger, closeLogger } from '../report/logging.js';
import { progressSink, type ProgressSink } from '../report/progress.js';
import { defaultStateDir, RunStore } from '../runs/store.js';
import type { Logger } from '../log.js';

export interface CommonArgs {
  format: 'table' | 'json';
  events?: string;
  verbose?: number;
  logFile?: string;
  stateDir?: string;
  timeout: string;
  [key: string]: unknown;
}

export interface CommandRun {
  cloud: OpenedCloud;
  logger: Logger;
  progress: ProgressSink;
  store: RunStore;
  signal: AbortSignal;
  /** "alice@ops-laptop" — who ran it, for the service reason and the run record. */
  who: string;
  format: 'table' | 'json';
}

function eventsTarget(events: string | undefined, format: 'table' | 'json'): { stream: NodeJS.WritableStream } | { file: string } | 'stdout' | null {
  if (events === undefined) return null;
  if (events === 'ndjson') {
    if (format === 'json') {
      throw usageError('--events ndjson and --format json both want stdout', 'Send the events to a file: --events ndjson=FILE, or drop --format json.');
    }
    return 'stdout';
  }
  const m = /^ndjson=(.+)$/.exec(events);
  if (!m) throw usageError(`--events '${events}' is not understood`, 'Use --events ndjson (stdout) or --events ndjson=FILE.');
  return { file: path.resolve(m[1] as string) };
}

export async function withCommandRun<T>(
  state: CommandState,
  argv: CommonArgs,
  work: (run: CommandRun) => Promise<T>,
): Promise<T> {
  const io = state.io;
  const format = argv.format;
  const timeoutMs = parseDuration('timeout', argv.timeout, { minMs: 1000, maxMs: 3_600_000 });
  const target = eventsTarget(argv.events, format);
  const secrets: string[] = [];
  const logger = createLogger({ verbosity: argv.verbose ?? 0, logFile: argv.logFile, stream: io.stderr, secrets });
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts === 1) {
      io.stderr.write(`\nhostmaint: ${sig}: stopping; migrations already requested finish in Nova. Press Ctrl-C again to exit at once.\n`);
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let cloud: OpenedCloud | null = null;
  let progress: ProgressSink | null = null;
  try {
    cloud = await openCloud(cloudOverrides(argv), { env: io.env, logger, timeoutMs });
    secrets.push(...cloud.secrets);
    const baseState = argv.stateDir ?? defaultStateDir(io.env);
    const store = new RunStore(cloud.demo ? path.join(baseState, 'demo') : baseState);
    progress = progressSink({
      lines: format === 'json' || target === 'stdout' ? io.stderr : io.stderr,
      ndjson: target === 'stdout' ? { stream: io.stdout } : target,
    });
    const who = `${safeUser()}@${os.hostname()}`;
    return await work({ cloud, logger, progress, store, signal: controller.signal, who, format });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await progress?.close();
    await cloud?.close().catch(() => undefined);
    await closeLogger(logger as never).catch(() => undefined);
  }
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
