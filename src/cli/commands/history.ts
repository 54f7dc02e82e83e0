import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { stateReadOptions } from '../global-options.js';
import { usageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { rollingHosts, workflowName } from '../../report/saved-runs.js';

interface HistoryArgs {
  host?: string;
  stateDir?: string;
  format: 'table' | 'json' | 'yaml' | 'value' | 'csv';
  column?: string[];
  limit: number;
  report?: string;
  [key: string]: unknown;
}

/** One past run, as `history` shows it. */
export interface HistoryEntry {
  runId: string;
  command: string;
  host: string;
  cloud: string;
  /** finished | interrupted | running | superseded (as recorded). */
  state: string;
  outcome: string | null;
  exitCode: number | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** Instances moved (or moved back) and how many the run had to move. */
  moved: number | null;
  total: number | null;
  failed: number | null;
  who: string | null;
  user: string | null;
  dryRun: boolean;
  stateDir: string;
  /** Workflow and rolling runs: the workflow's name. */
  workflow?: string;
  /** Rolling runs: the hosts, in order. */
  hosts?: string[];
}

type Rec = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A history line from a run record (read defensively: records of other versions may lack fields). */
export function historyEntry(r: Rec, stateDir: string): HistoryEntry {
  const result = (r.result && typeof r.result === 'object' ? r.result : null) as Rec | null;
  const list = (result?.instances ?? result?.returns ?? null) as Rec[] | null;
  const timings = (result?.timings ?? null) as Rec | null;
  const startedAt = str(r.startedAt) ?? '';
  const finishedAt = str(r.finishedAt);
  const durationMs = num(timings?.durationMs) ?? (finishedAt && startedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : null);
  const counted = Array.isArray(list) ? list.filter((i) => i.status !== 'nothing-to-do' && i.status !== 'left' && i.status !== 'skipped') : null;
  return {
    runId: str(r.runId) ?? '?',
    command: str(r.command) ?? '?',
    host: str(r.host) ?? '?',
    cloud: str(r.cloud) ?? '',
    state: str(r.state) ?? (finishedAt ? 'finished' : 'unknown'),
    outcome: str(r.outcome),
    exitCode: num(r.exitCode),
    startedAt,
    finishedAt,
    durationMs: durationMs !== null && Number.isFinite(durationMs) ? durationMs : null,
    moved: counted ? counted.filter((i) => i.status === 'moved' || i.status === 'offloaded').length : null,
    total: counted ? counted.length : null,
    failed: counted ? counted.filter((i) => i.status === 'failed').length : null,
    who: str(r.who),
    user: str(r.user),
    dryRun: result?.dryRun === true,
    stateDir,
    ...(r.command === 'run' || r.command === 'rolling' ? { workflow: workflowName(r) } : {}),
    ...(r.command === 'rolling' ? { hosts: rollingHosts(r) } : {}),
  };
}

function when(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso;
}

/** `hostmaint history [host]`: past runs from the state directory (also the demo cloud's), newest first; never calls the cloud. */
export function historyCommand(state: CommandState): CommandModule<object, HistoryArgs> {
  return {
    ...commandWords('history', (y) =>
      stateReadOptions(y, ['report'])
        .option('limit', { type: 'number', default: 20, describe: 'Show at most this many runs (0: all)' })),
    handler: async (argv) => {
      const path = await import('node:path');
      const { defaultStateDir, RunStore } = await import('../../runs/store.js');
      const { secs } = await import('../../report/result.js');
      const { formatListing } = await import('../../report/listing.js');
      const saved = await import('../../report/saved-runs.js');
      const limit = argv.limit;
      if (!Number.isInteger(limit) || limit < 0 || limit > 100_000) throw usageError(`--limit ${String(limit)} is not allowed`, 'Use a whole number; 0 shows every run.');
      const host = argv.host === undefined ? null : String(argv.host).trim();
      if (argv.stateDir !== undefined && String(argv.stateDir).trim() === '') throw usageError('--state-dir is empty');
      const base = argv.stateDir !== undefined ? path.resolve(String(argv.stateDir)) : defaultStateDir(state.io.env);
      // With etcd, every runner's runs are copied here first: the history is the fleet's.
      const { coordinationUrl } = await import('../../runs/coord/index.js');
      const shared = coordinationUrl(argv['coordination'] as string | undefined, state.io.env).url;
      if (shared !== null) {
        const { readSharedView } = await import('../../runs/coord/shared-view.js');
        const local = new RunStore(base);
        local.ensureSync();
        await readSharedView(shared, local);
      }
      // Runs on the built-in demo cloud are kept under <state-dir>/demo: show them too.
      const dirs = [base, path.join(base, 'demo')];
      const entries: Array<{ entry: HistoryEntry; record: Rec; store: InstanceType<typeof RunStore> }> = [];
      for (const dir of dirs) {
        const store = new RunStore(dir);
        const { records, problems } = await store.list();
        for (const p of problems) state.io.stderr.write(`hostmaint: warning: ${p}\n`);
        for (const r of records as unknown as Rec[]) entries.push({ entry: historyEntry(r, dir), record: r, store });
      }
      const matching = entries
        .filter((e) => host === null || saved.concernsHost(e.record, host))
        .sort((a, b) => (a.entry.startedAt < b.entry.startedAt ? 1 : a.entry.startedAt > b.entry.startedAt ? -1 : a.entry.runId < b.entry.runId ? 1 : -1));
      const shown = limit === 0 ? matching : matching.slice(0, limit);
      const out = state.io.stdout;

      const { reportTarget } = await import('../../report/output.js');
      const reportFile = reportTarget({ format: argv.format === 'json' ? 'json' : 'table', report: argv.report });
      if (reportFile !== null) {
        const latest = matching.find((e) => e.record.result);
        if (!latest) throw usageError(`no finished run${host ? ` of ${host}` : ''} in ${base} to report on`, 'List runs with `hostmaint history`.');
        const { timelineEntry, writeReport } = await import('../../report/report.js');
        type ReportResult = Parameters<typeof writeReport>[1];
        const r = latest.record;
        const journal = await latest.store.readJournal(latest.entry.runId).catch(() => ({ entries: [] as Rec[] }));
        const timeline = (journal.entries as Rec[])
          .filter((j) => j.kind === 'event')
          .map((j) => timelineEntry(j as never))
          .filter((t): t is NonNullable<typeof t> => t !== null);
        const file = reportFile;
        writeReport(file, r.result as ReportResult, {
          command: latest.entry.command,
          argv: Array.isArray(r.argv) ? (r.argv as string[]) : [latest.entry.command, latest.entry.host],
          cloudName: latest.entry.cloud,
          user: latest.entry.user,
          who: latest.entry.who ?? 'unknown',
        }, timeline);
        state.io.stderr.write(`hostmaint: report of run ${latest.entry.runId} written to ${file}\n`);
      }

      if (argv.format === 'json') {
        out.write(`${JSON.stringify({ stateDir: base, host, total: matching.length, runs: shown.map((e) => e.entry) }, null, 2)}\n`);
      } else if (shown.length === 0) {
        out.write(`No runs${host ? ` of ${host}` : ''} recorded in ${base}.\n`);
      } else {
        out.write(formatListing(
          ['STARTED (UTC)', 'COMMAND', 'HOST', 'OUTCOME', 'EXIT', 'TOOK', 'MOVED', 'FAILED', 'BY', 'CLOUD', 'RUN'],
          shown.map(({ entry: e, record }) => [
            when(e.startedAt),
            saved.commandLabel(record) + (e.dryRun ? ' (plan)' : ''),
            saved.hostLabel(record),
            e.state === 'finished' ? (e.outcome ?? '?') : e.state === 'waiting' ? saved.waitingText(record) : `${e.state}${e.outcome ? ` (${e.outcome})` : ''}`,
            e.exitCode === null ? '' : String(e.exitCode),
            secs(e.durationMs),
            e.total === null || e.total === 0 ? '-' : `${e.moved}/${e.total}`,
            e.failed ? String(e.failed) : e.total === null || e.total === 0 ? '-' : '0',
            e.who ?? e.user ?? '',
            e.cloud,
            e.runId,
          ]),
          argv.format as 'table',
          argv.column as string[] | undefined,
        ));
        if (matching.length > shown.length && argv.format === 'table') out.write(`(${matching.length - shown.length} older run(s) not shown; --limit 0 shows all)\n`);
      }
      state.exitCode = EXIT.OK;
    },
  };
}
