/**
 * The `exec` workflow step: run a local command for a host (patch, reboot,
 * notify ...).
 *
 * A string command runs as `/bin/sh -c <text>` with its placeholders
 * substituted shell-quoted; an array runs as argv (no shell), each element
 * substituted as is. The child gets a minimal environment (minimalEnv):
 * PATH, HOME, LANG and the parent's HOSTMAINT_* variables, the ones the step
 * names in pass-env, then HOSTMAINT_HOST, HOSTMAINT_RUN_ID,
 * HOSTMAINT_WORKFLOW, HOSTMAINT_STEP, HOSTMAINT_CLOUD and the step's own env
 * (substituted); stdin is closed. An operator's shell (tokens, agent
 * sockets) is not handed to a command that did not ask for it.
 *
 * It runs in its own process group, so a timeout or an interrupt reaches
 * everything it started: SIGTERM to the group, then SIGKILL after a grace.
 * The process timeout uses real timers (a child lives in real time);
 * durations are measured on the injected clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { formatDuration } from '../core/durations.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ExecStep, PlaceholderValues, StepOutcome } from '../workflow-file/types.js';
import { lastLine, stepFailed, stepInterrupted, stepOk, stepSetupFailed } from './outcome.js';
import { redactSecrets, substitute } from './substitute.js';

/** Bytes of stdout and of stderr kept (the tail). */
export const TAIL_BYTES = 4096;
/** Between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5000;
/** After the command exits, how long to wait for its output pipes to close (a background child may hold them). */
const DRAIN_MS = 1000;

export type OutputStream = 'stdout' | 'stderr';

export interface ExecContext {
  vars: PlaceholderValues;
  /** The parent environment (default process.env): the base of the child's and the source of {env:NAME}. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each output line (secrets redacted), as it arrives. */
  onOutput?: (stream: OutputStream, line: string) => void;
  /** More values to redact from the output and the message (the cloud's password, token ...). */
  secrets?: readonly string[];
}

export interface ExecDeps {
  clock: Clock;
  logger: Logger;
  /** Between SIGTERM and SIGKILL (default KILL_GRACE_MS). */
  killGraceMs?: number;
}

interface Attempt {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  interrupted: boolean;
  /** Set when the command could not be started. */
  spawnError: NodeJS.ErrnoException | null;
  stdout: string;
  stderr: string;
}

/** The last `max` bytes of a stream, kept as chunks. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max) this.size -= this.chunks.shift()!.length;
  }
  /** Decoded, redacted, then cut to the last TAIL_BYTES bytes. */
  text(secrets: readonly string[]): string {
    let buf = Buffer.concat(this.chunks);
    if (buf.length > this.max) buf = buf.subarray(buf.length - this.max);
    const redacted = Buffer.from(redactSecrets(buf.toString('utf8'), secrets), 'utf8');
    if (redacted.length <= TAIL_BYTES) return redacted.toString('utf8');
    // Drop a partial UTF-8 sequence at the cut.
    return redacted.subarray(redacted.length - TAIL_BYTES).toString('utf8').replace(/^\uFFFD+/, '');
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function runOnce(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  secrets: readonly string[],
  ctx: ExecContext,
  deps: ExecDeps,
  stepName: string,
): Promise<Attempt> {
  // Keep extra bytes so a secret cut at the tail's edge is still whole when redacted.
  const keep = TAIL_BYTES + 2 * Math.max(0, ...secrets.map((s) => Buffer.byteLength(s)));
  const tails = { stdout: new Tail(keep), stderr: new Tail(keep) };
  const grace = deps.killGraceMs ?? KILL_GRACE_MS;
  return new Promise<Attempt>((resolve) => {
    let timedOut = false;
    let interrupted = false;
    let killing = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let closed = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    let child: ChildProcess;
    try {
      child = spawn(file, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      // Invalid arguments (a NUL byte in an argument or env value) throw at once.
      const err = e as NodeJS.ErrnoException;
      resolve({ exitCode: null, signal: null, timedOut: false, interrupted: false, spawnError: err, stdout: '', stderr: '' });
      return;
    }

    const finish = (spawnError: NodeJS.ErrnoException | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      for (const s of ['stdout', 'stderr'] as const) flush(s);
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        interrupted,
        spawnError,
        stdout: tails.stdout.text(secrets),
        stderr: tails.stderr.text(secrets),
      });
    };

    const kill = () => {
      if (killing || child.pid === undefined) return;
      killing = true;
      const pid = child.pid;
      killGroup(pid, 'SIGTERM');
      // The group may outlive its leader (a child ignoring SIGTERM): SIGKILL after the grace, whatever happened to the leader.
      setTimeout(() => killGroup(pid, 'SIGKILL'), grace).unref();
    };

    const onAbort = () => {
      interrupted = true;
      kill();
    };

    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const partial = { stdout: '', stderr: '' };
    const emit = (stream: OutputStream, line: string) => {
      const clean = redactSecrets(line, secrets);
      deps.logger.debug(`exec ${stepName} ${stream}: ${clean}`, { step: stepName, stream });
      try {
        ctx.onOutput?.(stream, clean);
      } catch (e) {
        deps.logger.warn(`exec ${stepName}: the output listener failed: ${String(e)}`, { step: stepName });
      }
    };
    const onData = (stream: OutputStream) => (chunk: Buffer) => {
      tails[stream].push(chunk);
      const text = partial[stream] + decoders[stream].write(chunk);
      const lines = text.split('\n');
      partial[stream] = lines.pop() ?? '';
      // A line never ending (no newline for MBs) is emitted in pieces.
      if (partial[stream].length > 64 * 1024) {
        lines.push(partial[stream]);
        partial[stream] = '';
      }
      for (const l of lines) emit(stream, l.replace(/\r$/, ''));
    };
    const flush = (stream: OutputStream) => {
      const rest = partial[stream] + decoders[stream].end();
      partial[stream] = '';
      if (rest) emit(stream, rest);
    };

    child.stdout!.on('data', onData('stdout'));
    child.stderr!.on('data', onData('stderr'));
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Failure to spawn (ENOENT, EACCES): no 'exit' follows.
      if (exit === null) finish(e);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (closed) finish(null);
      else drainTimer = setTimeout(() => finish(null), DRAIN_MS);
    });
    child.on('close', () => {
      closed = true;
      if (exit !== null) finish(null);
    });

    if (ctx.signal?.aborted) onAbort();
    else ctx.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
  });
}

/**
 * The parent's environment without the cloud's credentials (OS_PASSWORD, OS_TOKEN,
 * OS_APPLICATION_CREDENTIAL_SECRET ...): a maintenance command has no business with them, and
 * whatever it prints ends up in the output. A step's own `env` can still set one explicitly.
 */
export function withoutCloudCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^OS_.*(PASSWORD|SECRET|TOKEN)/i.test(k)));
}

/** What every exec step gets of hostmaint's environment, besides HOSTMAINT_* and what it names. */
export const BASE_ENV = ['PATH', 'HOME', 'LANG'] as const;

/** The part of the parent's environment an exec step gets: BASE_ENV, HOSTMAINT_*, and the names it passes ('*': all but the cloud's credentials). */
export function minimalEnv(parent: NodeJS.ProcessEnv, passEnv: readonly string[]): NodeJS.ProcessEnv {
  if (passEnv.includes('*')) return withoutCloudCredentials(parent);
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if ((BASE_ENV as readonly string[]).includes(k) || k.startsWith('HOSTMAINT_') || passEnv.includes(k)) out[k] = v;
  }
  return out;
}

/** The command of an exec step, substituted: what to spawn, and the secrets it holds. */
function prepare(step: ExecStep, vars: PlaceholderValues, parentEnv: NodeJS.ProcessEnv): { file: string; args: string[]; env: NodeJS.ProcessEnv; secrets: string[] } {
  const secrets = new Set<string>();
  const sub = (t: string, mode: 'plain' | 'shell') => {
    const r = substitute(t, vars, parentEnv, mode);
    for (const s of r.secrets) secrets.add(s);
    return r.text;
  };
  let file: string;
  let args: string[];
  if (typeof step.command === 'string') {
    file = '/bin/sh';
    args = ['-c', sub(step.command, 'shell')];
  } else {
    const argv = step.command.map((a) => sub(a, 'plain'));
    file = argv[0] ?? '';
    args = argv.slice(1);
  }
  const env: NodeJS.ProcessEnv = {
    ...minimalEnv(parentEnv, step.passEnv ?? []),
    HOSTMAINT_HOST: vars.host,
    HOSTMAINT_RUN_ID: vars.runId,
    HOSTMAINT_WORKFLOW: vars.workflow,
    HOSTMAINT_STEP: vars.step,
    HOSTMAINT_CLOUD: vars.cloud,
  };
  for (const [k, v] of Object.entries(step.env)) env[k] = sub(v, 'plain');
  return { file, args, env, secrets: [...secrets] };
}

function describeEnd(a: Attempt, timeoutMs: number): string {
  if (a.timedOut) return `timed out after ${formatDuration(timeoutMs)}`;
  if (a.exitCode !== null) return `exited ${a.exitCode}`;
  return `killed by ${a.signal ?? 'a signal'}`;
}

/** Run an exec step (with its retries) and say how it ended. Never throws. */
export async function runExecStep(step: ExecStep, ctx: ExecContext, deps: ExecDeps): Promise<StepOutcome> {
  const started = deps.clock.now();
  const template = Array.isArray(step.command) ? [...step.command] : step.command;
  const base = { command: template, attempts: 0 };
  let prepared: ReturnType<typeof prepare>;
  try {
    prepared = prepare(step, ctx.vars, ctx.env ?? process.env);
    prepared.secrets.push(...(ctx.secrets ?? []).filter((s) => s.length >= 4));
    if (prepared.file === '') throw new Error('the command is empty');
  } catch (e) {
    return stepSetupFailed(`exec ${step.name}`, e, [], base);
  }
  const { file, args, env, secrets } = prepared;
  const total = step.retries + 1;
  let attempt = 0;
  for (;;) {
    attempt++;
    if (ctx.signal?.aborted) return stepInterrupted({ ...base, attempts: attempt - 1, durationMs: deps.clock.now() - started });
    deps.logger.debug(`exec ${step.name}: attempt ${attempt}/${total}`, { step: step.name, command: template });
    const attemptStarted = deps.clock.now();
    const a = await runOnce(file, args, env, step.timeoutMs, secrets, ctx, deps, step.name);
    const durationMs = deps.clock.now() - started;
    const took = formatDuration(deps.clock.now() - attemptStarted);
    const detail = {
      command: template,
      exitCode: a.exitCode,
      signal: a.signal,
      timedOut: a.timedOut,
      attempts: attempt,
      durationMs,
      stdoutTail: a.stdout,
      stderrTail: a.stderr,
    };
    if (a.spawnError) {
      const what = a.spawnError.code === 'ENOENT' ? 'not found' : a.spawnError.code === 'EACCES' ? 'permission denied' : (redactSecrets(a.spawnError.message, secrets).split('\n')[0] ?? '').slice(0, 200);
      const shown = Array.isArray(step.command) ? step.command[0] : '/bin/sh';
      return stepFailed(`exec ${step.name}: cannot start ${shown}: ${what}${a.spawnError.code ? ` (${a.spawnError.code})` : ''}`, {
        ...detail,
        error: a.spawnError.code ?? 'spawn',
      });
    }
    if (a.interrupted) return stepInterrupted(detail);
    if (a.exitCode === 0 && !a.timedOut) {
      return stepOk(`exec ${step.name}: done in ${took}${attempt > 1 ? ` (attempt ${attempt}/${total})` : ''}`, detail);
    }
    const last = lastLine(a.stderr) || lastLine(a.stdout);
    const message = `exec ${step.name}: ${describeEnd(a, step.timeoutMs)}${a.timedOut ? '' : ` after ${took}`} (attempt ${attempt}/${total})${last ? `: ${last}` : ''}`;
    if (attempt >= total) return stepFailed(message, detail);
    deps.logger.info(`${message}; retrying`, { step: step.name });
  }
}
