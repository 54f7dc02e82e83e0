/**
 * What every cloud-touching command shares: validated output flags, the
 * logger, the state directory (checked before the cloud is touched), the cloud
 * (real or demo), progress output, Ctrl-C / SIGTERM handling, and the saved
 * run. Commands supply only their flags and the workflow call.
 *
 * Signals: the first SIGINT/SIGTERM saves the run as interrupted at once and
 * asks the workflow to stop (no new migration is started; migrations already
 * requested go on in Nova and are handed to the saved run, whose resume
 * reconciles them); the command then exits 130 naming the command that
 * resumes. A second signal exits at once, the run still saved and the host's
 * lock released. Whatever the command is waiting on (a slow cloud, a long
 * read-only plan), it ends within STOP_GRACE_MS of the first signal: past it,
 * the first signal acts as a second one (the run was saved on the signal).
 */
import os from 'node:os';
import path from 'node:path';
import type { CommandState } from './state.js';
import { openCloud, type OpenedCloud } from './cloud.js';
import { cloudOverrides } from './global-options.js';
import { parseDuration } from '../core/durations.js';
import { redactText } from '../core/secrets.js';
import { createLogger, closeLogger } from '../report/logging.js';
import { checkStateDirFlag } from './state-dir.js';
export { checkStateDirFlag } from './state-dir.js';
import { checkOutputFlags, createRunOutput, eventsFile, type RunOutput } from '../report/output.js';
import { describeFailures, FileTarget } from '../report/targets.js';
import { usageError } from '../core/errors.js';
import { defaultStateDir, RunStore } from '../runs/store.js';
import type { ActiveRun } from '../runs/runner.js';
import type { Logger } from '../core/log.js';
import type { Coordination } from '../runs/coord/types.js';
import { EXIT } from '../core/exit-codes.js';

/** How long after a first SIGINT/SIGTERM a command may take to stop on its own before it exits at once (130). */
export const STOP_GRACE_MS = 1500;

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
  /** The command line, secret flags' values replaced (recorded with the run). */
  argv: string[];
  /** For RunnerEnv.onActive: lets a signal save the run (and a second one release its lock) synchronously. */
  track(active: ActiveRun): void;
  /** The command that resumes a run, with the --state-dir / --os-cloud this command was given. */
  resumeHint(runId: string): string;
  /** Where hosts are locked and runs shared: the local backend, or etcd (--coordination). */
  coord: Coordination;
  /** For RunnerEnv.onLockLost: the host's lease is gone; stop starting actions, save the run resumable. */
  lockLost(host: string, why: string): void;
}

export interface CommandRunOptions {
  /** Cloud to use when no --os-cloud / OS_CLOUD / OS_AUTH_URL says otherwise (resume: the run's own cloud). */
  defaultCloud?: string;
  /** What the progress views can know in advance of a workflow run: its number of steps, a rolling run's hosts. */
  progress?: { steps?: number | null; hosts?: string[] | null };
}

export async function withCommandRun<T>(
  state: CommandState,
  argv: CommonArgs,
  work: (run: CommandRun) => Promise<T>,
  opts: CommandRunOptions = {},
): Promise<T> {
  const io = state.io;
  const format = argv.format;
  const timeoutMs = parseDuration('timeout', argv.timeout, { minMs: 1000, maxMs: 3_600_000 });
  checkOutputFlags({ ...argv, format, events: argv.events });
  const { checkCoordinationUrl, openCoordination } = await import('../runs/coord/index.js');
  checkCoordinationUrl(argv['coordination'] as string | undefined, io.env);
  const leaseTtl = argv['leaseTtl'] === undefined ? undefined : parseDuration('lease-ttl', String(argv['leaseTtl']), { minMs: 2000, maxMs: 3_600_000 }) / 1000;
  // The state directory must be usable before anything changes in the cloud.
  const baseState = argv.stateDir !== undefined ? checkStateDirFlag(argv.stateDir) : defaultStateDir(io.env);
  new RunStore(baseState).ensureSync();
  // Every output file is opened now, before the cloud is touched (exit 2 naming the path); later write failures only warn.
  const warn = (text: string) => io.stderr.write(`${text}\n`);
  const fileTargets: FileTarget[] = [];
  let logTarget: FileTarget | undefined;
  let eventsTarget: FileTarget | null = null;
  try {
    if (argv.logFile !== undefined) {
      if (String(argv.logFile).trim() === '') throw usageError("--log-file '' is not a file path", 'Give --log-file a file name, e.g. --log-file drain.log.');
      logTarget = FileTarget.open('--log-file', String(argv.logFile), warn);
      fileTargets.push(logTarget);
    }
    const events = eventsFile({ ...argv, format, events: argv.events });
    if (events !== null) {
      eventsTarget = FileTarget.open('--events', events, warn);
      fileTargets.push(eventsTarget);
    }
  } catch (e) {
    for (const t of fileTargets) t.close();
    throw e;
  }
  const secrets: string[] = [];
  const logger = createLogger({ verbosity: argv.verbose ?? 0, logTarget, stream: io.stderr, secrets, quiet: argv['quiet'] === true });
  const controller = new AbortController();
  const redacted = redactArgv(state.argv ?? process.argv.slice(2));
  let active: ActiveRun | null = null;
  let interrupts = 0;
  let hint: (runId: string) => string = (runId) => `hostmaint resume ${runId}`;
  let grace: NodeJS.Timeout | null = null;
  const onSignal = (sig: NodeJS.Signals, backstop = false) => {
    interrupts += 1;
    if (interrupts === 1) {
      // The backstop: a command that does not stop on its own in time exits as on a second signal.
      grace = setTimeout(() => onSignal(sig, true), STOP_GRACE_MS);
      grace.unref();
      io.stderr.write(`\nhostmaint: ${sig}: stopping; no new migration is started, migrations already requested finish in Nova and are followed by the saved run. Press Ctrl-C again to exit at once.\n`);
      try {
        active?.saveInterrupted(`interrupted by ${sig}`);
      } catch (e) {
        logger.warn('could not save the run on the signal', { error: String(e) });
      }
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      if (grace) clearTimeout(grace);
      const why = backstop ? `still stopping ${STOP_GRACE_MS / 1000} s after ${sig}` : `second ${sig}`;
      try {
        active?.abandon(`interrupted by ${sig}; exited at once (${why})`);
      } catch {
        /* exiting anyway */
      }
      const line = active ? ` The run is saved. Resume it with:\n  ${hint(active.record.runId)}` : '';
      io.stderr.write(`\nhostmaint: ${why}: exiting now.${line}\n`);
      process.exit(130);
    }
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let cloud: OpenedCloud | null = null;
  let output: RunOutput | null = null;
  let coord: Coordination | null = null;
  let lockLost: string | null = null;
  const onLockLost = (host: string, why: string) => {
    if (lockLost !== null) return;
    lockLost = why;
    io.stderr.write(`\nhostmaint: lost the hold on ${host}: ${why}. Stopping: no new action is started; migrations already requested finish in Nova and are followed by the saved run, which any runner can resume.\n`);
    try {
      active?.saveInterrupted(`lost the hold on ${host}: ${why}`);
    } catch (e) {
      logger.warn('could not save the run after losing the hold', { error: String(e) });
    }
    controller.abort(new Error(`lost the hold on ${host}`));
  };
  try {
    const overrides = cloudOverrides(argv);
    const envNamesCloud = Boolean(io.env.OS_CLOUD || io.env.OS_AUTH_URL);
    const usedDefaultCloud = opts.defaultCloud !== undefined && overrides.osCloud === undefined && overrides.osAuthUrl === undefined && !envNamesCloud;
    if (usedDefaultCloud) overrides.osCloud = opts.defaultCloud;
    cloud = await openCloud(overrides, { env: io.env, logger, timeoutMs, stateDir: baseState, onSecrets: (s) => secrets.push(...s) });
    secrets.push(...cloud.secrets);
    const store = new RunStore(cloud.demo ? path.join(baseState, 'demo') : baseState);
    store.ensureSync();
    store.addSecrets(cloud.secrets);
    const identity = cloud.session.identity;
    coord = await openCoordination({
      url: argv['coordination'] as string | undefined,
      env: io.env,
      stateDir: store.dir,
      cloudKey: `${identity.authUrl}|${identity.regionName ?? ''}`,
      cloudName: cloud.cloudName,
      ttlSeconds: leaseTtl,
      logger,
      notice: (line) => io.stderr.write(`${line}\n`),
    });
    const who = `${safeUser()}@${os.hostname()}`;
    output = createRunOutput(io, { ...argv, format, events: argv.events }, {
      command: String((argv._ as unknown[] | undefined)?.[0] ?? ''),
      argv: redacted,
      cloudName: cloud.cloudName,
      user: cloud.session.identity.userName,
      who,
      now: () => (cloud ? cloud.clock.now() : Date.now()),
      ...(opts.progress ?? {}),
    }, { events: eventsTarget });
    const extra: string[] = [];
    if (argv.stateDir !== undefined) extra.push('--state-dir', shellQuote(path.resolve(argv.stateDir)));
    if (typeof overrides.osCloud === 'string' && !usedDefaultCloud) extra.push('--os-cloud', shellQuote(overrides.osCloud));
    if (coord.kind === 'etcd') extra.push('--coordination', shellQuote(String(argv['coordination'] ?? io.env.HOSTMAINT_COORDINATION ?? '')));
    hint = (runId) => ['hostmaint', 'resume', runId, ...extra].join(' ');
    const openedCoord = coord;
    const done = await work({
      cloud,
      logger,
      output,
      store,
      signal: controller.signal,
      who,
      format,
      argv: redacted,
      track: (a) => {
        active = a;
      },
      resumeHint: (runId) => hint(runId),
      coord: openedCoord,
      lockLost: onLockLost,
    });
    // A run stopped because its hold was lost (etcd unreachable, a pause past the TTL): exit 6, resumable.
    if (lockLost !== null && state.exitCode === EXIT.INTERRUPTED) state.exitCode = EXIT.CLOUD;
    return done;
  } finally {
    if (grace) clearTimeout(grace);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    await output?.close();
    await coord?.close().catch(() => undefined);
    await cloud?.close().catch(() => undefined);
    await closeLogger(logger as never).catch(() => undefined);
    for (const t of fileTargets) t.close();
    for (const line of describeFailures(fileTargets.map((t) => t.failed()).filter((f) => f !== null))) warn(line);
  }
}

/** A demo scenario that does not load is a configuration error (exit 2), not a crash. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line with the values of secret flags replaced, and every other value redacted by value (URL user-info: core/secrets.ts). */
export function redactArgv(args: string[]): string[] {
  return redactSecretFlags(args).map((a) => redactText(a));
}

function redactSecretFlags(args: string[]): string[] {
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
