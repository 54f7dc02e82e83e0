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
import { createLogger, closeLogger } from '../report/logging.js';
import { checkOutputFlags, createRunOutput, type RunOutput } from '../report/output.js';
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
  /** Progress events and the final result go here. */
  output: RunOutput;
  store: RunStore;
  signal: AbortSignal;
  /** "alice@ops-laptop" — who ran it, for the service reason and the run record. */
  who: string;
  format: 'table' | 'json';
}

export async function withCommandRun<T>(
  state: CommandState,
  argv: CommonArgs,
  work: (run: CommandRun) => Promise<T>,
): Promise<T> {
  const io = state.io;
  const format = argv.format;
  const timeoutMs = parseDuration('timeout', argv.timeout, { minMs: 1000, maxMs: 3_600_000 });
  checkOutputFlags({ format, events: argv.events });
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
  let output: RunOutput | null = null;
  try {
    cloud = await openCloud(cloudOverrides(argv), { env: io.env, logger, timeoutMs });
    secrets.push(...cloud.secrets);
    const baseState = argv.stateDir ?? defaultStateDir(io.env);
    const store = new RunStore(cloud.demo ? path.join(baseState, 'demo') : baseState);
    output = createRunOutput(io, { ...argv, format, events: argv.events }, {
      command: String((argv._ as unknown[] | undefined)?.[0] ?? ''),
      argv: redactArgv(process.argv.slice(2)),
      cloudName: cloud.cloudName,
      user: cloud.session.identity.userName,
      who: `${safeUser()}@${os.hostname()}`,
    });
    const who = `${safeUser()}@${os.hostname()}`;
    return await work({ cloud, logger, output, store, signal: controller.signal, who, format });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await output?.close();
    await cloud?.close().catch(() => undefined);
    await closeLogger(logger as never).catch(() => undefined);
  }
}

/** The command line with the values of secret flags replaced. */
export function redactArgv(args: string[]): string[] {
  const secret = /^--os-(password|application-credential-secret|token)(=|$)/;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const m = secret.exec(a);
    if (m && m[2] === '=') out.push(`${a.slice(0, a.indexOf('=') + 1)}***`);
    else if (m) {
      out.push(a, '***');
      i++;
    } else out.push(a);
  }
  return out;
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
