/**
 * Progress output when stderr is not a terminal (CI, runbooks, pipes): one
 * plain line per event, stamped with the event's UTC time, never a control
 * code (names from tenants are cleaned); and NDJSON events for machines
 * (`--events ndjson[=FILE]`).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { DrainEvent } from '../workflow/types.js';
import { clean } from './ansi.js';

function mib(bytes: number | null): string {
  return bytes === null ? '?' : `${Math.round(bytes / 1048576)} MiB`;
}

/** "2026-11-29T06:12:18Z": the event's time to the second, UTC. */
export function stamp(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 19)}Z` : clean(iso);
}

/** One human line for an event (no newline, no control code), or null for the few too chatty to print. */
export function formatEvent(e: DrainEvent): string | null {
  const line = describeEvent(e);
  return line === null ? null : `${stamp(e.time)} ${clean(e.host)} ${clean(line)}`;
}

/** The event in words, without time and host. */
export function describeEvent(e: DrainEvent): string | null {
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
    case 'migration-started':
      return `${e.name}: ${e.adopted ? 'already moving, watching it' : `${e.method} migration requested`}${e.target ? ` -> ${e.target}` : ' (scheduler chooses)'}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}`;
    case 'migration-progress':
      return e.percent === null ? null : `${e.name}: ${e.status} ${e.percent}% of ${mib(e.memoryTotalBytes)}${e.stalledForMs > 0 ? `, no progress for ${Math.round(e.stalledForMs / 1000)}s` : ''}`;
    case 'migration-stalled':
      return `${e.name}: ${e.reason}; action: ${e.action}`;
    case 'migration-completed':
      return `${e.name}: moved ${e.from} -> ${e.to ?? '?'} (${e.method}${e.durationMs !== null ? `, ${Math.round(e.durationMs / 100) / 10}s` : ''})`;
    case 'migration-retried':
      return `${e.name}: attempt ${e.attempt} failed (${e.error}); retrying`;
    case 'migration-failed':
      return `${e.name}: FAILED after ${e.attempts} attempt(s): ${e.error}`;
    case 'verification':
      return `verification: ${e.empty ? 'host is empty' : `NOT empty, ${e.leftovers.length} left`}`;
    case 'run-finished':
      return `finished: ${e.outcome} (exit ${e.exitCode}) - ${e.message}`;
    default:
      return null;
  }
}

export interface ProgressSink {
  emit(e: DrainEvent): void;
  close(): Promise<void>;
}

export function progressSink(opts: {
  lines: NodeJS.WritableStream | null;
  ndjson: { stream: NodeJS.WritableStream } | { file: string } | null;
}): ProgressSink {
  let file: WriteStream | null = null;
  let ndjson: NodeJS.WritableStream | null = null;
  if (opts.ndjson && 'file' in opts.ndjson) {
    file = createWriteStream(opts.ndjson.file, { flags: 'a', mode: 0o600 });
    ndjson = file;
  } else if (opts.ndjson) {
    ndjson = opts.ndjson.stream;
  }
  return {
    emit(e) {
      if (ndjson) ndjson.write(`${JSON.stringify(e)}\n`);
      if (opts.lines) {
        const line = formatEvent(e);
        if (line) opts.lines.write(`${line}\n`);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (file) file.end(() => resolve());
        else resolve();
      }),
  };
}
