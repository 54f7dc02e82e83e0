/**
 * Everything a drain/undrain run shows: progress while it runs (plain lines,
 * NDJSON events) and the final result (table or JSON). Commands create one
 * RunOutput and hand it events and the result; how they are shown is decided
 * here, from the output flags and whether stderr is a terminal.
 */
import path from 'node:path';
import type { CliIO } from '../cli/io.js';
import { usageError } from '../cli/errors.js';
import { progressSink, type ProgressSink } from './progress.js';
import { formatDrainResult, formatUndrainResult } from './result.js';
import type { DrainEvent, DrainResult, UndrainResult } from '../workflow/types.js';

export interface OutputFlags {
  format: 'table' | 'json';
  /** "ndjson" (stdout) or "ndjson=FILE". */
  events?: string | undefined;
  /** Every other parsed flag of the command (yargs argv), for output options added later. */
  [flag: string]: unknown;
}

/** Facts about the run that reports need (never secrets). */
export interface RunContext {
  command: string;
  /** The command line as typed, with secret flags' values replaced. */
  argv: string[];
  cloudName: string;
  /** Keystone user name, and the local "user@machine". */
  user: string | null;
  who: string;
}

export interface RunOutput {
  emit(e: DrainEvent): void;
  /** Print the final result; `extra` fields (e.g. apiRequests) are added to the JSON document. */
  result(r: DrainResult | UndrainResult, extra?: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Validates the output flags (usage errors before anything touches the cloud). */
export function checkOutputFlags(flags: OutputFlags): void {
  eventsTarget(flags);
}

function eventsTarget(flags: OutputFlags): { stream: 'stdout' } | { file: string } | null {
  const events = flags.events;
  if (events === undefined) return null;
  if (events === 'ndjson') {
    if (flags.format === 'json') {
      throw usageError('--events ndjson and --format json both want stdout', 'Send the events to a file: --events ndjson=FILE, or drop --format json.');
    }
    return { stream: 'stdout' };
  }
  const m = /^ndjson=(.+)$/.exec(events);
  if (!m) throw usageError(`--events '${events}' is not understood`, 'Use --events ndjson (stdout) or --events ndjson=FILE.');
  return { file: path.resolve(m[1] as string) };
}

export function createRunOutput(io: CliIO, flags: OutputFlags, _context: RunContext): RunOutput {
  const target = eventsTarget(flags);
  const sink: ProgressSink = progressSink({
    lines: io.stderr,
    ndjson: target === null ? null : 'file' in target ? target : { stream: io.stdout },
  });
  return {
    emit: (e) => sink.emit(e),
    result(r, extra = {}) {
      if (flags.format === 'json') io.stdout.write(`${JSON.stringify({ ...r, ...extra }, null, 2)}\n`);
      else io.stdout.write(r.command === 'drain' ? formatDrainResult(r) : formatUndrainResult(r));
    },
    close: () => sink.close(),
  };
}
