/**
 * Everything a drain/undrain run shows: progress while it runs and the final
 * result. Commands create one RunOutput and hand it events and the result;
 * how they are shown is decided here, from the output flags and the terminal:
 *
 * - progress on stderr: the live view (stderr and stdin are terminals, or
 *   --progress live), else one plain timestamped line per event (--progress
 *   plain, pipes, CI); nothing with --quiet;
 * - --events ndjson[=FILE]: every event as one JSON line (docs/events.schema.json);
 * - the result on stdout: a table (or -f json);
 * - --report FILE.md|.json: a report for the change ticket.
 */
import path from 'node:path';
import type { CliIO } from './io.js';
import { usageError } from '../core/errors.js';
import { colorWanted, unicodeWanted } from './ansi.js';
import { LiveTerminal } from './live.js';
import { runLogContext } from './logging.js';
import { checkEndTarget, FileTarget } from './targets.js';
import { progressSink, type ProgressSink } from './progress.js';
import { reportFormat, timelineEntry, writeReport, type TimelineEntry } from './report.js';
import { formatDrainResult, formatUndrainResult } from './result.js';
import { formatRollingResult, formatWorkflowResult } from './workflow-result.js';
import type { DrainEvent } from '../machines/events.js';
import type { DrainResult, UndrainResult } from '../machines/results.js';
import type { RollingResult } from '../runs/rolling-runner.js';
import type { WorkflowResult } from '../runs/workflow-runner.js';

/** Every result document a command prints: a drain, an undrain, a workflow run (command 'run'), a rolling run. */
export type AnyResult = DrainResult | UndrainResult | WorkflowResult | RollingResult;

export interface OutputFlags {
  format: 'table' | 'json';
  /** "ndjson" (stdout) or "ndjson=FILE". */
  events?: string | undefined;
  /** Only the final result. */
  quiet?: boolean | undefined;
  /** auto (default) | live | plain. */
  progress?: string | undefined;
  /** false with --no-color. */
  color?: boolean | undefined;
  /** Report file (.md or .json). */
  report?: string | undefined;
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
  /** The run's clock (ms), e.g. `() => cloud.clock.now()`; the live view ticks with it. Default: the events' times. */
  now?: () => number;
  /** A workflow run's number of steps ("step 5/8"; the events give only the step's position). */
  steps?: number | null;
  /** A rolling run's hosts, in order ("host 2/3"). */
  hosts?: string[] | null;
}

export interface RunOutput {
  emit(e: DrainEvent): void;
  /**
   * Print the final result; `extra` fields (e.g. apiRequests) are added to the JSON document. With
   * `listing` (a plan's `-f yaml|value|csv`, `-c`), that text is the whole of stdout instead.
   */
  result(r: AnyResult, extra?: Record<string, unknown>, listing?: string): void;
  /** Where text for people goes: stdout, or stderr when the events have stdout (--events ndjson: stdout carries only events). */
  readonly text: NodeJS.WritableStream;
  close(): Promise<void>;
}

export type ProgressMode = 'live' | 'plain' | 'none';

/** Validates the output flags (usage errors before anything touches the cloud, when the caller passes every flag). */
export function checkOutputFlags(flags: OutputFlags): void {
  eventsTarget(flags);
  if (flags.progress !== undefined && !['auto', 'live', 'plain'].includes(String(flags.progress))) {
    throw usageError(`--progress '${String(flags.progress)}' is not understood`, 'Use --progress auto, live or plain.');
  }
  reportTarget(flags);
}

/** --report FILE.md|FILE.json, resolved; null without it. */
export function reportTarget(flags: OutputFlags): string | null {
  if (flags.report === undefined) return null;
  const v = Array.isArray(flags.report) ? flags.report[flags.report.length - 1] : flags.report;
  const file = String(v ?? '').trim();
  if (!file || reportFormat(file) === null) {
    throw usageError(`--report '${file}': the file name must end in .md or .json`, 'E.g. --report CHG-1234-compute-01.md (Markdown for a ticket) or --report run.json.');
  }
  const resolved = path.resolve(file);
  checkEndTarget('--report', resolved);
  return resolved;
}

/** The file of --events ndjson=FILE (resolved), or null. */
export function eventsFile(flags: OutputFlags): string | null {
  const t = eventsTarget(flags);
  return t !== null && 'file' in t ? t.file : null;
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

/** How progress is shown on stderr for these flags and this terminal. */
export function progressMode(io: Pick<CliIO, 'interactive'>, flags: OutputFlags): ProgressMode {
  if (flags.quiet === true) return 'none';
  if (flags.progress === 'live') return 'live';
  if (flags.progress === 'plain') return 'plain';
  return io.interactive ? 'live' : 'plain';
}

/**
 * `targets.events`: the --events file, opened before the cloud is touched
 * (targets.ts); when not given, it is opened here (a usage error if it cannot be).
 */
export function createRunOutput(io: CliIO, flags: OutputFlags, context: RunContext, targets: { events?: FileTarget | null } = {}): RunOutput {
  checkOutputFlags(flags);
  const target = eventsTarget(flags);
  const eventsFileTarget = target !== null && 'file' in target ? (targets.events ?? FileTarget.open('--events', target.file, (t) => io.stderr.write(`${t}\n`))) : null;
  const mode = progressMode(io, flags);
  const live = mode === 'live'
    ? new LiveTerminal({
        stream: io.stderr,
        columns: () => io.columns?.() ?? 80,
        rows: () => io.rows?.() ?? null,
        color: (io.color ?? io.interactive) && colorWanted(io.env, flags.color),
        unicode: unicodeWanted(io.env),
        cloud: context.cloudName,
        ...(context.now ? { now: context.now } : {}),
        steps: context.steps ?? null,
        hosts: context.hosts ?? null,
      })
    : null;
  const sink: ProgressSink = progressSink({
    lines: mode === 'plain' ? io.stderr : null,
    ndjson: target === null ? null : eventsFileTarget ? { target: eventsFileTarget } : { stream: io.stdout },
    steps: context.steps ?? null,
  });
  const logContext = runLogContext(io.stderr);
  const timeline: TimelineEntry[] = [];
  const reportFile = reportTarget(flags);
  // --events ndjson: stdout carries only events, so a script can parse every line; the result for people goes to stderr.
  const text = target !== null && 'stream' in target ? io.stderr : io.stdout;
  return {
    text,
    emit(e) {
      if (e.type === 'run-started' || e.type === 'step-started') {
        logContext.runId = e.runId;
        logContext.host = e.host;
      }
      sink.emit(e);
      live?.emit(e);
      if (reportFile) {
        const t = timelineEntry(e);
        if (t) timeline.push(t);
      }
    },
    result(r, extra = {}, listing) {
      live?.finish();
      if (reportFile) {
        try {
          writeReport(reportFile, r, context, timeline, extra);
          if (mode !== 'none') io.stderr.write(`hostmaint: report written to ${reportFile}\n`);
        } catch (e) {
          io.stderr.write(`hostmaint: warning: could not write the report ${reportFile}: ${(e as Error).message}\n`);
        }
      }
      if (listing !== undefined) io.stdout.write(listing);
      else if (flags.format === 'json') io.stdout.write(`${JSON.stringify({ ...r, ...extra }, null, 2)}\n`);
      else {
        const saved = extra.run as { resumeCommand?: unknown } | null | undefined;
        const ctx = { argv: context.argv, resumeCommand: typeof saved?.resumeCommand === 'string' ? saved.resumeCommand : null };
        text.write(formatResult(r, ctx));
      }
    },
    async close() {
      live?.finish();
      await sink.close();
      if (!targets.events) eventsFileTarget?.close();
    },
  };
}

/** The summary of any result, for people (stdout). */
export function formatResult(r: AnyResult, ctx: Parameters<typeof formatDrainResult>[1]): string {
  switch (r.command) {
    case 'drain':
      return formatDrainResult(r, ctx);
    case 'undrain':
      return formatUndrainResult(r, ctx);
    case 'run':
      return formatWorkflowResult(r, ctx);
    default:
      return formatRollingResult(r, ctx);
  }
}
