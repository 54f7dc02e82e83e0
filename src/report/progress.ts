/**
 * Progress output when stderr is not a terminal (CI, runbooks, pipes): one
 * plain line per event, stamped with the event's UTC time, never a control
 * code (names from tenants are cleaned); and NDJSON events for machines
 * (`--events ndjson[=FILE]`).
 */
import type { DrainEvent } from '../machines/events.js';
import { clean } from './ansi.js';

function mib(bytes: number | null): string {
  return bytes === null ? '?' : `${Math.round(bytes / 1048576)} MiB`;
}

/** "2026-11-29T06:12:18Z": the event's time to the second, UTC. */
export function stamp(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 19)}Z` : clean(iso);
}

/** What the events do not say but a line is clearer with: a workflow's number of steps ("step 5/8"). */
export interface DescribeOptions {
  steps?: number | null;
}

/** One human line for an event (no newline, no control code), or null for the few too chatty to print. */
export function formatEvent(e: DrainEvent, opts: DescribeOptions = {}): string | null {
  const line = describeEvent(e, opts);
  return line === null ? null : `${stamp(e.time)} ${clean(e.host)} ${clean(line)}`;
}

/** The event in words, without time and host. */
export function describeEvent(e: DrainEvent, opts: DescribeOptions = {}): string | null {
  switch (e.type) {
    case 'run-started':
      return `${e.command}${e.dryRun ? ' (plan only, read-only)' : ''} started, run ${e.runId}`;
    case 'phase-changed':
      return e.phase === 'done' ? null : `phase: ${e.phase}`;
    case 'service-changed':
      return `service ${e.action}: ${e.status}${e.reason ? ` ("${e.reason}")` : ''}${e.note ? ` - ${e.note}` : ''}`;
    case 'instance-classified':
      return `  ${e.name} (${e.serverId}): ${e.class}${e.blocking ? ' [BLOCKING]' : ''} - ${e.reason}${e.remedy ? `; ${e.remedy}` : ''}`;
    case 'preflight-finished':
      return `preflight ${e.ok ? 'passed' : 'REFUSED'}: ${e.planned} planned, ${e.unplaced} unplaced, ${e.blocking} blocking, ${e.warnings} warnings`;
    case 'migration-queued':
      return `${e.name}: ${e.status}${e.status === 'queued' ? " (waiting for the source compute's migration slot; not stuck)" : e.status === 'preparing' ? ' (destination preparing)' : ''}`;
    case 'migration-fallback':
      return `${e.name}: live migration failed after ${e.afterAttempts} attempt(s) (${e.error}); falling back to ${e.to === 'stop' ? 'stop, cold-migrate, start' : 'a cold migration'} (--fallback)`;
    case 'instance-waiting':
      // Waiting for the source's slots is the normal queue: said by the events and status, not printed.
      return e.waitingFor === 'source-slot' ? null : `${e.name}: waits, ${e.detail}`;
    case 'migration-started':
      return `${e.name}: ${e.adopted ? 'already moving, watching it' : `${e.method} migration requested`}${e.target ? ` -> ${e.target}` : ' (scheduler chooses)'}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}`;
    case 'migration-progress':
      return e.percent === null ? null : `${e.name}: ${e.status} ${e.percent}% of ${mib(e.memoryTotalBytes)}${e.stalledForMs > 0 ? `, no progress for ${Math.round(e.stalledForMs / 1000)}s` : ''}`;
    case 'migration-stalled':
      return `${e.name}: ${e.reason}; action: ${e.action}${e.step !== undefined && e.steps !== undefined && e.steps > 1 ? ` (on-timeout step ${e.step} of ${e.steps})` : ''}`;
    case 'migration-completed':
      return `${e.name}: moved ${e.from} -> ${e.to ?? '?'} (${e.method}${e.durationMs !== null ? `, ${Math.round(e.durationMs / 100) / 10}s` : ''})`;
    case 'migration-retried':
      return `${e.name}: attempt ${e.attempt} failed (${e.error}); retrying`;
    case 'migration-failed':
      return `${e.name}: FAILED after ${e.attempts} attempt(s): ${e.error}`;
    case 'verification':
      return `verification: ${e.empty ? 'host is empty' : `NOT empty, ${e.leftovers.length} left`}`;
    case 'source-down':
      return `source nova-compute DOWN since ${e.since}: no new migration is requested; the drain stops if it is not back within ${Math.round(e.graceMs / 1000)}s`;
    case 'source-up':
      return `source nova-compute is up again (was down ${e.downForPolls} poll(s)): the drain goes on`;
    case 'run-finished':
      return `finished: ${e.outcome} (exit ${e.exitCode}) - ${e.message}`;
    case 'step-started':
      return `step ${stepNumber(e.index, opts.steps)} ${e.step} (${e.stepType}) started`;
    case 'step-waiting':
      return `step ${e.step}: waiting for ${e.waitingFor} (until ${e.deadline})`;
    case 'step-finished':
      if (e.status === 'failed') return `step ${e.step}: FAILED (exit ${e.exitCode}): ${e.message}`;
      return `step ${e.step}: ${e.status === 'waiting' ? 'waiting' : 'ok'}${e.message ? ` - ${e.message}` : ''}`;
    case 'approval-required':
      return `WAITING FOR APPROVAL at step ${e.step}: ${e.message} — run \`hostmaint continue ${e.runId}\``;
    case 'workflow-finished':
      return `workflow ${e.workflow}: ${e.outcome} (exit ${e.exitCode})${withoutPrefix(e.message, `workflow ${e.workflow} on ${e.host}: `)}`;
    case 'host-started':
      return `host ${e.host} started (wave ${e.wave}, run ${e.childRunId})`;
    case 'host-finished':
      if (e.status === 'done') return `host ${e.host}: done`;
      return `host ${e.host}: ${e.status === 'failed' ? 'FAILED' : e.status === 'waiting' ? 'waiting for approval' : e.status}${e.exitCode !== null && e.status !== 'waiting' ? ` (exit ${e.exitCode})` : ''}${e.message ? `: ${e.message}` : ''}`;
    case 'rolling-finished':
      return `rolling run: ${e.outcome === 'completed' ? '' : `${e.outcome} (exit ${e.exitCode}): `}${e.message}`;
    default:
      return null;
  }
}

/** "5/8" (index is 0-based), "5" when the number of steps is not known. */
export function stepNumber(index: number, steps?: number | null): string {
  const n = index >= 0 ? String(index + 1) : '?';
  return steps ? `${n}/${steps}` : n;
}

/** ": rest" of a message that repeats what the line already said ("workflow cycle on compute-01: "), else ": message". */
function withoutPrefix(message: string, prefix: string): string {
  const rest = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return rest ? `: ${rest}` : '';
}

export interface ProgressSink {
  emit(e: DrainEvent): void;
  close(): Promise<void>;
}

export function progressSink(opts: {
  lines: NodeJS.WritableStream | null;
  /** stdout, or an opened file target (targets.ts: guarded, never throws). */
  ndjson: { stream: NodeJS.WritableStream } | { target: { write(text: string): void } } | null;
  /** A workflow's number of steps, for "step 5/8". */
  steps?: number | null;
}): ProgressSink {
  const ndjson: { write(text: string): unknown } | null = opts.ndjson === null ? null : 'target' in opts.ndjson ? opts.ndjson.target : opts.ndjson.stream;
  return {
    emit(e) {
      if (ndjson) ndjson.write(`${JSON.stringify(e)}\n`);
      if (opts.lines) {
        const line = formatEvent(e, { steps: opts.steps ?? null });
        if (line) opts.lines.write(`${line}\n`);
      }
    },
    close: () => Promise.resolve(),
  };
}
