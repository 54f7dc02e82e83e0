import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { stateReadOptions } from '../global-options.js';
import type { RunRecord } from '../../runs/store.js';
import { usageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { clean } from '../../report/ansi.js';

interface StatusArgs {
  target?: string;
  stateDir?: string;
  format: 'table' | 'json' | 'yaml' | 'value' | 'csv';
  column?: string[];
  journal: number;
  fleet?: boolean;
  coordination?: string;
}

/** `hostmaint status [host|run-id]`: what hostmaint knows of its runs, from the state directory only (never calls the cloud). */
export function statusCommand(state: CommandState): CommandModule<object, StatusArgs> {
  return {
    ...commandWords('status', (y) =>
      stateReadOptions(y)
        .option('journal', { type: 'number', default: 10, describe: 'With a target: show this many last journal entries (0: none)' })
        .option('fleet', { type: 'boolean', default: false, describe: 'With --coordination etcd: every live lease of every runner, and the disruption budget claims in force, e.g. hostmaint status --fleet --coordination etcd3+http://10.0.0.5:2379' })),
    handler: async (argv) => {
      const { defaultStateDir, RunStore } = await import('../../runs/store.js');
      const { checkStateDirFlag } = await import('../state-dir.js');
      const { liveHolder } = await import('../../runs/lock.js');
      const { describeProgress, poolOf, poolProgress } = await import('../../runs/recorder.js');
      const { table } = await import('../../report/result.js');
      const { formatListing } = await import('../../report/listing.js');
      const saved = await import('../../report/saved-runs.js');
      const rec = (r: RunRecord) => r as unknown as Record<string, unknown>;
      const isWorkflow = (r: RunRecord) => r.command === 'run' || r.command === 'rolling';
      const journalCount = Number.isInteger(argv.journal) && argv.journal >= 0 && argv.journal <= 10_000 ? argv.journal : null;
      if (journalCount === null) throw usageError(`--journal ${String(argv.journal)} is not allowed`, 'Use a whole number from 0 to 10000.');
      const path = await import('node:path');
      const base = argv.stateDir !== undefined ? checkStateDirFlag(argv.stateDir) : defaultStateDir(state.io.env);
      const store = new RunStore(base);
      const { coordinationUrl } = await import('../../runs/coord/index.js');
      const shared = coordinationUrl(argv.coordination, state.io.env).url;
      if (argv.fleet && shared === null) throw usageError('--fleet needs the etcd backend', 'Give --coordination etcd3+http://HOST:PORT (or set HOSTMAINT_COORDINATION): the fleet is what every runner shares there.');
      let view: import('../../runs/coord/shared-view.js').SharedView | null = null;
      if (shared !== null) {
        const { readSharedView } = await import('../../runs/coord/shared-view.js');
        // Every runner's runs are copied here first, so the listing below is the fleet's.
        if (!argv.fleet) store.ensureSync();
        view = await readSharedView(shared, argv.fleet ? null : store);
      }
      if (argv.fleet && view) {
        writeFleet(state, view, argv.format, (await import('../../report/result.js')).table);
        state.exitCode = EXIT.OK;
        return;
      }
      // Runs on the built-in demo cloud are kept under <state-dir>/demo: list them too.
      const stores = [store, new RunStore(path.join(base, 'demo'))];
      const storeOf = new Map<RunRecord, InstanceType<typeof RunStore>>();
      const records: RunRecord[] = [];
      for (const st of stores) {
        const listed = await st.list();
        for (const p of listed.problems) state.io.stderr.write(`hostmaint: warning: ${p}\n`);
        for (const r of listed.records) {
          records.push(r);
          storeOf.set(r, st);
        }
      }
      records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId < b.runId ? 1 : -1));
      const out = state.io.stdout;

      /** The state as an operator needs it: a `running` run whose process is gone is `crashed`. */
      const shown = (r: RunRecord): string => {
        if (r.state !== 'running') return r.state;
        if (view) return (view.holders.get(r.host) ?? []).includes(r.runId) ? 'running' : 'crashed';
        const holder = liveHolder((storeOf.get(r) ?? store).locksDir, r.host);
        return holder && holder.runId === r.runId ? 'running' : 'crashed';
      };
      const summary = (r: RunRecord) => {
        const progress = !isWorkflow(r) && (r.command === 'drain' || r.snapshot) ? poolProgress(r.snapshot) : null;
        return {
          runId: r.runId,
          command: r.command,
          host: r.host,
          state: shown(r),
          stateReason: r.stateReason,
          phase: r.phase,
          outcome: r.outcome,
          exitCode: r.exitCode,
          progress,
          ...(isWorkflow(r) ? { workflow: saved.workflowName(rec(r)), steps: saved.runProgress(rec(r)), waitingFor: r.state === 'waiting' ? saved.waitingText(rec(r)) : null } : {}),
          ...(r.command === 'rolling' ? { hosts: saved.rollingHosts(rec(r)) } : {}),
          resumable: shown(r) === 'crashed' || r.state === 'interrupted',
          startedAt: r.startedAt,
          updatedAt: r.updatedAt,
          finishedAt: r.finishedAt,
          resumes: r.resumes,
          cloud: r.cloud,
          user: r.user,
          who: r.who,
        };
      };

      if (!argv.target) {
        if (argv.format === 'json') {
          out.write(`${JSON.stringify({ stateDir: store.dir, runs: records.map(summary) }, null, 2)}\n`);
        } else if (records.length === 0) {
          out.write(`No runs recorded in ${store.dir}.\n`);
        } else {
          out.write(
            formatListing(
              ['RUN', 'COMMAND', 'HOST', 'STATE', 'PHASE / OUTCOME', 'PROGRESS', 'STARTED', 'CLOUD'],
              records.map((r) => {
                const s = summary(r);
                const p = isWorkflow(r) ? (saved.runProgress(rec(r)) ?? '-') : s.progress && s.progress.total > 0 ? `${s.progress.done}/${s.progress.total}${s.progress.inFlight ? ` (+${s.progress.inFlight})` : ''}` : '-';
                const where = r.state === 'waiting' ? saved.waitingText(rec(r)) : r.outcome && r.state !== 'running' ? `${r.outcome} (exit ${r.exitCode})` : (r.phase ?? '-');
                return [r.runId, saved.commandLabel(rec(r)), saved.hostLabel(rec(r)), s.state, where, p, r.startedAt, r.cloud];
              }),
              argv.format as 'table',
              argv.column as string[] | undefined,
            ),
          );
          if (argv.format !== 'table') {
            state.exitCode = EXIT.OK;
            return;
          }
          const resumable = records.filter((r) => summary(r).resumable);
          if (resumable.length) out.write(`\n${resumable.length} run(s) can be resumed: hostmaint resume <run> (or run the same drain/undrain again).\n`);
          const waiting = records.filter((r) => r.state === 'waiting');
          if (waiting.length) out.write(`${resumable.length ? '' : '\n'}${waiting.length} run(s) wait for approval: hostmaint continue <run>.\n`);
        }
        state.exitCode = EXIT.OK;
        return;
      }

      const match = records.find((r) => r.runId === argv.target) ?? records.find((r) => r.host === argv.target) ?? records.find((r) => saved.concernsHost(rec(r), String(argv.target)));
      if (!match) {
        throw usageError(`hostmaint has no run for '${argv.target}' in ${store.dir}`, 'List runs with `hostmaint status`; pass --state-dir if runs were kept elsewhere.');
      }
      const s = summary(match);
      const home = storeOf.get(match) ?? store;
      const { entries } = journalCount > 0 ? await home.readJournal(match.runId) : { entries: [] };
      const tail = journalCount > 0 ? entries.slice(-journalCount) : [];
      const pool = poolOf(match.snapshot);
      if (argv.format === 'json') {
        out.write(`${JSON.stringify({ ...s, record: match, journal: tail }, null, 2)}\n`);
        state.exitCode = EXIT.OK;
        return;
      }
      const lines: Array<[string, string]> = [
        ['run', match.runId],
        ['command', `${saved.commandLabel(rec(match))} ${match.command === 'rolling' ? saved.rollingHosts(rec(match)).join(' ') : match.host}`],
        ['state', match.state === 'waiting' ? saved.waitingText(rec(match)) : `${s.state}${match.stateReason ? ` (${match.stateReason})` : ''}`],
        ['phase', match.phase ?? '-'],
        ['outcome', match.outcome ? `${match.outcome} (exit ${match.exitCode})` : '-'],
        ['progress', isWorkflow(match) ? (saved.runProgress(rec(match)) ?? '-') : s.progress ? describeProgress(s.progress) : '-'],
        ...(match.parentRunId ? [['part of', `rolling run ${match.parentRunId}`] as [string, string]] : []),
        ...(match.workflowFile ? [['workflow', `${match.workflowFile.path ?? match.workflowFile.ref} (sha256 ${match.workflowFile.sha256.slice(0, 12)}, as recorded when it started)`] as [string, string]] : []),
        ['started', `${match.startedAt} by ${match.who}${match.user ? ` (cloud user ${match.user})` : ''}`],
        ['updated', match.updatedAt],
        ['finished', match.finishedAt ?? '-'],
        ['cloud', match.cloud],
        ['resumed', `${match.resumes} time(s)`],
        ['record', home.recordFile(match.runId)],
      ];
      for (const [k, v] of lines) out.write(`${k.padEnd(10)} ${v}\n`);
      const service = (match.snapshot as { context?: { service?: { after?: { status: string; disabledReason: string | null } | null; ownership?: string } } } | null)?.context?.service;
      if (service?.after) out.write(`${'service'.padEnd(10)} ${service.after.status}${service.after.disabledReason ? ` ("${service.after.disabledReason}")` : ''}, ${service.ownership ?? ''} (as last seen by the run)\n`);
      const steps = match.command === 'run' ? saved.savedSteps(rec(match)) : [];
      const hosts = match.command === 'rolling' ? saved.savedHosts(rec(match)) : [];
      if (steps.length > 0) {
        out.write('\n');
        out.write(table(['STEP', 'TYPE', 'STATUS', 'EXIT', 'MESSAGE'], steps.map((x) => [clean(x.name), clean(x.type), x.status === 'failed' ? 'FAILED' : x.status, x.exitCode === null ? '' : String(x.exitCode), clean(x.message)])));
      }
      if (hosts.length > 0) {
        out.write('\n');
        out.write(table(['HOST', 'STATUS', 'EXIT', 'RUN', 'MESSAGE'], hosts.map((h) => [clean(h.host), h.status === 'failed' ? 'FAILED' : h.status, h.exitCode === null ? '' : String(h.exitCode), h.childRunId, clean(h.message)])));
      }
      if (pool.length > 0) {
        out.write('\n');
        out.write(
          table(
            ['INSTANCE', 'METHOD', 'PHASE', 'ATTEMPTS', 'TO', 'NOTE'],
            pool.map((i) => [i.name || i.serverId, i.method, i.phase, String(i.attempts), i.to ?? i.plannedTarget ?? '-', i.errors[i.errors.length - 1] ?? i.note ?? (i.phase === 'pending' && i.waiting ? `waits: ${i.waiting.detail}` : '')]),
          ),
        );
      } else if (match.result && Array.isArray(match.result.instances) && match.result.instances.length > 0) {
        const instances = match.result.instances as Array<Record<string, unknown>>;
        out.write('\n');
        out.write(table(['INSTANCE', 'FROM', 'TO', 'METHOD', 'RESULT'], instances.map((i) => [String(i.name ?? i.serverId), String(i.from ?? ''), String(i.to ?? ''), String(i.method ?? ''), String(i.status ?? '')])));
      }
      if (tail.length > 0) {
        out.write(`\nLast ${tail.length} journal entries (${home.journalFile(match.runId)}):\n`);
        for (const e of tail) out.write(`  ${journalLine(e as Record<string, unknown>)}\n`);
      }
      if (match.state === 'waiting') out.write(`\nApprove it and carry on with: hostmaint continue ${match.runId}\n`);
      else if (s.resumable) out.write(`\nResume it with: hostmaint resume ${match.runId}${isWorkflow(match) ? '' : ` (or \`hostmaint ${match.command} ${match.host}\`)`}.\n`);
      state.exitCode = EXIT.OK;
    },
  };
}

/** `status --fleet`: the leases and budget claims of every cloud in etcd. */
function writeFleet(state: CommandState, view: import('../../runs/coord/shared-view.js').SharedView, format: string, table: (headers: string[], rows: string[][]) => string): void {
  const out = state.io.stdout;
  if (format === 'json') {
    out.write(`${JSON.stringify({ fleets: view.fleets }, null, 2)}\n`);
    return;
  }
  if (view.fleets.length === 0) {
    out.write('No runner has used this etcd yet.\n');
    return;
  }
  for (const f of view.fleets) {
    out.write(`Cloud ${f.cloud} (${f.backend}): ${f.leases.length} host(s) held, ${f.claims.length} budget claim(s)\n`);
    if (f.leases.length > 0) {
      out.write(table(['HOST', 'RUN', 'COMMAND', 'RUNNER', 'STARTED', 'LEASE TTL'], f.leases.map((l) => [clean(l.host), l.holder.runId, l.holder.command, `pid ${l.holder.pid} on ${clean(l.holder.machine)}`, l.holder.startedAt, l.ttl === null ? 'expired' : `${l.ttl}s`])));
    }
    if (f.budget.length > 0) {
      out.write('\nDisruption budget, per scope, as last measured by a runner (disabled in Nova, or claimed):\n');
      out.write(table(['SCOPE', 'OUT', 'BUDGET', 'HOSTS OUT', 'MEASURED'], f.budget.map((b) => [clean(b.scope), String(b.out.length), String(b.max), b.out.map(clean).join(' ') || '-', b.at])));
    }
    if (f.claims.length > 0) {
      const byScope = new Map<string, string[]>();
      for (const c of f.claims) for (const s of c.scopes) byScope.set(s, [...(byScope.get(s) ?? []), c.host]);
      out.write('\nBudget claims (hosts being taken out now; hosts already disabled in Nova count too):\n');
      out.write(table(['SCOPE', 'CLAIMS', 'HOSTS'], [...byScope].map(([s, hs]) => [clean(s), String(hs.length), hs.map(clean).join(' ')])));
    }
    out.write('\n');
  }
}

function journalLine(e: Record<string, unknown>): string {
  const time = String(e.time ?? '');
  if (e.kind === 'decision') {
    const d = (e.detail ?? {}) as Record<string, unknown>;
    const bits = Object.entries(d)
      .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`);
    return `${time} decision ${String(e.decision)}${bits.length ? ` ${bits.join(' ')}` : ''}`;
  }
  const skip = new Set(['kind', 'time', 'runId', 'host', 'pid', 'type']);
  const bits = Object.entries(e)
    .filter(([k, v]) => !skip.has(k) && v !== null && v !== undefined && typeof v !== 'object')
    .slice(0, 6)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${time} ${String(e.type)} ${bits.join(' ')}`.trim();
}
