/**
 * Progress output: one plain, timestamped line per notable event (no control
 * codes), and NDJSON events for runbooks (`--events ndjson[=FILE]`).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { DrainEvent } from '../workflow/types.js';

function mib(bytes: number | null): string {
  return bytes === null ? '?' : `${Math.round(bytes / 1048576)} MiB`;
}

/** One human line for an event, or null for events too chatty to print. */
export function formatEvent(e: DrainEvent): string | null {
  const t = e.time.slice(11, 19);
  const p = `${t} ${e.host}`;
  switch (e.type) {
    case 'run-started':
      return `${p} ${e.command}${e.dryRun ? ' (plan only, read-only)' : ''} started, run ${e.runId}`;
    case 'phase-changed':
      return e.phase === 'done' ? null : `${p} phase: ${e.phase}`;
    case 'service-changed':
      return `${p} service ${e.action}: ${e.status}${e.reason ? ` ("${e.reason}")` : ''}${e.note ? ` - ${e.note}` : ''}`;
    case 'instance-classified':
      return `${p}   ${e.name} (${e.serverId}): ${e.class}${e.blocking ? ' [BLOCKING]' : ''} - ${e.reason}${e.remedy ? `; ${e.remedy}` : ''}`;
    case 'preflight-finished':
      return `${p} preflight ${e.ok ? 'passed' : 'REFUSED'}: ${e.planned} planned, ${e.unplaced} unplaced, ${e.blocking} blocking, ${e.warnings} warnings`;
    case 'migration-queued':
      return `${p} ${e.name}: ${e.status}${e.status === 'queued' ? " (waiting for the source compute's migration slot; not stuck)" : e.status === 'preparing' ? ' (destination preparing)' : ''}`;
    case 'migration-started':
      return `${p} ${e.name}: ${e.adopted ? 'already moving, watching it' : `${e.method} migration requested`}${e.target ? ` -> ${e.target}` : ' (scheduler chooses)'}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}`;
    case 'migration-progress':
      return e.percent === null ? null : `${p} ${e.name}: ${e.status} ${e.percent}% of ${mib(e.memoryTotalBytes)}${e.stalledForMs > 0 ? `, no progress for ${Math.round(e.stalledForMs / 1000)}s` : ''}`;
    case 'migration-stalled':
      return `${p} ${e.name}: ${e.reason}; action: ${e.action}`;
    case 'migration-completed':
      return `${p} ${e.name}: moved ${e.from} -> ${e.to ?? '?'} (${e.method}${e.durationMs !== null ? `, ${Math.round(e.durationMs / 100) / 10}s` : ''})`;
    case 'migration-retried':
      return `${p} ${e.name}: failed (${e.error}); retrying, attempt ${e.attempt}`;
    case 'migration-failed':
      return `${p} ${e.name}: FAILED after ${e.attempts} attempt(s): ${e.error}`;
    case 'verification':
      return `${p} verification: ${e.empty ? 'host is empty' : `NOT empty, ${e.leftovers.length} left`}`;
    case 'run-finished':
      return `${p} finished: ${e.outcome} (exit ${e.exitCode}) - ${e.message}`;
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
